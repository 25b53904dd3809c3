//! What a checked program may still not compile into: E05xx.
//!
//! - E0501: text Argo would take for a `{{…}}` reference, in a place kfpl
//!   cannot carry it through a shell (the image, `cpu`, `memory`, a mount
//!   path, a param's value). Commands and env values are never refused:
//!   they are carried verbatim (see `text`).
//! - E0502: a claim mounted where kfpl or Argo keep their own files.

use std::collections::BTreeMap;

use super::names::reserved_mount;
use super::text::{argo_text, flatten, lit};
use crate::check::ir::Pipeline;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;

/// Every E05xx problem of `pipeline` with these param values.
pub(crate) fn check(pipeline: &Pipeline, values: &BTreeMap<String, String>) -> Vec<Diagnostic> {
    let mut errors = super::volumes::check(pipeline, values);
    errors.extend(super::sidecars::braces(pipeline));
    for param in &pipeline.params {
        let Some(value) = values.get(&param.name) else {
            continue;
        };
        if value.contains("{{") {
            let from_default = param.default.as_ref().is_some_and(|d| d.as_text() == value);
            let span = if from_default {
                param.span
            } else {
                Span::DETACHED
            };
            errors.push(
                Diagnostic::new(
                    Code::E0501,
                    format!(
                        "the value of param `{}` holds `{{{{`, which Argo would read as a reference",
                        param.name
                    ),
                )
                .primary(span, "Argo substitutes every `{{…}}` in parameters")
                .help("avoid `{{` in param values; text with `{{` can be written in a command or an env value, which kfpl carries verbatim"),
            );
        }
    }
    for step in &pipeline.steps {
        let fields = [
            ("image", Some(&step.image)),
            ("cpu", step.cpu.as_deref()),
            ("memory", step.memory.as_deref()),
        ];
        for (field, template) in fields {
            if let Some(template) = template
                && argo_text(&flatten(template), false).is_none()
            {
                errors.push(braces(
                    &format!("`{field}` of step `{}`", step.name),
                    template.span,
                ));
            }
        }
        errors.extend(super::cluster::braces(step));
        for data in step.data.iter() {
            if argo_text(&lit(&data.path), false).is_none() {
                errors.push(braces(
                    &format!("a mount path of step `{}`", step.name),
                    data.span,
                ));
            }
            if let Some(reserved) = reserved_mount(&data.path) {
                errors.push(
                    Diagnostic::new(
                        Code::E0502,
                        format!(
                            "step `{}` mounts claim `{}` at `{}`, where kfpl or Argo keep their own files",
                            step.name, data.claim, data.path
                        ),
                    )
                    .primary(data.span, format!("`{reserved}` is reserved"))
                    .help(format!(
                        "mount the claim somewhere else, such as `{}:/data`",
                        data.claim
                    )),
                );
            }
        }
    }
    errors.extend(super::secrets::reserved_mounts(pipeline));
    errors
}

pub(super) fn braces(what: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::E0501,
        format!("{what} holds `{{{{`, which Argo would read as a reference"),
    )
    .primary(span, "Argo substitutes every `{{…}}` here")
    .help("remove the `{{`; only commands and env values may hold it (kfpl carries those verbatim)")
}
