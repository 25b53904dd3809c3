//! Conditions (`if`, `when`, `until`/`while`): operands and their types.
//!
//! Operands are literals and unquoted `$<…>` references. `<` and its kin
//! compare numbers, `==` and `!=` one type on both sides, and a lone
//! operand must be a `bool`. A loop item's type is known only at run time
//! (`None` here), so it is checked when the condition is evaluated.

use std::sync::Arc;

use super::Checker;
use super::ir::{self, CompareOp, Part, Template};
use super::resolve::RValue;
use crate::diagnostics::{Code, Diagnostic};
use crate::syntax::ast::{self, ParamType};

impl<'a> Checker<'a> {
    /// Checks a condition read in the current scope.
    pub(super) fn condition(&mut self, condition: &ast::Condition) -> Option<ir::Condition> {
        Some(match &condition.kind {
            ast::ConditionKind::Or(left, _, right) => {
                let (left, right) = (self.condition(left), self.condition(right));
                ir::Condition::Or(Box::new(left?), Box::new(right?))
            }
            ast::ConditionKind::And(left, _, right) => {
                let (left, right) = (self.condition(left), self.condition(right));
                ir::Condition::And(Box::new(left?), Box::new(right?))
            }
            ast::ConditionKind::Not(_, inner) => {
                ir::Condition::Not(Box::new(self.condition(inner)?))
            }
            ast::ConditionKind::Group(_, inner) => self.condition(inner)?,
            ast::ConditionKind::Operand(value) => {
                let operand = self.operand(value)?;
                if operand.ty != ParamType::Bool && !self.is_dynamic(&operand) {
                    self.error(
                        Diagnostic::new(
                            Code::E0321,
                            format!("a condition needs a bool, found a {}", operand.ty.word()),
                        )
                        .primary(value.span, format!("a {}", operand.ty.word()))
                        .help("compare it with a value, as in `$<x> == \"yes\"`, or declare it `: bool`"),
                    );
                    return None;
                }
                ir::Condition::Truth(operand)
            }
            ast::ConditionKind::Compare(left, op, op_span, right) => {
                let (l, r) = (self.operand(left), self.operand(right));
                let (l, r) = (l?, r?);
                self.compare_types(*op, (&l, left), (&r, right), *op_span)?;
                ir::Condition::Compare(*op, l, r)
            }
        })
    }

    /// A loop item operand: its type shows when the condition is evaluated.
    fn is_dynamic(&self, operand: &ir::Operand) -> bool {
        matches!(&operand.value.parts[..], [Part::Item { .. }])
    }

    fn compare_types(
        &mut self,
        op: CompareOp,
        (l, left): (&ir::Operand, &ast::Value),
        (r, right): (&ir::Operand, &ast::Value),
        op_span: crate::source::Span,
    ) -> Option<()> {
        let dynamic = self.is_dynamic(l) || self.is_dynamic(r);
        let ordered = !matches!(op, CompareOp::Eq | CompareOp::Ne);
        if ordered {
            let not_number = [(l, left), (r, right)]
                .into_iter()
                .find(|(o, _)| o.ty != ParamType::Number && !self.is_dynamic(o));
            if let Some((operand, value)) = not_number {
                let mut diagnostic = Diagnostic::new(
                    Code::E0321,
                    format!(
                        "`{}` compares numbers, found a {}",
                        op.symbol(),
                        operand.ty.word()
                    ),
                )
                .primary(value.span, format!("a {}", operand.ty.word()))
                .secondary(op_span, "needs numbers on both sides");
                diagnostic = diagnostic.help(number_help(operand));
                self.error(diagnostic);
                return None;
            }
            return Some(());
        }
        if dynamic || l.ty == r.ty {
            return Some(());
        }
        let string_side = [(l, left), (r, right)]
            .into_iter()
            .find(|(o, _)| o.ty == ParamType::String && !o.literal);
        let help = match string_side {
            Some((operand, _)) if l.ty == ParamType::Number || r.ty == ParamType::Number => {
                number_help(operand)
            }
            _ => {
                "compare values of one type: quote a string literal, or leave a number bare".into()
            }
        };
        self.error(
            Diagnostic::new(
                Code::E0321,
                format!(
                    "`{}` compares a {} with a {}",
                    op.symbol(),
                    l.ty.word(),
                    r.ty.word()
                ),
            )
            .primary(op_span, "the two sides have different types")
            .secondary(left.span, format!("a {}", l.ty.word()))
            .secondary(right.span, format!("a {}", r.ty.word()))
            .help(help),
        );
        None
    }

    /// One operand: a literal, or an unquoted `$<…>` of a string, number or bool.
    fn operand(&mut self, value: &ast::Value) -> Option<ir::Operand> {
        let literal = |ty, text: String| ir::Operand {
            ty,
            value: Template::text(text, value.span),
            literal: true,
            span: value.span,
        };
        match &value.kind {
            ast::ValueKind::Number(n) => Some(literal(ParamType::Number, n.text.clone())),
            ast::ValueKind::Bool(b) => Some(literal(ParamType::Bool, b.to_string())),
            ast::ValueKind::String(s) => match s.as_plain() {
                Some(text) => Some(literal(ParamType::String, text)),
                None => {
                    self.error(not_an_operand(value, "a string with `$<…>` in it").help(
                        "write the reference without quotes: `$<x> == \"a\"`; values are compared as data",
                    ));
                    None
                }
            },
            ast::ValueKind::Ref(interp) => {
                let part = self.reference_part(interp)?;
                let ty = match &part {
                    Part::Let { name, .. } => self.let_type(name)?,
                    other => self.reference_type(other).unwrap_or(ParamType::String),
                };
                if ty == ParamType::File {
                    self.error(super::files::used_as_value(
                        &part,
                        value.span,
                        "a condition",
                    ));
                    return None;
                }
                if ty == ParamType::List {
                    let mut diagnostic = Diagnostic::new(
                        Code::E0321,
                        format!("a condition cannot compare a {}", ty.word()),
                    )
                    .primary(value.span, format!("a {}", ty.word()));
                    diagnostic = match &part {
                        Part::Output { step, .. } if self.read_across_loop(step) => diagnostic
                            .help(format!(
                                "outside its loop, `{}` is a list with one value per iteration: pick one in a step and compare that step's output",
                                part.source()
                            )),
                        _ => diagnostic.help("compare a string, number or bool; pick the value in a step first"),
                    };
                    self.error(diagnostic);
                    return None;
                }
                Some(ir::Operand {
                    ty,
                    value: Template {
                        parts: Box::new([part]),
                        span: value.span,
                    },
                    literal: false,
                    span: value.span,
                })
            }
            ast::ValueKind::Ident(ident) => {
                self.error(not_an_operand(value, "a bare name").help(format!(
                    "write `$<{}>` to read a param, let or loop variable",
                    ident.name
                )));
                None
            }
            ast::ValueKind::List(_) => {
                self.error(
                    not_an_operand(value, "a list")
                        .help("a condition compares strings, numbers and bools"),
                );
                None
            }
            ast::ValueKind::Map(_) => {
                self.error(
                    not_an_operand(value, "a map")
                        .help("a condition compares strings, numbers and bools"),
                );
                None
            }
        }
    }

    /// The type a let's value has.
    fn let_type(&mut self, name: &str) -> Option<ParamType> {
        let value: Arc<super::resolve::Resolved> = self.resolve_let_named(name)?;
        Some(match &value.value {
            RValue::Str(template) => match &template.parts[..] {
                [part] if part.span().is_some() => {
                    self.reference_type(part).unwrap_or(ParamType::String)
                }
                _ => ParamType::String,
            },
            RValue::Number(_) => ParamType::Number,
            RValue::Bool(_) => ParamType::Bool,
            RValue::List(_) | RValue::Map(_) => ParamType::List,
        })
    }
}

fn number_help(operand: &ir::Operand) -> String {
    match &operand.value.parts[..] {
        [Part::Output { step, output, .. }] => format!(
            "declare the output `{output}: number` in step `{step}`, so it is checked as a number"
        ),
        [Part::Param { name, .. }] => format!("declare `param {name}: number`"),
        _ if operand.literal && operand.ty == ParamType::String => {
            "remove the quotes: numbers are written bare, as `0.9`".into()
        }
        _ => "compare numbers: declare outputs and params `: number`".into(),
    }
}

/// E0322: not a literal or an unquoted reference.
fn not_an_operand(value: &ast::Value, found: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0322,
        format!("a condition's operand is a literal or `$<…>`, not {found}"),
    )
    .primary(value.span, "not an operand")
}
