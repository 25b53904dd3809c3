//! Control blocks as the graph draws them: each block's head written back
//! as source text (its cluster's label), and the order in which a block's
//! steps and nested blocks are written out.
//!
//! A head reads the way the user writes it: `if $<flip.output> == "heads"`,
//! `else`, `for lr in $<lrs>, parallelism 2`, `repeat max 3 until
//! $<next.output> >= 3`, `finally`. Conditions keep their structure, with
//! parentheses where Python's precedence (`or` < `and` < `not` <
//! comparisons) needs them and around a comparison under `not` (which
//! reads wrongly without them to anyone used to C). Two things the IR no
//! longer knows are written in an equivalent form: a repeat's `until not C`
//! reads `while C` (the checker keeps `while C` as `until not C`), and a
//! `for` over a list let shows the let's value as JSON.

use crate::check::ir::{self, BlockId, BlockKind, Condition, Items, Operand, ParamType};
use crate::syntax::escape_string;

/// One thing written inside a block (or at the top level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item {
    /// A step, by index into `Pipeline::steps`.
    Step(usize),
    /// A nested block.
    Block(BlockId),
}

/// The steps and blocks directly in `block` (`None`: the top level), in
/// the steps' topological order: a block comes where its first step does,
/// so with no blocks this is `steps` itself. A block without steps has no
/// such place; it goes before the first item written after it in the
/// source (last when there is none).
pub(crate) fn contents(pipeline: &ir::Pipeline, block: Option<BlockId>) -> Vec<Item> {
    let mut keyed: Vec<(usize, Item)> = pipeline
        .steps_in(block)
        .map(|(index, _)| (index, Item::Step(index)))
        .chain(
            pipeline
                .blocks_in(block)
                .map(|(id, _)| (first_step(pipeline, id), Item::Block(id))),
        )
        .collect();
    keyed.sort_by_key(|&(index, _)| index);
    let (mut items, empty): (Vec<Item>, Vec<Item>) = keyed
        .into_iter()
        .map(|(_, item)| item)
        .partition(|item| !is_empty_block(pipeline, *item));
    for block in empty {
        let start = source_start(pipeline, block);
        let at = items
            .iter()
            .position(|&item| source_start(pipeline, item) > start)
            .unwrap_or(items.len());
        items.insert(at, block);
    }
    items
}

fn is_empty_block(pipeline: &ir::Pipeline, item: Item) -> bool {
    matches!(item, Item::Block(id) if first_step(pipeline, id) == usize::MAX)
}

/// Where the item starts in the source.
fn source_start(pipeline: &ir::Pipeline, item: Item) -> u32 {
    match item {
        Item::Step(index) => pipeline.steps[index].span.start,
        Item::Block(id) => pipeline.blocks[id].span.start,
    }
}

/// The index of the first step inside `block` at any depth (`usize::MAX`
/// when it holds none).
fn first_step(pipeline: &ir::Pipeline, block: BlockId) -> usize {
    pipeline
        .steps
        .iter()
        .position(|step| pipeline.is_within(step.block, block))
        .unwrap_or(usize::MAX)
}

/// The block's head as the user writes it, without the `{`.
pub(crate) fn head(pipeline: &ir::Pipeline, block: BlockId) -> String {
    let Some(block) = pipeline.blocks.get(block) else {
        return String::new();
    };
    match &block.kind {
        BlockKind::If {
            otherwise: true, ..
        } => "else".into(),
        BlockKind::If { condition, .. } => format!("if {}", condition_text(condition)),
        BlockKind::For {
            var,
            items,
            parallelism,
        } => {
            let list = match items {
                Items::Fixed(json) => json.clone(),
                Items::Param(name) => format!("$<{name}>"),
                Items::Output { step, output } => format!("$<{step}.{output}>"),
            };
            match parallelism {
                Some(n) => format!("for {var} in {list}, parallelism {n}"),
                None => format!("for {var} in {list}"),
            }
        }
        BlockKind::Repeat { max, until, .. } => {
            let max = max.written();
            match until {
                Condition::Not(holds) => {
                    format!("repeat max {max} while {}", condition_text(holds))
                }
                until => format!("repeat max {max} until {}", condition_text(until)),
            }
        }
        BlockKind::Finally => "finally".into(),
    }
}

/// The block's keyword alone (`if`, `else`, `for lr`, `repeat`, `finally`).
pub(crate) fn keyword(pipeline: &ir::Pipeline, block: BlockId) -> String {
    match pipeline.blocks.get(block).map(|b| &b.kind) {
        Some(BlockKind::If {
            otherwise: true, ..
        }) => "else".into(),
        Some(BlockKind::If { .. }) => "if".into(),
        Some(BlockKind::For { var, .. }) => format!("for {var}"),
        Some(BlockKind::Repeat { .. }) => "repeat".into(),
        Some(BlockKind::Finally) | None => "finally".into(),
    }
}

/// How tightly an operator binds (Python's order); higher binds tighter.
fn precedence(condition: &Condition) -> u8 {
    match condition {
        Condition::Or(..) => 1,
        Condition::And(..) => 2,
        Condition::Not(..) => 3,
        Condition::Compare(..) | Condition::Truth(..) => 4,
    }
}

/// A condition as source text that parses back to the same tree.
pub(crate) fn condition_text(condition: &Condition) -> String {
    let mut out = String::new();
    write_condition(&mut out, condition, 0);
    out
}

/// Writes `condition`, in parentheses when it binds looser than `at_least`.
fn write_condition(out: &mut String, condition: &Condition, at_least: u8) {
    let own = precedence(condition);
    if own < at_least {
        out.push('(');
    }
    match condition {
        // The right side one level tighter: `a or (b or c)` keeps its tree.
        Condition::Or(a, b) | Condition::And(a, b) => {
            let word = if own == 1 { " or " } else { " and " };
            write_condition(out, a, own);
            out.push_str(word);
            write_condition(out, b, own + 1);
        }
        Condition::Not(a) => {
            out.push_str("not ");
            // `not a == b` means `not (a == b)`, but readers from other
            // languages would take it as `(not a) == b`: keep the parentheses.
            let tighter = if matches!(**a, Condition::Compare(..)) {
                5
            } else {
                own
            };
            write_condition(out, a, tighter);
        }
        Condition::Compare(op, a, b) => {
            out.push_str(&operand_text(a));
            out.push_str(&format!(" {} ", op.symbol()));
            out.push_str(&operand_text(b));
        }
        Condition::Truth(a) => out.push_str(&operand_text(a)),
    }
    if own < at_least {
        out.push(')');
    }
}

/// An operand as written: a string literal quoted (its `$<…>` kept), a
/// number or bool literal and a reference as they are.
fn operand_text(operand: &Operand) -> String {
    if !(operand.literal && operand.ty == ParamType::String) {
        return super::template_text(&operand.value);
    }
    let body: String = operand
        .value
        .parts
        .iter()
        .map(|part| match part {
            ir::Part::Text(text) => escape_string(text),
            part => part.source(),
        })
        .collect();
    format!("\"{body}\"")
}

#[cfg(test)]
mod tests;
