//! Colouring input as it is typed: keywords, strings, `$<…>`
//! interpolations, numbers, comments and `:` commands, with ANSI escapes.
//!
//! Only escapes are added, never characters, so the text keeps its width
//! (the line editor depends on it).

use super::command::is_command;
use crate::syntax::KEYWORDS;
use crate::syntax::lex::{self, Kind};

const RESET: &str = "\x1b[0m";
const KEYWORD: &str = "\x1b[1;35m";
const COMMAND: &str = "\x1b[1;34m";

/// `after_colon`: the previous token that is not a space or a comment is `:`.
fn colour(kind: Kind, piece: &str, after_colon: bool) -> Option<&'static str> {
    match kind {
        Kind::Word if KEYWORDS.contains(&piece) => Some(KEYWORD),
        Kind::Word if after_colon && lex::TYPE_WORDS_AFTER_COLON.contains(&piece) => Some(KEYWORD),
        Kind::Quote | Kind::Text => Some("\x1b[32m"),
        Kind::Interp => Some("\x1b[1;36m"),
        Kind::Number => Some("\x1b[33m"),
        Kind::Comment => Some("\x1b[90m"),
        _ => None,
    }
}

/// `text` with ANSI colours.
pub fn highlight(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    if is_command(text) {
        // `:name` coloured, its argument (a path, a format) as typed.
        let lead = text.len() - text.trim_start().len();
        let end = text[lead..]
            .find(char::is_whitespace)
            .map_or(text.len(), |n| lead + n);
        paint(&mut out, &text[..lead], None);
        paint(&mut out, &text[lead..end], Some(COMMAND));
        paint(&mut out, &text[end..], None);
        return out;
    }
    // Adjacent pieces of one colour (a string's quotes and text) are painted as one.
    let mut run: (usize, Option<&str>) = (0, None);
    let mut after_colon = false;
    for token in lex::lex(text) {
        let start = token.span.start as usize;
        let colour = colour(token.kind, token.text(text), after_colon);
        if !token.kind.is_trivia() {
            after_colon = token.kind == Kind::Colon;
        }
        if colour != run.1 {
            paint(&mut out, &text[run.0..start], run.1);
            run = (start, colour);
        }
    }
    paint(&mut out, &text[run.0..], run.1);
    out
}

fn paint(out: &mut String, piece: &str, colour: Option<&str>) {
    match colour {
        Some(code) if !piece.is_empty() => {
            out.push_str(code);
            out.push_str(piece);
            out.push_str(RESET);
        }
        _ => out.push_str(piece),
    }
}

/// The text without ANSI escapes (what [`highlight`] added).
pub fn strip(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_without_changing_the_text() {
        let text = "step s { command = \"echo $<train.output>\" gpus = 1 } # done";
        let coloured = highlight(text);
        assert_eq!(strip(&coloured), text);
        assert!(coloured.starts_with("\x1b[1;35mstep\x1b[0m"));
        assert!(coloured.contains("\x1b[1;36m$<train.output>\x1b[0m"));
        assert_eq!(strip(&highlight(":load x")), ":load x");
    }

    #[test]
    fn type_words_are_coloured_only_after_a_colon() {
        let coloured = highlight("param list: list = [1]");
        assert!(coloured.contains("param\x1b[0m list:"), "{coloured:?}");
        assert!(
            coloured.contains("\x1b[1;35mlist\x1b[0m = "),
            "{coloured:?}"
        );
        assert!(highlight("output: bool").contains("\x1b[1;35mbool\x1b[0m"));
        assert!(!highlight("let file = 1").contains("\x1b[1;35mfile"));
    }
}

/// The REPL colours as string exactly what the parser reads as one: the same
/// inputs go to both.
#[cfg(test)]
mod agreement {
    use super::*;
    use crate::diagnostics::Code;
    use crate::source::SourceFile;
    use crate::syntax::ast::{Item, ValueKind};

    /// The byte ranges of `input` that [`highlight`] paints as a string
    /// (green text, with its interpolations in cyan).
    fn green(input: &str) -> Vec<(usize, usize)> {
        let coloured = highlight(input);
        let mut out = Vec::new();
        let (mut at, mut start) = (0, None);
        for piece in coloured.split('\x1b').filter(|p| !p.is_empty()) {
            let (code, text) = piece.split_once('m').unwrap_or(("", piece));
            if code == "[32" || code == "[1;36" {
                start = start.or(Some(at));
            } else if !text.is_empty()
                && let Some(s) = start.take()
            {
                out.push((s, at));
            }
            at += text.len();
        }
        out.extend(start.map(|s| (s, at)));
        out
    }

    /// Where the parser reads strings in `let x = INPUT`: the literal's span,
    /// or from an unterminated one's quote to the end of its line.
    fn parsed(input: &str) -> Vec<(usize, usize)> {
        let prefix = "pipeline p {\nlet x = ";
        let file = SourceFile::new("t.kfp", format!("{prefix}{input}\n}}\n"));
        let parsed = crate::syntax::parse(&file);
        let shift = |span: crate::source::Span| {
            let start = span.start as usize - prefix.len();
            let line_end = input[start..].find('\n').map_or(input.len(), |n| start + n);
            (start, line_end)
        };
        if let Some(d) = parsed.diagnostics.iter().find(|d| d.code == Code::E0102) {
            return vec![shift(d.span())];
        }
        let program = parsed.program.expect("parsed");
        let Some(Item::Let(decl)) = program.pipelines[0].items.first() else {
            panic!("no let in {input:?}")
        };
        let ValueKind::String(s) = &decl.value.kind else {
            panic!("not a string: {input:?}")
        };
        let start = s.span.start as usize - prefix.len();
        vec![(start, s.span.end as usize - prefix.len())]
    }

    #[test]
    fn repl_and_parser_end_strings_alike() {
        for input in [
            r#""abc""#,
            "\"abc\\\ny = 1",
            r#""a \" b""#,
            r#""a \\""#,
            "\"open",
            "\"\"\"\n  a\n  \"\"\"",
            r#""x $<a> $$<b> y""#,
            r#""\$<a>""#,
            "\"\"",
            "\"\"\"\"\"\"",
        ] {
            assert_eq!(green(input), parsed(input), "{input:?}");
        }
    }
}
