//! Pest pairs → AST for string literals: escapes, interpolations, and the
//! `"""` dedent.
//!
//! The pieces of a literal are borrowed from the source until the end, where
//! each run of text becomes one `String` (a literal's pieces and a
//! `"""` block's lines would otherwise cost an allocation each).

use std::ops::Range;

use pest::iterators::Pair;

use super::{Children, Converter, span_at};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{StringLit, StringPart};
use crate::syntax::grammar::Rule;

/// A piece of a literal, its text borrowed from the source (or static, for an escape).
enum Piece<'i> {
    Text(&'i str, Span),
    Interp(crate::syntax::ast::Interp),
}

impl Converter {
    pub(super) fn string<'i>(&mut self, pair: Pair<'i, Rule>) -> Option<StringLit> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let inner = children.any(self)?;
        let triple = inner.as_rule() == Rule::triple_string;
        let mut parts = Vec::new();
        for piece in inner.into_inner() {
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
    let lengths: Vec<Option<usize>> = pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text, _) => Some(text.len()),
            Piece::Interp(_) => None,
        })
        .collect();
    // Sized exactly: the AST keeps every literal's parts.
    let mut out: Vec<StringPart> = Vec::with_capacity(merged_len(&pieces));
    for (i, piece) in pieces.into_iter().enumerate() {
        match piece {
            Piece::Text(more, more_span) => {
                if let Some(StringPart::Text { text, span }) = out.last_mut() {
                    text.push_str(more);
                    *span = span.to(more_span);
                } else if !more.is_empty() {
                    // The run's length, so its `String` is allocated once.
                    let run: usize = lengths[i..].iter().map_while(|&n| n).sum();
                    let mut text = String::with_capacity(run);
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
    let blank: Vec<bool> = lines
        .iter()
        .map(|line| is_blank(&pieces[line.clone()]))
        .collect();
    let first = usize::from(blank.first() == Some(&true) && lines.len() > 1);
    let last = if lines.len() - first > 1 && blank.last() == Some(&true) {
        lines.len() - 1
    } else {
        lines.len()
    };
    let kept = first..last;
    let indent = kept
        .clone()
        .filter(|&i| !blank[i])
        .map(|i| leading_indent(&pieces[lines[i].clone()]))
        .min()
        .unwrap_or(0);
    let mut out = Vec::with_capacity(pieces.len());
    let mut pieces = pieces.into_iter().enumerate().peekable();
    for (n, i) in kept.enumerate() {
        if n > 0 {
            out.push(Piece::Text("\n", Span::DETACHED));
        }
        // Skip to the line's pieces (past a dropped first line).
        while pieces.next_if(|(at, _)| *at < lines[i].start).is_some() {}
        let line = std::iter::from_fn(|| pieces.next_if(|(at, _)| lines[i].contains(at)));
        if blank[i] {
            line.for_each(drop);
            continue;
        }
        for (at, piece) in line {
            match piece {
                Piece::Text(text, span) if at == lines[i].start => {
                    let rest = text.get(indent.min(text.len())..).unwrap_or("");
                    out.push(Piece::Text(rest, span));
                }
                piece => out.push(piece),
            }
        }
    }
    // Give line breaks a real span: the span of the text they sit in.
    let mut last = Span::DETACHED;
    for piece in &mut out {
        match piece {
            Piece::Text(_, span) if span.is_detached() => *span = last,
            Piece::Text(_, span) => last = *span,
            Piece::Interp(interp) => last = interp.span,
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
