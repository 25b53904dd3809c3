//! Step attributes taken out of an owned AST, so that each step's are
//! dropped once the step is checked: on a large program the AST's bulk (the
//! attributes' values) and the IR are then never both whole in memory.

use std::collections::VecDeque;

use crate::syntax::ast::{self, Item, StepItem};

/// Each step's attributes (its `StepItem::Attribute`s) with where the step
/// starts, in source order: the order steps are checked in. (A list, not a
/// map: it is built while the whole AST is alive, so its bytes add to the
/// peak, and a B-tree's partly filled nodes cost a third more.)
#[derive(Debug, Default)]
pub(super) struct StepBodies(VecDeque<(u32, Vec<StepItem>)>);

impl StepBodies {
    /// Moves every step's attributes out of `pipeline`, leaving its
    /// outputs, metrics, `when` and sidecars, which other steps' checks read.
    pub(super) fn take(pipeline: &mut ast::Pipeline) -> StepBodies {
        let mut bodies = VecDeque::new();
        let kept = |item: &StepItem| !matches!(item, StepItem::Attribute(_));
        each_step_mut(&mut pipeline.items, &mut |step| {
            // The attributes stay in the step's own Vec and the few other
            // items move to one sized exactly: taking allocates no copy of
            // the attributes while the whole AST is still alive.
            let mut rest = Vec::with_capacity(step.items.iter().filter(|i| kept(i)).count());
            rest.extend(step.items.extract_if(.., |item| kept(item)));
            let attributes = std::mem::replace(&mut step.items, rest);
            bodies.push_back((step.span.start, attributes));
        });
        // Visited in source order already; sorted (in place) so `remove`
        // may rely on it.
        bodies
            .make_contiguous()
            .sort_unstable_by_key(|(start, _)| *start);
        StepBodies(bodies)
    }

    /// The attributes taken from step `decl` (none when they were not
    /// taken). Steps are asked for in source order; the bodies of steps
    /// before `decl` that were never asked for (a second step of one name)
    /// are dropped on the way.
    pub(super) fn remove(&mut self, decl: &ast::StepDecl) -> Vec<StepItem> {
        while let Some((start, _)) = self.0.front()
            && *start < decl.span.start
        {
            self.0.pop_front();
        }
        match self.0.front() {
            Some((start, _)) if *start == decl.span.start => self
                .0
                .pop_front()
                .map(|(_, attributes)| attributes)
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

/// Calls `f` on every step declared in `items`, those in control blocks included.
pub(super) fn each_step_mut(items: &mut [Item], f: &mut dyn FnMut(&mut ast::StepDecl)) {
    for item in items {
        match item {
            Item::Step(step) => f(step),
            Item::If(block) => {
                each_step_mut(&mut block.then.items, f);
                let mut otherwise = block.otherwise.as_mut();
                while let Some(other) = otherwise {
                    otherwise = match &mut other.branch {
                        ast::ElseBranch::Block(b) => {
                            each_step_mut(&mut b.items, f);
                            None
                        }
                        ast::ElseBranch::If(nested) => {
                            each_step_mut(&mut nested.then.items, f);
                            nested.otherwise.as_mut()
                        }
                    };
                }
            }
            Item::For(block) => each_step_mut(&mut block.body.items, f),
            Item::Repeat(block) => each_step_mut(&mut block.body.items, f),
            Item::Finally(block) => each_step_mut(&mut block.body.items, f),
            Item::Attribute(_)
            | Item::Param(_)
            | Item::Let(_)
            | Item::Defaults(_)
            | Item::Volume(_) => {}
        }
    }
}
