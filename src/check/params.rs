//! Param values: `-p NAME=VALUE` overrides checked against the declarations,
//! merged with defaults, for `compile` and `run`.

use std::collections::BTreeMap;

use super::cluster::value_rule;
use super::ir::{Count, Param, ParamType, Part, Pipeline, Step, Template};
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::source::Span;

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
        let value = match super::types::param_value(param.ty, value) {
            Ok(canonical) => canonical,
            Err(mismatch) => {
                errors.push(wrong_type(param, value, &mismatch));
                continue;
            }
        };
        if let Some(why) = super::values::value_too_large(&value) {
            errors.push(
                Diagnostic::new(Code::E0317, format!("`-p {name}=…` is too large: {why}"))
                    .help(super::values::VALUE_TOO_LARGE_HELP),
            );
            continue;
        }
        values.insert(name.clone(), value);
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
    let bound = |name: &str| {
        let source = if overrides.iter().any(|(n, _)| n == name) {
            Source::CommandLine
        } else {
            Source::Default
        };
        values.get(name).map(|v| (v.as_str(), source))
    };
    errors.extend(resource_values(&pipeline.params, &pipeline.steps, bound));
    let size = |name: &str| values.get(name).map(String::as_str);
    errors.extend(super::volumes::size_values(&pipeline.volumes, size));
    errors.extend(loop_item_fields(pipeline, overrides, &values));
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// E0320: a `-p` list that a loop reads `$<x.field>` of must give every
/// item the field (a default was checked with the program).
fn loop_item_fields(
    pipeline: &Pipeline,
    overrides: &[(String, String)],
    values: &BTreeMap<String, String>,
) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for (id, block) in pipeline.blocks.iter().enumerate() {
        let crate::check::ir::BlockKind::For {
            items: crate::check::ir::Items::Param(name),
            ..
        } = &block.kind
        else {
            continue;
        };
        if !overrides.iter().any(|(n, _)| n == name) {
            continue;
        }
        let Some(Ok(serde_json::Value::Array(items))) = values
            .get(name)
            .map(|v| serde_json::from_str::<serde_json::Value>(v))
        else {
            continue;
        };
        for field in pipeline.item_fields(id) {
            let missing = items
                .iter()
                .position(|item| !item.as_object().is_some_and(|m| m.contains_key(&field)));
            if let Some(index) = missing {
                errors.push(
                    Diagnostic::new(
                        Code::E0320,
                        format!("item {index} of `-p {name}=…` has no field `{field}`"),
                    )
                    .secondary(
                        block.keyword,
                        format!("this loop reads `.{field}` of each item"),
                    )
                    .help(format!(
                        "give every item of `{name}` a `{field}`, as in `[{{\"{field}\": …}}]`"
                    )),
                );
            }
        }
    }
    errors
}

/// E0303: a `-p` value that is not of its param's type. The note points
/// into the value (the command line has no span in the file).
fn wrong_type(param: &Param, value: &str, mismatch: &super::types::Mismatch) -> Diagnostic {
    let (name, ty) = (&param.name, param.ty.word());
    let help = match param.ty {
        ParamType::Number => format!("give a number, such as `-p {name}=0.5`"),
        _ => mismatch.help.clone(),
    };
    let mut diagnostic = Diagnostic::new(
        Code::E0303,
        format!("param `{name}` is a {ty}, but `-p` gave `{value}`"),
    )
    .secondary(param.span, format!("declared as a {ty} here"))
    .help(help);
    if param.ty != ParamType::Number {
        diagnostic = diagnostic.note(super::types::point_into(
            name,
            value,
            mismatch.at,
            &mismatch.why,
        ));
    }
    diagnostic
}

/// Where a param's value came from, for the diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The declaration's default (`kfpl check` sees only these).
    Default,
    /// `-p NAME=VALUE`.
    CommandLine,
}

/// The values params give to resources: `gpus` and `retries` from
/// `"$<n>"` must be whole numbers >= 0, `cpu` and `memory` that read params
/// Kubernetes quantities (the rule literal values follow). The one check for
/// both defaults (when checking, so `check` says what `compile` will) and
/// `-p` values (when binding); a value not known yet (no default, a step
/// output) is left for the cluster.
pub(crate) fn resource_values<'v>(
    params: &[Param],
    steps: &[Step],
    value: impl Fn(&str) -> Option<(&'v str, Source)>,
) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for step in steps {
        for (field, count) in [("gpus", &step.gpus), ("retries", &step.retries)] {
            if let Count::Param(count) = count
                && let Some((text, source)) = value(&count.name)
                && !(value_rule(field).holds)(text)
            {
                let problem = Problem {
                    step: &step.name,
                    field,
                    param: &count.name,
                    text,
                    alone: true,
                    source,
                };
                let rule = value_rule(field);
                let rule = (rule.code, rule.wanted, rule.example);
                errors.push(problem.diagnostic(params, rule, count.span));
            }
        }
        for (field, template) in super::cluster::resource_templates(step) {
            let Some((text, param, source)) = rendered(template, &value) else {
                continue;
            };
            let rule = value_rule(field);
            if !(rule.holds)(&text) {
                let problem = Problem {
                    step: &step.name,
                    field,
                    param,
                    text: &text,
                    alone: value(param).is_some_and(|(v, _)| v == text),
                    source,
                };
                let rule = (rule.code, rule.wanted, rule.example);
                errors.push(problem.diagnostic(params, rule, template.span));
            }
        }
        errors.extend(request_above_limit(step, &value));
    }
    errors
}

/// E0333 for a request above its limit when either reads a param (two
/// fixed ones were compared when checking).
fn request_above_limit<'v>(
    step: &Step,
    value: &impl Fn(&str) -> Option<(&'v str, Source)>,
) -> Vec<Diagnostic> {
    let text = |template: &Template| match template.as_const() {
        Some(text) => Some(text),
        None => rendered(template, value).map(|(text, _, _)| text),
    };
    let mut errors = Vec::new();
    for (field, limit, request) in super::cluster::limits_and_requests(step) {
        if limit.as_const().is_some() && request.as_const().is_some() {
            continue;
        }
        let (Some(limit_text), Some(request_text)) = (text(limit), text(request)) else {
            continue;
        };
        let amount = super::cluster::quantity_value;
        if amount(&request_text) > amount(&limit_text) {
            errors.push(
                Diagnostic::new(
                    Code::E0333,
                    format!(
                        "`{field}_request` of step `{}` is `{request_text}`, more than its `{field}` `{limit_text}`",
                        step.name
                    ),
                )
                .primary(request.span, "the request")
                .secondary(limit.span, "the limit")
                .help(format!("give values that keep `{field}_request` at or below `{field}`")),
            );
        }
    }
    errors
}

/// A resource template with every param put in: the text, the first param
/// it reads and where that value came from. `None` when it reads no param,
/// a param without a value, or a step output (known only at run time).
fn rendered<'t, 'v>(
    template: &'t Template,
    value: &impl Fn(&str) -> Option<(&'v str, Source)>,
) -> Option<(String, &'t str, Source)> {
    let mut first: Option<(&str, Source)> = None;
    for part in template.references() {
        let Part::Param { name, .. } = part else {
            return None;
        };
        let (_, source) = value(name)?;
        first.get_or_insert((name, source));
    }
    let (param, source) = first?;
    let text = template.render(&mut |part| match part {
        Part::Param { name, .. } => value(name).map_or("", |(v, _)| v).to_string(),
        _ => String::new(),
    });
    Some((text, param, source))
}

/// One resource a param's value does not fit.
struct Problem<'a> {
    step: &'a str,
    field: &'a str,
    param: &'a str,
    /// The resource's value (the param's value, with any text around it).
    text: &'a str,
    /// Whether `text` is the param's value alone (not `"$<size>Gi"`).
    alone: bool,
    source: Source,
}

impl Problem<'_> {
    /// The diagnostic: `expected` names the rule, `example` a value that
    /// fits it, `used` where the step reads the value.
    fn diagnostic(
        &self,
        params: &[Param],
        (code, expected, example): (Code, &str, &str),
        used: Span,
    ) -> Diagnostic {
        let Problem {
            step,
            field,
            param,
            text,
            alone,
            source,
        } = self;
        let diagnostic = Diagnostic::new(
            code,
            format!(
                "`{field}` of step `{step}` is `{text}` (from param `{param}`), not {expected}"
            ),
        )
        .secondary(used, "the value is used here");
        // In `"$<size>Gi"` the param is a part of the value: an example of
        // the whole value would mislead.
        let declaration = params.iter().find(|p| p.name == *param).map(|p| p.span);
        let help = match (source, declaration) {
            (Source::Default, Some(_)) if *alone => {
                format!("change the default of `{param}` to {expected}, such as {example}")
            }
            (Source::Default, Some(_)) => {
                format!("change the default of `{param}` so that `{field}` is {expected}")
            }
            _ if *alone => format!("give `{param}` {expected}, such as {example}"),
            _ => format!("give `{param}` a value that makes `{field}` {expected}"),
        };
        match (source, declaration) {
            (Source::Default, Some(span)) => {
                diagnostic.secondary(span, format!("`{param}` is declared with this default"))
            }
            _ => diagnostic,
        }
        .help(help)
    }
}

/// The value of a bound count param (`"2"` → 2).
pub(crate) fn whole_number(text: &str) -> Option<u32> {
    let value: f64 = text.trim().parse().ok()?;
    (value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&value)).then_some(value as u32)
}

/// Resolves a [`Count`] against bound values (0 for a value that was not bound).
pub(crate) fn count_value(count: &Count, values: &BTreeMap<String, String>) -> u32 {
    match count {
        Count::Fixed(n) => *n,
        Count::Param(param) => values
            .get(&param.name)
            .and_then(|v| whole_number(v))
            .unwrap_or(0),
        // Known once its step has run (`run::gpus::need`).
        Count::Output(_) => 0,
    }
}
