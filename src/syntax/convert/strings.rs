//! A string token → AST: escapes, interpolations, and the `"""` dedent.
//!
//! The grammar reads a literal as one token; its pieces are found here with
//! the lexer (`lex`), which ends every string where the grammar does. The
//! pieces are borrowed from the source until the end, where each run of
//! text becomes one `String` (a literal's pieces and a `"""` block's lines
//! would otherwise cost an allocation each).

use std::ops::Range;

use pest::iterators::Pair;

use super::{Converter, span_at};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{StringLit, StringPart};
use crate::syntax::grammar::Rule;
use crate::syntax::lex::{self, Kind};

/// A piece of a literal, its text borrowed from the source (or static, for an escape).
enum Piece<'i> {
    Text(&'i str, Span),
    Interp(crate::syntax::ast::Interp),
}

impl Piece<'_> {
    /// The length of a piece of text; `None` for an interpolation.
    fn text_len(&self) -> Option<usize> {
        match self {
            Piece::Text(text, _) => Some(text.len()),
            Piece::Interp(_) => None,
        }
    }
}

impl Converter {
    pub(super) fn string(&mut self, pair: Pair<'_, Rule>) -> Option<StringLit> {
        let span = span_at(&pair, self.base);
        Some(self.string_literal(pair.as_str(), span))
    }

    /// The literal `literal` (its quotes included), found at `span`.
    fn string_literal(&mut self, literal: &str, span: Span) -> StringLit {
        let triple = literal.starts_with("\"\"\"");
        let lone = if triple {
            None
        } else {
            lone_text(literal, span)
        };
        StringLit {
            parts: lone.unwrap_or_else(|| self.string_parts(literal, span, triple)),
            triple,
            span,
        }
    }

    /// The parts of any literal: its pieces as the lexer reads them, a
    /// `"""` block dedented, and each run of text merged.
    fn string_parts(&mut self, literal: &str, span: Span, triple: bool) -> Vec<StringPart> {
        let mut parts = Vec::new();
        let start = span.start as usize;
        lex::string_pieces(literal, 0, |token| {
            let piece_span = Span::new(
                start + token.span.start as usize,
                start + token.span.end as usize,
            );
            let text = token.text(literal);
            match token.kind {
                Kind::Text => self.text_pieces(text, piece_span, triple, &mut parts),
                Kind::Interp => {
                    parts.extend(self.interpolation(text, piece_span).map(Piece::Interp));
                }
                _ => {}
            }
        });
        if triple {
            parts = dedent(parts);
        }
        merge_text(parts)
    }

    /// The pieces of a run of text (`text`, at `span`) as the grammar reads
    /// them: plain text, `$$<`, and in a plain string escapes (`\x`).
    fn text_pieces<'i>(
        &mut self,
        text: &'i str,
        span: Span,
        triple: bool,
        parts: &mut Vec<Piece<'i>>,
    ) {
        let bytes = text.as_bytes();
        let at = |offset: usize| span.start as usize + offset;
        let (mut i, mut run) = (0, 0);
        // Only a `\\` (not in a `"""` block) or a `$` can begin a piece.
        let next = |from: usize| {
            if triple {
                memchr::memchr(b'$', &bytes[from..])
            } else {
                memchr::memchr2(b'\\', b'$', &bytes[from..])
            }
        };
        while let Some(found) = next(i) {
            i += found;
            let piece_len = match bytes[i] {
                b'\\' => 1 + text[i + 1..].chars().next().map_or(0, char::len_utf8),
                b'$' if bytes[i..].starts_with(b"$$<") => 3,
                _ => {
                    i += 1;
                    continue;
                }
            };
            if run < i {
                parts.push(Piece::Text(&text[run..i], Span::new(at(run), at(i))));
            }
            let piece = &text[i..i + piece_len];
            let piece_span = Span::new(at(i), at(i + piece_len));
            let meaning = if bytes[i] == b'$' {
                "$<"
            } else {
                self.escape(piece, piece_span)
            };
            parts.push(Piece::Text(meaning, piece_span));
            i += piece_len;
            run = i;
        }
        if run < bytes.len() {
            parts.push(Piece::Text(
                &text[run..],
                Span::new(at(run), at(bytes.len())),
            ));
        }
    }

    /// What an escape stands for; an unknown one (reported) stands for itself.
    fn escape<'i>(&mut self, escape: &'i str, span: Span) -> &'i str {
        match escape {
            "\\\"" => "\"",
            "\\\\" => "\\",
            "\\n" => "\n",
            "\\t" => "\t",
            "\\$" => "$",
            _ => {
                self.diagnostics.push(
                    Diagnostic::new(Code::E0105, format!("unknown escape `{escape}`"))
                        .primary(span, "not an escape")
                        .help("the escapes are `\\\"` `\\\\` `\\n` `\\t` `\\$`; write `\\\\` for a backslash"),
                );
                escape
            }
        }
    }
}

/// The parts of a plain string (`literal`, at `span`) that is one run of
/// text or empty, the most common literal (`"4Gi"`), made without the list
/// of pieces the general case gathers first; `None` for any other string.
fn lone_text(literal: &str, span: Span) -> Option<Vec<StringPart>> {
    let body = literal.get(1..literal.len().saturating_sub(1))?;
    if body.bytes().any(|b| b == b'\\' || b == b'$') {
        return None;
    }
    if body.is_empty() {
        return Some(Vec::new());
    }
    let start = span.start as usize + 1;
    Some(vec![StringPart::Text {
        text: body.to_string(),
        span: Span::new(start, start + body.len()),
    }])
}

/// The literal's parts: each run of adjacent text joined into one `String`
/// whose span covers the run; empty text that joins nothing is dropped.
fn merge_text(pieces: Vec<Piece<'_>>) -> Vec<StringPart> {
    // Sized exactly: the AST keeps every literal's parts.
    let mut out: Vec<StringPart> = Vec::with_capacity(merged_len(&pieces));
    let mut pieces = pieces.into_iter();
    while let Some(piece) = pieces.next() {
        match piece {
            Piece::Text(more, more_span) => {
                if let Some(StringPart::Text { text, span }) = out.last_mut() {
                    text.push_str(more);
                    *span = span.to(more_span);
                } else if !more.is_empty() {
                    // The run's length, so its `String` is allocated once.
                    let rest: usize = pieces.as_slice().iter().map_while(Piece::text_len).sum();
                    let mut text = String::with_capacity(more.len() + rest);
                    text.push_str(more);
                    out.push(StringPart::Text {
                        text,
                        span: more_span,
                    });
                }
            }
            Piece::Interp(interp) => out.push(StringPart::Interp(interp)),
        }
    }
    out
}

/// How many parts `merge_text` makes of `pieces`.
fn merged_len(pieces: &[Piece<'_>]) -> usize {
    let mut count = 0;
    let mut in_text = false;
    for piece in pieces {
        match piece {
            Piece::Text(text, _) if !in_text && !text.is_empty() => {
                count += 1;
                in_text = true;
            }
            Piece::Text(..) => {}
            Piece::Interp(_) => {
                count += 1;
                in_text = false;
            }
        }
    }
    count
}

/// The `"""` rule: drop the line break after the opening quotes, the common
/// indentation, and a last line holding only whitespace (with its newline).
fn dedent(parts: Vec<Piece<'_>>) -> Vec<Piece<'_>> {
    let (pieces, lines) = split_lines(parts);
    let blank = |i: usize| is_blank(&pieces[lines[i].clone()]);
    let first = usize::from(lines.len() > 1 && blank(0));
    let last = if lines.len() - first > 1 && blank(lines.len() - 1) {
        lines.len() - 1
    } else {
        lines.len()
    };
    let kept = first..last;
    let indent = kept
        .clone()
        .filter(|&i| !blank(i))
        .map(|i| leading_indent(&pieces[lines[i].clone()]))
        .min()
        .unwrap_or(0);
    let mut out = Vec::with_capacity(pieces.len());
    // A line break takes the span of the text it sits in: the piece before it.
    let mut before = Span::DETACHED;
    // The lines are consecutive runs of pieces: each is taken in turn.
    let mut pieces = pieces.into_iter();
    for (i, line) in lines.iter().enumerate() {
        let line_blank = pieces.as_slice().get(..line.len()).is_some_and(is_blank);
        let line_pieces = pieces.by_ref().take(line.len());
        if kept.contains(&i) && i > first {
            out.push(Piece::Text("\n", before));
        }
        if !kept.contains(&i) || line_blank {
            line_pieces.for_each(drop);
            continue;
        }
        for (at, piece) in line_pieces.enumerate() {
            let piece = match piece {
                Piece::Text(text, span) if at == 0 => {
                    Piece::Text(text.get(indent.min(text.len())..).unwrap_or(""), span)
                }
                piece => piece,
            };
            before = match &piece {
                Piece::Text(_, span) => *span,
                Piece::Interp(interp) => interp.span,
            };
            out.push(piece);
        }
    }
    out
}

/// Splits pieces into lines at `\n` (a `\r` before it is dropped): the
/// pieces, and each line as a range of them.
fn split_lines(parts: Vec<Piece<'_>>) -> (Vec<Piece<'_>>, Vec<Range<usize>>) {
    let mut pieces = Vec::with_capacity(parts.len() * 2);
    let mut lines = Vec::new();
    let mut line_start = 0;
    for part in parts {
        match part {
            Piece::Text(text, span) => {
                let mut split = text.split('\n').peekable();
                while let Some(piece) = split.next() {
                    let more = split.peek().is_some();
                    let piece = if more {
                        piece.strip_suffix('\r').unwrap_or(piece)
                    } else {
                        piece
                    };
                    pieces.push(Piece::Text(piece, span));
                    if more {
                        lines.push(line_start..pieces.len());
                        line_start = pieces.len();
                    }
                }
            }
            interp @ Piece::Interp(_) => pieces.push(interp),
        }
    }
    lines.push(line_start..pieces.len());
    (pieces, lines)
}

fn is_blank(line: &[Piece<'_>]) -> bool {
    line.iter().all(|piece| match piece {
        Piece::Text(text, _) => text.chars().all(|c| c == ' ' || c == '\t'),
        Piece::Interp(_) => false,
    })
}

fn leading_indent(line: &[Piece<'_>]) -> usize {
    match line.first() {
        Some(Piece::Text(text, _)) => text.len() - text.trim_start_matches([' ', '\t']).len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Converter, lone_text};
    use crate::source::Span;
    use crate::syntax::ast::StringPart;
    use crate::syntax::lex;

    /// A plain literal `"…"` around `body`, when the lexer reads it as one
    /// closed string (so the grammar does too).
    fn plain_literal(body: &str) -> Option<String> {
        let literal = format!("\"{body}\"");
        let end = lex::string_pieces(&literal, 0, |_| {});
        (end.closed && end.end == literal.len()).then_some(literal)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        /// The one-run fast path makes what the general path makes, and
        /// reports nothing, wherever it applies.
        #[test]
        fn a_lone_run_of_text_reads_as_the_general_path_reads_it(
            body in "[a\"\\\\$<>{} .é]{0,12}",
            at in 0usize..100,
        ) {
            let Some(literal) = plain_literal(&body) else {
                return Ok(());
            };
            let span = Span::new(at, at + literal.len());
            if let Some(lone) = lone_text(&literal, span) {
                let mut general = Converter::default();
                let parts = general.string_parts(&literal, span, false);
                prop_assert_eq!(lone, parts);
                prop_assert!(general.diagnostics.is_empty());
            }
        }

        /// Any text written as a literal by `escape_string` reads back as itself.
        #[test]
        fn escaped_text_reads_back_unchanged(text in "[a\"\\\\$<>\n\t .é]{0,16}") {
            let literal = format!("\"{}\"", crate::syntax::escape_string(&text));
            let span = Span::new(0, literal.len());
            let mut converter = Converter::default();
            let parts = converter.string_parts(&literal, span, false);
            let read: String = parts
                .iter()
                .map(|part| match part {
                    StringPart::Text { text, .. } => text.as_str(),
                    StringPart::Interp(_) => "{interpolation}",
                })
                .collect();
            prop_assert_eq!(read, text);
            prop_assert!(converter.diagnostics.is_empty());
        }
    }
}
