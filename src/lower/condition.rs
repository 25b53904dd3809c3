//! Conditions as expr text (antonmedv/expr, Argo v3.3's expression tags),
//! evaluated in a task's *argument*, where values stay data.
//!
//! Argo v3.3's `when` is govaluate text into which values are pasted, so a
//! value holding `'`, `||` or `)` could change a condition's structure
//! there. kfpl never puts a user's value in a `when`: the whole condition
//! becomes one expression tag in an argument (`{{=… == 'heads' && …}}`),
//! where each value is a variable (`tasks['flip'].outputs.parameters['output']`)
//! and each literal a quoted constant, and the guarded tasks compare only
//! the result, `true` or `false`, in their `when`.
//!
//! Operands: strings compare as text; numbers as floats (`asFloat`); bools
//! are true for `true`/`True` (what `kfpl run` accepts), false otherwise.

use super::text::{DECODE, Piece, Ref, base64, flatten};
use crate::check::ir::{CompareOp, Condition, Operand, ParamType};

/// The condition as an expr expression; `source` gives the expression for
/// each value's text in the scope where the expression is evaluated.
pub(crate) fn expression(condition: &Condition, source: &mut dyn FnMut(&Ref) -> String) -> String {
    match condition {
        Condition::Or(a, b) => format!("({} || {})", expression(a, source), expression(b, source)),
        Condition::And(a, b) => format!("({} && {})", expression(a, source), expression(b, source)),
        Condition::Not(a) => format!("!{}", expression(a, source)),
        Condition::Truth(a) => operand(a, ParamType::Bool, source),
        Condition::Compare(op, a, b) => {
            // The checker gives both sides one type; a number on either side
            // makes the comparison numeric.
            let ty = if a.ty == ParamType::Number || b.ty == ParamType::Number {
                ParamType::Number
            } else {
                a.ty
            };
            let equality = matches!(op, CompareOp::Eq | CompareOp::Ne);
            // A side typed `number` makes an item a number or a failure, as
            // `kfpl run` reads it (LANGUAGE-2: a mismatch fails the iteration).
            let dynamic = equality && ty == ParamType::String && (is_item(a) || is_item(b));
            let ty = if dynamic { ParamType::String } else { ty };
            let (left, right) = (operand(a, ty, source), operand(b, ty, source));
            let op = op.symbol();
            if dynamic {
                // An item whose type is known only at run time: numbers
                // compare as numbers when both sides are JSON numbers.
                return format!(
                    "(({} && {}) ? (asFloat({left}) {op} asFloat({right})) : ({left} {op} {right}))",
                    is_number(&left),
                    is_number(&right)
                );
            }
            format!("({left} {op} {right})")
        }
    }
}

/// Every value the condition reads (lets looked through).
pub(crate) fn refs(condition: &Condition) -> Vec<Ref> {
    condition
        .operands()
        .into_iter()
        .flat_map(|o| flatten(&o.value))
        .filter_map(|piece| match piece {
            Piece::Ref(r) => Some(r),
            Piece::Lit(_) => None,
        })
        .collect()
}

/// Whether the operand is a loop item (or one of its fields).
fn is_item(operand: &Operand) -> bool {
    matches!(
        flatten(&operand.value).as_slice(),
        [Piece::Ref(Ref::Item { .. })]
    )
}

/// Whether `text` is a JSON number: JSON reads it as the float that
/// `strconv.ParseFloat` (sprig's `float64`) reads, which is 0 for any
/// other text and which JSON never reads from a string, a bool or `null`.
fn is_number(text: &str) -> String {
    format!("(sprig.fromJson({text}) == sprig.float64({text}))")
}

/// An operand as a value of type `ty`.
fn operand(operand: &Operand, ty: ParamType, source: &mut dyn FnMut(&Ref) -> String) -> String {
    let pieces = flatten(&operand.value);
    let text = match pieces.as_slice() {
        [] => "''".to_string(),
        [Piece::Lit(literal)] => {
            if ty == ParamType::Bool && operand.literal {
                return bool_literal(literal).to_string();
            }
            string_literal(literal)
        }
        _ => pieces
            .iter()
            .map(|piece| match piece {
                Piece::Lit(literal) => string_literal(literal),
                Piece::Ref(r) => source(r),
            })
            .collect::<Vec<_>>()
            .join(" + "),
    };
    match ty {
        ParamType::Number => format!("asFloat({text})"),
        ParamType::Bool => format!("({text} in ['true', 'True'])"),
        _ => text,
    }
}

fn bool_literal(text: &str) -> &'static str {
    if matches!(text, "true" | "True") {
        "true"
    } else {
        "false"
    }
}

/// A string constant in expr: single-quoted when the text is plain,
/// else decoded from base64, so that no text can end the string, the
/// expression or the tag (`'`, `\`, `}}`).
pub(crate) fn string_literal(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " _.,:;/@+-=*#%!?()<>|&^~".contains(c));
    if plain {
        format!("'{text}'")
    } else {
        format!("{DECODE}('{}')", base64(text.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_cannot_leave_their_string() {
        assert_eq!(string_literal("heads"), "'heads'");
        assert_eq!(string_literal("a || b"), "'a || b'");
        assert_eq!(string_literal("it's"), "sprig.b64dec('aXQncw==')");
        for hostile in ["it's", "a\\b", "}}", "{{x}}", "é", "\n"] {
            let literal = string_literal(hostile);
            let encoded = literal
                .strip_prefix("sprig.b64dec('")
                .and_then(|l| l.strip_suffix("')"))
                .unwrap_or_else(|| panic!("{literal}"));
            assert!(
                encoded
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c))
            );
        }
    }
}
