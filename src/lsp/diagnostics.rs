//! `kfpl::check`'s diagnostics in LSP's shape.
//!
//! Each diagnostic keeps its code, message and severity; its secondary
//! labels become `relatedInformation`, its help and notes are appended to
//! the message (editors show one message), and `codeDescription` links to
//! the code's explain page at [`EXPLAIN_BASE`]`CODE` (the same text as
//! `kfpl explain CODE`; hover on the code shows it in the editor too).

use lsp_types::{
    CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    Url,
};

use super::text::LineIndex;
use crate::diagnostics::{Code, Diagnostic, Severity};

/// Where a code's explain page is linked (`…/E0201`). `.invalid` on
/// purpose: kfpl has no website; the page's text is `kfpl explain CODE`.
pub const EXPLAIN_BASE: &str = "https://kfpl.invalid/explain/";

/// The link for a code's explain page.
pub fn explain_url(code: Code) -> Option<Url> {
    Url::parse(&format!("{EXPLAIN_BASE}{}", code.as_str())).ok()
}

/// One of `kfpl::check`'s diagnostics on the text `index` indexes, converted.
pub fn to_lsp(uri: &Url, index: &LineIndex<'_>, diagnostic: &Diagnostic) -> lsp_types::Diagnostic {
    let span = diagnostic.span();
    // A diagnostic without a primary label (E0108 on an empty file) sits at the start.
    let range = if diagnostic.labels.iter().any(|l| l.primary) {
        index.range(span)
    } else {
        lsp_types::Range::default()
    };
    let related: Vec<DiagnosticRelatedInformation> = diagnostic
        .labels
        .iter()
        .filter(|label| !label.primary)
        .map(|label| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), index.range(label.span)),
            message: label.message.clone(),
        })
        .collect();
    lsp_types::Diagnostic {
        range,
        severity: Some(match diagnostic.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(diagnostic.code.as_str().to_string())),
        code_description: explain_url(diagnostic.code).map(|href| CodeDescription { href }),
        source: Some("kfpl".into()),
        message: message(diagnostic),
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

/// The message, with the primary label, help and notes on lines of their own.
fn message(diagnostic: &Diagnostic) -> String {
    let mut out = diagnostic.message.clone();
    if let Some(label) = diagnostic.labels.iter().find(|l| l.primary)
        && !label.message.is_empty()
    {
        out.push_str(&format!("\n{}", label.message));
    }
    if let Some(help) = &diagnostic.help {
        out.push_str(&format!("\nhelp: {help}"));
    }
    for note in &diagnostic.notes {
        out.push_str(&format!("\nnote: {note}"));
    }
    out
}
