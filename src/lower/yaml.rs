//! Writing the workflow as YAML that every reader takes the same way.
//!
//! Kubernetes, Argo and KFP read YAML 1.1, where `yes`, `on`, `y`, `n` (any
//! case), `1_000`, `1:20` and `2001-12-14` are not strings; YAML 1.2 readers
//! (serde_yaml) take them as strings. [`is_yaml11_string`] is kfpl's one
//! rule for which plain scalars need quotes, and [`style`] the one rule for
//! how each scalar is written (libyaml's choice, plus that rule).
//! [`write_yaml`] writes with [`super::block`], which applies it as it writes. (The tests check the
//! output with an independent line filter over the same rule,
//! `tests/support/yaml11.rs`: nothing in it is left to quote.)

use std::io::Write;

use serde::Serialize;

use super::argo::StepTemplates;
use super::argo_types::Workflow;

/// The workflow as YAML, quoted for YAML 1.1 readers.
pub fn to_yaml<T: Serialize>(workflow: &Workflow<T>) -> Result<String, serde_yaml::Error> {
    let mut bytes = Vec::new();
    write_yaml(workflow, &mut bytes)?;
    // The writer writes UTF-8 (strings, and ASCII around them): no copy.
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned()))
}

/// Writes the workflow as YAML to `out`, quoted for YAML 1.1 readers, 64 KiB
/// at a time: a 100,000-step workflow is never held as text.
pub fn write_yaml<T: Serialize>(
    workflow: &Workflow<T>,
    out: impl Write,
) -> Result<(), serde_yaml::Error> {
    super::block::to_writer(out, workflow)
}

/// Writes a streamed workflow as [`write_yaml`] does, to the byte, with
/// each step template written as the text it was laid out as to find
/// which steps share one (`emit`), not through serde a second
/// time. What `kfpl compile` writes.
pub fn write_streamed(
    workflow: &Workflow<StepTemplates<'_>>,
    out: impl Write,
) -> Result<(), serde_yaml::Error> {
    let laid_out = workflow.with_templates(workflow.spec.templates.laid_out());
    super::block::to_writer(out, &laid_out)
}

/// Whether a YAML 1.1 reader takes the plain scalar `value` as a string.
/// Conservative: anything that looks like a bool, null, number, date or
/// merge key is reported as not a string (quoting a string never hurts).
#[inline]
pub fn is_yaml11_string(value: &str) -> bool {
    // Most strings start with a byte no word, number or date starts with
    // (a name, a path, a template's `{{`), or are a letter and longer than
    // any word: none of the walks in `looks_like_a_string`.
    let bytes = value.as_bytes();
    let Some(&first) = bytes.first() else {
        return true;
    };
    !starts_a_non_string(first)
        || bytes.len() > 5 && first.is_ascii_alphabetic()
        || looks_like_a_string(value)
}

/// [`is_yaml11_string`] for text that starts like a word, number or date.
#[inline(never)]
fn looks_like_a_string(value: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
    ];
    let bytes = value.as_bytes();
    let word = value.len() <= 5
        && (WORDS.iter().any(|w| value.eq_ignore_ascii_case(w)) || value == "=" || value == "<<");
    let date = bytes.len() >= 5 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-';
    if word || date {
        return false;
    }
    let body = value.strip_prefix(['+', '-']).unwrap_or(value);
    let numeric_start = body.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    // Only what starts like a number is walked (names and paths are not).
    let numeric_chars = || {
        body.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'+' | b'-'))
    };
    !(numeric_start && numeric_chars())
}

/// Whether a YAML 1.1 bool, null, number, date or merge key can start with
/// `byte`: the first letters of [`is_yaml11_string`]'s words, `~`, `=`,
/// `<`, a digit, a sign or a dot.
fn starts_a_non_string(byte: u8) -> bool {
    matches!(
        byte.to_ascii_lowercase(),
        b'y' | b'n' | b'o' | b't' | b'f' | b'~' | b'=' | b'<' | b'0'..=b'9' | b'+' | b'-' | b'.'
    )
}

/// How a scalar is written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// The style of `value`: libyaml's choice (serde_yaml's, so that what is
/// written reads back the same), and quotes wherever YAML 1.1 or 1.2 would
/// not read a plain `value` as a string. `key`s are never block scalars.
/// One pass over the bytes ([`Scan`]) decides for one line of printable
/// ASCII (most of kfpl's strings) without more; the rest goes through
/// libyaml's full analysis ([`unusual_style`]).
#[inline]
pub(super) fn style(value: &str, key: bool) -> Style {
    let scan = Scan::of(value.as_bytes());
    if scan.has(Scan::OTHER | Scan::BREAK) {
        return unusual_style(value, key, scan);
    }
    // libyaml's analysis of one printable ASCII line allows single quotes
    // always, and plain where [`plain_fits_ascii_line`] says.
    if plain_fits_ascii_line(value, scan) && !needs_quotes(value) {
        Style::Plain
    } else {
        Style::Single
    }
}

/// [`style`], remembered: a step template's names, paths, env names and
/// Argo references recur in every step (at 1,000 generated steps, 44,000
/// of the 62,000 strings written, half the bytes styled, are each one seen
/// ten times or more), and comparing a string with the one remembered in
/// its slot costs a fraction of scanning it. A slot is picked by the
/// string's length and its first and last eight bytes; a string that
/// differs in its middle takes the slot over. What a slot holds is only
/// ever `style`'s own answer: no second rule.
pub(super) struct StyleMemo {
    /// Empty when off (see [`StyleMemo::off`]).
    slots: Box<[Option<Remembered>]>,
}

/// A string [`StyleMemo`] styled, and its style: its length and first and
/// last eight bytes ([`Ends`]), which are all of a string of up to 16
/// bytes, and the bytes between them.
struct Remembered {
    ends: Ends,
    key: bool,
    style: Style,
    middle: Vec<u8>,
}

impl StyleMemo {
    /// Slots: a step template writes about sixty strings.
    const SLOTS: usize = 256;
    /// Longer strings are styled each time, not kept (a slot's copy stays
    /// small, whatever the program's scripts hold).
    const LONGEST: usize = 4096;

    pub(super) fn on() -> StyleMemo {
        StyleMemo {
            slots: (0..Self::SLOTS).map(|_| None).collect(),
        }
    }

    /// A memo that remembers nothing: for a writer that writes few strings,
    /// or each once (its slots would cost more than they save).
    pub(super) fn off() -> StyleMemo {
        StyleMemo {
            slots: Box::default(),
        }
    }

    /// `style(value, key)`, from the slot when it holds `value`.
    #[inline]
    pub(super) fn style(&mut self, value: &str, key: bool) -> Style {
        if self.slots.is_empty() || value.len() > Self::LONGEST {
            return style(value, key);
        }
        let bytes = value.as_bytes();
        let ends = Ends::of(bytes);
        let slot = &mut self.slots[ends.slot()];
        match slot {
            Some(seen) if seen.ends == ends && seen.key == key && seen.middle == middle(bytes) => {
                seen.style
            }
            _ => remember(slot, value, ends, key),
        }
    }
}

/// Styles `value` and keeps it in `slot` (reusing the slot's buffer).
#[inline(never)]
fn remember(slot: &mut Option<Remembered>, value: &str, ends: Ends, key: bool) -> Style {
    let style = style(value, key);
    let seen = slot.get_or_insert_with(|| Remembered {
        ends,
        key,
        style,
        middle: Vec::new(),
    });
    seen.ends = ends;
    seen.key = key;
    seen.style = style;
    seen.middle.clear();
    seen.middle.extend_from_slice(middle(value.as_bytes()));
    style
}

/// A string's length and its first and last eight bytes (the string,
/// padded, when it is shorter): three words, whatever its length.
#[derive(Clone, Copy, PartialEq)]
struct Ends {
    len: usize,
    first: u64,
    last: u64,
}

impl Ends {
    fn of(bytes: &[u8]) -> Ends {
        let (first, last) = match (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
            (Some(first), Some(last)) => (u64::from_le_bytes(*first), u64::from_le_bytes(*last)),
            _ => {
                let word = padded_end(bytes, bytes.len());
                (word, word)
            }
        };
        Ends {
            len: bytes.len(),
            first,
            last,
        }
    }

    /// The [`StyleMemo`] slot of the strings with these ends.
    fn slot(self) -> usize {
        const MIX: u64 = 0x9e37_79b9_7f4a_7c15;
        let mixed = (self.first.wrapping_mul(MIX) ^ self.last).rotate_left(29) ^ self.len as u64;
        let bits = StyleMemo::SLOTS.trailing_zeros();
        (mixed.wrapping_mul(MIX) >> (64 - bits)) as usize
    }
}

/// The bytes of a string between its first and last eight (none when it
/// has 16 or fewer): with [`Ends`], the whole string.
fn middle(bytes: &[u8]) -> &[u8] {
    bytes.get(8..bytes.len().saturating_sub(8)).unwrap_or(&[])
}

/// [`style`] for text with a line break or a byte outside printable ASCII.
#[inline(never)]
fn unusual_style(value: &str, key: bool, scan: Scan) -> Style {
    let wants_literal = !key && scan.has(Scan::BREAK);
    if wants_literal && literal_fits_ascii(value, scan) {
        return Style::Literal;
    }
    let analysis = Analysis::of(value);
    if wants_literal && analysis.block {
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
    }
}

/// [`Analysis`]'s verdict on a literal block for ASCII text (scripts are
/// most of the output): no trailing space, no space before a break,
/// nothing unprintable.
fn literal_fits_ascii(value: &str, scan: Scan) -> bool {
    !value.ends_with(' ') && !scan.has(Scan::SPACE_BREAK | Scan::OTHER)
}

/// [`Analysis`]'s `block_plain` for one line of printable ASCII, from the
/// scan: there the only blank is the space, so no indicator at the start,
/// no `: ` or ` #`, no `:` or space at the end and no space at the start.
fn plain_fits_ascii_line(value: &str, scan: Scan) -> bool {
    let bytes = value.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return true;
    };
    let start = STARTS[usize::from(first)];
    let bad_start = start & Start::NEVER != 0
        || start & Start::BEFORE_BLANK != 0 && bytes.get(1).is_none_or(|&b| b == b' ')
        || start & Start::MARKER != 0 && (value.starts_with("---") || value.starts_with("..."));
    !(bad_start || last == b':' || last == b' ' || scan.has(Scan::COLON_SPACE | Scan::SPACE_HASH))
}

/// What a plain scalar's first byte can be, to libyaml (one look-up where
/// a `match` on it took a jump table): never an indicator or a space;
/// `?`, `:` and `-` only before a non-blank; `-` and `.` not in `---` or
/// `...`, which mark documents.
struct Start;

impl Start {
    const NEVER: u8 = 1;
    const BEFORE_BLANK: u8 = 2;
    const MARKER: u8 = 4;
}

static STARTS: [u8; 256] = starts();

const fn starts() -> [u8; 256] {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < table.len() {
        table[byte] = match byte as u8 {
            b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
            | b'"' | b'%' | b'@' | b'`' | b' ' => Start::NEVER,
            b'?' | b':' => Start::BEFORE_BLANK,
            b'-' => Start::BEFORE_BLANK | Start::MARKER,
            b'.' => Start::MARKER,
            _ => 0,
        };
        byte += 1;
    }
    table
}

/// Whether a plain string must be quoted to read back as a string: serde_yaml
/// quotes what YAML 1.2 reads otherwise (and the empty string, which reads
/// as null), and kfpl also what YAML 1.1 does (see [`is_yaml11_string`],
/// which takes everything YAML 1.2 reads as a non-string for a non-string).
#[inline]
fn needs_quotes(value: &str) -> bool {
    value.is_empty() || !is_yaml11_string(value)
}

/// What one pass over a string's bytes finds: which kinds of byte, and
/// which of the pairs that matter to the style, occur in it. Each is a bit
/// of the top five of a byte, where [`Found`] gathers them.
#[derive(Clone, Copy)]
struct Scan(u8);

impl Scan {
    /// A byte outside printable ASCII other than `\n`: a tab, a control, UTF-8.
    const OTHER: u8 = 0x80;
    const BREAK: u8 = 0x40;
    const COLON_SPACE: u8 = 0x20;
    const SPACE_HASH: u8 = 0x10;
    const SPACE_BREAK: u8 = 0x08;

    /// Eight bytes at a time, the last few padded to eight ([`padded_end`]),
    /// where finding the same with `contains(": ")`, `contains(" #")`,
    /// `contains('\n')` and a printable check walked each string four
    /// times, and a table look-up a byte cost twelve instructions a byte.
    fn of(bytes: &[u8]) -> Scan {
        let (words, tail) = bytes.as_chunks::<8>();
        let mut found = Found::default();
        for word in words {
            found.add(u64::from_le_bytes(*word));
        }
        if !tail.is_empty() {
            found.add(padded_end(bytes, tail.len()));
        }
        found.scan()
    }

    fn has(self, flags: u8) -> bool {
        self.0 & flags != 0
    }
}

/// What [`Scan`] has found so far: in each byte of `marks`, the [`Scan`]
/// bits of what was found there (one word of marks, not one a kind: they
/// all stay in registers); and the word before, whose last byte can start
/// a pair with the next word's first.
#[derive(Default)]
struct Found {
    marks: u64,
    previous: u64,
}

impl Found {
    /// Adds a word of eight bytes, the first in its lowest byte.
    #[inline]
    fn add(&mut self, word: u64) {
        let last_before = (self.previous >> 56) as u8;
        self.previous = word;
        // In a quiet word, only a space at its end can start a pair (with
        // the next word's `#` or break), and only a `:` before it can end
        // in it.
        if !quiet(word) || last_before == b':' {
            self.marks |= loud_marks(word, last_before);
        }
    }

    fn scan(&self) -> Scan {
        let halves = self.marks | self.marks >> 32;
        let quarters = halves | halves >> 16;
        Scan((quarters | quarters >> 8) as u8)
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = ONES * 0x80;
const LOW: u64 = ONES * 0x7f;

/// The high bit of each byte of `word` that is `byte`, exactly (no carry
/// crosses a byte: each byte's low seven bits plus 0x7f stay below 0x100).
pub(super) fn bytes_equal(word: u64, byte: u8) -> u64 {
    let diff = word ^ (ONES * u64::from(byte));
    !(((diff & LOW) + LOW) | diff) & HIGH
}

/// The high bit of each byte of `word` below `bound` (at most 0x80), exactly.
fn bytes_below(word: u64, bound: u8) -> u64 {
    !(((word & LOW) + ONES * u64::from(0x80 - bound)) | word) & HIGH
}

/// The high bit of each byte of `word` at or above `bound` (at most 0x80),
/// exactly.
fn bytes_at_least(word: u64, bound: u8) -> u64 {
    (((word & LOW) + ONES * u64::from(0x80 - bound)) | word) & HIGH
}

/// The marks of a word with something in it ([`Found`]'s, about a tenth
/// of words), `last_before` the byte before it.
#[inline(never)]
fn loud_marks(word: u64, last_before: u8) -> u64 {
    // Each mask: the high bit of each byte that is what it names.
    let space = bytes_equal(word, b' ');
    let colon = bytes_equal(word, b':');
    let breaks = bytes_equal(word, b'\n');
    // Each byte's mark moved onto the byte after it.
    let after_colon = colon << 8 | u64::from(last_before == b':') << 7;
    let after_space = space << 8 | u64::from(last_before == b' ') << 7;
    let other = bytes_below(word, 0x20) & !breaks | bytes_at_least(word, 0x7f);
    // Shifted down from the high bit to each kind's bit (see [`Scan`]).
    other
        | breaks >> 1
        | (after_colon & space) >> 2
        | (after_space & bytes_equal(word, b'#')) >> 3
        | (after_space & breaks) >> 4
}

/// Whether none of the eight bytes in `word` is anything [`Scan`] looks
/// for but the space: all are printable ASCII other than `:` and `#` (no
/// break). Most words of names, paths, Argo expressions and scripts are;
/// SWAR, exact for "any byte is" (each test is, and they are or-ed).
fn quiet(word: u64) -> bool {
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    // DEL (0x7f) and up: a carry only leaves a byte of 0xff, itself high.
    let high = word | word.wrapping_add(ONES);
    let colon = has_zero(word ^ (ONES * u64::from(b':')));
    let hash = has_zero(word ^ (ONES * u64::from(b'#')));
    (below_space | high | colon | hash) & HIGH == 0
}

/// A byte that matters to nothing [`Scan`] looks for, nor to the block
/// writer's searches for a quote or a break: what pads a string's last few
/// bytes to a word.
pub(super) const PAD: u8 = b'a';

/// The last `n` bytes of `bytes` (`n` below eight) as a word, first byte
/// lowest, the rest of the word [`PAD`]: one load where the string has
/// eight bytes, else at most three (ranges that overlap read the same
/// bytes into the same places); not a byte at a time.
pub(super) fn padded_end(bytes: &[u8], n: usize) -> u64 {
    let pad = (ONES * u64::from(PAD)).unbounded_shl(8 * n as u32);
    if let Some(last) = bytes.last_chunk::<8>() {
        return u64::from_le_bytes(*last).unbounded_shr(8 * (8 - n) as u32) | pad;
    }
    let tail = &bytes[bytes.len().saturating_sub(n)..];
    let Some(&last) = tail.last() else {
        return pad;
    };
    let at = |i: usize| u64::from(tail[i]) << (8 * i);
    let read = match tail {
        [a, b, c, d, ..] => {
            let end = &tail[tail.len() - 4..];
            let first = u32::from_le_bytes([*a, *b, *c, *d]);
            let last = u32::from_le_bytes([end[0], end[1], end[2], end[3]]);
            u64::from(first) | u64::from(last) << (8 * (tail.len() - 4))
        }
        _ => at(0) | at(tail.len() / 2) | u64::from(last) << (8 * (tail.len() - 1)),
    };
    read | pad
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

pub(super) fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blankz(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\0') || is_break(c)
}

/// libyaml's `IS_PRINTABLE`.
pub(super) fn is_printable(c: char) -> bool {
    matches!(c as u32,
        0x0a | 0x20..=0x7e | 0x85 | 0xa0..=0xd7ff | 0xe000..=0xfffd | 0x10000..=0x10ffff)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What [`Scan`] should find, found the slow way.
    fn scanned_slowly(value: &str) -> u8 {
        let found = [
            (
                value
                    .bytes()
                    .any(|b| b != b'\n' && !(0x20..0x7f).contains(&b)),
                Scan::OTHER,
            ),
            (value.contains('\n'), Scan::BREAK),
            (value.contains(": "), Scan::COLON_SPACE),
            (value.contains(" #"), Scan::SPACE_HASH),
            (value.contains(" \n"), Scan::SPACE_BREAK),
        ];
        found
            .iter()
            .filter(|(is, _)| *is)
            .fold(0, |flags, (_, flag)| flags | flag)
    }

    proptest! {
        /// Long runs of quiet bytes, with what matters at any offset (the
        /// eight-byte words, the pairs across them, the padded end).
        #[test]
        fn the_scan_finds_what_the_slow_checks_find(
            value in "([a-z0-9{}.$/ ]{0,9}(: | #| \n|[ :#\n\t\x7f\x00\"!é])?){0,8}"
        ) {
            prop_assert_eq!(Scan::of(value.as_bytes()).0, scanned_slowly(&value), "{:?}", value);
        }
    }

    /// What [`style`] must choose for a mapping value: the style
    /// serde_yaml (libyaml) writes it in, single-quoted where that is plain
    /// and YAML 1.1 would read something else.
    fn serde_yaml_style(value: &str) -> Style {
        let text = serde_yaml::to_string(&std::collections::BTreeMap::from([("k", value)]))
            .expect("serde_yaml writes");
        let written = text["k:".len()..].trim_start_matches(' ');
        let chosen = match written.as_bytes().first() {
            Some(b'\'') => Style::Single,
            Some(b'"') => Style::Double,
            Some(b'|') => Style::Literal,
            _ => Style::Plain,
        };
        match chosen {
            Style::Plain if !is_yaml11_string(value) => Style::Single,
            other => other,
        }
    }

    /// Text made of what the one-line path decides on (names, paths,
    /// numbers, YAML 1.1 words, indicators, blanks at either end) and what
    /// sends a string past it (breaks, controls, tabs, anything unicode).
    fn scalar_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => "[a-zA-Z0-9_./-]{1,12}",
            2 => "[0-9.+-]{1,6}",
            2 => "(yes|Yes|NO|on|Off|y|N|~|null|Null|true|FALSE|=|<<|0x1f|1_000|1:20|2001-12-14|\\.inf)",
            4 => "(: | #| |:|#|---|\\.\\.\\.|-|\\?|'|\"|\\{\\{|\\[|&|\\*|!|%|@|`|,|\\|)",
            2 => "[ -~]{1,4}",
            1 => "[\n\t\r\x00-\x1f\x7f]",
            1 => any::<char>().prop_map(String::from),
        ];
        prop::collection::vec(piece, 0..5).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        /// The one-line path is the rule's first step, not a second rule:
        /// whatever it decides, libyaml and YAML 1.1 agree with.
        #[test]
        fn style_is_serde_yamls_with_yaml11_words_quoted(value in scalar_text()) {
            prop_assert_eq!(style(&value, false), serde_yaml_style(&value), "{:?}", value);
        }
    }

    /// Strings that meet in [`StyleMemo`]'s slots: the same ends and
    /// length but another middle, short strings that differ in one byte,
    /// text with breaks (whose style a key changes), and the scalars of
    /// [`scalar_text`].
    fn memo_text() -> impl Strategy<Value = String> {
        prop_oneof![
            2 => "KFP_[ab]{0,3}",
            2 => "\\{\\{inputs[ab: \n#]{0,12}dataset\\}\\}",
            1 => "[ab]{6,10}\n?",
            1 => scalar_text(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

        /// The memo gives `style`'s answer for every string in a run of
        /// strings that repeat and collide, as a key and as a value.
        #[test]
        fn the_memo_styles_as_style_does(
            values in prop::collection::vec((memo_text(), any::<bool>()), 1..200)
        ) {
            let mut memo = StyleMemo::on();
            for (value, key) in &values {
                prop_assert_eq!(memo.style(value, *key), style(value, *key), "{:?} key {}", value, key);
            }
        }
    }

    #[test]
    fn quiet_words_hold_nothing_that_matters_but_spaces() {
        for byte in 0..=255u8 {
            let mut word = *b"abcdefgh";
            for at in 0..8 {
                let saved = word[at];
                word[at] = byte;
                let matters = byte < b' ' || byte == b':' || byte == b'#' || byte >= 0x7f;
                assert_eq!(
                    quiet(u64::from_le_bytes(word)),
                    !matters,
                    "{byte:#x} at {at}"
                );
                word[at] = saved;
            }
        }
    }

    /// Each byte's mark is its own, whatever the bytes around it (no carry
    /// crosses a byte): every byte value at every place, among bytes that
    /// carry most (0xff, 0x7f) and least (0x00).
    #[test]
    fn byte_masks_mark_exactly_the_bytes_that_are() {
        for around in [0x00u8, 0x7f, 0xff, b' '] {
            for byte in 0..=255u8 {
                for at in 0..8 {
                    let mut bytes = [around; 8];
                    bytes[at] = byte;
                    let word = u64::from_le_bytes(bytes);
                    let expect = |is: &dyn Fn(u8) -> bool| {
                        bytes
                            .iter()
                            .enumerate()
                            .filter(|(_, b)| is(**b))
                            .fold(0u64, |mask, (i, _)| mask | 0x80 << (8 * i))
                    };
                    assert_eq!(bytes_equal(word, b':'), expect(&|b| b == b':'));
                    assert_eq!(bytes_equal(word, 0xff), expect(&|b| b == 0xff));
                    assert_eq!(bytes_below(word, 0x20), expect(&|b| b < 0x20));
                    assert_eq!(bytes_at_least(word, 0x7f), expect(&|b| b >= 0x7f));
                }
            }
        }
    }

    #[test]
    fn padded_ends_are_the_last_bytes_then_padding() {
        let text = b"0123456789abcdef";
        for len in 0..=text.len() {
            let bytes = &text[..len];
            for n in 1..8.min(len + 1) {
                let mut expected = [PAD; 8];
                expected[..n].copy_from_slice(&bytes[len - n..]);
                assert_eq!(
                    padded_end(bytes, n),
                    u64::from_le_bytes(expected),
                    "{len} bytes, last {n}"
                );
            }
        }
    }

    #[test]
    fn yaml11_words_and_numbers_are_not_strings() {
        for word in [
            "yes",
            "Yes",
            "NO",
            "on",
            "Off",
            "y",
            "N",
            "~",
            "null",
            "true",
            "1_000",
            "1:20",
            ".5",
            "-.inf",
            ".NaN",
            "0x1f",
            "017",
            "2001-12-14",
            "=",
            "<<",
            "yEs",
            "1.11.0",
        ] {
            assert!(!is_yaml11_string(word), "{word}");
        }
        for word in [
            "main",
            "sh",
            "-c",
            "user-susan",
            "a1",
            "nvidia.com/gpu",
            "-",
            "kfpl",
        ] {
            assert!(is_yaml11_string(word), "{word}");
        }
    }
}
