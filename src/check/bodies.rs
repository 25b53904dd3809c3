//! Step attributes taken out of an owned AST, so that each step's are
//! dropped once the step is checked: on a large program the AST's bulk (the
//! attributes' values) and the IR are then never both whole in memory.

use std::collections::BTreeMap;

use crate::syntax::ast::{self, Item, StepItem};

/// Each step's attributes (its `StepItem::Attribute`s), by where the step starts.
#[derive(Debug, Default)]
pub(super) struct StepBodies(BTreeMap<u32, Vec<StepItem>>);

impl StepBodies {
    /// Moves every step's attributes out of `pipeline`, leaving its
    /// outputs, metrics, `when` and sidecars, which other steps' checks read.
    pub(super) fn take(pipeline: &mut ast::Pipeline) -> StepBodies {
        let mut bodies = BTreeMap::new();
        let kept = |item: &StepItem| !matches!(item, StepItem::Attribute(_));
        each_step_mut(&mut pipeline.items, &mut |step| {
            // The attributes stay in the step's own Vec and the few other
            // items move to one sized exactly: taking allocates no copy of
            // the attributes while the whole AST is still alive.
            let mut rest = Vec::with_capacity(step.items.iter().filter(|i| kept(i)).count());
            rest.extend(step.items.extract_if(.., |item| kept(item)));
            let attributes = std::mem::replace(&mut step.items, rest);
            bodies.insert(step.span.start, attributes);
        });
        StepBodies(bodies)
    }

    /// The attributes taken from step `decl` (none when they were not taken).
    pub(super) fn remove(&mut self, decl: &ast::StepDecl) -> Vec<StepItem> {
        self.0.remove(&decl.span.start).unwrap_or_default()
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
