//! `visuals = true` (LANGUAGE-2.md, "Data, files and cluster settings"): the
//! step writes KFP UI metadata to `$KFP_UI_METADATA`. Checked here: the
//! value is a fixed bool (E0353, E0314), and a step that names
//! `KFP_UI_METADATA` in its command or env has `visuals = true` (E0354),
//! since kfpl sets that variable only for such steps, here and on Argo.

use super::Checker;
use super::ir::{Part, Template};
use super::resolve::{RValue, Resolved, fixed_needed};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;

/// The variable kfpl sets to the metadata file's path.
pub const METADATA_ENV: &str = "KFP_UI_METADATA";

impl Checker<'_> {
    /// `visuals`: a literal bool (a let holding one is fine).
    pub(super) fn visuals(&mut self, value: &Resolved) -> Option<bool> {
        match &value.value {
            RValue::Bool(on) => Some(*on),
            RValue::Str(template) if template.as_const().is_none() => {
                self.error(fixed_needed(value.span, "visuals"));
                None
            }
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::E0353,
                        format!("`visuals` takes `true` or `false`, not {}", value.kind()),
                    )
                    .primary(value.span, "not a bool")
                    .help("write `visuals = true` when the step writes KFP UI metadata to `$KFP_UI_METADATA`"),
                );
                None
            }
        }
    }

    /// E0354 when a step without `visuals = true` names `KFP_UI_METADATA`
    /// in `texts` (its command and env values): the variable would be unset.
    pub(super) fn check_metadata_reads<'t>(
        &mut self,
        step: &str,
        visuals: bool,
        texts: impl IntoIterator<Item = &'t Template>,
    ) {
        if visuals {
            return;
        }
        let Some(span) = texts.into_iter().find_map(names_metadata_env) else {
            return;
        };
        self.error(
            Diagnostic::new(
                Code::E0354,
                format!("step `{step}` reads `{METADATA_ENV}` but does not set `visuals = true`"),
            )
            .primary(span, format!("`{METADATA_ENV}` is set only for steps with visuals"))
            .help(format!(
                "add `visuals = true` to step `{step}` (or to `defaults`), so kfpl sets `{METADATA_ENV}` and keeps what the step writes there"
            )),
        );
    }
}

/// The span of the first literal text of `template` that names the variable.
fn names_metadata_env(template: &Template) -> Option<Span> {
    template.parts.iter().find_map(|part| match part {
        Part::Text(text) if text.contains(METADATA_ENV) => Some(template.span),
        _ => None,
    })
}
