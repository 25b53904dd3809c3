//! The lexical checks, a pass over the lexer's tokens before the grammar runs.
//!
//! It finds what a PEG parser reports badly or dangerously: unterminated
//! strings (at the opening quote, not at the end of the file), unbalanced and
//! absurdly nested brackets (pest recurses once per level and would overflow
//! the stack), and control characters. It also tells the REPL whether input is
//! merely incomplete (a bracket or `"""` still open at the end).

use super::lex::{self, Kind};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;

/// Deeper nesting is refused; real programs need three or four levels.
pub(crate) const MAX_DEPTH: usize = 64;

/// At most this many unexpected-character errors are reported (binary junk).
const MAX_JUNK_REPORTS: usize = 5;

/// What the pre-pass found.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Problems that make parsing pointless.
    pub diagnostics: Vec<Diagnostic>,
    /// The text ends inside an open bracket or `"""` string: more input may complete it.
    pub incomplete: bool,
    /// Every `# …` comment outside strings, from `#` to the end of its line
    /// (without the `\n`), in order: what the AST drops and `fmt` keeps.
    pub comments: Vec<std::ops::Range<usize>>,
}

/// Scans `text` once, in linear time, over the lexer's tokens.
pub(crate) fn scan(text: &str) -> Scan {
    let mut out = Scan::default();
    let mut brackets: Vec<(u8, usize)> = Vec::new();
    let mut junk = 0;
    // The opening quote of a string that is never closed.
    let mut open_string = None;
    for token in lex::lex(text) {
        let at = token.span.start as usize;
        match token.kind {
            Kind::Comment => out.comments.push(token.span.range()),
            Kind::Quote if token.open => open_string = Some(token),
            Kind::LBrace | Kind::LBracket | Kind::LParen => {
                brackets.push((text.as_bytes()[at], at));
                if brackets.len() > MAX_DEPTH {
                    out.diagnostics.push(too_deep(at));
                    return out;
                }
            }
            Kind::RBrace | Kind::RBracket | Kind::RParen => {
                close_bracket(&mut brackets, text.as_bytes()[at], at, &mut out.diagnostics);
            }
            Kind::Junk => {
                // A run of junk (binary data) is one report.
                junk += 1;
                if junk <= MAX_JUNK_REPORTS {
                    out.diagnostics
                        .push(unexpected_chars(text, at, token.span.end as usize));
                }
            }
            _ => {}
        }
        if let Some(quote) = open_string.filter(|q| !q.is_triple_quote()) {
            // A one-line string ends, unclosed, at its line break.
            let start = quote.span.start as usize;
            let end = lex::line_end(text, start);
            if end < text.len() {
                out.diagnostics
                    .push(unterminated(start, (end, end), Ends::Line));
                open_string = None;
            }
        }
    }
    // Where a string left open runs to the end of the file, the brackets
    // around it are open only because of it: they are not reported.
    // The last character, where "the file ends" is labelled (a label past
    // the last character is not drawn).
    let file_end = text.trim_end().len();
    let last_char = text[..file_end]
        .char_indices()
        .next_back()
        .map_or(0, |(at, _)| at);
    if !brackets.is_empty() {
        out.incomplete = true;
    }
    if let Some(quote) = open_string {
        let triple = quote.is_triple_quote();
        out.incomplete |= triple;
        out.diagnostics.push(unterminated(
            quote.span.start as usize,
            (last_char, file_end),
            Ends::File { triple },
        ));
        brackets.clear();
    }
    if junk > 0 {
        // Junk (binary data, terminal escape codes such as `ESC[0m`) brings
        // stray brackets with it; their reports would only bury the junk's.
        out.diagnostics.retain(|d| d.code != Code::E0111);
        return out;
    }
    for (open, at) in brackets {
        out.diagnostics.push(
            Diagnostic::new(Code::E0111, format!("`{}` is never closed", open as char))
                .primary(Span::new(at, at + 1), "opened here")
                .help(format!("add the matching `{}`", closing(open) as char)),
        );
    }
    out
}

fn closing(open: u8) -> u8 {
    match open {
        b'{' => b'}',
        b'[' => b']',
        _ => b')',
    }
}

fn close_bracket(brackets: &mut Vec<(u8, usize)>, close: u8, at: usize, out: &mut Vec<Diagnostic>) {
    match brackets.last() {
        Some(&(open, _)) if closing(open) == close => {
            brackets.pop();
        }
        Some(&(open, open_at)) => {
            out.push(
                Diagnostic::new(
                    Code::E0111,
                    format!("`{}` closes `{}`", close as char, open as char),
                )
                .primary(Span::new(at, at + 1), "mismatched bracket")
                .secondary(Span::new(open_at, open_at + 1), "opened here")
                .help(format!("close it with `{}`", closing(open) as char)),
            );
            brackets.pop();
        }
        None => out.push(
            Diagnostic::new(
                Code::E0111,
                format!("`{}` has no opening bracket", close as char),
            )
            .primary(Span::new(at, at + 1), "nothing to close")
            .help("remove it, or add the opening bracket it belongs to"),
        ),
    }
}

/// `text[at..end]`: one or more junk bytes (each is one ASCII character).
fn unexpected_chars(text: &str, at: usize, end: usize) -> Diagnostic {
    let ch = text[at..].chars().next().unwrap_or('\0');
    let message = if end - at > 1 {
        format!(
            "{} unexpected control characters, starting with {ch:?}",
            end - at
        )
    } else {
        format!("unexpected character {ch:?}")
    };
    Diagnostic::new(Code::E0110, message)
        .primary(Span::new(at, end), "not part of the language")
        .help("remove it; is this a binary file or a file in another encoding?")
}

/// What ends an unterminated string.
enum Ends {
    /// The line break (a one-line string).
    Line,
    /// The end of the file.
    File { triple: bool },
}

/// `end`: the span the string is labelled as ending at.
fn unterminated(start: usize, end: (usize, usize), ends: Ends) -> Diagnostic {
    let triple = matches!(ends, Ends::File { triple: true });
    let quote = if triple { "\"\"\"" } else { "\"" };
    let help = if triple {
        "close the string with `\"\"\"`"
    } else {
        "close the string with `\"` on the same line; for text over several lines use `\"\"\"`"
    };
    let end_label = match ends {
        Ends::Line => "the line ends before the closing `\"`",
        Ends::File { .. } => "the file ends here, inside the string",
    };
    Diagnostic::new(Code::E0102, "unterminated string")
        .primary(
            Span::new(start, start + quote.len()),
            "this string is never closed",
        )
        .secondary(Span::new(end.0, end.1), end_label)
        .help(help)
}

fn too_deep(at: usize) -> Diagnostic {
    Diagnostic::new(
        Code::E0104,
        format!("brackets nested more than {MAX_DEPTH} levels deep"),
    )
    .primary(Span::new(at, at + 1), "too deep")
    .help("flatten the value; pipelines never need this much nesting")
}
