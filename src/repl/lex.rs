//! A forgiving tokenizer for text being typed: what the highlighter colours
//! and what completion reads its context from.
//!
//! Unlike the parser it never fails: an unterminated string or `$<` runs to
//! the end of its line (plain strings) or of the text (`"""` strings) and is
//! marked `open`. Tokens cover the text without gaps, in order.

use crate::syntax::KEYWORDS;

/// What a piece of text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Spaces and line breaks.
    Space,
    /// `# …` to the end of the line.
    Comment,
    /// A reserved word (`step`, `param`, `true`, …).
    Keyword,
    /// Any other name.
    Word,
    /// `0.01`, `-1`, `2e3`.
    Number,
    /// Literal text of a string, quotes included.
    Str,
    /// `$<name>` or `$<step.output>` inside a string.
    Interp,
    /// A `:command` at the start of the input.
    Command,
    /// `{ } [ ] = , :` and anything else.
    Punct,
}

/// A token: its kind and byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// A string or interpolation that is not closed yet.
    pub(crate) open: bool,
}

/// Splits `text` into tokens.
pub(crate) fn lex(text: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        text,
        bytes: text.as_bytes(),
        i: 0,
        out: Vec::new(),
    };
    lexer.run();
    lexer.out
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    i: usize,
    out: Vec<Token>,
}

impl Lexer<'_> {
    fn push(&mut self, kind: Kind, start: usize, end: usize, open: bool) {
        if end > start {
            self.out.push(Token {
                kind,
                start,
                end,
                open,
            });
        }
    }

    fn run(&mut self) {
        let lead = self.text.len() - self.text.trim_start().len();
        if self.text[lead..].starts_with(':') {
            self.push(Kind::Space, 0, lead, false);
            let end = self.text[lead..]
                .find(char::is_whitespace)
                .map_or(self.text.len(), |n| lead + n);
            self.push(Kind::Command, lead, end, false);
            self.push(Kind::Word, end, self.text.len(), false);
            return;
        }
        while self.i < self.bytes.len() {
            let start = self.i;
            let b = self.bytes[start];
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    while self.i < self.bytes.len()
                        && matches!(self.bytes[self.i], b' ' | b'\t' | b'\r' | b'\n')
                    {
                        self.i += 1;
                    }
                    self.push(Kind::Space, start, self.i, false);
                }
                b'#' => {
                    self.i = self.text[start..]
                        .find('\n')
                        .map_or(self.bytes.len(), |n| start + n);
                    self.push(Kind::Comment, start, self.i, false);
                }
                b'"' => self.string(),
                b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                    self.i = self.word_end(start);
                    let kind = if KEYWORDS.contains(&&self.text[start..self.i]) {
                        Kind::Keyword
                    } else {
                        Kind::Word
                    };
                    self.push(kind, start, self.i, false);
                }
                b'0'..=b'9' | b'-' => {
                    self.i = start + 1;
                    while self.i < self.bytes.len()
                        && (self.bytes[self.i].is_ascii_alphanumeric()
                            || matches!(self.bytes[self.i], b'.' | b'+' | b'-'))
                    {
                        self.i += 1;
                    }
                    self.push(Kind::Number, start, self.i, false);
                }
                _ => {
                    let len = self.text[start..].chars().next().map_or(1, char::len_utf8);
                    self.i = start + len;
                    self.push(Kind::Punct, start, self.i, false);
                }
            }
        }
    }

    fn word_end(&self, start: usize) -> usize {
        let mut i = start;
        while i < self.bytes.len()
            && (self.bytes[i].is_ascii_alphanumeric() || self.bytes[i] == b'_')
        {
            i += 1;
        }
        i
    }

    /// A string from its opening quote: text pieces and interpolations.
    fn string(&mut self) {
        let start = self.i;
        let triple = self.text[start..].starts_with("\"\"\"");
        let quote = if triple { 3 } else { 1 };
        let mut piece = start;
        self.i += quote;
        loop {
            if self.i >= self.bytes.len() {
                self.push(Kind::Str, piece, self.i, true);
                return;
            }
            let rest = &self.text[self.i..];
            if triple && rest.starts_with("\"\"\"") || !triple && rest.starts_with('"') {
                self.i += quote;
                self.push(Kind::Str, piece, self.i, false);
                return;
            }
            if !triple && rest.starts_with('\n') {
                self.push(Kind::Str, piece, self.i, true);
                return;
            }
            if !triple && rest.starts_with('\\') {
                self.i += rest.chars().nth(1).map_or(1, |c| 1 + c.len_utf8());
                continue;
            }
            if rest.starts_with("$$<") {
                self.i += 3;
                continue;
            }
            if let Some(body) = rest.strip_prefix("$<") {
                self.push(Kind::Str, piece, self.i, false);
                let at = self.i;
                let body_end = body
                    .find(['>', '"', '\n'])
                    .map_or(self.bytes.len(), |n| at + 2 + n);
                let closed = self.bytes.get(body_end) == Some(&b'>');
                self.i = if closed { body_end + 1 } else { body_end };
                self.push(Kind::Interp, at, self.i, !closed);
                piece = self.i;
                continue;
            }
            self.i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str, bool)> {
        lex(text)
            .into_iter()
            .filter(|t| t.kind != Kind::Space)
            .map(|t| (t.kind, &text[t.start..t.end], t.open))
            .collect()
    }

    #[test]
    fn strings_split_around_interpolations() {
        assert_eq!(
            kinds(r#"command = "echo $<train.output> \" $$<x""#),
            [
                (Kind::Word, "command", false),
                (Kind::Punct, "=", false),
                (Kind::Str, "\"echo ", false),
                (Kind::Interp, "$<train.output>", false),
                (Kind::Str, " \\\" $$<x\"", false),
            ]
        );
    }

    #[test]
    fn open_strings_and_interpolations_are_marked() {
        assert_eq!(
            kinds("x = \"a $<tr"),
            [
                (Kind::Word, "x", false),
                (Kind::Punct, "=", false),
                (Kind::Str, "\"a ", false),
                (Kind::Interp, "$<tr", true),
            ]
        );
        let text = "step s { command = \"\"\"\n  echo";
        assert_eq!(
            lex(text).last().map(|t| (t.kind, t.open)),
            Some((Kind::Str, true))
        );
    }

    #[test]
    fn commands_keywords_and_comments() {
        assert_eq!(
            kinds(":load x.kfp"),
            [
                (Kind::Command, ":load", false),
                (Kind::Word, " x.kfp", false)
            ]
        );
        assert_eq!(
            kinds("param lr: number = 0.01 # rate"),
            [
                (Kind::Keyword, "param", false),
                (Kind::Word, "lr", false),
                (Kind::Punct, ":", false),
                (Kind::Keyword, "number", false),
                (Kind::Punct, "=", false),
                (Kind::Number, "0.01", false),
                (Kind::Comment, "# rate", false),
            ]
        );
    }
}
