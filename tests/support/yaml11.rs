//! A test oracle for the YAML the compiler writes: a line filter that
//! single-quotes every plain scalar a YAML 1.1 reader (Kubernetes, Argo,
//! KFP) would not take as a string, by kfpl's one rule
//! (`kfpl::lower::yaml::is_yaml11_string`). It reads lines (`key: value`,
//! `- value`, block scalars skipped) rather than the model, so the compiler's
//! writer is checked by code that shares nothing with it but the rule:
//! compiled YAML must be a fixed point of [`quote_yaml11`].

#![allow(dead_code)]

use std::io::Write;

use kfpl::lower::yaml::is_yaml11_string;

/// Single-quotes every plain scalar value that a YAML 1.1 reader would not
/// read as a string. `text` is serde_yaml's block-style output.
pub(crate) fn quote_yaml11(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
