//! `sidecar NAME { image, command, env }` inside a step (LANGUAGE-2, issue
//! 13 item 5): a helper (a database, a server) that runs beside the step's
//! main program and is stopped when it ends.
//!
//! A sidecar's values are fixed at compile time (literals and lets, E0314):
//! it starts before the step's values are handed over, on Argo as locally.
//! Its name is a container's name: a DNS-1123 label after `_` → `-`
//! (E0211), not one of the step's own containers (E0347).

use std::collections::BTreeMap;

use super::Checker;
use super::ir::{self, Command};
use super::values;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast;

/// Every attribute of a `sidecar` block.
pub(crate) const ATTRIBUTES: &[&str] = &["image", "command", "env"];

/// Container names a step's pod already has (Argo's and kfpl's).
const RESERVED: &[&str] = &["main", "wait", "init", "git-sync"];

impl<'a> Checker<'a> {
    /// Checks the sidecars of one step; each name once.
    pub(super) fn sidecars(&mut self, step: &'a ast::StepDecl) -> Vec<ir::Sidecar> {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        let mut out = Vec::new();
        for item in &step.items {
            let ast::StepItem::Sidecar(block) = item else {
                continue;
            };
            if let Some(first) = seen.insert(&block.name.name, block.name.span) {
                self.error(super::volumes::duplicate(&block.name, first, "sidecar"));
                continue;
            }
            if RESERVED.contains(&values::kubernetes_name(&block.name.name).as_str()) {
                self.error(reserved(&block.name));
                continue;
            }
            values::check_kubernetes_name(self, &block.name, "sidecar");
            out.extend(self.sidecar(block));
        }
        out
    }

    fn sidecar(&mut self, block: &'a ast::NamedBlock) -> Option<ir::Sidecar> {
        let (mut image, mut argv, mut env) = (None, None, Some(Vec::new()));
        for attribute in self.block_attributes(block, "sidecar", ATTRIBUTES) {
            let value = self.resolve_value(&attribute.value)?;
            match attribute.name.name.as_str() {
                "image" => image = self.expect_fixed_string(&value, "image"),
                "command" => argv = self.command(value).and_then(|c| self.fixed_argv(&c)),
                _ => env = self.fixed_env(&value),
            }
        }
        for required in ["image", "command"] {
            if block.attribute(required).is_none() {
                self.error(
                    Diagnostic::new(
                        Code::E0207,
                        format!("sidecar `{}` has no `{required}`", block.name.name),
                    )
                    .primary(block.name.span, format!("`{required}` is required"))
                    .help(format!("add `{required} = \"…\"`")),
                );
            }
        }
        Some(ir::Sidecar {
            name: block.name.name.clone(),
            image: image?,
            argv: argv?,
            env: env?,
            span: block.span,
        })
    }

    /// The command as an argv, every part known now (E0314).
    fn fixed_argv(&mut self, command: &Command) -> Option<Vec<String>> {
        let texts: Vec<Option<String>> = command.templates().iter().map(|t| t.as_const()).collect();
        if let Some(template) = command
            .templates()
            .into_iter()
            .zip(&texts)
            .find_map(|(t, text)| text.is_none().then_some(t))
        {
            self.error(super::resolve::fixed_needed(template.span, "command"));
            return None;
        }
        let texts: Vec<String> = texts.into_iter().flatten().collect();
        Some(match command {
            Command::Shell(_) => vec!["sh".into(), "-c".into(), texts.concat()],
            Command::Exec(_) => texts,
        })
    }

    fn fixed_env(&mut self, value: &super::resolve::Resolved) -> Option<Vec<(String, String)>> {
        let entries = self.env_entries(value, "env", "{ PORT = \"6379\" }");
        let mut out = Vec::with_capacity(entries.len());
        for (key, entry) in entries {
            let text = self.expect_fixed_string(entry, "env")?;
            out.push((key.name.clone(), text));
        }
        Some(out)
    }
}

/// E0347: a sidecar named like one of the pod's own containers.
fn reserved(name: &ast::Ident) -> Diagnostic {
    Diagnostic::new(
        Code::E0347,
        format!(
            "sidecar `{}` has the name of one of the step's own containers",
            name.name
        ),
    )
    .primary(name.span, "reserved container name")
    .help(format!(
        "rename it; a step's pod already has containers named {}",
        RESERVED.join(", ")
    ))
}
