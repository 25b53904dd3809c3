//! `cache = true` (LANGUAGE-2, "Caching"): a step whose cache key matches a
//! recorded successful run of it is reused instead of run. The value is a
//! bool fixed at compile time (the Argo annotation is written by
//! `kfpl compile`, before any param is bound), and a `finally` step, whose
//! job is to react to this run's end, is never cached.

use super::Checker;
use super::resolve::{RValue, Resolved};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;

impl Checker<'_> {
    /// The value of `cache`: a literal bool (E0350 otherwise). A step's own
    /// `cache = true` inside `finally` is E0351; one inherited from
    /// `defaults` (its span outside the step's) leaves a `finally` step
    /// uncached without a word.
    pub(super) fn cache(&mut self, value: &Resolved, step_span: Span) -> Option<bool> {
        let RValue::Bool(on) = value.value else {
            self.error(not_a_bool(value));
            return None;
        };
        if !on || !self.in_finally(self.scope) {
            return Some(on);
        }
        let own = step_span.start <= value.span.start && value.span.end <= step_span.end;
        if own {
            self.error(
                Diagnostic::new(Code::E0351, "a `finally` step cannot be cached")
                    .primary(value.span, "`cache = true` inside `finally`")
                    .help("remove `cache = true`: a `finally` step runs after every run, to react to that run's end"),
            );
            return None;
        }
        Some(false)
    }
}

/// E0350: `cache = "yes"`, `cache = $<flag>`, `cache = 1`.
fn not_a_bool(value: &Resolved) -> Diagnostic {
    let found = match &value.value {
        RValue::Str(template) if template.as_const().is_none() => {
            "a value known only when the pipeline runs".to_string()
        }
        _ => value.kind().to_string(),
    };
    Diagnostic::new(
        Code::E0350,
        format!("`cache` must be `true` or `false`, found {found}"),
    )
    .primary(value.span, "not `true` or `false`")
    .help("write `cache = true` or `cache = false`: it is fixed when the pipeline is compiled, so a param cannot set it")
}
