//! A serde `Serializer` that writes block-style YAML directly: the bytes
//! serde_yaml 0.9 writes for kfpl's model, with every string a YAML 1.1
//! reader would take for something else single-quoted, in one pass and
//! without libyaml's event machinery.
//!
//! Layout (as libyaml lays it out): a mapping's entries one a line, two
//! spaces deeper than its key; a sequence under a key at the key's column
//! (`key:` then `- item`); an item that is a mapping or sequence starts on
//! the dash's line; empty ones are `{}` and `[]`; strings with a line break
//! are literal blocks (`|`, `|-`, `|+`). Which style a scalar takes is
//! [`super::yaml::style`]'s rule; this module lays out and escapes.
//!
//! Serde's derive writes through it, and so does [`super::emit`], which
//! lays out each step template itself through [`Compound`]'s methods into
//! a [`Rendering`] (the text is also the template's identity for sharing)
//! and hands the bytes back as a [`Rendered`] item.

use std::fmt::Display;
use std::io::Write;

use serde::ser::{self, Error as _, Serialize};

use super::yaml::{Style, StyleMemo, bytes_equal, is_break, is_printable, padded_end, style};

type Error = serde_yaml::Error;
type Result<T = ()> = std::result::Result<T, Error>;

/// Writes `value` as a block YAML document to `out`.
pub(crate) fn to_writer<W: Write, T: Serialize + ?Sized>(out: W, value: &T) -> Result {
    let mut writer = Writer {
        out,
        buf: Vec::with_capacity(CHUNK + CHUNK / 4),
        chunk: CHUNK,
        // The document around the step templates: each string about once.
        styles: StyleMemo::off(),
    };
    value.serialize(Place {
        writer: &mut writer,
        at: At::Root,
    })?;
    writer.pass_on()?;
    writer.out.flush().map_err(io)
}

fn io(error: std::io::Error) -> Error {
    Error::custom(error)
}

/// Lines gather in the writer's buffer and go to `out` about this many
/// bytes at a time: one `write_all` per 64 KiB, not one per piece of a line.
const CHUNK: usize = 64 * 1024;

pub(super) struct Writer<W> {
    out: W,
    buf: Vec<u8>,
    /// The buffer passes on once it holds this many bytes ([`CHUNK`]; a
    /// [`Rendering`] never passes on).
    chunk: usize,
    /// The styles of the strings written (see [`StyleMemo`]).
    styles: StyleMemo,
}

impl<W: Write> Writer<W> {
    fn put(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Writes `columns` spaces: up to 32 as one copy of a fixed size (a
    /// store or two, where a copy of `columns` bytes called `memset`, which
    /// cost more than the indentation), cut back to `columns`.
    fn indent(&mut self, columns: usize) {
        const SPACES: &[u8; 32] = &[b' '; 32];
        let end = self.buf.len() + columns;
        if columns <= SPACES.len() {
            self.put(SPACES);
            self.buf.truncate(end);
        } else {
            self.buf.resize(end, b' ');
        }
    }

    /// Ends a line, and passes the buffer on once it holds a chunk.
    fn end_line(&mut self) -> Result {
        self.buf.push(b'\n');
        self.pass_on_a_chunk()
    }

    fn pass_on_a_chunk(&mut self) -> Result {
        if self.buf.len() >= self.chunk {
            self.pass_on()?;
        }
        Ok(())
    }

    fn pass_on(&mut self) -> Result {
        self.out.write_all(&self.buf).map_err(io)?;
        self.buf.clear();
        Ok(())
    }
}

/// Where the next value goes.
#[derive(Clone, Copy, PartialEq)]
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
    /// A plain scalar written as is (bools, null).
    fn bare(self, text: &str) -> Result {
        self.writer.put(self.at.gap());
        self.writer.put(text.as_bytes());
        self.writer.end_line()
    }

    /// A number, formatted straight into the buffer (no `String` each).
    fn number(self, value: impl Display) -> Result {
        self.writer.put(self.at.gap());
        write!(self.writer.buf, "{value}").map_err(io)?;
        self.writer.end_line()
    }

    fn string(self, value: &str) -> Result {
        self.writer.put(self.at.gap());
        write_string(self.writer, value, self.at.deeper(), false);
        self.writer.end_line()
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

/// Writes a string in the style [`style`] gives it. `key` strings are
/// mapping keys (never block scalars).
fn write_string<W: Write>(writer: &mut Writer<W>, value: &str, indent: usize, key: bool) {
    match writer.styles.style(value, key) {
        Style::Plain => writer.put(value.as_bytes()),
        Style::Single => single_quoted(writer, value),
        Style::Double => double_quoted(writer, value),
        Style::Literal => literal(writer, value, indent),
    }
}

fn single_quoted<W: Write>(writer: &mut Writer<W>, value: &str) {
    writer.put(b"'");
    let mut rest = value.as_bytes();
    while let Some(quote) = find_byte(rest, b'\'') {
        let (through_quote, after) = rest.split_at(quote + 1);
        writer.put(through_quote);
        writer.put(b"'");
        rest = after;
    }
    writer.put(rest);
    writer.put(b"'");
}

/// Where the first `byte` in `bytes` is, eight bytes at a time (a quote
/// in a single-quoted string, a break in a literal block): a byte at a time
/// cost eight instructions a byte, and `str::find`'s memchr more to set up
/// than most of these strings take to walk. `byte` must not be
/// [`super::yaml::PAD`].
fn find_byte(bytes: &[u8], byte: u8) -> Option<usize> {
    let (words, tail) = bytes.as_chunks::<8>();
    let words = words.iter().map(|word| u64::from_le_bytes(*word));
    let tail = (!tail.is_empty()).then(|| padded_end(bytes, tail.len()));
    words.chain(tail).enumerate().find_map(|(at, word)| {
        let found = bytes_equal(word, byte);
        (found != 0).then(|| at * 8 + found.trailing_zeros() as usize / 8)
    })
}

/// Double-quoted, escaped as libyaml escapes (width unlimited: one line).
fn double_quoted<W: Write>(writer: &mut Writer<W>, value: &str) {
    writer.put(b"\"");
    for c in value.chars() {
        let escape = !is_printable(c) || c == '\u{feff}' || is_break(c) || matches!(c, '"' | '\\');
        if !escape {
            writer.put(c.encode_utf8(&mut [0; 4]).as_bytes());
        } else if let Some(short) = short_escape(c) {
            writer.put(short);
        } else {
            hex_escape(writer, c);
        }
    }
    writer.put(b"\"");
}

/// libyaml's two-character escape for `c`, if it has one.
fn short_escape(c: char) -> Option<&'static [u8]> {
    Some(match c {
        '\0' => b"\\0",
        '\x07' => b"\\a",
        '\x08' => b"\\b",
        '\t' => b"\\t",
        '\n' => b"\\n",
        '\x0b' => b"\\v",
        '\x0c' => b"\\f",
        '\r' => b"\\r",
        '\x1b' => b"\\e",
        '"' => b"\\\"",
        '\\' => b"\\\\",
        '\u{85}' => b"\\N",
        '\u{a0}' => b"\\_",
        '\u{2028}' => b"\\L",
        '\u{2029}' => b"\\P",
        _ => return None,
    })
}

/// `\xXX`, `\uXXXX` or `\UXXXXXXXX`, upper-case hex, as libyaml writes them.
fn hex_escape<W: Write>(writer: &mut Writer<W>, c: char) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let code = u32::from(c);
    let (prefix, digits): (&[u8], u32) = match code {
        0..=0xff => (b"\\x", 2),
        0x100..=0xffff => (b"\\u", 4),
        _ => (b"\\U", 8),
    };
    writer.put(prefix);
    for place in (0..digits).rev() {
        let nibble = (code >> (4 * place)) & 0xf;
        writer.buf.push(HEX[nibble as usize]);
    }
}

/// A literal block scalar: `|` and its hints, then each line at `indent`
/// (empty lines stay empty). The caller writes the final line break.
fn literal<W: Write>(writer: &mut Writer<W>, value: &str, indent: usize) {
    writer.put(b"|");
    if value.starts_with([' ', '\n']) {
        writer.put(b"2");
    }
    let body = match value.strip_suffix('\n') {
        None => {
            writer.put(b"-");
            value
        }
        Some(body) if body.is_empty() || body.ends_with('\n') => {
            writer.put(b"+");
            body
        }
        Some(body) => body,
    };
    let mut rest = body.as_bytes();
    loop {
        let (line, after) = match find_byte(rest, b'\n') {
            Some(at) => (&rest[..at], rest.get(at + 1..)),
            None => (rest, None),
        };
        writer.put(b"\n");
        if !line.is_empty() {
            writer.indent(indent);
            writer.put(line);
        }
        match after {
            Some(after) => rest = after,
            None => return,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Map,
    Seq,
}

/// A mapping or sequence being written: its entries at `column`. Serde
/// writes through it, and so does [`super::emit`], directly: a field's
/// constant name and its text, without serde's calls between them.
pub(super) struct Compound<'a, W> {
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
                self.writer.end_line()?;
                self.writer.indent(self.column);
            }
            At::Root | At::SeqItem(_) if first => {}
            _ => self.writer.indent(self.column),
        }
        Ok(())
    }

    fn key(&mut self, key: &str) -> Result {
        self.entry()?;
        write_string(self.writer, key, self.column, true);
        self.writer.put(b":");
        Ok(())
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(self.at_value())
    }

    pub(super) fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(self.at_item()?)
    }

    /// A key known to be plain (a field's name): no style to find.
    fn plain_key(&mut self, key: &'static str) -> Result {
        debug_assert!(style(key, true) == Style::Plain, "{key}");
        self.entry()?;
        self.writer.put(key.as_bytes());
        self.writer.put(b":");
        Ok(())
    }

    /// `key: text`, `key` a field's name.
    pub(super) fn field(&mut self, key: &'static str, text: &str) -> Result {
        self.plain_key(key)?;
        self.text_value(text)
    }

    /// `key: text`, `key` any text (a map's key).
    pub(super) fn entry_text(&mut self, key: &str, text: &str) -> Result {
        self.key(key)?;
        self.text_value(text)
    }

    fn text_value(&mut self, text: &str) -> Result {
        self.at_value().string(text)
    }

    fn at_value(&mut self) -> Place<'_, W> {
        Place {
            writer: self.writer,
            at: At::MapValue(self.column),
        }
    }

    /// `key: value` through serde (what [`super::emit`] does not lay out itself).
    pub(super) fn serde<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.plain_key(key)?;
        self.value(value)
    }

    /// `key:` and the mapping under it; the caller ends it.
    pub(super) fn map(&mut self, key: &'static str) -> Result<Compound<'_, W>> {
        self.plain_key(key)?;
        Ok(self.at_value().compound(Kind::Map))
    }

    /// `key:` and the sequence under it; the caller ends it.
    pub(super) fn seq(&mut self, key: &'static str) -> Result<Compound<'_, W>> {
        self.plain_key(key)?;
        Ok(self.at_value().compound(Kind::Seq))
    }

    fn at_item(&mut self) -> Result<Place<'_, W>> {
        self.entry()?;
        self.writer.put(b"- ");
        Ok(Place {
            writer: self.writer,
            at: At::SeqItem(self.column),
        })
    }

    /// An item that is a mapping; the caller ends it.
    pub(super) fn item_map(&mut self) -> Result<Compound<'_, W>> {
        Ok(self.at_item()?.compound(Kind::Map))
    }

    /// An item that is text.
    pub(super) fn item_text(&mut self, text: &str) -> Result {
        self.at_item()?.string(text)
    }

    /// Ends the mapping or sequence (`{}` or `[]` when it has no entries).
    pub(super) fn end(self) -> Result {
        if !self.first {
            return Ok(());
        }
        self.writer.put(self.at.gap());
        self.writer.put(match self.kind {
            Kind::Map => b"{}",
            Kind::Seq => b"[]",
        });
        self.writer.end_line()
    }
}

/// The column of a [`Rendered`] item's dash: the items of a sequence under
/// a key of the document's first level (`spec.templates`).
const RENDERED_DASHES: usize = 2;

/// A mapping laid out in memory as an item of a sequence whose dashes are
/// at [`RENDERED_DASHES`] (without its `- `), to be hashed, compared, and
/// copied into the document as a [`Rendered`] item: a step template is laid
/// out once, for its identity and for its text.
pub(super) struct Rendering {
    writer: Writer<std::io::Sink>,
    /// The column of the item's dash.
    dashes: usize,
}

impl Rendering {
    /// A rendering for step templates, which remembers the styles of the
    /// strings they write (see [`StyleMemo`]): most recur in every step.
    pub(super) fn new() -> Rendering {
        let mut rendering = Rendering::at(RENDERED_DASHES);
        rendering.writer.styles = StyleMemo::on();
        rendering
    }

    /// A rendering for the items of a sequence whose dashes are at
    /// `dashes` (a DAG's tasks: see `super::dag_emit`).
    pub(super) fn at(dashes: usize) -> Rendering {
        Rendering {
            writer: Writer {
                out: std::io::sink(),
                buf: Vec::new(),
                chunk: usize::MAX,
                styles: StyleMemo::off(),
            },
            dashes,
        }
    }

    /// Lays out a mapping, in place of what was rendered before: `write`
    /// writes its entries.
    pub(super) fn render(
        &mut self,
        write: impl FnOnce(&mut Compound<'_, std::io::Sink>) -> Result,
    ) -> Result {
        self.writer.buf.clear();
        let mut map = Place {
            writer: &mut self.writer,
            at: At::SeqItem(self.dashes),
        }
        .compound(Kind::Map);
        write(&mut map)?;
        map.end()
    }

    pub(super) fn bytes(&self) -> &[u8] {
        &self.writer.buf
    }
}

/// A [`Rendering`]'s bytes as an item of `spec.templates`. Only this
/// module's writer takes them (serde has no such thing as block text).
pub(super) struct Rendered<'r>(pub(super) &'r [u8]);

impl Serialize for Rendered<'_> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// Writes a map key in its place (kfpl's keys are strings), with no
/// `String` a key.
struct KeyPlace<'c, 'a, W> {
    compound: &'c mut Compound<'a, W>,
}

macro_rules! key_unsupported {
    ($($method:ident($($arg:ty),*) -> $out:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$out> {
            Err(Error::custom("YAML keys must be strings"))
        })*
    };
}

impl<W: Write> ser::Serializer for KeyPlace<'_, '_, W> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result {
        self.compound.key(v)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Result {
        v.serialize(self)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.compound.key(variant)
    }
    key_unsupported! {
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result {
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
        self.number(v)
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
        self.number(v)
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
    /// Bytes are a [`Rendered`] item: block YAML laid out in a
    /// [`Rendering`] for this place (its writer trusts the column).
    fn serialize_bytes(self, rendered: &[u8]) -> Result {
        if !matches!(self.at, At::SeqItem(_)) || !rendered.ends_with(b"\n") {
            return Err(Error::custom(
                "bytes are written only as an item rendered for its place",
            ));
        }
        self.writer.put(rendered);
        self.writer.pass_on_a_chunk()
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
        k.serialize(KeyPlace { compound: self })
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
    /// A struct's keys are its fields' names, constants: checked plain once
    /// (in debug builds, by [`Compound::plain_key`]), not styled at every write.
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result {
        self.serde(key, v)
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
