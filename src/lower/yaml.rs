//! Writing the workflow as YAML that every reader takes the same way.
//!
//! Kubernetes, Argo and KFP read YAML 1.1, where `yes`, `on`, `y`, `n` (any
//! case), `1_000`, `1:20` and `2001-12-14` are not strings; YAML 1.2 readers
//! (serde_yaml) take them as strings. [`is_yaml11_string`] is kfpl's one
//! rule for which plain scalars need quotes. [`write_yaml`] writes with
//! [`super::block`], which applies it as it writes. (The tests check the
//! output with an independent line filter over the same rule,
//! `tests/support/yaml11.rs`: nothing in it is left to quote.)

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
}
