//! `volume NAME { size, access_mode, storage_class, keep }` (LANGUAGE-2,
//! issue 13 item 2): a claim made for each run, mounted by `data =
//! ["NAME:/path"]`. Also the rules a `volume` and a `sidecar` block share:
//! which attributes they take, each once (E0344, E0206).
//!
//! A `data` entry's name is looked up among the declared volumes first: a
//! volume's identifier wins over an existing claim of the same name. Naming
//! a volume by its Kubernetes form (`my-vol` for `my_vol`) is ambiguous
//! (E0348): on Argo both would be the pod volume `my-vol`.

use std::collections::BTreeMap;

use super::Checker;
use super::ir::{self, Part, Template};
use super::resolve::{RValue, Resolved};
use super::values;
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::source::Span;
use crate::syntax::ast;

/// Every attribute of a `volume` block.
pub(crate) const ATTRIBUTES: &[&str] = &["size", "access_mode", "storage_class", "keep"];

/// The access modes a volume may ask for; the first is the default.
pub(crate) const ACCESS_MODES: &[&str] = &["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"];

/// One line on each volume attribute: what editors show on hover.
pub(crate) fn attribute_doc(name: &str) -> Option<&'static str> {
    Some(match name {
        "size" => {
            "string, required: the claim's size, a Kubernetes quantity (`\"10Gi\"`) or one `$<param>`"
        }
        "access_mode" => "`\"ReadWriteOnce\"` (default), `\"ReadWriteMany\"` or `\"ReadOnlyMany\"`",
        "storage_class" => "string: the claim's storage class (the cluster's default when absent)",
        "keep" => {
            "bool (default false): locally, keep the run's folder after the run; no effect on Argo"
        }
        _ => return None,
    })
}

/// How a `data` entry's name reads against the declared volumes.
pub(super) enum Lookup {
    /// A declared volume's identifier.
    Volume,
    /// Not a volume: an existing claim.
    Claim,
    /// Reported (E0348).
    Refused,
}

/// The pipeline's top-level `volume` blocks (one inside a control block is
/// E0217, reported with the other declarations).
pub(super) fn blocks(pipeline: &ast::Pipeline) -> Vec<&ast::NamedBlock> {
    pipeline
        .items
        .iter()
        .filter_map(|item| match item {
            ast::Item::Volume(block) => Some(block),
            _ => None,
        })
        .collect()
}

impl<'a> Checker<'a> {
    /// Checks every top-level volume; each identifier once.
    pub(super) fn volumes(&mut self) -> Vec<ir::Volume> {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        let mut out = Vec::new();
        for block in self.volume_blocks.clone() {
            if let Some(first) = seen.insert(&block.name.name, block.name.span) {
                self.error(duplicate(&block.name, first, "volume"));
                continue;
            }
            values::check_kubernetes_name(self, &block.name, "volume");
            out.extend(self.volume(block));
        }
        out
    }

    fn volume(&mut self, block: &'a ast::NamedBlock) -> Option<ir::Volume> {
        let mut size = None;
        let mut access_mode = ACCESS_MODES[0].to_string();
        let mut storage_class = None;
        let mut keep = false;
        let mut ok = true;
        for attribute in self.block_attributes(block, "volume", ATTRIBUTES) {
            let Some(value) = self.resolve_value(&attribute.value) else {
                ok = false;
                continue;
            };
            let name = attribute.name.name.as_str();
            let read = match name {
                "size" => self.volume_size(&value).map(|t| size = Some(t)),
                "access_mode" => self.access_mode(&value).map(|m| access_mode = m),
                "storage_class" => self
                    .expect_fixed_string(&value, "storage_class")
                    .map(|c| storage_class = Some(c)),
                _ => self.keep(&value).map(|k| keep = k),
            };
            ok &= read.is_some();
        }
        if block.attribute("size").is_none() {
            self.error(
                Diagnostic::new(
                    Code::E0207,
                    format!("volume `{}` has no `size`", block.name.name),
                )
                .primary(block.name.span, "`size` is required")
                .help("add `size = \"10Gi\"` (the claim's size, a Kubernetes quantity)"),
            );
        }
        Some(ir::Volume {
            name: block.name.name.clone(),
            claim: values::kubernetes_name(&block.name.name),
            size: size?,
            access_mode,
            storage_class,
            keep,
            span: block.span,
        })
        .filter(|_| ok)
    }

    /// `size`: a quantity, or exactly one `$<param>` (checked when bound).
    fn volume_size(&mut self, value: &Resolved) -> Option<Template> {
        let RValue::Str(template) = &value.value else {
            self.error(
                value
                    .mismatch(value.span, "`size`", "a string")
                    .help("write a quantity in quotes, such as `size = \"10Gi\"`"),
            );
            return None;
        };
        let template = Template {
            parts: template.parts.clone(),
            span: value.span,
        };
        let fits = match template.as_const() {
            Some(text) => values::is_quantity(&text),
            None => matches!(&template.parts[..], [Part::Param { .. }]),
        };
        if fits {
            return Some(template);
        }
        let what = match template.as_const() {
            Some(text) => format!("`{text}` is not a Kubernetes quantity"),
            None => "`size` reads more than one `$<param>` alone".to_string(),
        };
        self.error(
            Diagnostic::new(Code::E0346, format!("invalid volume size: {what}"))
                .primary(value.span, "not a size")
                .help("write a quantity such as `\"10Gi\"` or `\"500Mi\"`, or one `$<param>` holding one"),
        );
        None
    }

    fn access_mode(&mut self, value: &Resolved) -> Option<String> {
        let mode = self.expect_fixed_string(value, "access_mode")?;
        if ACCESS_MODES.contains(&mode.as_str()) {
            return Some(mode);
        }
        let help = did_you_mean(&mode, ACCESS_MODES.iter().copied())
            .unwrap_or_else(|| format!("write one of {}", quoted(ACCESS_MODES)));
        self.error(
            Diagnostic::new(Code::E0345, format!("`{mode}` is not an access mode"))
                .primary(value.span, "not an access mode")
                .help(help),
        );
        None
    }

    fn keep(&mut self, value: &Resolved) -> Option<bool> {
        match value.value {
            RValue::Bool(keep) => Some(keep),
            _ => {
                self.error(
                    value
                        .mismatch(value.span, "`keep`", "a bool")
                        .help("write `keep = true` or `keep = false`"),
                );
                None
            }
        }
    }

    /// The attributes of a `volume` or `sidecar` block that it takes, each
    /// once: E0344 for another, E0206 for one given twice.
    pub(super) fn block_attributes(
        &mut self,
        block: &'a ast::NamedBlock,
        kind: &str,
        allowed: &[&str],
    ) -> Vec<&'a ast::Attribute> {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        let mut out = Vec::new();
        for attribute in &block.attributes {
            let name = attribute.name.name.as_str();
            if !allowed.contains(&name) {
                let help = did_you_mean(name, allowed.iter().copied())
                    .unwrap_or_else(|| format!("a {kind} takes: {}", allowed.join(", ")));
                self.error(
                    Diagnostic::new(
                        Code::E0344,
                        format!(
                            "unknown {kind} attribute `{name}` in {kind} `{}`",
                            block.name.name
                        ),
                    )
                    .primary(attribute.name.span, format!("not a {kind} attribute"))
                    .help(help),
                );
                continue;
            }
            if let Some(first) = seen.insert(name, attribute.name.span) {
                self.error(super::attribute_twice(&attribute.name, first));
                continue;
            }
            out.push(attribute);
        }
        out
    }

    /// How the name before `:` in a `data` entry reads: a declared
    /// volume's identifier, an existing claim, or (E0348) neither.
    pub(super) fn lookup_volume(&mut self, name: &str, item: &Resolved) -> Lookup {
        let volumes = self.volume_blocks.clone();
        if volumes.iter().any(|v| v.name.name == name) {
            return Lookup::Volume;
        }
        let same_claim = volumes
            .iter()
            .find(|v| values::kubernetes_name(&v.name.name) == name);
        let diagnostic = match same_claim {
            Some(volume) => Diagnostic::new(
                Code::E0348,
                format!(
                    "`{name}` is the claim name of volume `{}`: ambiguous with an existing claim `{name}`",
                    volume.name.name
                ),
            )
            .primary(item.span, "names the volume's claim")
            .secondary(volume.name.span, "volume declared here")
            .help(format!(
                "mount the volume by its identifier, `\"{}:…\"`; an existing claim `{name}` cannot be mounted beside it",
                volume.name.name
            )),
            // In a pipeline with volumes, a lower-case name with `_` is a
            // volume misspelt (a v1 program keeps E0305 for it).
            None if !volumes.is_empty() && looks_like_identifier(name) => Diagnostic::new(
                Code::E0348,
                format!("no volume `{name}` is declared"),
            )
            .primary(item.span, "not a declared volume")
            .help(
                did_you_mean(name, volumes.iter().map(|v| v.name.name.as_str())).unwrap_or_else(
                    || format!("declare it: `volume {name} {{ size = \"1Gi\" }}`; a claim's name has no `_`"),
                ),
            ),
            None => return Lookup::Claim,
        };
        self.error(diagnostic);
        Lookup::Refused
    }
}

/// E0347: a volume (or a step's sidecar) declared twice.
pub(super) fn duplicate(name: &ast::Ident, first: Span, kind: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0347,
        format!("{kind} `{}` is declared twice", name.name),
    )
    .primary(name.span, "declared again here")
    .secondary(first, "first declared here")
    .help(format!("give each {kind} its own name"))
}

fn looks_like_identifier(name: &str) -> bool {
    name.contains('_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn quoted(words: &[&str]) -> String {
    let words: Vec<String> = words.iter().map(|w| format!("`\"{w}\"`")).collect();
    words.join(", ")
}

/// E0346 for a volume `size` read from a param whose value (a default when
/// checking, a `-p` value when binding) is not a Kubernetes quantity.
pub(crate) fn size_values<'v>(
    volumes: &[ir::Volume],
    value: impl Fn(&str) -> Option<&'v str>,
) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for volume in volumes {
        let [Part::Param { name, span }] = &volume.size.parts[..] else {
            continue;
        };
        let Some(text) = value(name) else {
            continue;
        };
        if !values::is_quantity(text) {
            errors.push(
                Diagnostic::new(
                    Code::E0346,
                    format!(
                        "size of volume `{}` is `{text}` (from param `{name}`), not a Kubernetes quantity",
                        volume.name
                    ),
                )
                .secondary(*span, "the size is read here")
                .help(format!("give `{name}` a quantity such as `10Gi`")),
            );
        }
    }
    errors
}
