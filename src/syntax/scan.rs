//! A lexical pre-pass over the raw text, run before the grammar.
//!
//! It finds what a PEG parser reports badly or dangerously: unterminated
//! strings (at the opening quote, not at the end of the file), unbalanced and
//! absurdly nested brackets (pest recurses once per level and would overflow
//! the stack), and control characters. It also tells the REPL whether input is
//! merely incomplete (a bracket or `"""` still open at the end).

use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;

/// Deeper nesting is refused; real programs need three or four levels.
pub const MAX_DEPTH: usize = 64;

/// At most this many unexpected-character errors are reported (binary junk).
const MAX_JUNK_REPORTS: usize = 5;

/// What the pre-pass found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Problems that make parsing pointless.
    pub diagnostics: Vec<Diagnostic>,
    /// The text ends inside an open bracket or `"""` string: more input may complete it.
    pub incomplete: bool,
    /// Every `# …` comment outside strings, from `#` to the end of its line
    /// (without the `\n`), in order: what the AST drops and `fmt` keeps.
    pub comments: Vec<std::ops::Range<usize>>,
}

#[derive(Clone, Copy)]
enum State {
    Code,
    Comment { start: usize },
    Plain { start: usize },
    Triple { start: usize },
}

/// Scans `text` once, in linear time.
pub fn scan(text: &str) -> Scan {
    let bytes = text.as_bytes();
    let mut out = Scan::default();
    let mut brackets: Vec<(u8, usize)> = Vec::new();
    let mut state = State::Code;
    let mut junk = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match state {
            State::Comment { start } => {
                if b == b'\n' {
                    out.comments.push(start..i);
                    state = State::Code;
                }
            }
            State::Plain { start } => match b {
                b'\\' if bytes.get(i + 1).is_some_and(|&n| n != b'\n') => i += 1,
                b'"' => state = State::Code,
                b'\n' => {
                    out.diagnostics
                        .push(unterminated(start, (i, i), Ends::Line));
                    state = State::Code;
                }
                _ => {}
            },
            State::Triple { start } => {
                if bytes[i..].starts_with(b"\"\"\"") {
                    state = State::Code;
                    i += 2;
                }
                let _ = start;
            }
            State::Code => match b {
                b'#' => state = State::Comment { start: i },
                b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                    state = State::Triple { start: i };
                    i += 2;
                }
                b'"' => state = State::Plain { start: i },
                b'{' | b'[' | b'(' => {
                    brackets.push((b, i));
                    if brackets.len() > MAX_DEPTH {
                        out.diagnostics.push(too_deep(i));
                        return out;
                    }
                }
                b'}' | b']' | b')' => close_bracket(&mut brackets, b, i, &mut out.diagnostics),
                b if is_junk(b) => {
                    // A run of junk (binary data) is one report.
                    let end = bytes[i..]
                        .iter()
                        .position(|&b| !is_junk(b))
                        .map_or(bytes.len(), |n| i + n);
                    junk += 1;
                    if junk <= MAX_JUNK_REPORTS {
                        out.diagnostics.push(unexpected_chars(text, i, end));
                    }
                    i = end - 1;
                }
                _ => {}
            },
        }
        i += 1;
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
    match state {
        State::Plain { start } => {
            out.diagnostics.push(unterminated(
                start,
                (last_char, file_end),
                Ends::File { triple: false },
            ));
            brackets.clear();
        }
        State::Triple { start } => {
            out.incomplete = true;
            out.diagnostics.push(unterminated(
                start,
                (last_char, file_end),
                Ends::File { triple: true },
            ));
            brackets.clear();
        }
        State::Comment { start } => out.comments.push(start..bytes.len()),
        State::Code => {}
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

/// Control characters other than tab, CR and LF can only be junk outside strings.
fn is_junk(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n')) || b == 0x7f
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
