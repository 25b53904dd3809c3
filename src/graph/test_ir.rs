//! Hand-built IR for the graph's unit tests: a checked pipeline with control
//! blocks laid over it, the way the checker will lay them.

use crate::SourceFile;
use crate::check::ir::{
    Block, BlockId, BlockKind, CompareOp, Condition, Operand, ParamType, Part, Pipeline, Template,
};
use crate::source::Span;

const NOWHERE: Span = Span { start: 0, end: 0 };

/// A pipeline that checks clean.
pub(crate) fn pipeline(text: &str) -> Pipeline {
    let checked = crate::check(&SourceFile::new("t.kfp", text));
    let diagnostics = format!("{:?}", checked.diagnostics);
    checked
        .pipeline
        .unwrap_or_else(|| panic!("test pipelines check clean: {diagnostics}"))
}

/// Adds a block of `kind` inside `parent`; returns its id.
pub(crate) fn add_block(
    pipeline: &mut Pipeline,
    kind: BlockKind,
    parent: Option<BlockId>,
) -> BlockId {
    pipeline.blocks.push(Block {
        kind,
        parent,
        dependencies: Vec::new(),
        keyword: NOWHERE,
        span: NOWHERE,
    });
    pipeline.blocks.len() - 1
}

/// Puts the step called `step` directly inside `block`.
pub(crate) fn put(pipeline: &mut Pipeline, step: &str, block: BlockId) {
    let index = pipeline.step_position(step).expect("the step exists");
    pipeline.steps[index].block = Some(block);
}

/// `$<step.output>` as an operand of type `ty`.
pub(crate) fn output(step: &str, output: &str, ty: ParamType) -> Operand {
    let part = Part::Output {
        step: step.into(),
        output: output.into(),
        span: NOWHERE,
    };
    reference(part, ty)
}

/// `$<name>` of a param as an operand of type `ty`.
pub(crate) fn param(name: &str, ty: ParamType) -> Operand {
    let part = Part::Param {
        name: name.into(),
        span: NOWHERE,
    };
    reference(part, ty)
}

fn reference(part: Part, ty: ParamType) -> Operand {
    Operand {
        ty,
        value: Template {
            parts: Box::new([part]),
            span: NOWHERE,
        },
        literal: false,
        span: NOWHERE,
    }
}

/// A literal of type `ty` written `text` (a string literal's text unquoted).
pub(crate) fn literal(text: &str, ty: ParamType) -> Operand {
    Operand {
        ty,
        value: Template::text(text, NOWHERE),
        literal: true,
        span: NOWHERE,
    }
}

/// `a OP b`.
pub(crate) fn compare(a: Operand, op: CompareOp, b: Operand) -> Condition {
    Condition::Compare(op, a, b)
}

/// `$<step.output> == "text"`.
pub(crate) fn output_is(step: &str, text: &str) -> Condition {
    compare(
        output(step, "output", ParamType::String),
        CompareOp::Eq,
        literal(text, ParamType::String),
    )
}
