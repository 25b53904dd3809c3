//! Writing the workflow as YAML that every reader takes the same way.
//!
//! Kubernetes, Argo and KFP read YAML 1.1, where `yes`, `on`, `y`, `n` (any
//! case), `1_000`, `1:20` and `2001-12-14` are not strings; YAML 1.2 readers
//! (serde_yaml) take them as strings. [`is_yaml11_string`] is kfpl's one
//! rule for which plain scalars need quotes. [`write_yaml`] writes with
//! [`super::block`], which applies it as it writes. [`quote_yaml11`] applies
//! the same rule to text serde_yaml wrote (a line filter: `key: value`,
//! `- value`, block scalars skipped); the tests use it to show that the
//! output leaves nothing to quote.

use std::io::Write;

use serde::Serialize;

use super::argo_types::Workflow;

/// The workflow as YAML, quoted for YAML 1.1 readers.
pub fn to_yaml<T: Serialize>(workflow: &Workflow<T>) -> Result<String, serde_yaml::Error> {
    let mut bytes = Vec::new();
    write_yaml(workflow, &mut bytes)?;
    // serde_yaml writes UTF-8 and the quoting only adds ASCII.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Writes the workflow as YAML to `out`, quoted for YAML 1.1 readers, one
/// line at a time: a 100,000-step workflow is never held as text.
pub fn write_yaml<T: Serialize>(
    workflow: &Workflow<T>,
    out: impl Write,
) -> Result<(), serde_yaml::Error> {
    super::block::to_writer(out, workflow)
}

/// Single-quotes every plain scalar value that a YAML 1.1 reader would not
/// read as a string. `text` is serde_yaml's block-style output.
pub fn quote_yaml11(text: &str) -> String {
    let mut writer = Yaml11Writer::new(Vec::with_capacity(text.len() + 64));
    // Writing to a Vec cannot fail.
    let _ = writer.write_all(text.as_bytes());
    let bytes = writer.finish().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A writer that applies [`quote_yaml11`]'s rule to each complete line.
struct Yaml11Writer<W: Write> {
    out: W,
    line: Vec<u8>,
    /// The indentation a block scalar's body is deeper than, while in one.
    block_parent: Option<usize>,
}

impl<W: Write> Yaml11Writer<W> {
    fn new(out: W) -> Self {
        Yaml11Writer {
            out,
            line: Vec::new(),
            block_parent: None,
        }
    }

    /// Writes the last, unterminated line and flushes.
    fn finish(mut self) -> std::io::Result<W> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.emit(&String::from_utf8_lossy(&line))?;
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn emit(&mut self, line: &str) -> std::io::Result<()> {
        let content = line.trim_end_matches('\n');
        let indent = content.len() - content.trim_start_matches(' ').len();
        if let Some(parent) = self.block_parent {
            if content.is_empty() || indent > parent {
                return self.out.write_all(line.as_bytes());
            }
            self.block_parent = None;
        }
        let (prefix, value, parent) = split_line(content, indent);
        match value {
            Some(value) if value.starts_with(['|', '>']) => {
                self.block_parent = Some(parent);
                self.out.write_all(line.as_bytes())
            }
            Some(value)
                if is_plain(value) && !is_yaml11_string(value) && is_yaml12_string(value) =>
            {
                let newline = if line.ends_with('\n') { "\n" } else { "" };
                let quoted = value.replace('\'', "''");
                write!(self.out, "{prefix}'{quoted}'{newline}")
            }
            _ => self.out.write_all(line.as_bytes()),
        }
    }
}

impl<W: Write> Write for Yaml11Writer<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.line.extend_from_slice(&rest[..=end]);
            let line = std::mem::take(&mut self.line);
            self.emit(&String::from_utf8_lossy(&line))?;
            self.line = line;
            self.line.clear();
            rest = &rest[end + 1..];
        }
        self.line.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Splits a line into everything before its scalar value, the value (if
/// the line has one) and the column of the key or item that owns it.
fn split_line(line: &str, indent: usize) -> (&str, Option<&str>, usize) {
    let mut start = indent;
    let mut owner = indent;
    while line[start..].starts_with("- ") {
        owner = start;
        start += 2;
    }
    let rest = &line[start..];
    let is_item = start > indent;
    // Keys kfpl writes are plain and never hold `: `; values that do are quoted.
    if is_item && (rest.starts_with(['\'', '"']) || !rest.contains(": ") && !rest.ends_with(':')) {
        return (&line[..start], Some(rest), owner);
    }
    match rest.find(": ") {
        Some(colon) => {
            let value_start = start + colon + 2;
            (&line[..value_start], Some(&line[value_start..]), start)
        }
        None => (line, None, start),
    }
}

/// Whether serde_yaml wrote the value as a plain (unquoted, non-flow) scalar.
fn is_plain(value: &str) -> bool {
    !value.is_empty() && !value.starts_with(['\'', '"', '{', '[', '&', '*', '!'])
}

/// Whether serde_yaml reads the plain scalar back as a string. It quotes
/// strings that YAML 1.2 would read otherwise, so a bare `true` or `2` it
/// wrote is a real bool or number, and stays bare.
fn is_yaml12_string(value: &str) -> bool {
    matches!(
        serde_yaml::from_str::<serde_yaml::Value>(value),
        Ok(serde_yaml::Value::String(_))
    )
}

/// Whether a YAML 1.1 reader takes the plain scalar `value` as a string.
/// Conservative: anything that looks like a bool, null, number, date or
/// merge key is reported as not a string (quoting a string never hurts).
pub(crate) fn is_yaml11_string(value: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
    ];
    if WORDS.iter().any(|w| value.eq_ignore_ascii_case(w)) || value == "=" || value == "<<" {
        return false;
    }
    let body = value.strip_prefix(['+', '-']).unwrap_or(value);
    let numeric_start = body.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    let numeric_chars = body
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '+' | '-'));
    let bytes = value.as_bytes();
    let date = bytes.len() >= 5 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-';
    !(date || numeric_start && numeric_chars)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn quoting_touches_only_plain_values() {
        let text = "t: true\nf: false\nn: 2\na:\n- yes\n- 'on'\n- name: on\n  value: |-\n    yes\n\n    on\n  other: off\nb: 1:20\nc: x\nd:\n  - - n\n";
        let fixed = quote_yaml11(text);
        assert_eq!(
            fixed,
            "t: true\nf: false\nn: 2\na:\n- 'yes'\n- 'on'\n- name: 'on'\n  value: |-\n    yes\n\n    on\n  other: 'off'\nb: '1:20'\nc: x\nd:\n  - - 'n'\n"
        );
    }

    #[test]
    fn serde_yaml_output_is_fixed_and_reads_back() {
        let words = vec![
            "yes",
            "ON",
            "y",
            "1_000",
            "2001-12-14",
            "plain",
            "multi\nline",
        ];
        let text = quote_yaml11(&serde_yaml::to_string(&words).expect("yaml"));
        assert!(text.contains("- 'yes'\n- 'ON'\n- 'y'\n- '1_000'\n- '2001-12-14'\n- plain\n"));
        let back: Vec<String> = serde_yaml::from_str(&text).expect("reads back");
        assert_eq!(back, words);
    }
}
