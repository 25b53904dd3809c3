//! Typed values (LANGUAGE-2, "Types and how values become text"): the one
//! place that decides whether a text is a `number`, a `bool` or a `list`,
//! and how a list or map becomes text.
//!
//! The same rules check `-p` values (before anything runs), typed outputs
//! when a step ends (`kfpl run`), and the shell check the compiler emits for
//! Argo ([`OUTPUT_CHECK_AWK`], which mirrors [`check_output`]).

use std::collections::BTreeMap;

use super::ir::ParamType;
pub(crate) use super::json::Json;
use super::json::{self, number_len};
use crate::syntax::ast;

/// A list param's default written in kfp syntax, as JSON; the item that is
/// not a string, number, bool or map of those is the error.
pub(crate) fn list_default(items: &[ast::Value]) -> Result<Json, &ast::Value> {
    let scalar = |value: &ast::Value| match &value.kind {
        ast::ValueKind::String(s) => s.as_plain().map(Json::Str),
        ast::ValueKind::Number(n) if n.value.is_finite() => Some(Json::Num(n.text.clone())),
        ast::ValueKind::Bool(b) => Some(Json::Bool(*b)),
        _ => None,
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let json = match &item.kind {
            ast::ValueKind::Map(map) => {
                let mut entries = BTreeMap::new();
                for entry in &map.items {
                    let value = scalar(&entry.value).ok_or(&entry.value)?;
                    entries.insert(entry.key.name.clone(), value);
                }
                Json::Map(entries)
            }
            _ => scalar(item).ok_or(item)?,
        };
        out.push(json);
    }
    Ok(Json::List(out))
}

/// Why a text is not a value of a type, and where in the text (a byte offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// What is wrong, e.g. "expected `,` or `]`".
    pub why: String,
    /// Where in the (untrimmed) text the problem is.
    pub at: usize,
    /// What to do about it.
    pub help: String,
}

/// The spellings a `bool` accepts (Python's too, since `print(flag)` writes them).
pub const BOOL_SPELLINGS: &[&str] = &["true", "false", "True", "False"];

/// Checks a `-p` value against a param's type and returns its canonical
/// text: a bool `true`/`false`, a list compact JSON with sorted keys.
pub fn param_value(ty: ParamType, text: &str) -> Result<String, Mismatch> {
    match ty {
        // v1 took any finite number Rust reads (`.5`, `+1`), as given: kept.
        ParamType::Number if text.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
            Ok(text.to_string())
        }
        ParamType::Number => number(text).map(|()| text.to_string()),
        ParamType::Bool => boolean(text).map(|b| b.to_string()),
        ParamType::List => {
            let (value, starts) = list(text, "give a JSON array, such as `-p NAME='[0.1, 0.2]'`")?;
            list_items(&value, &starts, text)?;
            Ok(value.to_text())
        }
        ParamType::String | ParamType::File => Ok(text.to_string()),
    }
}

/// Checks a step's typed output (the file's text) against its type.
pub fn check_output(ty: ParamType, text: &str) -> Result<(), Mismatch> {
    match ty {
        ParamType::Number => number(text),
        ParamType::Bool => boolean(text).map(|_| ()),
        ParamType::List => list(
            text,
            "write the list as JSON, e.g. `json.dumps(values)` in Python (not `str(values)`)",
        )
        .map(|_| ()),
        ParamType::String | ParamType::File => Ok(()),
    }
}

/// The message for a typed output the step did not write (E0612).
pub fn missing_message(name: &str, ty: ParamType) -> String {
    format!(
        "output `{name}` is declared `{}` but the step did not write $KFP_OUTPUTS/{name}",
        ty.word()
    )
}

/// The message for a typed output that is not of its type (E0612). It
/// depends on the name and type only, so the container's shell check
/// prints the very same words.
pub fn mismatch_message(name: &str, ty: ParamType) -> String {
    let what = match ty {
        ParamType::Number => "a JSON number (NaN and Infinity are not numbers)",
        ParamType::Bool => "`true` or `false` (or Python's `True`/`False`)",
        ParamType::List => {
            "a JSON array: write it with `json.dumps(values)` in Python, not `str(values)`"
        }
        ParamType::String | ParamType::File => "text",
    };
    format!(
        "output `{name}` is declared `{}`, but $KFP_OUTPUTS/{name} does not hold {what}",
        ty.word()
    )
}

/// The awk program behind the container's check of a typed output: exit
/// status 0 when the file (trimmed as [`check_output`] trims) holds a value
/// of type `t` (`number`, `bool` or `list`), 1 otherwise. The same rules as
/// [`check_output`]; `src/lower/tests/typed_outputs.rs` runs both on the same
/// texts under dash and busybox.
pub const OUTPUT_CHECK_AWK: &str = r#"function ws() { while (p <= n && index(" \t\n\r", substr(s, p, 1)) > 0) p++ }
function str(   c) {
  p++
  while (p <= n) {
    c = substr(s, p, 1)
    if (c == "\"") { p++; return 1 }
    if (c == "\\") {
      c = substr(s, p + 1, 1)
      if (c == "u") {
        if (substr(s, p + 2, 4) !~ /^[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]$/) return 0
        p += 6
      } else if (c != "" && index("\"\\/bfnrt", c) > 0) p += 2
      else return 0
    } else if (c ~ /[\001-\037]/) return 0
    else p++
  }
  return 0
}
function val(   c) {
  ws()
  c = substr(s, p, 1)
  if (c == "[") return arr()
  if (c == "{") return obj()
  if (c == "\"") return str()
  if (match(substr(s, p), /^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][-+]?[0-9]+)?/)) { p += RLENGTH; return 1 }
  if (substr(s, p, 4) == "true" || substr(s, p, 4) == "null") { p += 4; return 1 }
  if (substr(s, p, 5) == "false") { p += 5; return 1 }
  return 0
}
function arr(   c) {
  p++; ws()
  if (substr(s, p, 1) == "]") { p++; return 1 }
  while (1) {
    if (!val()) return 0
    ws(); c = substr(s, p, 1); p++
    if (c == "]") return 1
    if (c != ",") return 0
  }
}
function obj(   c) {
  p++; ws()
  if (substr(s, p, 1) == "}") { p++; return 1 }
  while (1) {
    ws()
    if (substr(s, p, 1) != "\"" || !str()) return 0
    ws()
    if (substr(s, p, 1) != ":") return 0
    p++
    if (!val()) return 0
    ws(); c = substr(s, p, 1); p++
    if (c == "}") return 1
    if (c != ",") return 0
  }
}
{ s = s $0 "\n" }
END {
  sub(/^[ \t\n\r\f]+/, "", s); sub(/[ \t\n\r\f]+$/, "", s)
  n = length(s); p = 1; ok = 0
  if (t == "bool") ok = (s == "true" || s == "false" || s == "True" || s == "False")
  else if (t == "number") {
    if (s ~ /^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][-+]?[0-9]+)?$/) {
      x = s + 0
      ok = !((x - x != 0) || (x != 0 && x == x * 2))
    }
  } else if (t == "list") ok = (substr(s, 1, 1) == "[" && arr() && p > n)
  exit ok ? 0 : 1
}"#;

/// Where the trimmed text starts.
fn leading(text: &str) -> usize {
    text.len()
        - text
            .trim_start_matches([' ', '\t', '\n', '\r', '\x0c'])
            .len()
}

fn number(text: &str) -> Result<(), Mismatch> {
    let trimmed = trim(text);
    if is_json_number(trimmed) && trimmed.parse::<f64>().is_ok_and(f64::is_finite) {
        return Ok(());
    }
    Err(Mismatch {
        why: format!("`{trimmed}` is not a number"),
        at: leading(text),
        help: "write a JSON number such as `0.5` or `-3e2` (no NaN or Infinity)".into(),
    })
}

/// JSON's number grammar, the whole text (the awk check uses the same expression).
fn is_json_number(text: &str) -> bool {
    !text.is_empty() && number_len(text.as_bytes()) == text.len()
}

/// Surrounding whitespace as JSON and the awk check see it: space, tab,
/// line feed, carriage return, form feed.
fn trim(text: &str) -> &str {
    text.trim_matches([' ', '\t', '\n', '\r', '\x0c'])
}

fn boolean(text: &str) -> Result<bool, Mismatch> {
    match trim(text) {
        "true" | "True" => Ok(true),
        "false" | "False" => Ok(false),
        other => Err(Mismatch {
            why: format!("`{other}` is not a bool"),
            at: leading(text),
            help: format!(
                "a bool is written {}",
                BOOL_SPELLINGS
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// A JSON array (and where its items start); an error points at its place in `text`.
fn list(text: &str, help: &str) -> Result<(Json, Vec<usize>), Mismatch> {
    let trimmed = trim(text);
    let offset = leading(text);
    match json::parse_with_item_starts(trimmed) {
        Ok((value @ Json::List(_), starts)) => {
            Ok((value, starts.into_iter().map(|s| s + offset).collect()))
        }
        Ok(_) => Err(Mismatch {
            why: "not a JSON array".into(),
            at: offset,
            help: help.into(),
        }),
        Err(error) => Err(Mismatch {
            why: format!("not a JSON array: {}", error.why),
            at: offset + error.at,
            help: help.into(),
        }),
    }
}

/// A param's list holds strings, numbers, bools, or maps of those.
fn list_items(value: &Json, starts: &[usize], text: &str) -> Result<(), Mismatch> {
    let Json::List(items) = value else {
        return Ok(());
    };
    let scalar = |v: &Json| matches!(v, Json::Str(_) | Json::Num(_) | Json::Bool(_));
    for (index, item) in items.iter().enumerate() {
        let fine = match item {
            Json::Map(map) => map.values().all(scalar),
            other => scalar(other),
        };
        if !fine {
            return Err(Mismatch {
                why: format!("item {} is {}", index + 1, json_kind(item)),
                at: starts.get(index).copied().unwrap_or_else(|| leading(text)),
                help: "a list param holds strings, numbers, bools, or maps of those".into(),
            });
        }
    }
    Ok(())
}

fn json_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Num(_) => "a number",
        Json::Str(_) => "a string",
        Json::List(_) => "a list",
        Json::Map(_) => "a map holding a list, a map or null",
    }
}

/// The caret lines a diagnostic shows under `-p NAME=VALUE` to point into the value.
pub(crate) fn point_into(name: &str, value: &str, at: usize, why: &str) -> String {
    let prefix = format!("-p {name}=");
    let column = prefix.chars().count() + value[..at.min(value.len())].chars().count();
    let shown = value.replace('\n', " ");
    format!("{prefix}{shown}\n{}^ {why}", " ".repeat(column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_become_compact_json_with_sorted_keys() {
        let text = param_value(ParamType::List, r#" [0.10, {"b": 1, "a": true}, "x"] "#);
        assert_eq!(text.as_deref(), Ok(r#"[0.10,{"a":true,"b":1},"x"]"#));
    }

    #[test]
    fn a_json_error_points_into_the_value() {
        let error = param_value(ParamType::List, "[0.1, x]").unwrap_err();
        assert_eq!(error.at, 6);
        let error = param_value(ParamType::List, "[1, [2]]").unwrap_err();
        assert!(error.why.contains("item 2 is a list"), "{}", error.why);
        assert_eq!(error.at, 4, "the caret is under the item");
    }

    #[test]
    fn bools_take_json_and_python_spellings() {
        assert_eq!(param_value(ParamType::Bool, "True").as_deref(), Ok("true"));
        assert!(
            param_value(ParamType::Bool, "yes")
                .unwrap_err()
                .help
                .contains("`True`")
        );
        assert!(check_output(ParamType::Bool, " false\n").is_ok());
    }

    #[test]
    fn numbers_are_json_numbers() {
        assert!(check_output(ParamType::Number, "0.5\n").is_ok());
        for bad in [
            "NaN", "inf", "1e999", "", "0x10", "1.", "abc", "01", "+1", ".5",
        ] {
            assert!(check_output(ParamType::Number, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_python_repr_is_not_a_list() {
        let error = check_output(ParamType::List, "['a', 'b']").unwrap_err();
        assert!(error.help.contains("json.dumps"));
        assert!(check_output(ParamType::List, "[[1], null]\n").is_ok());
    }
}
