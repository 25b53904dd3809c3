//! Colouring input as it is typed: keywords, strings, `$<…>`
//! interpolations, numbers, comments and `:` commands, with ANSI escapes.
//!
//! Only escapes are added, never characters, so the text keeps its width
//! (the line editor depends on it).

use super::lex::{self, Kind};

const RESET: &str = "\x1b[0m";

fn colour(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Keyword => Some("\x1b[1;35m"),
        Kind::Str => Some("\x1b[32m"),
        Kind::Interp => Some("\x1b[1;36m"),
        Kind::Number => Some("\x1b[33m"),
        Kind::Comment => Some("\x1b[90m"),
        Kind::Command => Some("\x1b[1;34m"),
        Kind::Space | Kind::Word | Kind::Punct => None,
    }
}

/// `text` with ANSI colours.
pub fn highlight(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for token in lex::lex(text) {
        let piece = &text[token.start..token.end];
        match colour(token.kind) {
            Some(code) => {
                out.push_str(code);
                out.push_str(piece);
                out.push_str(RESET);
            }
            None => out.push_str(piece),
        }
    }
    out
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
}
