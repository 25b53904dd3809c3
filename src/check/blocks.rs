//! The IR of control blocks: an `if`'s condition, a `for`'s list and
//! `parallelism`, a repeat's count, carried values and condition, each read
//! in its scope (see `control`).

use std::collections::BTreeSet;

use super::Checker;
use super::control::{Source, misplaced};
use super::ir::{self, BlockId, Part, Template};
use super::resolve::RValue;
use crate::diagnostics::{Code, Diagnostic};
use crate::syntax::ast;

impl<'a> Checker<'a> {
    /// The IR of every block, in collection order (parents first).
    pub(super) fn build_blocks(&mut self) -> Vec<ir::Block> {
        let mut out: Vec<ir::Block> = Vec::with_capacity(self.blocks.len());
        for id in 0..self.blocks.len() {
            let parent = self.blocks[id].parent;
            let (keyword, span) = (self.blocks[id].keyword, self.blocks[id].span);
            self.scope = parent;
            let kind = match self.blocks[id].source {
                Source::If(block) => {
                    self.condition(&block.condition)
                        .map(|condition| ir::BlockKind::If {
                            condition,
                            otherwise: false,
                        })
                }
                Source::Else(if_id) => match out.get(if_id).map(|b| &b.kind) {
                    Some(ir::BlockKind::If { condition, .. }) => Some(ir::BlockKind::If {
                        condition: condition.clone(),
                        otherwise: true,
                    }),
                    _ => None,
                },
                Source::For(block) => self.for_kind(block),
                Source::Repeat(block) => self.repeat_kind(block, id),
                Source::Finally(block) => {
                    self.no_attributes(&block.body.items, "finally");
                    Some(ir::BlockKind::Finally)
                }
            };
            if let Source::If(block) = self.blocks[id].source {
                self.no_attributes(&block.then.items, "if");
                if let Some(ast::Else {
                    branch: ast::ElseBranch::Block(body),
                    ..
                }) = &block.otherwise
                {
                    self.no_attributes(&body.items, "else");
                }
            }
            let dependencies = kind.as_ref().map(head_dependencies).unwrap_or_default();
            out.push(ir::Block {
                // A block whose head had errors keeps its place, so ids stay
                // valid; the errors keep the IR from being used.
                kind: kind.unwrap_or(ir::BlockKind::Finally),
                parent,
                dependencies,
                keyword,
                span,
            });
        }
        self.scope = None;
        self.check_item_fields(&out);
        out
    }

    fn no_attributes(&mut self, items: &'a [ast::Item], word: &str) {
        for item in items {
            if let ast::Item::Attribute(attribute) = item {
                self.error(misplaced(
                    attribute.name.span,
                    &format!("attribute `{}` in a `{word}` block", attribute.name.name),
                    "blocks hold steps and other blocks; a `for` block may also set `parallelism`",
                ));
            }
        }
    }

    fn for_kind(&mut self, block: &'a ast::ForBlock) -> Option<ir::BlockKind> {
        let mut parallelism = None;
        for item in &block.body.items {
            let ast::Item::Attribute(attribute) = item else {
                continue;
            };
            if attribute.name.name != "parallelism" {
                self.error(misplaced(
                    attribute.name.span,
                    &format!("attribute `{}` in a `for` block", attribute.name.name),
                    "a `for` block may set `parallelism = N` (iterations at once), and holds steps and blocks",
                ));
                continue;
            }
            parallelism = self.parallelism(&attribute.value);
        }
        let items = self.loop_items(&block.list)?;
        Some(ir::BlockKind::For {
            var: block.var.name.clone(),
            items,
            parallelism,
        })
    }

    fn parallelism(&mut self, value: &'a ast::Value) -> Option<u32> {
        match &value.kind {
            ast::ValueKind::Number(n)
                if n.value.fract() == 0.0 && n.value >= 1.0 && n.value <= 1e6 =>
            {
                Some(n.value as u32)
            }
            _ => {
                self.error(
                    Diagnostic::new(Code::E0308, "`parallelism` must be a whole number >= 1")
                        .primary(value.span, "expected a literal such as `2`")
                        .help("write `parallelism = 2`: it is fixed when the pipeline is compiled"),
                );
                None
            }
        }
    }

    /// A `for`'s list: a literal, a list let, a list param or a `: list` output.
    fn loop_items(&mut self, list: &'a ast::Value) -> Option<ir::Items> {
        let not_a_list = |checker: &mut Self, found: &str| {
            checker.error(
                Diagnostic::new(Code::E0322, format!("a `for` loops over a list, not {found}"))
                    .primary(list.span, "not a list")
                    .help("loop over a list literal `[1, 2]`, a list let, a `list` param (`$<lrs>`) or a step's `: list` output (`$<prepare.shards>`)"),
            );
            None
        };
        match &list.kind {
            ast::ValueKind::List(_) | ast::ValueKind::Ident(_) => {
                let value = self.resolve_value(list)?;
                if !matches!(value.value, RValue::List(_)) {
                    return not_a_list(self, value.kind());
                }
                match super::resolve::as_json(&value) {
                    Some(json) => Some(ir::Items::Fixed(json.to_text())),
                    None => {
                        self.error(
                            Diagnostic::new(Code::E0322, "a literal loop list cannot interpolate values")
                                .primary(list.span, "holds a `$<…>`")
                                .help("loop over literal items, or over a `list` param or a `: list` output"),
                        );
                        None
                    }
                }
            }
            ast::ValueKind::Ref(interp) => {
                let part = self.reference_part(interp)?;
                match part {
                    Part::Param { name, .. }
                        if self.param_type(&name) == Some(ast::ParamType::List) =>
                    {
                        Some(ir::Items::Param(name))
                    }
                    Part::Output { step, output, .. }
                        if self.reference_type(&Part::Output {
                            step: step.clone(),
                            output: output.clone(),
                            span: interp.span,
                        }) == Some(ast::ParamType::List) =>
                    {
                        Some(ir::Items::Output { step, output })
                    }
                    Part::Let { name, .. } => {
                        let value = self.resolve_let_named(&name)?;
                        match super::resolve::as_json(&value) {
                            Some(super::types::Json::List(items)) => {
                                Some(ir::Items::Fixed(super::types::Json::List(items).to_text()))
                            }
                            _ => not_a_list(self, value.kind()),
                        }
                    }
                    other if self.is_file_output(&other) => {
                        self.error(super::files::used_as_value(
                            &other,
                            interp.span,
                            "a loop's list",
                        ));
                        None
                    }
                    other => {
                        let found = match self.reference_type(&other) {
                            Some(ty) => format!("a {}", ty.word()),
                            None => "a loop item".into(),
                        };
                        not_a_list(self, &found)
                    }
                }
            }
            ast::ValueKind::String(_) => not_a_list(self, "a string"),
            ast::ValueKind::Number(_) => not_a_list(self, "a number"),
            ast::ValueKind::Bool(_) => not_a_list(self, "a bool"),
            ast::ValueKind::Map(_) => not_a_list(self, "a map"),
        }
    }

    fn repeat_kind(&mut self, block: &'a ast::RepeatBlock, id: BlockId) -> Option<ir::BlockKind> {
        self.no_attributes(&block.body.items, "repeat");
        let max = self.repeat_max(&block.max);
        let mut carries = Vec::with_capacity(block.carries.len());
        for carry in &block.carries {
            carries.extend(self.carry(carry, id));
        }
        self.scope = Some(id);
        let condition = self.condition(&block.condition);
        self.scope = self.blocks[id].parent;
        let until = if block.until {
            condition?
        } else {
            ir::Condition::Not(Box::new(condition?))
        };
        Some(ir::BlockKind::Repeat {
            max: max?,
            carries,
            until,
        })
    }

    fn repeat_max(&mut self, value: &'a ast::Value) -> Option<ir::Count> {
        let resolved = self.resolve_value(value)?;
        let count = self.count(&resolved, "repeat max")?;
        if count == ir::Count::Fixed(0) {
            self.error(
                Diagnostic::new(Code::E0322, "`repeat max 0` would never run its body")
                    .primary(value.span, "at least 1")
                    .help("give the most passes the repeat may run, such as `repeat max 10`"),
            );
            return None;
        }
        Some(count)
    }

    /// `carry NAME = INITIAL then NEXT`: INITIAL read around the repeat,
    /// NEXT an output of a body step that always runs.
    fn carry(&mut self, carry: &'a ast::Carry, id: BlockId) -> Option<ir::Carry> {
        let initial = self.resolve_value(&carry.initial);
        self.scope = Some(id);
        let next = self.carry_next(carry, id);
        self.scope = self.blocks[id].parent;
        let initial = initial?;
        let (step, output, ty) = next?;
        if ty == ast::ParamType::File {
            self.error(super::files::carried(&carry.name.name, carry.next.span));
            return None;
        }
        let initial_ty = match &initial.value {
            RValue::Str(template) => match &template.parts[..] {
                [part] if part.span().is_some() => self.reference_type(part),
                _ => Some(ast::ParamType::String),
            },
            RValue::Number(_) => Some(ast::ParamType::Number),
            RValue::Bool(_) => Some(ast::ParamType::Bool),
            RValue::List(_) | RValue::Map(_) => Some(ast::ParamType::List),
        };
        if initial_ty.is_some_and(|t| t != ty) {
            self.error(
                Diagnostic::new(
                    Code::E0218,
                    format!("carry `{}` starts as one type and goes on as another", carry.name.name),
                )
                .primary(carry.initial.span, initial.kind().to_string())
                .secondary(carry.next.span, format!("a {}", ty.word()))
                .help("give INITIAL and NEXT one type: declare the output's type (`output NAME: number`), or quote the initial value"),
            );
            return None;
        }
        let text = self.value_text(&initial)?;
        Some(ir::Carry {
            name: carry.name.name.clone(),
            ty,
            initial: text,
            next: (step, output),
            span: carry.span,
        })
    }

    fn carry_next(
        &mut self,
        carry: &'a ast::Carry,
        id: BlockId,
    ) -> Option<(String, String, ast::ParamType)> {
        let fail = |checker: &mut Self, label: &str| {
            checker.error(
                Diagnostic::new(
                    Code::E0218,
                    format!("`then` of carry `{}` must be an output of a step in the repeat", carry.name.name),
                )
                .primary(carry.next.span, label.to_string())
                .help("write `then $<step.output>` with a step of the repeat's body that always runs (not inside an `if`, no `when`)"),
            );
            None
        };
        let ast::ValueKind::Ref(interp) = &carry.next.kind else {
            return fail(self, "not a `$<step.output>`");
        };
        // Where the step sits is checked before the reference is read, so a
        // step in an `if` of the body is this error, not also E0214.
        let producer = (self.steps.get(interp.head.name.as_str())).map(|s| s.block);
        if let Some(producer) = producer {
            let ancestors = self.ancestors(producer);
            let guarded = ancestors.iter().take_while(|&&b| b != id).any(|&b| {
                matches!(
                    self.blocks[b].source,
                    Source::If(_) | Source::Else(_) | Source::For(_)
                )
            }) || self.when_steps.contains_key(interp.head.name.as_str());
            if !ancestors.contains(&id) || guarded {
                return fail(self, "not an output of a step that runs in every pass");
            }
        }
        let Some(Part::Output { step, output, .. }) = self.reference_part(interp) else {
            return fail(self, "not a step's output");
        };
        let ty = self.output_type(&step, &output)?;
        Some((step, output, ty))
    }

    /// `$<x.field>` of fixed items: every item must be a map with the field.
    fn check_item_fields(&mut self, blocks: &[ir::Block]) {
        let fields = std::mem::take(&mut self.item_fields);
        let mut reported: BTreeSet<(BlockId, &str)> = BTreeSet::new();
        for (id, field) in &fields {
            let id = *id;
            let items = match blocks.get(id).map(|b| &b.kind) {
                Some(ir::BlockKind::For {
                    items: ir::Items::Fixed(json),
                    ..
                }) => json.clone(),
                Some(ir::BlockKind::For {
                    items: ir::Items::Param(name),
                    ..
                }) => match self.param_default_json(name) {
                    Some(json) => json,
                    None => continue,
                },
                _ => continue,
            };
            let Ok(serde_json::Value::Array(items)) =
                serde_json::from_str::<serde_json::Value>(&items)
            else {
                continue;
            };
            let missing = items.iter().position(|item| {
                !item
                    .as_object()
                    .is_some_and(|map| map.contains_key(&field.name))
            });
            if let Some(index) = missing
                && reported.insert((id, field.name.as_str()))
            {
                let list_span = match self.blocks[id].source {
                    Source::For(f) => f.list.span,
                    _ => self.blocks[id].keyword,
                };
                self.error(
                    Diagnostic::new(
                        Code::E0320,
                        format!("item {index} of the loop has no field `{}`", field.name),
                    )
                    .primary(field.span, "not a field of every item")
                    .secondary(list_span, format!("item {index} of this list lacks it"))
                    .help("give every item the field, or read the item whole with `$<NAME>`"),
                );
            }
        }
    }
}

/// The steps outside a block that its head reads.
fn head_dependencies(kind: &ir::BlockKind) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    let mut add_template = |template: &Template| {
        for part in template.references() {
            if let Part::Output { step, .. } = part {
                out.insert(step.clone());
            }
        }
    };
    match kind {
        ir::BlockKind::If { condition, .. } => {
            for operand in condition.operands() {
                add_template(&operand.value);
            }
        }
        ir::BlockKind::For { items, .. } => {
            if let ir::Items::Output { step, .. } = items {
                out.insert(step.clone());
            }
        }
        ir::BlockKind::Repeat { carries, .. } => {
            for carry in carries {
                add_template(&carry.initial);
            }
        }
        ir::BlockKind::Finally => {}
    }
    out.into_iter().collect()
}
