//! JSON as kfpl's typed values read it: a small parser that keeps each
//! number's text (`0.10` stays `0.10`: "a number becomes the JSON text it
//! was given in") and says at which byte a text stops being JSON.
//!
//! Its grammar is the one the container's awk check accepts
//! (`types::OUTPUT_CHECK_AWK`), so `kfpl run` and Argo judge outputs alike.

use std::collections::BTreeMap;

/// A JSON value, numbers as written. Map keys are sorted (kfpl writes them so).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Str(String),
    Num(String),
    Bool(bool),
    List(Vec<Json>),
    Map(BTreeMap<String, Json>),
}

/// Why the text is not JSON, and the byte where that became clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Error {
    pub(crate) at: usize,
    pub(crate) why: &'static str,
}

/// Deeper nesting is refused rather than risking the stack.
const MAX_DEPTH: usize = 128;

/// Parses one JSON value that fills `text` (surrounding JSON whitespace
/// allowed), with where each item of the outermost list starts (for messages).
pub(crate) fn parse_with_item_starts(text: &str) -> Result<(Json, Vec<usize>), Error> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        at: 0,
        item_starts: Vec::new(),
    };
    let value = parser.value(0)?;
    parser.space();
    if parser.at < parser.bytes.len() {
        return Err(parser.error("text after the value"));
    }
    Ok((value, parser.item_starts))
}

impl Json {
    /// The text a value interpolates as (LANGUAGE-2, "how values become
    /// text"): a string as itself, anything else as compact JSON. Both
    /// targets give a loop item this text.
    pub(crate) fn interpolated(&self) -> String {
        match self {
            Json::Str(text) => text.clone(),
            other => other.to_text(),
        }
    }

    /// Compact JSON text: no spaces, map keys sorted, numbers as given.
    pub(crate) fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Str(s) => out.push_str(&quote(s)),
            Json::Num(n) => out.push_str(n),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Map(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&quote(key));
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// A JSON string literal (serde_json escapes exactly what JSON requires).
fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

/// JSON's number grammar at the start of `bytes`: its length, or 0.
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
pub(crate) fn number_len(bytes: &[u8]) -> usize {
    let digits = |from: usize| {
        bytes.get(from..).map_or(0, |rest| {
            rest.iter().take_while(|b| b.is_ascii_digit()).count()
        })
    };
    let mut i = usize::from(bytes.first() == Some(&b'-'));
    match bytes.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i += digits(i),
        _ => return 0,
    }
    if bytes.get(i) == Some(&b'.') && digits(i + 1) > 0 {
        i += 1 + digits(i + 1);
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(i + 1), Some(b'+' | b'-')));
        let n = digits(i + 1 + sign);
        if n > 0 {
            i += 1 + sign + n;
        }
    }
    i
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    /// Where each item of the outermost list starts.
    item_starts: Vec<usize>,
}

impl Parser<'_> {
    fn error(&self, why: &'static str) -> Error {
        Error { at: self.at, why }
    }

    fn space(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, Error> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.space();
        let rest = &self.bytes[self.at..];
        match rest.first() {
            Some(b'[') => self.list(depth),
            Some(b'{') => self.map(depth),
            Some(b'"') => self.string().map(Json::Str),
            _ if rest.starts_with(b"true") => self.word(4, Json::Bool(true)),
            _ if rest.starts_with(b"false") => self.word(5, Json::Bool(false)),
            _ if rest.starts_with(b"null") => self.word(4, Json::Null),
            _ => match number_len(rest) {
                0 => Err(self.error("expected a value")),
                n => {
                    let text = self.text[self.at..self.at + n].to_string();
                    self.at += n;
                    Ok(Json::Num(text))
                }
            },
        }
    }

    fn word(&mut self, len: usize, value: Json) -> Result<Json, Error> {
        self.at += len;
        Ok(value)
    }

    /// After an item: `,` (more follow) or `close` (the end).
    fn separator(&mut self, close: u8) -> Result<bool, Error> {
        self.space();
        match self.bytes.get(self.at) {
            Some(b',') => {
                self.at += 1;
                Ok(true)
            }
            Some(&b) if b == close => {
                self.at += 1;
                Ok(false)
            }
            _ if close == b']' => Err(self.error("expected `,` or `]`")),
            _ => Err(self.error("expected `,` or `}`")),
        }
    }

    fn list(&mut self, depth: usize) -> Result<Json, Error> {
        self.at += 1;
        let mut items = Vec::new();
        self.space();
        if self.bytes.get(self.at) == Some(&b']') {
            self.at += 1;
            return Ok(Json::List(items));
        }
        loop {
            self.space();
            if depth == 0 {
                self.item_starts.push(self.at);
            }
            items.push(self.value(depth + 1)?);
            if !self.separator(b']')? {
                return Ok(Json::List(items));
            }
        }
    }

    fn map(&mut self, depth: usize) -> Result<Json, Error> {
        self.at += 1;
        let mut entries = BTreeMap::new();
        self.space();
        if self.bytes.get(self.at) == Some(&b'}') {
            self.at += 1;
            return Ok(Json::Map(entries));
        }
        loop {
            self.space();
            if self.bytes.get(self.at) != Some(&b'"') {
                return Err(self.error("expected a key in double quotes"));
            }
            let key = self.string()?;
            self.space();
            if self.bytes.get(self.at) != Some(&b':') {
                return Err(self.error("expected `:`"));
            }
            self.at += 1;
            let value = self.value(depth + 1)?;
            entries.insert(key, value);
            if !self.separator(b'}')? {
                return Ok(Json::Map(entries));
            }
        }
    }

    /// A string from its opening quote. A lone surrogate escape becomes
    /// U+FFFD (the awk check cannot tell it apart, so neither refuses it).
    fn string(&mut self) -> Result<String, Error> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let start = self.at;
            while self
                .bytes
                .get(self.at)
                .is_some_and(|&b| b != b'"' && b != b'\\' && b >= 0x20)
            {
                self.at += 1;
            }
            out.push_str(&self.text[start..self.at]);
            match self.bytes.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => self.escape(&mut out)?,
                Some(_) => return Err(self.error("a control character inside a string")),
                None => return Err(self.error("a string without its closing `\"`")),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), Error> {
        let simple = match self.bytes.get(self.at + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let hex = self.text.get(self.at + 2..self.at + 6).unwrap_or("");
                let code = (hex.len() == 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| u32::from_str_radix(hex, 16).ok())
                    .flatten()
                    .ok_or_else(|| self.error("`\\u` needs four hex digits"))?;
                self.at += 6;
                out.push(self.code_point(code));
                return Ok(());
            }
            _ => return Err(self.error("an unknown escape")),
        };
        out.push(simple);
        self.at += 2;
        Ok(())
    }

    /// `code` (from `\uXXXX`), joined with a following low surrogate escape.
    fn code_point(&mut self, code: u32) -> char {
        if (0xD800..0xDC00).contains(&code) {
            let next = self.text.get(self.at..self.at + 6).unwrap_or("");
            if let Some(low) = next
                .strip_prefix("\\u")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .filter(|low| (0xDC00..0xE000).contains(low))
            {
                self.at += 6;
                let joined = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                return char::from_u32(joined).unwrap_or('\u{FFFD}');
            }
        }
        char::from_u32(code).unwrap_or('\u{FFFD}')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Json, Error> {
        parse_with_item_starts(text).map(|(value, _)| value)
    }

    #[test]
    fn numbers_keep_their_text_and_errors_their_place() {
        let text = " [0.10, -1e+3, {\"b\": \"\\u00e9\", \"a\": null}] ";
        let (json, starts) = parse_with_item_starts(text).expect("a list");
        assert_eq!(starts, [2, 8, 15]);
        assert_eq!(json.to_text(), r#"[0.10,-1e+3,{"a":null,"b":"é"}]"#);
        assert_eq!(parse("[1, x]").unwrap_err().at, 4);
        assert_eq!(parse("[1 2]").unwrap_err().why, "expected `,` or `]`");
        assert_eq!(parse("[01]").unwrap_err().at, 2);
        assert!(parse(&"[".repeat(200)).is_err());
        assert!(parse("[\"\\ud800\"]").is_ok());
        assert!(parse("[\"a\tb\"]").is_err());
    }
}
