//! Pest pairs → AST for string literals: escapes, interpolations, and the
//! `"""` dedent.
//!
//! The pieces of a literal are borrowed from the source until the end, where
//! each run of text becomes one `String` (a literal's pieces and a
//! `"""` block's lines would otherwise cost an allocation each).

use std::ops::Range;

use pest::iterators::{Pair, Pairs};

use super::{Converter, span_at};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{StringLit, StringPart};
use crate::syntax::grammar::Rule;

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
        // One child, `plain_string` or `triple_string`: no cursor is needed.
        let Some(inner) = pair.into_inner().next() else {
            self.internal(span, "expected a child");
            return None;
        };
        let triple = inner.as_rule() == Rule::triple_string;
        let pieces = inner.into_inner();
        if !triple && let Some(parts) = self.lone_text(&pieces) {
            return Some(StringLit {
                parts,
                triple,
                span,
            });
        }
        let mut parts = Vec::with_capacity(pieces.len());
        for piece in pieces {
            let piece_span = span_at(&piece, self.base);
            let part = match piece.as_rule() {
                Rule::plain_text | Rule::triple_text => Piece::Text(piece.as_str(), piece_span),
                Rule::dollar_escape => Piece::Text("$<", piece_span),
                Rule::escape => Piece::Text(self.escape(piece.as_str(), piece_span), piece_span),
                Rule::interpolation => match self.interpolation(piece) {
                    Some(interp) => Piece::Interp(interp),
                    None => continue,
                },
                other => {
                    self.internal(piece_span, &format!("unexpected string piece {other:?}"));
                    continue;
                }
            };
            parts.push(part);
        }
        if triple {
            parts = dedent(parts);
        }
        Some(StringLit {
            parts: merge_text(parts),
            triple,
            span,
        })
    }

    /// The parts of a plain string that is one run of text or empty, the
    /// most common literal (`"4Gi"`), made without the list of pieces the
    /// general case gathers first; `None` for any other string.
    fn lone_text(&self, pieces: &Pairs<'_, Rule>) -> Option<Vec<StringPart>> {
        match pieces.len() {
            0 => Some(Vec::new()),
            1 => {
                let piece = pieces.peek()?;
                (piece.as_rule() == Rule::plain_text).then(|| {
                    vec![StringPart::Text {
                        text: piece.as_str().to_string(),
                        span: span_at(&piece, self.base),
                    }]
                })
            }
            _ => None,
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
