//! Param values: `-p NAME=VALUE` overrides checked against the declarations,
//! merged with defaults, for `compile` and `run`.

use std::collections::BTreeMap;

use super::ir::{Count, ParamType, Pipeline};
use crate::diagnostics::{Code, Diagnostic, did_you_mean};

/// Splits a `NAME=VALUE` argument.
pub fn parse_override(argument: &str) -> Result<(String, String), Diagnostic> {
    match argument.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(
            Diagnostic::new(Code::E0004, format!("`-p {argument}` is not `NAME=VALUE`"))
                .help("write `-p learning_rate=0.05`"),
        ),
    }
}

/// How to treat a param that has no default and no override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// An error (running needs every value).
    Error,
    /// Left out (compiling may leave it to be set at submission).
    Allow,
}

/// Every param's value as text: the override, else the default. Unknown
/// names, values of the wrong type and (per `missing`) params without a
/// value are errors; all of them are reported at once.
pub fn bind(
    pipeline: &Pipeline,
    overrides: &[(String, String)],
    missing: Missing,
) -> Result<BTreeMap<String, String>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut values = BTreeMap::new();
    for (name, value) in overrides {
        let Some(param) = pipeline.param(name) else {
            let names = pipeline.params.iter().map(|p| p.name.as_str());
            let help = did_you_mean(name, names).or_else(|| {
                let all: Vec<String> = pipeline
                    .params
                    .iter()
                    .map(|p| format!("`{}`", p.name))
                    .collect();
                Some(if all.is_empty() {
                    "this pipeline declares no params".into()
                } else {
                    format!("the params are {}", all.join(", "))
                })
            });
            errors.push(
                Diagnostic::new(
                    Code::E0209,
                    format!("unknown param `{name}` in `-p {name}=…`"),
                )
                .maybe_help(help),
            );
            continue;
        };
        if param.ty == ParamType::Number && !is_number(value) {
            errors.push(
                Diagnostic::new(
                    Code::E0303,
                    format!("param `{name}` is a number, but `-p` gave `{value}`"),
                )
                .secondary(param.span, "declared as a number here")
                .help(format!("give a number, such as `-p {name}=0.5`")),
            );
            continue;
        }
        values.insert(name.clone(), value.clone());
    }
    for param in &pipeline.params {
        if values.contains_key(&param.name) || overrides.iter().any(|(n, _)| *n == param.name) {
            continue;
        }
        match (&param.default, missing) {
            (Some(default), _) => {
                values.insert(param.name.clone(), default.as_text().to_string());
            }
            (None, Missing::Allow) => {}
            (None, Missing::Error) => errors.push(
                Diagnostic::new(Code::E0210, format!("param `{}` has no value", param.name))
                    .secondary(param.span, "declared without a default here")
                    .help(format!(
                        "give it one with `-p {}=VALUE`, or add a default to the declaration",
                        param.name
                    )),
            ),
        }
    }
    errors.extend(counts(pipeline, &values));
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// `gpus = "$<n>"` and `retries = "$<n>"` need whole numbers >= 0.
fn counts(pipeline: &Pipeline, values: &BTreeMap<String, String>) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for step in &pipeline.steps {
        for (what, count) in [("gpus", &step.gpus), ("retries", &step.retries)] {
            let Count::Param { name, span } = count else {
                continue;
            };
            let Some(value) = values.get(name) else {
                continue;
            };
            if whole_number(value).is_none() {
                errors.push(
                    Diagnostic::new(
                        Code::E0308,
                        format!("`{what}` of step `{}` is `{value}` (from param `{name}`), not a whole number >= 0", step.name),
                    )
                    .secondary(*span, "the value is used here")
                    .help(format!("give `{name}` a whole number such as `1`")),
                );
            }
        }
    }
    errors
}

/// The value of a bound count param (`"2"` → 2).
pub fn whole_number(text: &str) -> Option<u32> {
    let value: f64 = text.trim().parse().ok()?;
    (value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&value)).then_some(value as u32)
}

/// Whether `text` is a number the way a `number` param accepts one.
pub fn is_number(text: &str) -> bool {
    text.trim().parse::<f64>().is_ok_and(f64::is_finite)
}

/// Resolves a [`Count`] against bound values (0 for a value that was not bound).
pub fn count_value(count: &Count, values: &BTreeMap<String, String>) -> u32 {
    match count {
        Count::Fixed(n) => *n,
        Count::Param { name, .. } => values.get(name).and_then(|v| whole_number(v)).unwrap_or(0),
    }
}
