use super::*;
use crate::check::ir::{CompareOp, Count, Part};
use crate::graph::test_ir::*;
use crate::source::Span;

fn truth(operand: Operand) -> Condition {
    Condition::Truth(operand)
}

fn and(a: Condition, b: Condition) -> Condition {
    Condition::And(Box::new(a), Box::new(b))
}

fn or(a: Condition, b: Condition) -> Condition {
    Condition::Or(Box::new(a), Box::new(b))
}

fn not(a: Condition) -> Condition {
    Condition::Not(Box::new(a))
}

#[test]
fn conditions_read_as_written() {
    let deploy_false = compare(
        param("deploy", ParamType::Bool),
        CompareOp::Eq,
        literal("false", ParamType::Bool),
    );
    let condition = and(output_is("flip", "heads"), not(deploy_false));
    assert_eq!(
        condition_text(&condition),
        r#"$<flip.output> == "heads" and not ($<deploy> == false)"#
    );
}

#[test]
fn parentheses_only_where_precedence_needs_them() {
    let a = || truth(param("a", ParamType::Bool));
    let b = || truth(param("b", ParamType::Bool));
    let c = || truth(param("c", ParamType::Bool));
    assert_eq!(
        condition_text(&and(or(a(), b()), c())),
        "($<a> or $<b>) and $<c>"
    );
    assert_eq!(
        condition_text(&or(a(), and(b(), c()))),
        "$<a> or $<b> and $<c>"
    );
    assert_eq!(
        condition_text(&or(a(), or(b(), c()))),
        "$<a> or ($<b> or $<c>)"
    );
    assert_eq!(
        condition_text(&or(or(a(), b()), c())),
        "$<a> or $<b> or $<c>"
    );
    assert_eq!(condition_text(&not(and(a(), b()))), "not ($<a> and $<b>)");
    assert_eq!(condition_text(&not(not(a()))), "not not $<a>");
}

#[test]
fn string_literals_are_quoted_and_escaped_numbers_are_not() {
    let hostile = compare(
        output("flip", "output", ParamType::String),
        CompareOp::Ne,
        literal("say \"hi\" \\ $<x>", ParamType::String),
    );
    assert_eq!(
        condition_text(&hostile),
        r#"$<flip.output> != "say \"hi\" \\ $$<x>""#
    );
    let number = compare(
        output("next", "output", ParamType::Number),
        CompareOp::Ge,
        literal("3", ParamType::Number),
    );
    assert_eq!(condition_text(&number), "$<next.output> >= 3");
}

#[test]
fn a_string_literal_keeps_its_interpolations() {
    let mut operand = literal("v", ParamType::String);
    let mut parts = operand.value.parts.into_vec();
    parts.push(Part::Param {
        name: "tag".into(),
        span: Span { start: 0, end: 0 },
    });
    operand.value.parts = parts.into();
    let condition = compare(
        output("flip", "output", ParamType::String),
        CompareOp::Eq,
        operand,
    );
    assert_eq!(condition_text(&condition), r#"$<flip.output> == "v$<tag>""#);
}

fn two_steps() -> ir::Pipeline {
    pipeline(
        r#"pipeline p {
  param n: number = 3
  step a { image = "a" command = "x" }
  step b { image = "a" command = "y" }
}"#,
    )
}

#[test]
fn heads_of_every_kind() {
    let mut p = two_steps();
    let condition = output_is("a", "x");
    let then = add_block(
        &mut p,
        BlockKind::If {
            condition: condition.clone(),
            otherwise: false,
        },
        None,
    );
    let otherwise = add_block(
        &mut p,
        BlockKind::If {
            condition,
            otherwise: true,
        },
        None,
    );
    let fixed = add_block(
        &mut p,
        BlockKind::For {
            var: "lr".into(),
            items: Items::Fixed("[0.1,0.2]".into()),
            parallelism: Some(2),
        },
        None,
    );
    let over_output = add_block(
        &mut p,
        BlockKind::For {
            var: "c".into(),
            items: Items::Output {
                step: "a".into(),
                output: "configs".into(),
            },
            parallelism: None,
        },
        None,
    );
    let until = compare(
        output("b", "output", ParamType::Number),
        CompareOp::Ge,
        literal("3", ParamType::Number),
    );
    let repeat = add_block(
        &mut p,
        BlockKind::Repeat {
            max: Count::Fixed(20),
            carries: Vec::new(),
            until: until.clone(),
        },
        None,
    );
    let repeat_while = add_block(
        &mut p,
        BlockKind::Repeat {
            max: Count::Param(Box::new(crate::ir::ParamCount {
                name: "n".into(),
                span: Span { start: 0, end: 0 },
            })),
            carries: Vec::new(),
            until: not(until),
        },
        None,
    );
    let finally = add_block(&mut p, BlockKind::Finally, None);
    let heads: Vec<String> = [
        then,
        otherwise,
        fixed,
        over_output,
        repeat,
        repeat_while,
        finally,
    ]
    .iter()
    .map(|&id| head(&p, id))
    .collect();
    assert_eq!(
        heads,
        [
            r#"if $<a.output> == "x""#,
            "else",
            "for lr in [0.1,0.2], parallelism 2",
            "for c in $<a.configs>",
            "repeat max 20 until $<b.output> >= 3",
            "repeat max $<n> while $<b.output> >= 3",
            "finally",
        ]
    );
    assert_eq!(keyword(&p, fixed), "for lr");
    assert_eq!(keyword(&p, otherwise), "else");
}

#[test]
fn a_block_stands_where_its_first_step_does() {
    let mut p = pipeline(
        r#"pipeline p {
  step a { image = "a" command = "x" }
  step b { image = "a" command = "y" }
  step c { image = "a" command = "z" }
}"#,
    );
    let outer = add_block(&mut p, BlockKind::Finally, None);
    let inner = add_block(
        &mut p,
        BlockKind::If {
            condition: output_is("a", "x"),
            otherwise: false,
        },
        Some(outer),
    );
    let empty = add_block(&mut p, BlockKind::Finally, None);
    p.blocks[empty].span = Span {
        start: 1000,
        end: 1001,
    };
    put(&mut p, "b", inner);
    put(&mut p, "c", outer);
    assert_eq!(
        contents(&p, None),
        [Item::Step(0), Item::Block(outer), Item::Block(empty)]
    );
    assert_eq!(
        contents(&p, Some(outer)),
        [Item::Block(inner), Item::Step(2)]
    );
    assert_eq!(contents(&p, Some(inner)), [Item::Step(1)]);
}

#[test]
fn a_block_without_steps_stands_where_it_is_written() {
    let p = pipeline(
        r#"pipeline p {
  param go: bool = true
  step a { image = "a" command = "x" }
  if $<go> {
  } else {
    step b { image = "a" command = "y" }
  }
  step c { image = "a" command = "z" }
}"#,
    );
    assert_eq!(
        contents(&p, None),
        [Item::Step(0), Item::Block(0), Item::Block(1), Item::Step(2)]
    );
}
