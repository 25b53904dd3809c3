//! A serde `Serializer` that writes block-style YAML directly: the bytes
//! serde_yaml 0.9 writes for kfpl's model, with every string a YAML 1.1
//! reader would take for something else single-quoted, in one pass and
//! without libyaml's event machinery.
//!
//! Layout (as libyaml lays it out): a mapping's entries one a line, two
//! spaces deeper than its key; a sequence under a key at the key's column
//! (`key:` then `- item`); an item that is a mapping or sequence starts on
//! the dash's line; empty ones are `{}` and `[]`; strings with a line break
//! are literal blocks (`|`, `|-`, `|+`). Scalar style follows libyaml's
//! analysis ([`Analysis`]) so that what is written reads back the same.

use std::io::Write;

use serde::ser::{self, Error as _, Serialize};

use super::yaml::is_yaml11_string;

type Error = serde_yaml::Error;
type Result<T = ()> = std::result::Result<T, Error>;

/// Writes `value` as a block YAML document to `out`.
pub(crate) fn to_writer<W: Write, T: Serialize + ?Sized>(out: W, value: &T) -> Result {
    let mut writer = Writer { out };
    value.serialize(Place {
        writer: &mut writer,
        at: At::Root,
    })?;
    writer.out.flush().map_err(io)
}

fn io(error: std::io::Error) -> Error {
    Error::custom(error)
}

struct Writer<W> {
    out: W,
}

impl<W: Write> Writer<W> {
    fn put(&mut self, bytes: &[u8]) -> Result {
        self.out.write_all(bytes).map_err(io)
    }

    fn indent(&mut self, columns: usize) -> Result {
        const SPACES: &[u8; 64] = &[b' '; 64];
        let mut left = columns;
        while left > 0 {
            let n = left.min(SPACES.len());
            self.put(&SPACES[..n])?;
            left -= n;
        }
        Ok(())
    }
}

/// Where the next value goes.
#[derive(Clone, Copy)]
enum At {
    /// The document itself.
    Root,
    /// After `key:`, the key at this column.
    MapValue(usize),
    /// After `- `, the dash at this column.
    SeqItem(usize),
}

impl At {
    /// The column a nested mapping's keys, or a block scalar's lines, start at.
    fn deeper(self) -> usize {
        match self {
            At::Root => 0,
            At::MapValue(column) | At::SeqItem(column) => column + 2,
        }
    }

    /// The column a nested sequence's dashes are at (under a key: the key's).
    fn dashes(self) -> usize {
        match self {
            At::Root => 0,
            At::MapValue(column) => column,
            At::SeqItem(column) => column + 2,
        }
    }

    /// What goes between the parent's indicator and an inline scalar.
    fn gap(self) -> &'static [u8] {
        match self {
            At::MapValue(_) => b" ",
            At::Root | At::SeqItem(_) => b"",
        }
    }
}

/// One value to write at a place.
struct Place<'a, W> {
    writer: &'a mut Writer<W>,
    at: At,
}

impl<'a, W: Write> Place<'a, W> {
    /// A plain scalar written as is (numbers, bools, null).
    fn bare(self, text: &str) -> Result {
        self.writer.put(self.at.gap())?;
        self.writer.put(text.as_bytes())?;
        self.writer.put(b"\n")
    }

    fn string(self, value: &str) -> Result {
        self.writer.put(self.at.gap())?;
        write_string(self.writer, value, self.at.deeper(), false)?;
        self.writer.put(b"\n")
    }

    fn compound(self, kind: Kind) -> Compound<'a, W> {
        let column = match kind {
            Kind::Map => self.at.deeper(),
            Kind::Seq => self.at.dashes(),
        };
        Compound {
            writer: self.writer,
            at: self.at,
            kind,
            column,
            first: true,
        }
    }
}

/// How to write a string: libyaml's style choice, then the text.
/// `key` strings are mapping keys (never block scalars).
fn write_string<W: Write>(writer: &mut Writer<W>, value: &str, indent: usize, key: bool) -> Result {
    let wants_literal = !key && value.contains('\n');
    if wants_literal && literal_fits_ascii(value) {
        return literal(writer, value, indent);
    }
    let analysis = Analysis::of(value);
    let style = if wants_literal && analysis.block {
        Style::Literal
    } else if wants_literal || analysis.line_breaks {
        // libyaml folds breaks in quoted scalars; escaping them is simpler.
        Style::Double
    } else if analysis.block_plain && !needs_quotes(value) {
        Style::Plain
    } else if analysis.single {
        Style::Single
    } else {
        Style::Double
    };
    match style {
        Style::Plain => writer.put(value.as_bytes()),
        Style::Single => single_quoted(writer, value),
        Style::Double => double_quoted(writer, value),
        Style::Literal => literal(writer, value, indent),
    }
}

/// [`Analysis`]'s verdict on a literal block for ASCII text, found with
/// scans the compiler vectorises (scripts are most of the output): no
/// trailing space, no space before a break, nothing unprintable.
fn literal_fits_ascii(value: &str) -> bool {
    !value.ends_with(' ')
        && !value.contains(" \n")
        && value
            .bytes()
            .all(|b| b == b'\n' || (0x20..0x7f).contains(&b))
}

/// Whether a plain string must be quoted to read back as a string: serde_yaml
/// quotes what YAML 1.2 reads otherwise (and the empty string, which reads
/// as null), and kfpl also what YAML 1.1 does (see [`is_yaml11_string`],
/// which takes everything YAML 1.2 reads as a non-string for a non-string).
fn needs_quotes(value: &str) -> bool {
    value.is_empty() || !is_yaml11_string(value)
}

enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

fn single_quoted<W: Write>(writer: &mut Writer<W>, value: &str) -> Result {
    writer.put(b"'")?;
    let mut rest = value;
    while let Some(quote) = rest.find('\'') {
        writer.put(&rest.as_bytes()[..=quote])?;
        writer.put(b"'")?;
        rest = &rest[quote + 1..];
    }
    writer.put(rest.as_bytes())?;
    writer.put(b"'")
}

/// Double-quoted, escaped as libyaml escapes (width unlimited: one line).
fn double_quoted<W: Write>(writer: &mut Writer<W>, value: &str) -> Result {
    let mut text = String::with_capacity(value.len() + 2);
    text.push('"');
    for c in value.chars() {
        let escape = !is_printable(c) || c == '\u{feff}' || is_break(c) || matches!(c, '"' | '\\');
        if !escape {
            text.push(c);
            continue;
        }
        match c {
            '\0' => text.push_str("\\0"),
            '\x07' => text.push_str("\\a"),
            '\x08' => text.push_str("\\b"),
            '\t' => text.push_str("\\t"),
            '\n' => text.push_str("\\n"),
            '\x0b' => text.push_str("\\v"),
            '\x0c' => text.push_str("\\f"),
            '\r' => text.push_str("\\r"),
            '\x1b' => text.push_str("\\e"),
            '"' => text.push_str("\\\""),
            '\\' => text.push_str("\\\\"),
            '\u{85}' => text.push_str("\\N"),
            '\u{a0}' => text.push_str("\\_"),
            '\u{2028}' => text.push_str("\\L"),
            '\u{2029}' => text.push_str("\\P"),
            c if (c as u32) <= 0xff => text.push_str(&format!("\\x{:02X}", c as u32)),
            c if (c as u32) <= 0xffff => text.push_str(&format!("\\u{:04X}", c as u32)),
            c => text.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    text.push('"');
    writer.put(text.as_bytes())
}

/// A literal block scalar: `|` and its hints, then each line at `indent`
/// (empty lines stay empty). The caller writes the final line break.
fn literal<W: Write>(writer: &mut Writer<W>, value: &str, indent: usize) -> Result {
    writer.put(b"|")?;
    if value.starts_with([' ', '\n']) {
        writer.put(b"2")?;
    }
    let body = match value.strip_suffix('\n') {
        None => {
            writer.put(b"-")?;
            value
        }
        Some(body) if body.is_empty() || body.ends_with('\n') => {
            writer.put(b"+")?;
            body
        }
        Some(body) => body,
    };
    for line in body.split('\n') {
        writer.put(b"\n")?;
        if !line.is_empty() {
            writer.indent(indent)?;
            writer.put(line.as_bytes())?;
        }
    }
    Ok(())
}

/// libyaml's `yaml_emitter_analyze_scalar`: which styles can hold `value`.
struct Analysis {
    line_breaks: bool,
    block_plain: bool,
    single: bool,
    block: bool,
}

impl Analysis {
    fn of(value: &str) -> Analysis {
        Analysis::of_printable_ascii_line(value).unwrap_or_else(|| Analysis::of_any(value))
    }

    /// The same verdict for one line of printable ASCII (most of kfpl's
    /// strings), from a few scans: there the only blank is the space.
    fn of_printable_ascii_line(value: &str) -> Option<Analysis> {
        let bytes = value.as_bytes();
        let (&first, &last) = (bytes.first()?, bytes.last()?);
        if !bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
            return None;
        }
        let second_blank = bytes.get(1).is_none_or(|&b| b == b' ');
        let bad_start = b"#,[]{}&*!|>'\"%@`".contains(&first)
            || b"?:-".contains(&first) && second_blank
            || value.starts_with("---")
            || value.starts_with("...");
        let indicators = bad_start || last == b':' || value.contains(": ") || value.contains(" #");
        Some(Analysis {
            line_breaks: false,
            block_plain: !(indicators || first == b' ' || last == b' '),
            single: true,
            block: last != b' ',
        })
    }

    fn of_any(value: &str) -> Analysis {
        if value.is_empty() {
            return Analysis {
                line_breaks: false,
                block_plain: true,
                single: true,
                block: false,
            };
        }
        let mut block_indicators = value.starts_with("---") || value.starts_with("...");
        let (mut leading_space, mut leading_break) = (false, false);
        let (mut trailing_space, mut trailing_break) = (false, false);
        let (mut break_space, mut space_break) = (false, false);
        let (mut special, mut line_breaks) = (false, false);
        let (mut previous_space, mut previous_break) = (false, false);
        let mut preceded_by_whitespace = true;
        let bytes = value.as_bytes();
        let mut at = 0;
        // Bytes, not chars: kfpl's text is mostly ASCII, and a char is only
        // decoded where a byte is not.
        while at < bytes.len() {
            let (c, width) = char_at(value, at);
            let next = at + width;
            let followed_by_whitespace = next == bytes.len() || is_blankz(char_at(value, next).0);
            let (first, last) = (at == 0, next == bytes.len());
            if first {
                block_indicators |= matches!(
                    c,
                    '#' | ','
                        | '['
                        | ']'
                        | '{'
                        | '}'
                        | '&'
                        | '*'
                        | '!'
                        | '|'
                        | '>'
                        | '\''
                        | '"'
                        | '%'
                        | '@'
                        | '`'
                ) || matches!(c, '?' | ':' | '-') && followed_by_whitespace;
            } else {
                block_indicators |=
                    c == ':' && followed_by_whitespace || c == '#' && preceded_by_whitespace;
            }
            special |= !is_printable(c) || c == '\u{feff}';
            if c == ' ' {
                leading_space |= first;
                trailing_space |= last;
                break_space |= previous_break;
                (previous_space, previous_break) = (true, false);
            } else if is_break(c) {
                line_breaks = true;
                leading_break |= first;
                trailing_break |= last;
                space_break |= previous_space;
                (previous_space, previous_break) = (false, true);
            } else {
                (previous_space, previous_break) = (false, false);
            }
            preceded_by_whitespace = is_blankz(c);
            at = next;
        }
        let edges = leading_space || leading_break || trailing_space || trailing_break;
        let hopeless = space_break || special;
        Analysis {
            line_breaks,
            block_plain: !(edges || break_space || hopeless || line_breaks || block_indicators),
            single: !(break_space || hopeless),
            block: !(trailing_space || hopeless),
        }
    }
}

/// The char at byte `at` of `text` and its width: ASCII without decoding.
fn char_at(text: &str, at: usize) -> (char, usize) {
    let byte = text.as_bytes()[at];
    if byte.is_ascii() {
        return (char::from(byte), 1);
    }
    let c = text[at..].chars().next().unwrap_or('\0');
    (c, c.len_utf8())
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blankz(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\0') || is_break(c)
}

/// libyaml's `IS_PRINTABLE`.
fn is_printable(c: char) -> bool {
    matches!(c as u32,
        0x0a | 0x20..=0x7e | 0x85 | 0xa0..=0xd7ff | 0xe000..=0xfffd | 0x10000..=0x10ffff)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Map,
    Seq,
}

/// A mapping or sequence being written: its entries at `column`.
struct Compound<'a, W> {
    writer: &'a mut Writer<W>,
    at: At,
    kind: Kind,
    column: usize,
    first: bool,
}

impl<W: Write> Compound<'_, W> {
    /// Starts an entry: the line break after the parent's `key:` before the
    /// first, the indentation before the others (the first of an item's
    /// mapping or sequence shares the dash's line).
    fn entry(&mut self) -> Result {
        let first = std::mem::take(&mut self.first);
        match self.at {
            At::MapValue(_) if first => {
                self.writer.put(b"\n")?;
                self.writer.indent(self.column)
            }
            At::Root | At::SeqItem(_) if first => Ok(()),
            _ => self.writer.indent(self.column),
        }
    }

    fn key(&mut self, key: &str) -> Result {
        self.entry()?;
        write_string(self.writer, key, self.column, true)?;
        self.writer.put(b":")
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(Place {
            writer: self.writer,
            at: At::MapValue(self.column),
        })
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.entry()?;
        self.writer.put(b"- ")?;
        value.serialize(Place {
            writer: self.writer,
            at: At::SeqItem(self.column),
        })
    }

    fn end(self) -> Result {
        if !self.first {
            return Ok(());
        }
        self.writer.put(self.at.gap())?;
        self.writer.put(match self.kind {
            Kind::Map => b"{}\n",
            Kind::Seq => b"[]\n",
        })
    }
}

/// Serialises a map key to its text (kfpl's keys are strings).
struct KeyText;

macro_rules! key_unsupported {
    ($($method:ident($($arg:ty),*) -> $out:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$out> {
            Err(Error::custom("YAML keys must be strings"))
        })*
    };
}

impl ser::Serializer for KeyText {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = ser::Impossible<String, Error>;
    type SerializeTuple = ser::Impossible<String, Error>;
    type SerializeTupleStruct = ser::Impossible<String, Error>;
    type SerializeTupleVariant = ser::Impossible<String, Error>;
    type SerializeMap = ser::Impossible<String, Error>;
    type SerializeStruct = ser::Impossible<String, Error>;
    type SerializeStructVariant = ser::Impossible<String, Error>;

    fn serialize_str(self, v: &str) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<String> {
        v.serialize(self)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String> {
        Ok(variant.to_string())
    }
    key_unsupported! {
        serialize_bool(bool) -> String;
        serialize_i8(i8) -> String;
        serialize_i16(i16) -> String;
        serialize_i32(i32) -> String;
        serialize_i64(i64) -> String;
        serialize_u8(u8) -> String;
        serialize_u16(u16) -> String;
        serialize_u32(u32) -> String;
        serialize_u64(u64) -> String;
        serialize_f32(f32) -> String;
        serialize_f64(f64) -> String;
        serialize_char(char) -> String;
        serialize_bytes(&[u8]) -> String;
        serialize_none() -> String;
        serialize_unit() -> String;
        serialize_unit_struct(&'static str) -> String;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<String> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String> {
        Err(Error::custom("YAML keys must be strings"))
    }
}

impl<'a, W: Write> ser::Serializer for Place<'a, W> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a, W>;
    type SerializeTuple = Compound<'a, W>;
    type SerializeTupleStruct = Compound<'a, W>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = Compound<'a, W>;
    type SerializeStruct = Compound<'a, W>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result {
        self.bare(if v { "true" } else { "false" })
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.bare(&v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.bare(&v.to_string())
    }
    fn serialize_f32(self, v: f32) -> Result {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result {
        // As serde_yaml writes floats.
        let text = serde_yaml::to_string(&v)?;
        self.bare(text.trim_end())
    }
    fn serialize_char(self, v: char) -> Result {
        self.string(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result {
        self.string(v)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result {
        Err(Error::custom(
            "serialization of bytes in YAML is not implemented",
        ))
    }
    fn serialize_none(self) -> Result {
        self.bare("null")
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.bare("null")
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result {
        self.bare("null")
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.string(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Result {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result {
        Err(Error::custom("kfpl's model has no enum variants with data"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a, W>> {
        Ok(self.compound(Kind::Seq))
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a, W>> {
        Ok(self.compound(Kind::Seq))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a, W>> {
        Ok(self.compound(Kind::Seq))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Error::custom("kfpl's model has no enum variants with data"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a, W>> {
        Ok(self.compound(Kind::Map))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a, W>> {
        Ok(self.compound(Kind::Map))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Error::custom("kfpl's model has no enum variants with data"))
    }
}

impl<W: Write> ser::SerializeSeq for Compound<'_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result {
        self.item(v)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl<W: Write> ser::SerializeTuple for Compound<'_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result {
        self.item(v)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl<W: Write> ser::SerializeTupleStruct for Compound<'_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result {
        self.item(v)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl<W: Write> ser::SerializeMap for Compound<'_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result {
        let key = k.serialize(KeyText)?;
        self.key(&key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result {
        self.value(v)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl<W: Write> ser::SerializeStruct for Compound<'_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result {
        self.key(key)?;
        self.value(v)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn written<T: Serialize>(value: &T) -> String {
        let mut bytes = Vec::new();
        to_writer(&mut bytes, value).expect("writes");
        String::from_utf8(bytes).expect("UTF-8")
    }

    /// What `value` reads back as, from our text and from serde_yaml's.
    fn both_read<T: Serialize>(value: &T) -> (serde_yaml::Value, serde_yaml::Value) {
        let ours = written(value);
        let theirs = serde_yaml::to_string(value).expect("serde_yaml writes");
        let read = |text: &str| {
            serde_yaml::from_str::<serde_yaml::Value>(text)
                .unwrap_or_else(|e| panic!("{e}: {text:?}"))
        };
        (read(&ours), read(&theirs))
    }

    #[test]
    fn layout_is_serde_yamls() {
        let mut map = BTreeMap::new();
        map.insert("a", vec![vec!["x", "yes"], vec![]]);
        map.insert("b", vec![]);
        map.insert("c d", vec![vec!["two\nlines\n", " lead", "tab\there", ""]]);
        let ours = written(&(map, BTreeMap::<String, String>::new()));
        assert_eq!(
            ours,
            "- a:\n  - - x\n    - 'yes'\n  - []\n  b: []\n  c d:\n  - - |\n      two\n      lines\n    - ' lead'\n    - \"tab\\there\"\n    - ''\n- {}\n"
        );
    }

    #[test]
    fn generated_programs_read_back_as_serde_yaml_writes_them() {
        for steps in [1, 7, 30] {
            let file = crate::SourceFile::new("g.kfp", crate::generate::program(steps));
            let compiled =
                crate::compile(&file, &crate::CompileOptions::default()).expect("compiles");
            let (ours, theirs) = both_read(&compiled.workflow);
            assert_eq!(ours, theirs, "{steps} steps");
        }
    }

    /// Text with what makes YAML hard: indicators, quotes, breaks, blanks,
    /// YAML 1.1 words, non-ASCII and control characters.
    fn tricky_text() -> impl Strategy<Value = String> {
        let pieces = prop_oneof![
            Just("yes".to_string()),
            Just("~".to_string()),
            Just("1_000".to_string()),
            Just("0x1F".to_string()),
            Just("2001-12-14".to_string()),
            Just("- ".to_string()),
            Just(": ".to_string()),
            Just(" #".to_string()),
            Just("---".to_string()),
            "[ \n\t'\"\\\\{}:#,&*!|>%@`?-]{1,3}",
            "[a-z0-9.]{1,5}",
            any::<char>().prop_map(String::from),
        ];
        prop::collection::vec(pieces, 0..6).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn any_strings_read_back_as_serde_yaml_writes_them(
            value in prop::collection::btree_map(
                tricky_text(),
                prop::collection::vec(prop::collection::vec(tricky_text(), 0..3), 0..3),
                0..4,
            )
        ) {
            let (ours, theirs) = both_read(&value);
            prop_assert_eq!(ours, theirs);
        }
    }
}
