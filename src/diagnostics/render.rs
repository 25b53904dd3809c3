//! Rendering diagnostics: human (miette's graphical report), short (one line
//! each) and JSON (one object a line, for editors and CI).
//!
//! This is the only place diagnostics become text. Rendering never clones the
//! source: miette reads it through [`FileSource`], which also cuts very long
//! lines down to a window around the label so a 3 MB line prints as one line.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use super::{Diagnostic, Severity};
use crate::source::SourceFile;

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// miette's report with the source snippet, labels and help.
    #[default]
    Human,
    /// `path:line:col: error[kfpl::E0201]: message`.
    Short,
    /// One JSON object a line.
    Json,
}

/// Options for human rendering.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Colour and unicode art (a terminal) or plain unicode without colour (tests, pipes).
    pub color: bool,
    /// Text width for wrapping messages.
    pub width: usize,
}

impl Default for Style {
    fn default() -> Style {
        Style {
            color: false,
            width: 100,
        }
    }
}

/// Renders one diagnostic in the given format (with a trailing newline).
pub fn render(diagnostic: &Diagnostic, file: &SourceFile, format: Format, style: Style) -> String {
    match format {
        Format::Human => human(diagnostic, file, style),
        Format::Short => short(diagnostic, file),
        Format::Json => json(diagnostic, file),
    }
}

/// Renders many, in order.
pub fn render_all(
    diagnostics: &[Diagnostic],
    file: &SourceFile,
    format: Format,
    style: Style,
) -> String {
    diagnostics
        .iter()
        .map(|d| render(d, file, format, style))
        .collect()
}

fn human(diagnostic: &Diagnostic, file: &SourceFile, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_urls(false);
    let report = Report { diagnostic, file };
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        return short(diagnostic, file);
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn short(diagnostic: &Diagnostic, file: &SourceFile) -> String {
    let span = diagnostic.span();
    let place = if span.is_detached() {
        file.name().to_string()
    } else {
        let (line, column) = file.line_col(span.start);
        format!("{}:{line}:{column}", file.name())
    };
    let mut out = format!(
        "{place}: {}[{}]: {}\n",
        diagnostic.severity().as_str(),
        diagnostic.code,
        diagnostic.message
    );
    if let Some(help) = &diagnostic.help {
        out.push_str(&format!("  help: {help}\n"));
    }
    out
}

fn json(diagnostic: &Diagnostic, file: &SourceFile) -> String {
    let span = diagnostic.span();
    let (line, column) = if span.is_detached() {
        (None, None)
    } else {
        let (line, column) = file.line_col(span.start);
        (Some(line), Some(column))
    };
    let labels: Vec<_> = diagnostic
        .labels
        .iter()
        .map(|label| {
            let (line, column) = file.line_col(label.span.start);
            serde_json::json!({
                "message": label.message,
                "primary": label.primary,
                "line": line,
                "column": column,
                "span": { "start": label.span.start, "end": label.span.end },
            })
        })
        .collect();
    let value = serde_json::json!({
        "code": diagnostic.code.to_string(),
        "severity": diagnostic.severity().as_str(),
        "message": diagnostic.message,
        "file": file.name(),
        "line": line,
        "column": column,
        "span": if span.is_detached() { serde_json::Value::Null } else {
            serde_json::json!({ "start": span.start, "end": span.end })
        },
        "help": diagnostic.help,
        "notes": diagnostic.notes,
        "labels": labels,
    });
    format!("{value}\n")
}

/// Adapter that lets miette render a [`Diagnostic`] over its file.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    file: &'a SourceFile,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diagnostic, f)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report<'_> {}

/// Longest label rendered; longer spans are cut so the snippet stays readable.
const MAX_LABEL_BYTES: usize = 80;

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let mut help = self.diagnostic.help.clone().unwrap_or_default();
        for note in &self.diagnostic.notes {
            if !help.is_empty() {
                help.push('\n');
            }
            help.push_str(note);
        }
        (!help.is_empty()).then(|| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let text = self.file.text();
        let labels = self.diagnostic.labels.iter().map(move |label| {
            let start = floor_char_boundary(text, label.span.start as usize);
            let mut end = ceil_char_boundary(text, (label.span.end as usize).max(start));
            if end - start > MAX_LABEL_BYTES {
                end = floor_char_boundary(text, start + MAX_LABEL_BYTES);
            }
            let message = (!label.message.is_empty()).then(|| label.message.clone());
            if label.primary {
                LabeledSpan::new_primary_with_span(message, start..end)
            } else {
                LabeledSpan::new_with_span(message, start..end)
            }
        });
        Some(Box::new(labels))
    }
}

/// Lines longer than this are shown as a window around the label.
const MAX_LINE_BYTES: usize = 400;
const WINDOW_BYTES: usize = 120;

impl SourceCode for Report<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let text = self.file.text();
        let name = self.file.name().to_string();
        let start = span.offset().min(text.len());
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        if line_end - line_start <= MAX_LINE_BYTES {
            let contents = text.read_span(span, before, after)?;
            return Ok(Box::new(MietteSpanContents::new_named(
                name,
                contents.data(),
                *contents.span(),
                contents.line(),
                contents.column(),
                contents.line_count(),
            )));
        }
        // A very long line: show only a window of it, with the true line number.
        let from = ceil_char_boundary(text, start.saturating_sub(WINDOW_BYTES).max(line_start));
        let to = floor_char_boundary(text, (start + WINDOW_BYTES).min(line_end)).max(from);
        let (line, column) = self.file.line_col(from as u32);
        Ok(Box::new(MietteSpanContents::new_named(
            name,
            &text.as_bytes()[from..to],
            (from, to - from).into(),
            line - 1,
            column - 1,
            1,
        )))
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn ceil_char_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index += 1;
    }
    index
}
