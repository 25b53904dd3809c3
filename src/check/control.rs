//! Control blocks (`if`/`else`, `for`, `repeat`, `finally`): where each
//! declaration sits, which names are in scope there, the guard rule, and
//! the blocks' IR.
//!
//! Declarations are collected first (`collect_items`), so a block may read
//! a step declared after it; the blocks' IR is built in `blocks`. Values are resolved in a *scope*, the block
//! they are read in: a step's attributes in its own block, an `if`'s
//! condition and a `for`'s list in the block around them, a repeat's
//! `until` and `then` values in the repeat itself.

use super::Checker;
use super::ir::{BlockId, Part};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast;

/// A block as collected: its source and where it sits.
pub(super) struct BlockDecl<'a> {
    pub(super) source: Source<'a>,
    pub(super) parent: Option<BlockId>,
    pub(super) keyword: Span,
    pub(super) span: Span,
}

/// The declaration a block comes from.
pub(super) enum Source<'a> {
    If(&'a ast::IfBlock),
    /// The `else` of an `if` (the block id of the `if`).
    Else(BlockId),
    For(&'a ast::ForBlock),
    Repeat(&'a ast::RepeatBlock),
    Finally(&'a ast::FinallyBlock),
}

use super::ir::WORKFLOW_FIELDS;

impl<'a> Checker<'a> {
    /// Collects the declarations in `items`, which sit in block `parent`.
    pub(super) fn collect_items(
        &mut self,
        items: &'a [ast::Item],
        parent: Option<BlockId>,
        values_seen: &mut std::collections::BTreeMap<&'a str, Span>,
    ) {
        for item in items {
            match item {
                ast::Item::Param(_) | ast::Item::Let(_) if parent.is_some() => {
                    let (word, span) = match item {
                        ast::Item::Param(p) => ("param", p.keyword),
                        ast::Item::Let(l) => ("let", l.keyword),
                        _ => continue,
                    };
                    self.error(misplaced(
                        span,
                        &format!("a `{word}` inside a block"),
                        &format!("declare the {word} at the pipeline's top level; blocks hold steps and other blocks"),
                    ));
                }
                ast::Item::Param(param) => {
                    self.declare_value(values_seen, &param.name, "param");
                    self.params.entry(&param.name.name).or_insert(param);
                }
                ast::Item::Let(decl) => {
                    self.declare_value(values_seen, &decl.name, "let");
                    self.lets.entry(&decl.name.name).or_insert(decl);
                }
                ast::Item::Step(step) => {
                    self.declare_step(step, parent);
                }
                ast::Item::Attribute(_) => {} // checked with the block that holds it
                ast::Item::Defaults(block) if parent.is_some() => self.error(misplaced(
                    block.keyword,
                    "a `defaults` block inside a block",
                    "write `defaults { … }` once, at the pipeline's top level",
                )),
                ast::Item::Defaults(_) => {} // merged into the steps before checking
                ast::Item::Volume(block) if parent.is_some() => self.error(misplaced(
                    block.keyword,
                    "a `volume` inside a block",
                    "declare the volume at the pipeline's top level; a step in a block mounts it with `data`",
                )),
                ast::Item::Volume(_) => {} // checked with the pipeline (check/volumes.rs)
                ast::Item::If(block) => self.collect_if(block, parent, values_seen),
                ast::Item::For(block) => {
                    let id = self.push_block(Source::For(block), parent, block.keyword, block.span);
                    self.scoped.entry(&block.var.name).or_default().push(id);
                    self.collect_items(&block.body.items, Some(id), values_seen);
                }
                ast::Item::Repeat(block) => {
                    let id =
                        self.push_block(Source::Repeat(block), parent, block.keyword, block.span);
                    for carry in &block.carries {
                        self.scoped.entry(&carry.name.name).or_default().push(id);
                    }
                    self.collect_items(&block.body.items, Some(id), values_seen);
                }
                ast::Item::Finally(block) => self.collect_finally(block, parent, values_seen),
            }
        }
    }

    fn collect_if(
        &mut self,
        block: &'a ast::IfBlock,
        parent: Option<BlockId>,
        values_seen: &mut std::collections::BTreeMap<&'a str, Span>,
    ) {
        let id = self.push_block(Source::If(block), parent, block.keyword, block.span);
        self.collect_items(&block.then.items, Some(id), values_seen);
        let Some(otherwise) = &block.otherwise else {
            return;
        };
        let span = Span::new(otherwise.keyword.start as usize, block.span.end as usize);
        let else_id = self.push_block(Source::Else(id), parent, otherwise.keyword, span);
        match &otherwise.branch {
            ast::ElseBranch::Block(body) => {
                self.collect_items(&body.items, Some(else_id), values_seen);
            }
            ast::ElseBranch::If(nested) => self.collect_if(nested, Some(else_id), values_seen),
        }
    }

    fn collect_finally(
        &mut self,
        block: &'a ast::FinallyBlock,
        parent: Option<BlockId>,
        values_seen: &mut std::collections::BTreeMap<&'a str, Span>,
    ) {
        if parent.is_some() {
            self.error(misplaced(
                block.keyword,
                "a `finally` inside a block",
                "write `finally { … }` at the pipeline's top level: it runs once, after everything else",
            ));
        } else if let Some(first) = self.blocks.iter().find_map(|b| match b.source {
            Source::Finally(f) => Some(f.keyword),
            _ => None,
        }) {
            self.error(
                misplaced(
                    block.keyword,
                    "a second `finally` block",
                    "keep one `finally` block and put every clean-up step in it",
                )
                .secondary(first, "the first one"),
            );
        }
        let id = self.push_block(Source::Finally(block), parent, block.keyword, block.span);
        self.collect_items(&block.body.items, Some(id), values_seen);
    }

    fn push_block(
        &mut self,
        source: Source<'a>,
        parent: Option<BlockId>,
        keyword: Span,
        span: Span,
    ) -> BlockId {
        self.blocks.push(BlockDecl {
            source,
            parent,
            keyword,
            span,
        });
        self.blocks.len() - 1
    }

    /// The blocks around `block`, innermost first, `block` included.
    pub(super) fn ancestors(&self, block: Option<BlockId>) -> Vec<BlockId> {
        super::ir::ancestors(block, |id| self.blocks.get(id).and_then(|b| b.parent))
    }

    /// Whether `block` is in (or is) the `finally` block.
    pub(super) fn in_finally(&self, block: Option<BlockId>) -> bool {
        self.ancestors(block)
            .iter()
            .any(|&id| matches!(self.blocks[id].source, Source::Finally(_)))
    }

    /// Loop variables and carried values: unique among params, lets, steps
    /// and the loop variables around them.
    pub(super) fn check_scoped_names(&mut self) {
        let mut problems = Vec::new();
        for (id, block) in self.blocks.iter().enumerate() {
            let names: Vec<&'a ast::Ident> = match block.source {
                Source::For(f) => vec![&f.var],
                Source::Repeat(r) => r.carries.iter().map(|c| &c.name).collect(),
                _ => continue,
            };
            for name in names {
                let clash = if let Some(p) = self.params.get(name.name.as_str()) {
                    Some((p.name.span, "a param"))
                } else if let Some(l) = self.lets.get(name.name.as_str()) {
                    Some((l.name.span, "a let"))
                } else if let Some(s) = self.steps.get(name.name.as_str()) {
                    Some((s.decl.name.span, "a step"))
                } else {
                    self.ancestors(block.parent)
                        .into_iter()
                        .filter(|&outer| outer != id)
                        .find_map(|outer| self.scoped_ident(outer, &name.name))
                        .map(|span| (span, "an enclosing loop variable or carried value"))
                };
                if let Some((first, what)) = clash {
                    problems.push(
                        Diagnostic::new(Code::E0204, format!("`{}` is declared twice", name.name))
                            .primary(name.span, "this name is already taken")
                            .secondary(first, format!("{what} has this name"))
                            .help("rename the loop variable or carried value"),
                    );
                }
            }
        }
        self.diagnostics.extend(problems);
    }

    /// Where block `id` declares `name` as its loop variable or a carried value.
    fn scoped_ident(&self, id: BlockId, name: &str) -> Option<Span> {
        match self.blocks[id].source {
            Source::For(f) if f.var.name == name => Some(f.var.span),
            Source::Repeat(r) => r
                .carries
                .iter()
                .find(|c| c.name.name == name)
                .map(|c| c.name.span),
            _ => None,
        }
    }

    /// `$<x>`, `$<x.field>` of a loop variable or carried value in scope, or
    /// `$<workflow.field>`: `Some(part)` (`Some(None)` after an error), or
    /// `None` when the name is none of these.
    pub(super) fn scoped_reference(&mut self, interp: &ast::Interp) -> Option<Option<Part>> {
        let head = &interp.head;
        if head.name == "workflow"
            && let Some(field) = &interp.field
        {
            return Some(self.workflow_reference(field, interp.span));
        }
        let declared = self.scoped.get(head.name.as_str())?.clone();
        let around = self.ancestors(self.scope);
        let Some(&id) = declared.iter().find(|id| around.contains(id)) else {
            let loop_span = self.scoped_ident(declared[0], &head.name);
            let mut diagnostic = Diagnostic::new(
                Code::E0203,
                format!("`{}` is used outside the block that declares it", head.name),
            )
            .primary(head.span, "not in scope here")
            .help("a loop variable or carried value can be read only inside its block");
            if let Some(span) = loop_span {
                diagnostic = diagnostic.secondary(span, "declared here");
            }
            self.error(diagnostic);
            return Some(None);
        };
        self.mark_used(&head.name);
        Some(match self.blocks[id].source {
            Source::For(_) => {
                if let Some(field) = &interp.field {
                    self.item_fields.push((id, field.clone()));
                }
                Some(Part::Item {
                    var: head.name.clone(),
                    field: interp.field.as_ref().map(|f| f.name.clone()),
                    span: interp.span,
                })
            }
            _ => {
                if let Some(field) = &interp.field {
                    self.error(
                        Diagnostic::new(
                            Code::E0202,
                            format!("carried value `{}` has no fields", head.name),
                        )
                        .primary(field.span, "not a field")
                        .help(format!("write `$<{}>`", head.name)),
                    );
                    return Some(None);
                }
                Some(Part::Carry {
                    name: head.name.clone(),
                    span: interp.span,
                })
            }
        })
    }

    fn workflow_reference(&mut self, field: &ast::Ident, span: Span) -> Option<Part> {
        if !WORKFLOW_FIELDS.contains(&field.name.as_str()) {
            self.error(
                Diagnostic::new(
                    Code::E0215,
                    format!("`workflow.{}` is not run information", field.name),
                )
                .primary(field.span, "unknown field")
                .maybe_help(crate::diagnostics::did_you_mean(
                    &field.name,
                    WORKFLOW_FIELDS.iter().copied(),
                ))
                .note("run information: `$<workflow.name>`, `$<workflow.uid>`, `$<workflow.pod_name>`, `$<workflow.status>`"),
            );
            return None;
        }
        if field.name == "status" && !self.in_finally(self.scope) {
            self.error(
                Diagnostic::new(
                    Code::E0215,
                    "`$<workflow.status>` is known only in `finally`",
                )
                .primary(span, "the run has not ended here")
                .help("read the run's status in a step of the `finally { … }` block"),
            );
            return None;
        }
        Some(Part::Workflow {
            field: field.name.clone(),
            span,
        })
    }

    /// The guard rule and the `finally` boundary, for a reference from the
    /// current scope to an output of step `step`.
    pub(super) fn check_output_access(&mut self, step: &ast::Ident, span: Span) -> bool {
        let producer = self.steps.get(step.name.as_str()).and_then(|s| s.block);
        let around = self.ancestors(self.scope);
        if self.in_finally(producer) != self.in_finally(self.scope) {
            let inside = self.in_finally(producer);
            self.error(finally_boundary(step, span, inside));
            return false;
        }
        if let Some(when) = self.when_steps.get(step.name.as_str())
            && self.current_step != Some(step.name.as_str())
        {
            self.error(
                Diagnostic::new(
                    Code::E0214,
                    format!("step `{}` may be skipped by its `when`", step.name),
                )
                .primary(span, "its output may not exist")
                .secondary(*when, "this `when` may skip it")
                .help(format!(
                    "put `{}` and its readers in one `if` block instead of using `when`",
                    step.name
                )),
            );
            return false;
        }
        let guard = self.ancestors(producer).into_iter().find(|id| {
            matches!(self.blocks[*id].source, Source::If(_) | Source::Else(_))
                && !around.contains(id)
        });
        if let Some(guard) = guard {
            let block = &self.blocks[guard];
            let which = if matches!(block.source, Source::Else(_)) {
                "else"
            } else {
                "if"
            };
            self.error(
                Diagnostic::new(
                    Code::E0214,
                    format!("step `{}` may be skipped, so its output may not exist here", step.name),
                )
                .primary(span, "read here, outside its guard")
                .secondary(block.keyword, format!("`{}` runs only when this `{which}` lets it", step.name))
                .help(format!(
                    "read `{}`'s outputs only inside the same `{which}` block, or move the step out of it",
                    step.name
                )),
            );
            return false;
        }
        true
    }

    /// `after` names a step across the `finally` boundary.
    pub(super) fn check_after_access(&mut self, step: &ast::Ident) -> bool {
        let producer = self.steps.get(step.name.as_str()).and_then(|s| s.block);
        if self.in_finally(producer) != self.in_finally(self.scope) {
            let inside = self.in_finally(producer);
            self.error(finally_boundary(step, step.span, inside));
            return false;
        }
        true
    }
}

/// E0217.
pub(super) fn misplaced(span: Span, what: &str, help: &str) -> Diagnostic {
    Diagnostic::new(Code::E0217, format!("{what} is not allowed"))
        .primary(span, "not allowed here")
        .help(help.to_string())
}

/// E0216.
fn finally_boundary(step: &ast::Ident, span: Span, producer_in_finally: bool) -> Diagnostic {
    let (message, help) = if producer_in_finally {
        (
            format!(
                "step `{}` runs in `finally`, after this step has ended",
                step.name
            ),
            "only `finally` steps may read or wait for `finally` steps",
        )
    } else {
        (
            format!(
                "a `finally` step reads step `{}`, which may never have run",
                step.name
            ),
            "`finally` steps read params, lets, `$<workflow.…>` and each other's outputs; pass other values through a claim",
        )
    };
    Diagnostic::new(Code::E0216, message)
        .primary(span, "across the `finally` boundary")
        .help(help)
}
