//! Writing the workflow as YAML that every reader takes the same way.
//!
//! serde_yaml 0.9 writes the model; it quotes what YAML 1.2 would read as a
//! non-string, but Kubernetes, Argo and KFP read YAML 1.1, where `yes`,
//! `on`, `y`, `n` (any case), `1_000`, `1:20` and `2001-12-14` are not
//! strings either, and serde_yaml leaves those bare. [`quote_yaml11`] walks
//! the emitted lines (serde_yaml writes block style: `key: value`, `- value`,
//! block scalars `|`), finds each plain scalar a YAML 1.1 reader could take
//! for anything but a string, and single-quotes it. Only whole plain values
//! are touched; block scalar bodies are skipped. The tests read every
//! output back and compare it with the model.

use super::argo_types::Workflow;

/// The workflow as YAML, quoted for YAML 1.1 readers.
pub fn to_yaml(workflow: &Workflow) -> Result<String, serde_yaml::Error> {
    let text = serde_yaml::to_string(workflow)?;
    Ok(quote_yaml11(&text))
}

/// Single-quotes every plain scalar value that a YAML 1.1 reader would not
/// read as a string. `text` is serde_yaml's block-style output.
pub fn quote_yaml11(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    // The indentation a block scalar's body is deeper than, while in one.
    let mut block_parent: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches('\n');
        let indent = content.len() - content.trim_start_matches(' ').len();
        if let Some(parent) = block_parent {
            if content.is_empty() || indent > parent {
                out.push_str(line);
                continue;
            }
            block_parent = None;
        }
        let (prefix, value, parent) = split_line(content, indent);
        match value {
            Some(value) if value.starts_with(['|', '>']) => {
                block_parent = Some(parent);
                out.push_str(line);
            }
            Some(value)
                if is_plain(value) && !is_yaml11_string(value) && is_yaml12_string(value) =>
            {
                out.push_str(prefix);
                out.push('\'');
                out.push_str(&value.replace('\'', "''"));
                out.push('\'');
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            _ => out.push_str(line),
        }
    }
    out
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
pub fn is_yaml11_string(value: &str) -> bool {
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
