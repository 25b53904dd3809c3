//! The one lexer of `.kfp` text: what a token is, decided in one place.
//!
//! It is lossless and never fails. Every byte of the input belongs to exactly
//! one token, in order (spaces and comments included), so the tokens tile the
//! text. Input the grammar would reject still lexes: an unterminated string
//! or `$<` is marked `open`, a control character is [`Kind::Junk`], anything
//! else unknown is [`Kind::Unknown`].
//!
//! Everything that needs to know where a string, a comment or a word ends
//! reads these tokens: the lexical checks before parsing (`scan`), syntax
//! error messages, the REPL's colours, completion and continuation, the
//! REPL's snippet map, and `fmt`'s comments. The pest grammar parses the same
//! text; `scan` refuses what would make the two disagree (an unterminated
//! string), and a property test (`tests::grammar_agrees_on_strings`) checks
//! that pest ends every string where this lexer does.
//!
//! Strings follow the grammar exactly:
//! - a plain string `"…"` ends at the next `"` that is not escaped (`\"`);
//!   a line break ends it unterminated (a backslash does not continue a
//!   line);
//! - a triple string `"""…"""` spans lines and has no escapes;
//! - inside either, `$$<` is text and `$<` opens an interpolation whose body
//!   ends at `>` (closed) or before `"`, a line break or another `$<` (open).
//!
//! The lexer is an iterator, so a pass over a large file holds one string's
//! pieces at a time, never the whole token list.

use std::collections::VecDeque;

use crate::source::Span;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Spaces, tabs, line breaks and byte-order marks.
    Space,
    /// `# …` up to (not including) the line break.
    Comment,
    /// A name or a word: `[A-Za-z_][A-Za-z0-9_]*`.
    Word,
    /// `-1`, `0.01`, `2e-3`.
    Number,
    /// A string's opening `"` or `"""` (`open` when the string is never
    /// closed), or its closing one.
    Quote,
    /// Literal text inside a string, escapes and `$$<` included.
    Text,
    /// `$<name>` or `$<step.output>`, inside a string or bare in a
    /// condition (`open` without its `>`).
    Interp,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `=`
    Assign,
    /// `:`
    Colon,
    /// `,`
    Comma,
    /// `.`
    Dot,
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`
    Compare,
    /// A run of control characters (binary data, terminal escapes).
    Junk,
    /// Any other character.
    Unknown,
}

impl Kind {
    /// Spaces and comments: what separates tokens without meaning anything.
    pub fn is_trivia(self) -> bool {
        matches!(self, Kind::Space | Kind::Comment)
    }

    /// A piece of a string literal (its quotes, text or interpolations).
    pub fn is_string_piece(self) -> bool {
        matches!(self, Kind::Quote | Kind::Text | Kind::Interp)
    }
}

/// One token: its kind and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub span: Span,
    /// An opening quote whose string is never closed, or an interpolation
    /// without its `>`.
    pub open: bool,
}

impl Token {
    /// The text the token covers.
    pub fn text(self, source: &str) -> &str {
        source.get(self.span.range()).unwrap_or("")
    }

    /// An opening or closing `"""`.
    pub fn is_triple_quote(self) -> bool {
        self.kind == Kind::Quote && self.span.len() == 3
    }
}

/// The tokens of `text`, lazily.
pub fn lex(text: &str) -> Lexer<'_> {
    Lexer {
        text,
        at: 0,
        pending: VecDeque::new(),
    }
}

/// Words that are type names only right after `:` (LANGUAGE-2, "Words");
/// anywhere else they are ordinary names, so v1 programs keep their meaning.
pub const TYPE_WORDS_AFTER_COLON: &[&str] = &["bool", "list", "file"];

/// Words that open a block (or, `carry`, a repeat's carried value) only
/// where a declaration starts: at the start of a line, or after a brace.
pub const DECLARATION_WORDS: &[&str] = &[
    "if", "else", "for", "repeat", "finally", "carry", "defaults", "volume", "sidecar",
];

/// Words of a `for` or `repeat` head and tail: `in` after `for NAME`,
/// `max` after `repeat`, `then` in a carry, `until`/`while` after its `}`.
pub const BLOCK_HEAD_WORDS: &[&str] = &["in", "max", "then", "until", "while"];

/// Words that are operators only inside a condition.
pub const CONDITION_WORDS: &[&str] = &["and", "or", "not"];

/// Whether `b` is a control character that can only be junk outside a string.
pub fn is_junk(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n')) || b == 0x7f
}

/// Whether `b` may continue a word.
pub fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The iterator [`lex`] returns.
pub struct Lexer<'a> {
    text: &'a str,
    at: usize,
    /// The pieces of the string being read (lexed whole at its opening quote,
    /// so that the quote can say whether it is closed).
    pending: VecDeque<Token>,
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        if let Some(token) = self.pending.pop_front() {
            return Some(token);
        }
        let bytes = self.text.as_bytes();
        let start = self.at;
        let &b = bytes.get(start)?;
        let (kind, end) = match b {
            b' ' | b'\t' | b'\r' | b'\n' => (Kind::Space, self.space_end(start)),
            0xEF if self.text[start..].starts_with('\u{FEFF}') => {
                (Kind::Space, self.space_end(start))
            }
            b'#' => (Kind::Comment, line_end(self.text, start)),
            b'"' => return Some(self.string(start)),
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => (Kind::Word, word_end(bytes, start)),
            b'0'..=b'9' => (Kind::Number, number_end(bytes, start)),
            b'-' if bytes.get(start + 1).is_some_and(u8::is_ascii_digit) => {
                (Kind::Number, number_end(bytes, start + 1))
            }
            b'$' if bytes.get(start + 1) == Some(&b'<') => {
                let (end, closed) = interp_end(self.text, start);
                self.at = end;
                return Some(token(Kind::Interp, start, end, !closed));
            }
            b'{' => (Kind::LBrace, start + 1),
            b'}' => (Kind::RBrace, start + 1),
            b'[' => (Kind::LBracket, start + 1),
            b']' => (Kind::RBracket, start + 1),
            b'(' => (Kind::LParen, start + 1),
            b')' => (Kind::RParen, start + 1),
            b':' => (Kind::Colon, start + 1),
            b',' => (Kind::Comma, start + 1),
            b'.' => (Kind::Dot, start + 1),
            b'=' | b'!' | b'<' | b'>' if bytes.get(start + 1) == Some(&b'=') => {
                (Kind::Compare, start + 2)
            }
            b'=' => (Kind::Assign, start + 1),
            b'<' | b'>' => (Kind::Compare, start + 1),
            b if is_junk(b) => {
                let run = bytes[start..].iter().take_while(|&&b| is_junk(b)).count();
                (Kind::Junk, start + run)
            }
            _ => {
                let len = self.text[start..].chars().next().map_or(1, char::len_utf8);
                (Kind::Unknown, start + len)
            }
        };
        self.at = end;
        Some(token(kind, start, end, false))
    }
}

impl Lexer<'_> {
    fn space_end(&self, start: usize) -> usize {
        let mut i = start;
        let rest = self.text.as_bytes();
        loop {
            match rest.get(i) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => i += 1,
                Some(0xEF) if self.text[i..].starts_with('\u{FEFF}') => i += 3,
                _ => return i,
            }
        }
    }

    /// A string from its opening quote: returns the quote and queues the rest.
    fn string(&mut self, start: usize) -> Token {
        let pending = &mut self.pending;
        let read = string_pieces(self.text, start, |token| pending.push_back(token));
        self.at = read.end;
        token(Kind::Quote, start, start + read.quote_len, !read.closed)
    }
}

/// Where a string ends, as [`string_pieces`] read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringEnd {
    /// The length of its quotes: 3 for `"""`, else 1.
    pub quote_len: usize,
    /// The offset after its closing quote (or where it stops, unterminated).
    pub end: usize,
    /// Whether it has its closing quote.
    pub closed: bool,
}

/// The string whose opening quote is at `start` in `text`: gives `piece`
/// each of its text and interpolation tokens and then its closing quote, in
/// order (the tokens a [`Lexer`] makes after the opening quote), and says
/// where it ends. (The parser reads a string token's pieces with it, without
/// a lexer's queue.)
pub fn string_pieces(text: &str, start: usize, mut piece: impl FnMut(Token)) -> StringEnd {
    let bytes = text.as_bytes();
    let triple = text[start..].starts_with("\"\"\"");
    let quote_len = if triple { 3 } else { 1 };
    let mut queue = |kind: Kind, start: usize, end: usize, open: bool| {
        if end > start {
            piece(token(kind, start, end, open));
        }
    };
    let mut i = start + quote_len;
    let mut text_start = i;
    let closed = loop {
        // Ordinary text is skipped to the next byte that can matter; every
        // such byte is ASCII, so `i` stays on a character boundary. (A
        // `"""` block, often long, only stops at `"` and `$`: `memchr`
        // finds them many bytes at a time.)
        if triple {
            i += memchr::memchr2(b'"', b'$', &bytes[i..]).unwrap_or(bytes.len() - i);
        } else {
            while bytes
                .get(i)
                .is_some_and(|b| !matches!(b, b'"' | b'\n' | b'$' | b'\\'))
            {
                i += 1;
            }
        }
        let Some(&b) = bytes.get(i) else {
            break false;
        };
        match b {
            b'"' if !triple || bytes[i..].starts_with(b"\"\"\"") => break true,
            b'\n' if !triple => break false,
            b'\\' if !triple && bytes.get(i + 1).is_some_and(|&n| n != b'\n') => {
                // `\` and the character it escapes (an unknown escape is the
                // parser's to report).
                i += 1 + text[i + 1..].chars().next().map_or(0, char::len_utf8);
            }
            b'$' if bytes[i..].starts_with(b"$$<") => i += 3,
            b'$' if bytes.get(i + 1) == Some(&b'<') => {
                queue(Kind::Text, text_start, i, false);
                let (end, closed) = interp_end(text, i);
                queue(Kind::Interp, i, end, !closed);
                i = end;
                text_start = i;
            }
            _ => i += 1,
        }
    };
    queue(Kind::Text, text_start, i, false);
    if closed {
        queue(Kind::Quote, i, i + quote_len, false);
        i += quote_len;
    }
    StringEnd {
        quote_len,
        end: i,
        closed,
    }
}

fn token(kind: Kind, start: usize, end: usize, open: bool) -> Token {
    Token {
        kind,
        span: Span::new(start, end),
        open,
    }
}

/// The end of the interpolation whose `$<` is at `start`, and whether it
/// has its `>`.
fn interp_end(text: &str, start: usize) -> (usize, bool) {
    let body_len = interp_body_len(&text[start + 2..]);
    let closed = text.as_bytes().get(start + 2 + body_len) == Some(&b'>');
    (start + 2 + body_len + usize::from(closed), closed)
}

/// The length of an interpolation's body after `$<`, up to (not including)
/// its `>` or whatever ends it early: `"`, a line break, another `$<`.
fn interp_body_len(body: &str) -> usize {
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'>' | b'"' | b'\n' => break,
            b'$' if bytes.get(i + 1) == Some(&b'<') => break,
            _ => i += 1,
        }
    }
    i
}

/// The end of the line that `start` is on (the offset of its `\n`, or the end).
pub fn line_end(text: &str, start: usize) -> usize {
    text[start..].find('\n').map_or(text.len(), |n| start + n)
}

fn word_end(bytes: &[u8], start: usize) -> usize {
    start
        + bytes[start..]
            .iter()
            .take_while(|&&b| is_word_byte(b))
            .count()
}

/// `digits ("." digits)? ([eE] [+-]? digits)?` from the first digit.
fn number_end(bytes: &[u8], start: usize) -> usize {
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut i = start + digits(start);
    if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1 + digits(i + 1);
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(i + 1), Some(b'+' | b'-')));
        if bytes.get(i + 1 + sign).is_some_and(u8::is_ascii_digit) {
            i += 1 + sign + digits(i + 1 + sign);
        }
    }
    i
}

#[cfg(test)]
mod tests;
