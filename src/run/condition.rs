//! Evaluating a checked condition (`if`, `when`, `until`) locally.
//!
//! Values are data: each operand is rendered to text on its own and then
//! read as its type (a number as `f64`, a bool from `true`/`false`, Python's
//! `True`/`False` too, a string as itself), so no value can change the
//! condition's structure, whatever quotes, `||` or `)` it holds. `and` and
//! `or` short-circuit as in Python. A loop item read as a string (its type
//! is known only at run time) compares as numbers when both sides are JSON
//! numbers, else as text.

use crate::ir::{CompareOp, Condition, Operand, ParamType, Part, Template};

/// Renders one operand's template to text; `Err` says why it cannot be read
/// (a missing field of a loop item).
pub(crate) type Render<'a> = dyn FnMut(&Template) -> Result<String, String> + 'a;

/// Whether `condition` holds; `Err` says which value could not be read as its type.
pub(crate) fn holds(condition: &Condition, render: &mut Render<'_>) -> Result<bool, String> {
    match condition {
        Condition::Or(a, b) => Ok(holds(a, render)? || holds(b, render)?),
        Condition::And(a, b) => Ok(holds(a, render)? && holds(b, render)?),
        Condition::Not(a) => Ok(!holds(a, render)?),
        Condition::Truth(a) => boolean(&render(&a.value)?, a),
        Condition::Compare(op, a, b) => compare(*op, a, b, render),
    }
}

/// A value read as its operand's type.
#[derive(Debug, PartialEq, PartialOrd)]
enum Value {
    Number(f64),
    Bool(bool),
    Text(String),
}

fn compare(
    op: CompareOp,
    a: &Operand,
    b: &Operand,
    render: &mut Render<'_>,
) -> Result<bool, String> {
    let (left, right) = (render(&a.value)?, render(&b.value)?);
    let numeric = a.ty == ParamType::Number
        || b.ty == ParamType::Number
        || ((is_item(a) || is_item(b)) && json_number(&left) && json_number(&right));
    let (left, right) = if numeric {
        (
            Value::Number(number(&left, a)?),
            Value::Number(number(&right, b)?),
        )
    } else if a.ty == ParamType::Bool || b.ty == ParamType::Bool {
        (
            Value::Bool(boolean(&left, a)?),
            Value::Bool(boolean(&right, b)?),
        )
    } else {
        (Value::Text(left), Value::Text(right))
    };
    if !matches!(op, CompareOp::Eq | CompareOp::Ne) && !matches!(left, Value::Number(_)) {
        return Err(format!(
            "`{}` {} `{}` compares values that are not numbers",
            operand_source(a),
            op.symbol(),
            operand_source(b)
        ));
    }
    Ok(match op {
        CompareOp::Eq => left == right,
        CompareOp::Ne => left != right,
        CompareOp::Lt => left < right,
        CompareOp::Le => left <= right,
        CompareOp::Gt => left > right,
        CompareOp::Ge => left >= right,
    })
}

/// Whether the operand reads a loop item (whose type is known only at run time).
fn is_item(operand: &Operand) -> bool {
    operand
        .value
        .parts
        .iter()
        .any(|part| matches!(part, Part::Item { .. }))
}

fn json_number(text: &str) -> bool {
    matches!(
        serde_json::from_str::<serde_json::Value>(text.trim()),
        Ok(serde_json::Value::Number(_))
    )
}

fn number(text: &str, operand: &Operand) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| {
            format!(
                "{} is `{}`, which is not a number",
                operand_source(operand),
                text.trim()
            )
        })
}

fn boolean(text: &str, operand: &Operand) -> Result<bool, String> {
    match text.trim() {
        "true" | "True" => Ok(true),
        "false" | "False" => Ok(false),
        other => Err(format!(
            "{} is `{other}`, which is not a bool (`true` or `false`)",
            operand_source(operand)
        )),
    }
}

/// The operand as written (`$<flip.output>`, `"heads"`).
fn operand_source(operand: &Operand) -> String {
    let text: String = operand.value.parts.iter().map(Part::source).collect();
    if operand.literal && operand.ty == ParamType::String {
        format!("{text:?}")
    } else {
        text
    }
}

/// The condition as written, for messages (`$<flip.output> == "heads"`).
pub(crate) fn condition_source(condition: &Condition) -> String {
    // `and` binds tighter than `or`, and `not` tighter than both.
    fn grouped(c: &Condition) -> String {
        match c {
            Condition::Or(..) | Condition::And(..) => format!("({})", condition_source(c)),
            _ => condition_source(c),
        }
    }
    match condition {
        Condition::Or(a, b) => format!("{} or {}", condition_source(a), condition_source(b)),
        Condition::And(a, b) => format!("{} and {}", grouped(a), grouped(b)),
        Condition::Not(a) => format!("not {}", grouped(a)),
        Condition::Compare(op, a, b) => {
            format!(
                "{} {} {}",
                operand_source(a),
                op.symbol(),
                operand_source(b)
            )
        }
        Condition::Truth(a) => operand_source(a),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::source::Span;

    pub(crate) fn literal(ty: ParamType, text: &str) -> Operand {
        Operand {
            ty,
            value: Template::text(text, Span::DETACHED),
            literal: true,
            span: Span::DETACHED,
        }
    }

    pub(crate) fn param(ty: ParamType, name: &str) -> Operand {
        Operand {
            ty,
            value: Template {
                parts: Box::new([Part::Param {
                    name: name.into(),
                    span: Span::DETACHED,
                }]),
                span: Span::DETACHED,
            },
            literal: false,
            span: Span::DETACHED,
        }
    }

    fn item(var: &str) -> Operand {
        Operand {
            ty: ParamType::String,
            value: Template {
                parts: Box::new([Part::Item {
                    var: var.into(),
                    field: None,
                    span: Span::DETACHED,
                }]),
                span: Span::DETACHED,
            },
            literal: false,
            span: Span::DETACHED,
        }
    }

    /// Evaluates with every reference reading `value`.
    fn eval(condition: &Condition, value: &str) -> Result<bool, String> {
        holds(condition, &mut |t: &Template| {
            Ok(t.render(&mut |_| value.to_string()))
        })
    }

    fn cmp(op: CompareOp, a: Operand, b: Operand) -> Condition {
        Condition::Compare(op, a, b)
    }

    #[test]
    fn strings_compare_as_text_even_when_hostile() {
        let hostile = "heads\" || \"1\" == \"1') or (true";
        let c = cmp(
            CompareOp::Eq,
            param(ParamType::String, "coin"),
            literal(ParamType::String, "heads"),
        );
        assert_eq!(eval(&c, "heads"), Ok(true));
        assert_eq!(eval(&c, hostile), Ok(false));
        let same = cmp(
            CompareOp::Eq,
            param(ParamType::String, "coin"),
            literal(ParamType::String, hostile),
        );
        assert_eq!(eval(&same, hostile), Ok(true));
    }

    #[test]
    fn numbers_compare_as_numbers() {
        let c = cmp(
            CompareOp::Ge,
            param(ParamType::Number, "acc"),
            literal(ParamType::Number, "0.9"),
        );
        assert_eq!(eval(&c, "0.95\n"), Ok(true));
        assert_eq!(eval(&c, "10"), Ok(true), "not text order");
        assert_eq!(eval(&c, "0.5"), Ok(false));
        assert!(eval(&c, "high").is_err_and(|e| e.contains("not a number")));
    }

    #[test]
    fn bools_read_python_words_and_combine_with_short_circuit() {
        let truth = Condition::Truth(param(ParamType::Bool, "deploy"));
        assert_eq!(eval(&truth, "True"), Ok(true));
        assert_eq!(eval(&truth, "false"), Ok(false));
        assert!(eval(&truth, "yes").is_err());
        let not = Condition::Not(Box::new(truth.clone()));
        assert_eq!(eval(&not, "true"), Ok(false));
        // `false and <error>` never reads the second operand.
        let and = Condition::And(
            Box::new(Condition::Truth(literal(ParamType::Bool, "false"))),
            Box::new(Condition::Truth(param(ParamType::Bool, "x"))),
        );
        assert_eq!(eval(&and, "not a bool"), Ok(false));
        let or = Condition::Or(
            Box::new(Condition::Truth(literal(ParamType::Bool, "true"))),
            Box::new(Condition::Truth(param(ParamType::Bool, "x"))),
        );
        assert_eq!(eval(&or, "not a bool"), Ok(true));
    }

    #[test]
    fn an_untyped_item_compares_as_a_number_only_when_both_sides_are() {
        let c = cmp(
            CompareOp::Eq,
            item("lr"),
            literal(ParamType::String, "0.10"),
        );
        assert_eq!(eval(&c, "0.1"), Ok(true));
        let text = cmp(CompareOp::Eq, item("lr"), literal(ParamType::String, "a"));
        assert_eq!(eval(&text, "a"), Ok(true));
        let lt = cmp(CompareOp::Lt, item("lr"), literal(ParamType::String, "a"));
        assert!(eval(&lt, "b").is_err_and(|e| e.contains("not numbers")));
    }
}
