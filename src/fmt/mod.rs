//! `kfpl fmt`: the one canonical layout of a `.kfp` file.
//!
//! The AST has spans for everything but drops comments, so the comments are
//! found by a small lexical pass (`comments`) and placed back by position
//! while the layout (`layout`) writes each node through the printer
//! (`printer`). Every token is copied from the source: names, numbers as
//! written, and string literals byte for byte (escapes, `"""` blocks and
//! their indentation included), so formatting cannot change a value. The
//! rules are in docs/fmt.md.
//!
//! As a guard, [`format`] parses what it wrote and compares the two syntax
//! trees (spans aside); a difference is reported as an internal error and
//! the caller keeps the original text.

mod comments;
mod erase;
mod layout;
mod printer;

use crate::diagnostics::{self, Code, Diagnostic};
use crate::source::{SourceFile, Span};
use crate::syntax;

/// Lists and maps wider than this (in characters, indentation included) go
/// one element a line.
pub(crate) const MAX_WIDTH: usize = 100;

/// Formats a file. Files with syntax errors are not formatted: their
/// diagnostics (errors and warnings from parsing, sorted) come back instead.
/// Errors found only by checking (an unknown name, a type mismatch) do not
/// stop formatting.
pub fn format(file: &SourceFile) -> Result<String, Vec<Diagnostic>> {
    let parsed = syntax::parse(file);
    let mut diagnostics = parsed.diagnostics;
    let program = match parsed.program {
        Some(program) if !diagnostics.iter().any(Diagnostic::is_error) => program,
        _ => {
            diagnostics::sort(&mut diagnostics);
            return Err(diagnostics);
        }
    };
    let text = file.text();
    let mut layout = layout::Layout {
        src: text,
        printer: printer::Printer::new(text, comments::comments(text)),
    };
    layout.program(&program);
    let formatted = layout.printer.finish();
    verify(file, program, &formatted)?;
    Ok(formatted)
}

/// Whether `file` is already in the canonical layout (`Err` as for [`format`]).
pub fn is_formatted(file: &SourceFile) -> Result<bool, Vec<Diagnostic>> {
    Ok(format(file)? == file.text())
}

/// The formatted text must parse to the same tree and keep every comment.
fn verify(
    file: &SourceFile,
    mut before: syntax::ast::Program,
    formatted: &str,
) -> Result<(), Vec<Diagnostic>> {
    let again = SourceFile::new(file.name(), formatted);
    let reparsed = syntax::parse(&again);
    let same_tree = match reparsed.program {
        Some(mut after) if !reparsed.diagnostics.iter().any(Diagnostic::is_error) => {
            erase::program(&mut before);
            erase::program(&mut after);
            before == after
        }
        _ => false,
    };
    // Two trailing comments that end up on one line read back as one, so
    // compare the pieces between `#`s.
    let comment_texts = |text: &str| -> Vec<String> {
        let mut pieces: Vec<String> = comments::comments(text)
            .iter()
            .flat_map(|c| {
                c.text
                    .split('#')
                    .map(|p| p.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|p| !p.is_empty())
            .collect();
        pieces.sort();
        pieces
    };
    let same_comments = comment_texts(file.text()) == comment_texts(formatted);
    if same_tree && same_comments {
        return Ok(());
    }
    let what = if same_tree {
        "lost or changed a comment"
    } else {
        "changed the program"
    };
    Err(vec![
        Diagnostic::new(
            Code::E0901,
            format!("internal error in the formatter: formatting {what}"),
        )
        .primary(Span::at(0), "while formatting this file")
        .help("this is a bug in kfpl; the file was left as it is; please report it with this file"),
    ])
}
