//! Warnings: things that are legal but probably not what was meant.

use super::Checker;
use super::ir::{self, Command, Part, Template};
use crate::diagnostics::{Code, Diagnostic};

/// KFP shows at most this many metrics for a run.
const KFP_MAX_METRICS: usize = 50;

/// W0201/W0202: params and lets nobody reads. Not reported next to errors:
/// a misspelt or malformed use would make its param look unused.
pub(super) fn unused(checker: &mut Checker<'_>) {
    if checker.diagnostics.has_errors() {
        return;
    }
    let mut found = Vec::new();
    for (name, decl) in &checker.params {
        if !checker.used.contains(name) {
            found.push(
                Diagnostic::new(Code::W0201, format!("param `{name}` is never used"))
                    .primary(decl.name.span, "declared here")
                    .help(format!("interpolate it with `$<{name}>`, or remove it")),
            );
        }
    }
    for (name, decl) in &checker.lets {
        if !checker.used.contains(name) {
            found.push(
                Diagnostic::new(Code::W0202, format!("let `{name}` is never used"))
                    .primary(decl.name.span, "declared here")
                    .help(format!(
                        "use it as a value (`{name}`) or in a string (`$<{name}>`), or remove it"
                    )),
            );
        }
    }
    checker.diagnostics.extend(found);
}

/// Per-step warnings on the checked steps.
pub(super) fn steps(checker: &mut Checker<'_>, steps: &[ir::Step], params: &[ir::Param]) {
    let mut metrics = 0;
    for step in steps {
        if let Command::Shell(script) = &step.command {
            single_quoted_interpolations(checker, script);
        }
        for metric in &step.metrics {
            metrics += 1;
            if !super::values::is_kfp_metric_name(&metric.name) {
                checker.diagnostics.push(
                    Diagnostic::new(
                        Code::W0302,
                        format!("Kubeflow Pipelines does not accept the metric name `{}`", metric.name),
                    )
                    .primary(metric.span, format!("shown in KFP as `{}`", metric.kfp_name))
                    .help(format!(
                        "rename it to `{}` (a letter, then letters, digits, `-` or `_`, at most 64 characters)",
                        metric.kfp_name
                    )),
                );
            }
            if metrics == KFP_MAX_METRICS + 1 {
                checker.diagnostics.push(
                    Diagnostic::new(
                        Code::W0304,
                        format!("the pipeline declares more than {KFP_MAX_METRICS} metrics"),
                    )
                    .primary(metric.span, format!("metric number {}", KFP_MAX_METRICS + 1))
                    .help("Kubeflow Pipelines shows at most 50 metrics a run; `kfpl runs` records them all"),
                );
            }
        }
        if let Some(revision) = step.git_revision() {
            git_revision(checker, revision, params);
        }
    }
}

/// W0301: `'$<x>'` in a shell script: the variable would not expand there.
fn single_quoted_interpolations(checker: &mut Checker<'_>, script: &Template) {
    let mut quote = Quote::None;
    for part in &script.parts {
        match part {
            Part::Text(text) => quote = quote.after(text),
            _ => {
                if let (Quote::Single, Some(span)) = (quote, part.span()) {
                    checker.diagnostics.push(
                        Diagnostic::new(Code::W0301, "interpolation inside single quotes")
                            .primary(span, "the shell will not expand this")
                            .help("kfpl passes values as variables (`${KFP_…}`), which single quotes keep from expanding; use double quotes"),
                    );
                }
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

impl Quote {
    /// The quoting state after a piece of shell text. Read as bytes, from
    /// one byte that matters to the next: the three characters that change
    /// the state are ASCII, and no byte of a multi-byte character is one.
    fn after(mut self, text: &str) -> Quote {
        let bytes = text.as_bytes();
        let mut at = 0;
        while let Some(offset) = bytes[at..].iter().position(|&b| self.changes_at(b)) {
            let byte = bytes[at + offset];
            at += offset + 1;
            self = match (self, byte) {
                // In single quotes only the closing quote stops the search.
                (Quote::Single, _) => Quote::None,
                // An escaped character is skipped (within this text).
                (_, b'\\') => {
                    at = (at + 1).min(bytes.len());
                    self
                }
                (Quote::None, b'\'') => Quote::Single,
                (Quote::None, b'"') => Quote::Double,
                (Quote::Double, b'"') => Quote::None,
                (state, _) => state,
            };
        }
        self
    }

    /// Whether `byte` may change this state: inside single quotes only the
    /// closing quote does (a backslash is literal there).
    fn changes_at(self, byte: u8) -> bool {
        match self {
            Quote::Single => byte == b'\'',
            Quote::None | Quote::Double => matches!(byte, b'\'' | b'"' | b'\\'),
        }
    }
}

/// W0303: a `GIT_SYNC_REV` that is not a 40-hex commit: branches move, so runs would not repeat.
fn git_revision(checker: &mut Checker<'_>, revision: &Template, params: &[ir::Param]) {
    let mut from_param = None;
    let (value, span) = match &revision.parts[..] {
        [Part::Param { name, span }] => match params.iter().find(|p| p.name == *name) {
            Some(
                param @ ir::Param {
                    default: Some(default),
                    ..
                },
            ) => {
                from_param = Some(param);
                (default.as_text().to_string(), *span)
            }
            _ => return,
        },
        _ => match revision.as_const() {
            Some(text) => (text, revision.span),
            None => return,
        },
    };
    if is_full_sha(&value) {
        return;
    }
    let mut diagnostic = Diagnostic::new(
        Code::W0303,
        format!("`GIT_SYNC_REV` is `{value}`, not a full commit SHA"),
    )
    .primary(span, "a branch, tag or short SHA")
    .help("pin the code with the full 40-character commit (`git rev-parse HEAD`) so every run trains the same code");
    if let Some(param) = from_param {
        diagnostic = diagnostic.secondary(
            param.span,
            format!("`{}` defaults to `{value}` here", param.name),
        );
    }
    checker.diagnostics.push(diagnostic);
}

fn is_full_sha(text: &str) -> bool {
    text.len() == 40 && text.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::Quote;

    #[test]
    fn quoting_follows_the_shell() {
        let cases = [
            (Quote::None, "echo 'a", Quote::Single),
            // A backslash is literal in single quotes.
            (Quote::Single, "b\\' c", Quote::None),
            (Quote::None, "\\'x", Quote::None),
            (Quote::None, "\"it's\"", Quote::None),
            (Quote::Double, "\\\"", Quote::Double),
            (Quote::None, "é'ü", Quote::Single),
            // A backslash at the end of a text escapes nothing after it.
            (Quote::None, "x\\", Quote::None),
        ];
        for (before, text, after) in cases {
            assert!(before.after(text) == after, "{text:?}");
        }
    }
}
