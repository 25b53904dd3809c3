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
pub fn is_yaml11_string(value: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
    ];
    let bytes = value.as_bytes();
    // Most strings: longer than any word, and a letter first (no number,
    // no date), so none of the walks below.
    if bytes.len() > 5 && bytes[0].is_ascii_alphabetic() {
        return true;
    }
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
/// One pass over the bytes ([`Scan`]) decides for ASCII text; the rest
/// goes through libyaml's full analysis.
pub(super) fn style(value: &str, key: bool) -> Style {
    let scan = Scan::of(value.as_bytes());
    let wants_literal = !key && scan.has(Scan::BREAK);
    if wants_literal && literal_fits_ascii(value, scan) {
        return Style::Literal;
    }
    let analysis = Analysis::of(value, scan);
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

/// Whether a plain string must be quoted to read back as a string: serde_yaml
/// quotes what YAML 1.2 reads otherwise (and the empty string, which reads
/// as null), and kfpl also what YAML 1.1 does (see [`is_yaml11_string`],
/// which takes everything YAML 1.2 reads as a non-string for a non-string).
fn needs_quotes(value: &str) -> bool {
    value.is_empty() || !is_yaml11_string(value)
}

/// What one pass over a string's bytes finds: which kinds of byte, and
/// which of the pairs that matter to the style, occur in it.
#[derive(Clone, Copy)]
struct Scan(u8);

impl Scan {
    /// A byte outside printable ASCII other than `\n`: a tab, a control, UTF-8.
    const OTHER: u8 = 1;
    const BREAK: u8 = 2;
    const COLON_SPACE: u8 = 4;
    const SPACE_HASH: u8 = 8;
    const SPACE_BREAK: u8 = 16;

    /// One table look-up a byte, where finding the same with `contains(": ")`,
    /// `contains(" #")`, `contains('\n')` and a printable check walked each
    /// string four times (two thirds of the writer's cost); and none for
    /// eight bytes at a time that are all [`dull`].
    fn of(bytes: &[u8]) -> Scan {
        let (words, rest) = bytes.as_chunks::<8>();
        let (mut found, mut starts) = (0, 0);
        for word in words {
            if dull(u64::from_le_bytes(*word)) {
                // No pair starts or ends in a dull word.
                starts = 0;
            } else {
                (found, starts) = Scan::classify(word, found, starts);
            }
        }
        Scan(Scan::classify(rest, found, starts).0)
    }

    /// Adds what `bytes` hold to `found`; `starts` is the pairs the byte
    /// before them starts, and the pairs their last byte starts come back.
    fn classify(bytes: &[u8], mut found: u8, mut starts: u8) -> (u8, u8) {
        for &byte in bytes {
            let class = CLASSES[usize::from(byte)];
            found |= class.alone | (starts & class.ends);
            starts = class.starts;
        }
        (found, starts)
    }

    fn has(self, flags: u8) -> bool {
        self.0 & flags != 0
    }
}

/// What a byte means to [`Scan`]: alone, and as the first or second byte
/// of a pair (`:` starts `: `, the space ends it).
#[derive(Clone, Copy)]
struct Class {
    alone: u8,
    starts: u8,
    ends: u8,
}

static CLASSES: [Class; 256] = classes();

/// Whether none of the eight bytes in `word` matters to [`Scan`]: all are
/// printable ASCII from `$` up other than `:` (so no break, space or `#`,
/// nothing unprintable, nothing that starts a pair). Most bytes of names,
/// paths and Argo expressions are; SWAR, exact for "any byte is".
fn dull(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_dollar = word.wrapping_sub(ONES * 0x24) & !word & HIGH;
    let colon = word ^ (ONES * u64::from(b':'));
    let colon = colon.wrapping_sub(ONES) & !colon & HIGH;
    // DEL (0x7f) and up: a carry only leaves a byte of 0xff, itself high.
    let high = (word | word.wrapping_add(ONES)) & HIGH;
    below_dollar | colon | high == 0
}

const fn classes() -> [Class; 256] {
    let mut table = [Class {
        alone: 0,
        starts: 0,
        ends: 0,
    }; 256];
    let mut byte = 0;
    while byte < table.len() {
        table[byte].alone = match byte {
            0x0a => Scan::BREAK,
            0x20..=0x7e => 0,
            _ => Scan::OTHER,
        };
        byte += 1;
    }
    table[b':' as usize].starts = Scan::COLON_SPACE;
    table[b' ' as usize].starts = Scan::SPACE_HASH | Scan::SPACE_BREAK;
    table[b' ' as usize].ends = Scan::COLON_SPACE;
    table[b'#' as usize].ends = Scan::SPACE_HASH;
    table[b'\n' as usize].ends = Scan::SPACE_BREAK;
    table
}

/// libyaml's `yaml_emitter_analyze_scalar`: which styles can hold `value`.
struct Analysis {
    line_breaks: bool,
    block_plain: bool,
    single: bool,
    block: bool,
}

impl Analysis {
    fn of(value: &str, scan: Scan) -> Analysis {
        Analysis::of_printable_ascii_line(value, scan).unwrap_or_else(|| Analysis::of_any(value))
    }

    /// The same verdict for one line of printable ASCII (most of kfpl's
    /// strings), from the scan: there the only blank is the space.
    fn of_printable_ascii_line(value: &str, scan: Scan) -> Option<Analysis> {
        let bytes = value.as_bytes();
        let (&first, &last) = (bytes.first()?, bytes.last()?);
        if scan.has(Scan::OTHER | Scan::BREAK) {
            return None;
        }
        let second_blank = bytes.get(1).is_none_or(|&b| b == b' ');
        let bad_start = matches!(
            first,
            b'#' | b','
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
        ) || matches!(first, b'?' | b':' | b'-') && second_blank
            || value.starts_with("---")
            || value.starts_with("...");
        let indicators =
            bad_start || last == b':' || scan.has(Scan::COLON_SPACE | Scan::SPACE_HASH);
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
        /// Long runs of dull bytes, with what matters at any offset (the
        /// eight-byte words and the pairs across them).
        #[test]
        fn the_scan_finds_what_the_slow_checks_find(
            value in "([a-z0-9{}.$/]{0,9}(: | #| \n|[ :#\n\t\x7f\x00\"!é])?){0,8}"
        ) {
            prop_assert_eq!(Scan::of(value.as_bytes()).0, scanned_slowly(&value), "{:?}", value);
        }
    }

    #[test]
    fn dull_words_hold_nothing_that_matters() {
        for byte in 0..=255u8 {
            let mut word = *b"abcdefgh";
            for at in 0..8 {
                let saved = word[at];
                word[at] = byte;
                let matters = byte < b'$' || byte == b':' || byte >= 0x7f;
                assert_eq!(
                    dull(u64::from_le_bytes(word)),
                    !matters,
                    "{byte:#x} at {at}"
                );
                word[at] = saved;
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
