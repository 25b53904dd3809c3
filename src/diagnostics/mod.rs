//! Diagnostics: the one shape every phase reports problems in.
//!
//! Phases build [`Diagnostic`]s (a code, a message, labelled spans, a help
//! line) and collect them in [`Diagnostics`]. Nothing here prints: rendering
//! happens once, at the edge, in [`render`].

mod codes;
pub mod render;

pub use codes::Code;

use crate::source::Span;

/// How bad a diagnostic is; decided by its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Stops the program from being compiled or run.
    Error,
    /// Worth fixing; does not stop anything.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A labelled span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// A short local message ("not produced by `train`").
    pub message: String,
    /// The primary label is the one the diagnostic is reported at.
    pub primary: bool,
}

/// One problem found in a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code, e.g. `E0201`.
    pub code: Code,
    /// Lowercase, one fact, names in backticks.
    pub message: String,
    /// Labelled spans; the first primary label is where the diagnostic sits.
    pub labels: Vec<Label>,
    /// What to do about it.
    pub help: Option<String>,
    /// Extra lines (a drawn cycle, say).
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with a message and no labels yet.
    pub fn new(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: elide(message.into()),
            labels: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// Adds the primary label (skipped for detached spans).
    pub(crate) fn primary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        if !span.is_detached() {
            self.labels.push(Label {
                span,
                message: elide(message.into()),
                primary: true,
            });
        }
        self
    }

    /// Adds a secondary label (skipped for detached spans).
    pub(crate) fn secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        if !span.is_detached() {
            self.labels.push(Label {
                span,
                message: elide(message.into()),
                primary: false,
            });
        }
        self
    }

    /// Sets the help line.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(elide(help.into()));
        self
    }

    /// Sets the help line when there is one.
    pub(crate) fn maybe_help(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help.map(elide);
        }
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(elide(note.into()));
        self
    }

    /// Error or warning.
    pub fn severity(&self) -> Severity {
        if self.code.is_error() {
            Severity::Error
        } else {
            Severity::Warning
        }
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.code.is_error()
    }

    /// The span the diagnostic sits at: its primary label's, else detached.
    pub fn span(&self) -> Span {
        self.labels
            .iter()
            .find(|label| label.primary)
            .map_or(Span::DETACHED, |label| label.span)
    }
}

/// Longest text a diagnostic carries: a 3 MB identifier must not become a 3 MB message.
const MAX_TEXT: usize = 400;

/// Cuts the middle out of very long text.
fn elide(text: String) -> String {
    if text.len() <= MAX_TEXT {
        return text;
    }
    let head_end = (0..=240)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let tail_start = (text.len() - 120..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    format!("{}…{}", &text[..head_end], &text[tail_start..])
}

/// Diagnostics gathered over one phase or one file, emitted sorted by position.
#[derive(Debug, Default, Clone)]
pub(crate) struct Diagnostics {
    items: Vec<Diagnostic>,
    errors: usize,
}

impl Diagnostics {
    /// Nothing yet.
    pub(crate) fn new() -> Diagnostics {
        Diagnostics::default()
    }

    /// Adds one.
    pub(crate) fn push(&mut self, diagnostic: Diagnostic) {
        self.errors += usize::from(diagnostic.is_error());
        self.items.push(diagnostic);
    }

    /// Adds many.
    pub(crate) fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        for diagnostic in diagnostics {
            self.push(diagnostic);
        }
    }

    /// Whether any is an error.
    pub(crate) fn has_errors(&self) -> bool {
        self.errors > 0
    }

    /// How many errors so far.
    pub(crate) fn error_count(&self) -> usize {
        self.errors
    }

    /// Sorted by position, then code; exact duplicates removed.
    pub(crate) fn into_sorted(mut self) -> Vec<Diagnostic> {
        sort(&mut self.items);
        self.items
    }
}

/// Sorts diagnostics by position (detached ones first), then code, and drops exact repeats.
pub fn sort(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            let span = d.span();
            let start = if span.is_detached() {
                0
            } else {
                span.start as u64 + 1
            };
            (start, d.code)
        };
        key(a).cmp(&key(b))
    });
    diagnostics.dedup();
}

/// Suggests the candidate closest to `name` by edit distance, when one is close enough.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|candidate| format!("did you mean `{candidate}`?"))
}

/// The candidate closest to `name` by edit distance, when one is close enough.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    // Among equally close names, prefer the one sharing the longest prefix
    // (`gpu` → `gpus`, not `cpu`).
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .map(|candidate| {
            let prefix = name
                .chars()
                .zip(candidate.chars())
                .take_while(|(a, b)| a == b)
                .count();
            (
                edit_distance(name, candidate),
                std::cmp::Reverse(prefix),
                candidate,
            )
        })
        .filter(|(distance, _, _)| *distance <= limit)
        .min()
        .map(|(_, _, candidate)| candidate)
}

/// Edit distance counting a swap of neighbours as one edit (optimal string
/// alignment), so `trian` is one edit from `train`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["prepare_data", "train", "export_model"];
        assert_eq!(
            did_you_mean("trian", names).as_deref(),
            Some("did you mean `train`?")
        );
        assert_eq!(did_you_mean("zzz", names), None);
        assert_eq!(
            did_you_mean("gpu", ["cpu", "gpus"]).as_deref(),
            Some("did you mean `gpus`?")
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("trian", "train"), 1);
    }
}
