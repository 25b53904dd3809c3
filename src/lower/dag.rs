//! Control blocks as nested DAG templates.
//!
//! Each block (`if`, `else`, `for`, `repeat`, `finally`) becomes a DAG
//! template holding a task for each step directly in it and one for each
//! block directly in it; the DAG around it holds one task for the block.
//! A dependency on a step in another block goes to the task of the
//! outermost block that holds the step and sits beside the reader.
//!
//! Values keep kfpl's one convention: a template's inputs hold values
//! base64-encoded. A value read inside a block but made outside it (an
//! output, a loop item, a carried value) is an input of every DAG template
//! between the two, passed through as it is (`{{inputs.parameters.N}}`);
//! where it first enters, a task encodes it (`{{=sprig.b64enc(…)}}`). An
//! output read outside its block is an output of the block's template (a
//! loop's: Argo's aggregate, a JSON list in item order). Params and run
//! information are global to the workflow and never passed.
//!
//! - `if`/`else`, and a step's `when`: the condition is one expression tag
//!   in the block task's argument `kfpl--cond` ([`super::condition`]); each
//!   task inside compares only that `true`/`false` in its `when`.
//! - `for`: the body is a DAG looped with `withItems` (literal items, as
//!   their text) or `withParam`; each item value the body reads is an
//!   argument computed from `item`. `parallelism` goes on a wrapper
//!   template that holds only the loop's task.
//! - `repeat`: a recursive DAG. After the body, a guard task decides from
//!   `until` and the pass counter whether to stop, call the template again
//!   with the carried values, or fail (a helper pod says why); its outputs
//!   are the last pass's.
//! - `finally`: the DAG of `spec.onExit`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Container;

use super::argo_types::{
    Arguments, DagTask, DagTemplate, Inputs, Outputs, Parameter, Template, ValueFrom,
};
use super::block::{Rendered, Rendering};
use super::condition;
use super::dag_emit::{self, ArgumentTexts};
use super::names::{MAIN_CONTAINER, Namer, kubernetes_name};
use super::text::{DECODE, Piece, Ref, flatten, k8s_escape, sh_quote};
use crate::check::ir::{BlockId, BlockKind, Count, Items, Pipeline, Step, Template as Text};
use crate::check::json::{Json, parse_with_item_starts};

/// The input holding a condition's result (`true`/`false`).
pub(super) const COND: &str = "kfpl--cond";
/// The input holding a repeat's pass number (1, 2, …).
const PASS: &str = "kfpl--pass";
/// The input holding what a repeat does after a pass: 0 stop, 1 again, 2 fail.
const NEXT: &str = "kfpl--next";
/// The key of a literal map item's whole text (fields are identifiers: no `-`).
const WHOLE_ITEM: &str = "kfpl-item";
/// The image of the pod that fails a repeat that ran out of passes.
pub(crate) const HELPER_IMAGE: &str = "alpine:3.20";

/// The templates of a block.
#[derive(Debug, Clone, Default)]
struct BlockNames {
    /// The block's DAG (for a loop, its body); also its task's name.
    template: String,
    /// A loop's wrapper holding `parallelism`.
    wrapper: Option<String>,
    /// A repeat's guard after each pass.
    next: Option<String>,
    /// A repeat's failing pod.
    exhausted: Option<String>,
}

/// The DAG templates of a pipeline, from the step templates' names and inputs.
pub(crate) struct Dags<'a> {
    pipeline: &'a Pipeline,
    /// Step `i`'s template is step `template_owners[i]`'s (see [`template_name`]).
    template_owners: &'a [usize],
    step_inputs: &'a [Box<[Ref]>],
    entrypoint: String,
    names: Vec<BlockNames>,
    /// Step index → the guard template of its `when`.
    when_guards: BTreeMap<usize, String>,
    /// Per block: the values its DAG receives.
    inputs: Vec<BTreeSet<Ref>>,
    /// Per block: the outputs (of steps in it) its DAG gives back.
    exports: Vec<BTreeSet<Ref>>,
}

/// The names of the DAG templates and kfpl's helper templates, claimed
/// before the step templates are built (they do not depend on which steps
/// share a template).
#[derive(Debug, Clone)]
pub(crate) struct DagNames {
    entrypoint: String,
    blocks: Vec<BlockNames>,
    /// Step index → the guard template of its `when`.
    when_guards: BTreeMap<usize, String>,
}

impl DagNames {
    /// Claims the names from `namer`, which holds the steps' and the
    /// entrypoint's.
    pub(crate) fn new(pipeline: &Pipeline, entrypoint: String, namer: &mut Namer) -> DagNames {
        let blocks = pipeline
            .blocks
            .iter()
            .enumerate()
            .map(|(id, block)| {
                let base = format!("{}-{}", keyword(&block.kind), id + 1);
                let template = namer.claim(&base);
                let mut names = BlockNames {
                    template,
                    ..BlockNames::default()
                };
                match &block.kind {
                    BlockKind::For {
                        parallelism: Some(_),
                        ..
                    } => names.wrapper = Some(namer.claim(&format!("{base}-parallel"))),
                    BlockKind::Repeat { .. } => {
                        names.next = Some(namer.claim(&format!("{base}-next")));
                        names.exhausted = Some(namer.claim(&format!("{base}-exhausted")));
                    }
                    _ => {}
                }
                names
            })
            .collect();
        let when_guards = pipeline
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.when.is_some())
            .map(|(i, s)| {
                (
                    i,
                    namer.claim(&format!("{}-when", kubernetes_name(&s.name))),
                )
            })
            .collect();
        DagNames {
            entrypoint,
            blocks,
            when_guards,
        }
    }

    /// The name of `spec.onExit`: the `finally` block's DAG.
    pub(crate) fn on_exit(&self, pipeline: &Pipeline) -> Option<String> {
        pipeline
            .blocks
            .iter()
            .position(|b| matches!(b.kind, BlockKind::Finally))
            .map(|id| self.blocks[id].template.clone())
    }
}

impl<'a> Dags<'a> {
    /// Plans the templates: what each block's DAG takes and gives.
    pub(crate) fn new(
        pipeline: &'a Pipeline,
        template_owners: &'a [usize],
        step_inputs: &'a [Box<[Ref]>],
        names: &DagNames,
    ) -> Dags<'a> {
        let mut dags = Dags {
            pipeline,
            template_owners,
            step_inputs,
            entrypoint: names.entrypoint.clone(),
            names: names.blocks.clone(),
            when_guards: names.when_guards.clone(),
            inputs: vec![BTreeSet::new(); pipeline.blocks.len()],
            exports: vec![BTreeSet::new(); pipeline.blocks.len()],
        };
        dags.plan();
        dags
    }

    /// Every DAG template (the entrypoint first) and kfpl's helper templates.
    pub(crate) fn templates(&self) -> Vec<Template> {
        self.plans().into_iter().map(DagPlan::build).collect()
    }

    /// Every DAG template as [`templates`](Self::templates) gives it, the
    /// big ones (the entrypoint's, a block's) still without their tasks:
    /// those are built one at a time as they are written.
    pub(crate) fn plans(&self) -> Vec<DagPlan<'_, 'a>> {
        let mut out = vec![self.lazy(dag_template(&self.entrypoint, Vec::new()), None, None)];
        for id in 0..self.pipeline.blocks.len() {
            self.block_templates(id, &mut out);
        }
        for (&index, guard) in &self.when_guards {
            out.push(DagPlan::Built(self.when_guard(index, guard)));
        }
        out
    }

    fn lazy(
        &self,
        template: Template,
        scope: Option<BlockId>,
        when: Option<String>,
    ) -> DagPlan<'_, 'a> {
        DagPlan::Lazy(LazyDag {
            dags: self,
            template,
            scope,
            when,
        })
    }

    // ---- what each DAG takes and gives ------------------------------------

    /// Registers every value read anywhere, so that each DAG between a
    /// value's maker and its reader passes it on.
    fn plan(&mut self) {
        let pipeline = self.pipeline;
        for (index, step) in pipeline.steps.iter().enumerate() {
            for r in self.step_inputs[index].iter() {
                self.need(step.block, r);
            }
            for r in step.when.as_deref().into_iter().flat_map(condition::refs) {
                self.need(step.block, &r);
            }
        }
        for (id, block) in pipeline.blocks.iter().enumerate() {
            match &block.kind {
                BlockKind::If { condition, .. } => {
                    for r in condition::refs(condition) {
                        self.need(block.parent, &r);
                    }
                }
                BlockKind::For { items, .. } => {
                    if let Some(r) = items_ref(items) {
                        self.need(block.parent, &r);
                    }
                }
                BlockKind::Repeat { carries, until, .. } => {
                    for carry in carries {
                        for r in text_refs(&carry.initial) {
                            self.need(block.parent, &r);
                        }
                        let (step, output) = carry.next.clone();
                        self.need(Some(id), &Ref::Output { step, output });
                    }
                    for r in condition::refs(until) {
                        self.need(Some(id), &r);
                    }
                }
                BlockKind::Finally => {}
            }
        }
        // A repeat's next pass receives what the body reads, so every
        // carried value is read by the guard too; nothing else to add.
    }

    /// Makes `r` readable in `scope`.
    fn need(&mut self, scope: Option<BlockId>, r: &Ref) {
        if !r.is_input() || matches!(r, Ref::Param(_)) {
            return;
        }
        if let Ref::Output { step, .. } = r
            && let Some(step) = self.pipeline.step(step)
            && self.within(step.block, scope)
        {
            if step.block != scope
                && let Some(child) = self.child_toward(scope, step.block)
                && self.exports[child].insert(r.clone())
            {
                self.need(Some(child), r);
            }
            return;
        }
        let Some(block) = scope else {
            return;
        };
        if !self.inputs[block].insert(r.clone()) {
            return;
        }
        let made_here = match (&self.pipeline.blocks[block].kind, r) {
            (BlockKind::For { var, .. }, Ref::Item { var: read, .. }) => var == read,
            (BlockKind::Repeat { carries, .. }, Ref::Carry(name)) => {
                carries.iter().any(|c| &c.name == name)
            }
            _ => false,
        };
        if !made_here {
            self.need(self.pipeline.blocks[block].parent, r);
        }
    }

    /// Whether `block` is `scope` or inside it (`None`: the top level).
    fn within(&self, block: Option<BlockId>, scope: Option<BlockId>) -> bool {
        scope.is_none_or(|s| self.pipeline.is_within(block, s))
    }

    /// The block directly in `scope` that holds `block`.
    fn child_toward(&self, scope: Option<BlockId>, block: Option<BlockId>) -> Option<BlockId> {
        self.pipeline
            .ancestors(block)
            .into_iter()
            .find(|&a| self.pipeline.blocks[a].parent == scope)
    }

    /// The task in `scope` that stands for step `step`: its own, or its
    /// outermost block's there; `None` when the step is outside `scope`.
    fn anchor(&self, scope: Option<BlockId>, step: &str) -> Option<String> {
        self.anchor_of(scope, self.pipeline.step(step)?)
    }

    /// [`anchor`](Self::anchor), the step found.
    fn anchor_of(&self, scope: Option<BlockId>, step: &Step) -> Option<String> {
        if step.block == scope {
            return Some(kubernetes_name(&step.name));
        }
        if !self.within(step.block, scope) {
            return None;
        }
        let child = self.child_toward(scope, step.block)?;
        Some(self.names[child].template.clone())
    }

    // ---- values --------------------------------------------------------------

    /// The expression for `r`'s text in `scope`.
    fn source(&self, scope: Option<BlockId>, r: &Ref) -> String {
        let mut source = String::new();
        self.push_source(&mut source, scope, r);
        source
    }

    /// Appends [`Dags::source`] to `out`.
    fn push_source(&self, out: &mut String, scope: Option<BlockId>, r: &Ref) {
        if r.push_global_source(out) {
            return;
        }
        if let Ref::Output { step, output } = r
            && let Some(s) = self.pipeline.step(step)
            && self.within(s.block, scope)
            && let Some(task) = self.anchor_of(scope, s)
        {
            if s.block == scope {
                return Ref::push_task_output(out, &task, output);
            }
            let aggregate = Ref::task_output(&task, &r.input_name());
            let loops = self.pipeline.loops_between(step, scope).len();
            return out.push_str(&nested_lists(&aggregate, loops));
        }
        r.push_decoded_input(out)
    }

    /// What a task in `scope` passes for `r`: the input as it came, or the
    /// value encoded where it enters.
    pub(super) fn argument(&self, scope: Option<BlockId>, r: &Ref) -> String {
        let mut argument = String::new();
        self.push_argument(&mut argument, scope, r);
        argument
    }

    /// Appends [`Dags::argument`] to `out` (a DAG's step tasks write theirs
    /// through one reused buffer).
    pub(super) fn push_argument(&self, out: &mut String, scope: Option<BlockId>, r: &Ref) {
        match scope {
            Some(block) if self.inputs[block].contains(r) => {
                out.push_str(&passthrough(&r.input_name()))
            }
            _ => Ref::push_encoded(out, |out| self.push_source(out, scope, r)),
        }
    }

    fn arguments<'r>(
        &self,
        scope: Option<BlockId>,
        refs: impl IntoIterator<Item = &'r Ref>,
    ) -> Vec<Parameter> {
        refs.into_iter()
            .map(|r| parameter(&r.input_name(), Some(self.argument(scope, r))))
            .collect()
    }

    /// A condition evaluated in `scope`, as an expression tag.
    fn condition_tag(
        &self,
        scope: Option<BlockId>,
        condition: &crate::check::ir::Condition,
    ) -> String {
        let text = condition::expression(condition, &mut |r| self.source(scope, r));
        format!("{{{{={text}}}}}")
    }

    // ---- tasks -----------------------------------------------------------------

    /// The tasks of the DAG of `scope`: a step's where its first step comes
    /// in the pipeline's order, a block's where its first step comes.
    fn tasks(&self, scope: Option<BlockId>) -> Vec<DagTask> {
        let mut tasks = Vec::new();
        let built = self.each_task(scope, |task| {
            tasks.push(task.build(self, scope));
            Ok::<(), std::convert::Infallible>(())
        });
        match built {
            Ok(()) => tasks,
            Err(never) => match never {},
        }
    }

    /// Hands `emit` each task of [`tasks`](Self::tasks), in order, built
    /// only then: a DAG of 100,000 steps never holds its tasks at once.
    fn each_task<'d, E>(
        &'d self,
        scope: Option<BlockId>,
        mut emit: impl FnMut(Task<'d>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut placed = BTreeSet::new();
        let blocks_here = self.pipeline.blocks_in(scope).map(|(id, _)| id);
        let steps = self.pipeline.steps.iter().enumerate();
        let order = steps
            .filter(|(_, s)| self.within(s.block, scope))
            .map(|(i, s)| {
                if s.block == scope {
                    Err(i)
                } else {
                    Ok(self.child_toward(scope, s.block))
                }
            });
        for entry in order {
            match entry {
                Err(index) => emit(Task::Step(self.step_task(scope, index)))?,
                Ok(Some(block)) => {
                    if placed.insert(block)
                        && let Some(task) = self.block_task(scope, block)
                    {
                        emit(Task::Built(task))?;
                    }
                }
                Ok(None) => {}
            }
        }
        for block in blocks_here {
            if placed.insert(block)
                && let Some(task) = self.block_task(scope, block)
            {
                emit(Task::Built(task))?;
            }
        }
        Ok(())
    }

    /// The tasks in `scope` that the given steps stand for, sorted, each once.
    fn dependencies<'s>(
        &self,
        scope: Option<BlockId>,
        steps: impl IntoIterator<Item = &'s str>,
        except: &str,
    ) -> Vec<String> {
        let mut out: Vec<String> = steps
            .into_iter()
            .filter_map(|s| self.anchor(scope, s))
            .filter(|t| t != except)
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The task of step `index` in `scope`, planned: its arguments' values
    /// are found as it is built or written.
    fn step_task(&self, scope: Option<BlockId>, index: usize) -> StepTask<'_> {
        let step = &self.pipeline.steps[index];
        let name = kubernetes_name(&step.name);
        let dependencies = self.dependencies(
            scope,
            step.dependencies.iter().map(|d| d.step.as_str()),
            &name,
        );
        let (template, condition) = match (self.when_guards.get(&index), &step.when) {
            (Some(guard), Some(when)) => (
                Cow::Borrowed(guard.as_str()),
                Some(self.condition_tag(scope, when)),
            ),
            _ => (
                Cow::Owned(template_name(self.pipeline, self.template_owners, index)),
                None,
            ),
        };
        StepTask {
            name,
            template,
            dependencies,
            condition,
            inputs: &self.step_inputs[index],
        }
    }

    /// The task of block `block` in `scope` (`None` for `finally`, which
    /// is the exit handler, not a task).
    fn block_task(&self, scope: Option<BlockId>, block: BlockId) -> Option<DagTask> {
        let names = &self.names[block];
        let dependencies = self.block_dependencies(scope, block);
        let inputs = &self.inputs[block];
        let task = match &self.pipeline.blocks[block].kind {
            BlockKind::If { condition, .. } => {
                let mut parameters =
                    vec![parameter(COND, Some(self.condition_tag(scope, condition)))];
                parameters.extend(self.arguments(scope, inputs));
                task(
                    names.template.clone(),
                    names.template.clone(),
                    dependencies,
                    parameters,
                )
            }
            BlockKind::For { .. } => match &names.wrapper {
                Some(wrapper) => {
                    let parameters = self.arguments(scope, &self.wrapper_inputs(block));
                    task(
                        names.template.clone(),
                        wrapper.clone(),
                        dependencies,
                        parameters,
                    )
                }
                None => {
                    let mut loop_task = self.loop_task(block, scope, false);
                    loop_task.dependencies = dependencies;
                    loop_task
                }
            },
            BlockKind::Repeat { carries, .. } => {
                let mut parameters = vec![parameter(PASS, Some("1".into()))];
                for r in inputs {
                    let value = match r {
                        Ref::Carry(name) => match carries.iter().find(|c| &c.name == name) {
                            Some(carry) => Ref::encode(&self.text_source(scope, &carry.initial)),
                            None => self.argument(scope, r),
                        },
                        _ => self.argument(scope, r),
                    };
                    parameters.push(parameter(&r.input_name(), Some(value)));
                }
                task(
                    names.template.clone(),
                    names.template.clone(),
                    dependencies,
                    parameters,
                )
            }
            BlockKind::Finally => return None,
        };
        Some(task)
    }

    /// What a block waits for: every step outside it that a step in it, or
    /// the head of a block in it, depends on.
    fn block_dependencies(&self, scope: Option<BlockId>, block: BlockId) -> Vec<String> {
        let pipeline = self.pipeline;
        let inside = |b: Option<BlockId>| pipeline.is_within(b, block);
        let from_steps = pipeline
            .steps
            .iter()
            .filter(|s| inside(s.block))
            .flat_map(|s| s.dependencies.iter().map(|d| d.step.as_str()));
        let from_heads = pipeline
            .blocks
            .iter()
            .enumerate()
            .filter(|(id, _)| inside(Some(*id)))
            .flat_map(|(_, b)| b.dependencies.iter().map(String::as_str));
        let outside = from_steps
            .chain(from_heads)
            .filter(|d| pipeline.step(d).is_some_and(|s| !inside(s.block)));
        self.dependencies(scope, outside, &self.names[block].template)
    }

    /// A template text (a carried value's start) as an expression in `scope`.
    fn text_source(&self, scope: Option<BlockId>, text: &Text) -> String {
        let pieces = flatten(text);
        if pieces.is_empty() {
            return "''".into();
        }
        pieces
            .iter()
            .map(|piece| match piece {
                Piece::Lit(literal) => condition::string_literal(literal),
                Piece::Ref(r) => self.source(scope, r),
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }

    // ---- loops -------------------------------------------------------------

    /// The loop's item values the body reads.
    fn item_refs(&self, block: BlockId) -> Vec<&Ref> {
        let BlockKind::For { var, .. } = &self.pipeline.blocks[block].kind else {
            return Vec::new();
        };
        self.inputs[block]
            .iter()
            .filter(|r| matches!(r, Ref::Item { var: v, .. } if v == var))
            .collect()
    }

    /// What a loop's wrapper receives: the body's values but the items, and
    /// a run-time list made outside.
    fn wrapper_inputs(&self, block: BlockId) -> BTreeSet<Ref> {
        let items = self.item_refs(block);
        let mut inputs: BTreeSet<Ref> = self.inputs[block]
            .iter()
            .filter(|r| !items.contains(r))
            .cloned()
            .collect();
        if let BlockKind::For { items, .. } = &self.pipeline.blocks[block].kind
            && let Some(r @ Ref::Output { .. }) = items_ref(items)
        {
            inputs.insert(r);
        }
        inputs
    }

    /// The looped task over the body. Its values come from `scope`, or,
    /// `in_wrapper`, from the wrapper's inputs.
    fn loop_task(&self, block: BlockId, scope: Option<BlockId>, in_wrapper: bool) -> DagTask {
        let names = &self.names[block];
        let BlockKind::For { items, .. } = &self.pipeline.blocks[block].kind else {
            return task(
                names.template.clone(),
                names.template.clone(),
                Vec::new(),
                Vec::new(),
            );
        };
        let item_refs = self.item_refs(block);
        let fields = item_refs
            .iter()
            .any(|r| matches!(r, Ref::Item { field: Some(_), .. }));
        // Map items read whole: Argo hands an expression a map item as a
        // map of its fields' texts, which cannot be written back as the
        // item's JSON, so a run-time list of them is rewritten first.
        let whole_map = fields
            && item_refs
                .iter()
                .any(|r| matches!(r, Ref::Item { field: None, .. }));
        let value_of = |r: &Ref| {
            if in_wrapper {
                match r.global_source() {
                    Some(global) => global,
                    None => r.decoded_input(),
                }
            } else {
                self.source(scope, r)
            }
        };
        let mut with_items = Vec::new();
        let mut with_param = None;
        match items {
            Items::Fixed(text) => {
                let values = literal_items(text, &item_refs, fields);
                if values.is_empty() {
                    with_param = Some("[]".to_string());
                }
                with_items = values;
            }
            other => {
                if let Some(r) = items_ref(other) {
                    let list = value_of(&r);
                    let list = if whole_map {
                        as_json_texts(&list, &item_refs)
                    } else {
                        list
                    };
                    with_param = Some(format!("{{{{={list}}}}}"));
                }
            }
        }
        let shape = match items {
            Items::Fixed(_) if fields => ItemShape::Fields,
            _ if whole_map => ItemShape::JsonTexts,
            _ => ItemShape::Plain,
        };
        let parameters = self.inputs[block]
            .iter()
            .map(|r| {
                let value = if item_refs.contains(&r) {
                    Ref::encode(&item_expression(r, shape))
                } else if in_wrapper {
                    passthrough(&r.input_name())
                } else {
                    self.argument(scope, r)
                };
                parameter(&r.input_name(), Some(value))
            })
            .collect();
        let mut looped = task(
            names.template.clone(),
            names.template.clone(),
            Vec::new(),
            parameters,
        );
        looped.with_items = with_items;
        looped.with_param = with_param;
        looped
    }

    // ---- templates -------------------------------------------------------------

    fn block_templates<'d>(&'d self, block: BlockId, out: &mut Vec<DagPlan<'d, 'a>>) {
        let names = &self.names[block];
        let kind = &self.pipeline.blocks[block].kind;
        let mut inputs: Vec<String> = self.inputs[block].iter().map(Ref::input_name).collect();
        // Only a repeat's tasks are built here (its guard waits for each);
        // the other blocks' are built as they are written.
        let mut tasks = Vec::new();
        let mut when = None;
        match kind {
            BlockKind::If { otherwise, .. } => {
                inputs.insert(0, COND.into());
                when = Some(format!("{} == {}", passthrough(COND), !otherwise));
            }
            BlockKind::For {
                parallelism: Some(limit),
                ..
            } => {
                if let Some(wrapper) = &names.wrapper {
                    let wrapper_inputs: Vec<String> = self
                        .wrapper_inputs(block)
                        .iter()
                        .map(Ref::input_name)
                        .collect();
                    let looped = self.loop_task(block, Some(block), true);
                    let mut template = dag_template(wrapper, vec![looped]);
                    template.inputs = inputs_of(wrapper_inputs);
                    template.outputs =
                        self.outputs(block, |_| names.template.clone(), |r| r.input_name());
                    template.parallelism = Some(*limit);
                    out.push(DagPlan::Built(template));
                }
            }
            BlockKind::Repeat { .. } => {
                inputs.insert(0, PASS.into());
                tasks = self.tasks(Some(block));
                tasks.push(self.next_task(block, &tasks));
            }
            BlockKind::For { .. } | BlockKind::Finally => {}
        }
        let repeat = matches!(kind, BlockKind::Repeat { .. });
        let mut template = dag_template(&names.template, tasks);
        template.inputs = inputs_of(inputs);
        template.outputs = match (kind, &names.next) {
            (BlockKind::Repeat { .. }, Some(next)) => {
                self.outputs(block, |_| next.clone(), |r| r.input_name())
            }
            _ => self.outputs(
                block,
                |step| self.anchor(Some(block), step).unwrap_or_default(),
                |r| self.export_name(block, r),
            ),
        };
        if repeat {
            out.push(DagPlan::Built(template));
            out.push(DagPlan::Built(self.next_template(block)));
            out.push(DagPlan::Built(self.exhausted_template(block)));
        } else {
            out.push(self.lazy(template, Some(block), when));
        }
    }

    /// The output a task in `block` gives for `r`: the step's own output
    /// name when the step is directly in the block, else the child's export.
    fn export_name(&self, block: BlockId, r: &Ref) -> String {
        match r {
            Ref::Output { step, output }
                if self
                    .pipeline
                    .step(step)
                    .is_some_and(|s| s.block == Some(block)) =>
            {
                output.clone()
            }
            _ => r.input_name(),
        }
    }

    /// A DAG's outputs: each export, from the task `task(step)` gives it.
    fn outputs(
        &self,
        block: BlockId,
        task: impl Fn(&str) -> String,
        name: impl Fn(&Ref) -> String,
    ) -> Option<Outputs> {
        let parameters: Vec<Parameter> = self.exports[block]
            .iter()
            .filter_map(|r| match r {
                Ref::Output { step, .. } => Some(Parameter {
                    name: r.input_name(),
                    value: None,
                    value_from: Some(ValueFrom {
                        parameter: Some(format!(
                            "{{{{tasks.{}.outputs.parameters.{}}}}}",
                            task(step),
                            name(r)
                        )),
                        ..ValueFrom::default()
                    }),
                }),
                _ => None,
            })
            .collect();
        (!parameters.is_empty()).then(|| Outputs {
            parameters,
            artifacts: Vec::new(),
        })
    }

    /// The repeat's guard task, after every task of the pass.
    fn next_task(&self, block: BlockId, body: &[DagTask]) -> DagTask {
        let names = &self.names[block];
        let next = names.next.clone().unwrap_or_default();
        let BlockKind::Repeat {
            max,
            carries,
            until,
        } = &self.pipeline.blocks[block].kind
        else {
            return task(next.clone(), next, Vec::new(), Vec::new());
        };
        let scope = Some(block);
        let max = match max {
            Count::Fixed(n) => n.to_string(),
            Count::Param(param) => format!("asInt(workflow.parameters['{}'])", param.name),
            // Only `gpus` reads an output.
            Count::Output(_) => String::from("0"),
        };
        let pass = format!("asInt(inputs.parameters['{PASS}'])");
        let until = condition::expression(until, &mut |r| self.source(scope, r));
        let mut parameters = vec![
            parameter(
                NEXT,
                Some(format!(
                    "{{{{={until} ? '0' : ({pass} < {max} ? '1' : '2')}}}}"
                )),
            ),
            parameter(PASS, Some(format!("{{{{=string({pass} + 1)}}}}"))),
        ];
        for r in &self.inputs[block] {
            let value = match r {
                Ref::Carry(name) => match carries.iter().find(|c| &c.name == name) {
                    Some(carry) => {
                        let (step, output) = carry.next.clone();
                        Ref::encode(&self.source(scope, &Ref::Output { step, output }))
                    }
                    None => passthrough(&r.input_name()),
                },
                _ => passthrough(&r.input_name()),
            };
            parameters.push(parameter(&r.input_name(), Some(value)));
        }
        for r in &self.exports[block] {
            parameters.push(parameter(
                &last(r),
                Some(Ref::encode(&self.source(scope, r))),
            ));
        }
        let dependencies = body.iter().map(|t| t.name.clone()).collect();
        task(next.clone(), next, dependencies, parameters)
    }

    /// The guard: runs the next pass (1) or the failing pod (2); its outputs
    /// are the next pass's, or, when it stops, this pass's.
    fn next_template(&self, block: BlockId) -> Template {
        let names = &self.names[block];
        let next = names.next.clone().unwrap_or_default();
        let exhausted = names.exhausted.clone().unwrap_or_default();
        let passed: Vec<String> = self.inputs[block].iter().map(Ref::input_name).collect();
        let mut again_arguments = vec![parameter(PASS, Some(passthrough(PASS)))];
        again_arguments.extend(passed.iter().map(|n| parameter(n, Some(passthrough(n)))));
        let mut again = task(
            names.template.clone(),
            names.template.clone(),
            Vec::new(),
            again_arguments,
        );
        again.when = Some(format!("{} == 1", passthrough(NEXT)));
        let mut fail = task(exhausted.clone(), exhausted, Vec::new(), Vec::new());
        fail.when = Some(format!("{} == 2", passthrough(NEXT)));
        let mut template = dag_template(&next, vec![again, fail]);
        let mut inputs = vec![NEXT.to_string(), PASS.to_string()];
        inputs.extend(passed);
        inputs.extend(self.exports[block].iter().map(last));
        template.inputs = inputs_of(inputs);
        let parameters: Vec<Parameter> = self.exports[block]
            .iter()
            .map(|r| Parameter {
                name: r.input_name(),
                value: None,
                value_from: Some(ValueFrom {
                    expression: Some(format!(
                        "inputs.parameters['{NEXT}'] == '1' ? {} : {DECODE}(inputs.parameters['{}'])",
                        Ref::task_output(&names.template, &r.input_name()),
                        last(r),
                    )),
                    ..ValueFrom::default()
                }),
            })
            .collect();
        template.outputs = (!parameters.is_empty()).then(|| Outputs {
            parameters,
            artifacts: Vec::new(),
        });
        template
    }

    /// The pod that fails a repeat whose passes ran out, saying so.
    fn exhausted_template(&self, block: BlockId) -> Template {
        let names = &self.names[block];
        let limit = match &self.pipeline.blocks[block].kind {
            BlockKind::Repeat {
                max: Count::Fixed(n),
                ..
            } => format!("{n} passes"),
            BlockKind::Repeat {
                max: Count::Param(param),
                ..
            } => format!("`$<{}>` passes", param.name),
            _ => String::new(),
        };
        let message = format!(
            "kfpl: error: repeat `{}` ran its maximum of {limit} and its `until` condition never held",
            names.template
        );
        let script = format!("printf '%s\\n' {} >&2; exit 1", sh_quote(&message));
        let mut template = dag_template(names.exhausted.as_deref().unwrap_or_default(), Vec::new());
        template.dag = None;
        template.container = Some(Container {
            name: MAIN_CONTAINER.into(),
            image: Some(HELPER_IMAGE.into()),
            command: Some(vec!["sh".into(), "-c".into(), k8s_escape(&script)]),
            ..Container::default()
        });
        template
    }

    /// The guard around a step with `when`.
    fn when_guard(&self, index: usize, guard: &str) -> Template {
        let step = &self.pipeline.steps[index];
        let names: Vec<String> = self.step_inputs[index]
            .iter()
            .map(Ref::input_name)
            .collect();
        let parameters = names
            .iter()
            .map(|n| parameter(n, Some(passthrough(n))))
            .collect();
        let mut inner = task(
            kubernetes_name(&step.name),
            template_name(self.pipeline, self.template_owners, index),
            Vec::new(),
            parameters,
        );
        inner.when = Some(format!("{} == true", passthrough(COND)));
        let mut template = dag_template(guard, vec![inner]);
        let mut inputs = vec![COND.to_string()];
        inputs.extend(names);
        template.inputs = inputs_of(inputs);
        template
    }
}

/// A DAG template as [`Dags::plans`] gives it: built, or its tasks still
/// to be built as it is written.
pub(crate) enum DagPlan<'d, 'a> {
    Built(Template),
    Lazy(LazyDag<'d, 'a>),
}

impl DagPlan<'_, '_> {
    /// The template with all its tasks.
    fn build(self) -> Template {
        match self {
            DagPlan::Built(template) => template,
            DagPlan::Lazy(lazy) => {
                let mut template = lazy.template;
                let mut tasks = lazy.dags.tasks(lazy.scope);
                for task in &mut tasks {
                    give_when(task, lazy.when.as_deref());
                }
                template.dag = Some(DagTemplate { tasks });
                template
            }
        }
    }
}

/// Gives a task its DAG's `when` (an `if` block's tasks compare its condition).
fn give_when(task: &mut DagTask, when: Option<&str>) {
    if let Some(when) = when {
        task.when = Some(when.to_string());
    }
}

/// A DAG template whose tasks (those of `scope`, each given `when`) are
/// built one at a time as it is written; `template` holds the rest.
pub(crate) struct LazyDag<'d, 'a> {
    dags: &'d Dags<'a>,
    template: Template,
    scope: Option<BlockId>,
    when: Option<String>,
}

impl serde::Serialize for DagPlan<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            DagPlan::Built(template) => template.serialize(serializer),
            DagPlan::Lazy(lazy) => lazy.serialize(serializer),
        }
    }
}

impl serde::Serialize for LazyDag<'_, '_> {
    /// Writes `template` as [`Template`]'s derive would, `dag` in its
    /// place. A DAG template sets only these fields (see `dag_template`).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let template = &self.template;
        let mut out = serializer.serialize_struct("Template", 5)?;
        out.serialize_field("name", &template.name)?;
        if let Some(inputs) = &template.inputs {
            out.serialize_field("inputs", inputs)?;
        }
        if let Some(outputs) = &template.outputs {
            out.serialize_field("outputs", outputs)?;
        }
        out.serialize_field("dag", &LazyTasks(self))?;
        if let Some(parallelism) = &template.parallelism {
            out.serialize_field("parallelism", parallelism)?;
        }
        out.end()
    }
}

/// `dag:` of a [`LazyDag`]: `tasks`, each built, written and dropped.
struct LazyTasks<'l, 'd, 'a>(&'l LazyDag<'d, 'a>);

impl serde::Serialize for LazyTasks<'_, '_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("DagTemplate", 1)?;
        out.serialize_field("tasks", &EachTask(self.0))?;
        out.end()
    }
}

/// `tasks:` of a [`LazyDag`], each task laid out by [`super::dag_emit`]
/// and written as its text: only [`super::block`]'s writer takes it (see
/// [`Rendered`]), with the DAG an item of `spec.templates`.
struct EachTask<'l, 'd, 'a>(&'l LazyDag<'d, 'a>);

impl serde::Serialize for EachTask<'_, '_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let lazy = self.0;
        let mut seq = serializer.serialize_seq(None)?;
        let when = lazy.when.as_deref();
        let mut rendering = Rendering::at(dag_emit::TASK_DASHES);
        let mut arguments = ArgumentTexts::new(lazy.dags, lazy.scope);
        lazy.dags.each_task(lazy.scope, |task| {
            let laid_out = rendering.render(|map| match task {
                Task::Step(step) => dag_emit::step_task(map, &step, when, &mut arguments),
                Task::Built(mut task) => {
                    give_when(&mut task, when);
                    dag_emit::task(map, &task)
                }
            });
            laid_out.map_err(S::Error::custom)?;
            seq.serialize_element(&Rendered(rendering.bytes()))
        })?;
        seq.end()
    }
}

/// The name of step `index`'s template: that of the step that owns it
/// (itself, or the first alike step), as every step template is named
/// after its step; an index a step instead of a name.
pub(crate) fn template_name(pipeline: &Pipeline, owners: &[usize], index: usize) -> String {
    owners
        .get(index)
        .and_then(|&owner| pipeline.steps.get(owner))
        .map(|step| kubernetes_name(&step.name))
        .unwrap_or_default()
}

/// Argo aggregates a loop's outputs as a JSON list of strings, so across
/// nested loops each inner list arrives as a string: read from outside
/// `loops` loops, the strings are parsed back into lists, as `kfpl run`
/// gives them.
fn nested_lists(aggregate: &str, loops: usize) -> String {
    if loops < 2 {
        return aggregate.to_string();
    }
    let mut parse = "sprig.fromJson(#)".to_string();
    for _ in 2..loops {
        parse = format!("map(sprig.fromJson(#), {{{parse}}})");
    }
    format!("toJson(map(sprig.fromJson({aggregate}), {{{parse}}}))")
}

/// The input that holds a repeat export's value from the pass that ends.
fn last(r: &Ref) -> String {
    format!("{}--last", r.input_name())
}

/// The keyword a block's templates are named after.
fn keyword(kind: &BlockKind) -> &'static str {
    match kind {
        BlockKind::If {
            otherwise: false, ..
        } => "if",
        BlockKind::If {
            otherwise: true, ..
        } => "else",
        BlockKind::For { .. } => "for",
        BlockKind::Repeat { .. } => "repeat",
        BlockKind::Finally => "finally",
    }
}

/// The value a run-time list comes from.
fn items_ref(items: &Items) -> Option<Ref> {
    match items {
        Items::Fixed(_) => None,
        Items::Param(name) => Some(Ref::Param(name.clone())),
        Items::Output { step, output } => Some(Ref::Output {
            step: step.clone(),
            output: output.clone(),
        }),
    }
}

fn text_refs(text: &Text) -> Vec<Ref> {
    flatten(text)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Ref(r) => Some(r),
            Piece::Lit(_) => None,
        })
        .collect()
}

/// A literal loop's `withItems`: each item's text, or, when the body reads
/// fields, a map of the item's text (under [`WHOLE_ITEM`]) and each field's
/// text. All strings: Argo hands a number's text back as its float would be
/// written (`1.0` → `1`), a string's as it is.
fn literal_items(text: &str, item_refs: &[&Ref], fields: bool) -> Vec<serde_json::Value> {
    let Ok((Json::List(items), _)) = parse_with_item_starts(text) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            if !fields {
                return serde_json::Value::String(item.interpolated());
            }
            let mut map = serde_json::Map::new();
            for r in item_refs {
                let (key, value) = match r {
                    Ref::Item { field: None, .. } => (WHOLE_ITEM.to_string(), item.interpolated()),
                    Ref::Item {
                        field: Some(field), ..
                    } => {
                        let value = match item {
                            Json::Map(entries) => entries.get(field).map(Json::interpolated),
                            _ => None,
                        };
                        (field.clone(), value.unwrap_or_default())
                    }
                    _ => continue,
                };
                map.insert(key, serde_json::Value::String(value));
            }
            serde_json::Value::Object(map)
        })
        .collect()
}

/// How a loop's items reach Argo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemShape {
    /// As they are (literal items as their text).
    Plain,
    /// Literal items as maps of the fields' texts and the whole item's.
    Fields,
    /// Run-time map items as maps of the fields' and the whole item's JSON
    /// texts ([`as_json_texts`]).
    JsonTexts,
}

/// The expression for an item value from Argo's `item`. Argo gives a string
/// item's text with its JSON escapes kept (`a"b` as `a\"b`), so it is read
/// back as a JSON string; text that is not one (a list item) is taken as it is.
fn item_expression(r: &Ref, shape: ItemShape) -> String {
    let key = match r {
        Ref::Item {
            field: Some(field), ..
        } => format!("item['{field}']"),
        _ if shape != ItemShape::Plain => format!("item['{WHOLE_ITEM}']"),
        _ => "item".to_string(),
    };
    let text = format!("sprig.default({key}, sprig.fromJson('\"' + {key} + '\"'))");
    if shape != ItemShape::JsonTexts {
        return text;
    }
    // A JSON text: a string is unquoted, anything else is the text.
    format!("(sprig.hasPrefix('\"', {text}) ? sprig.fromJson({text}) : {text})")
}

/// A run-time list of map items rewritten as maps of JSON texts: the
/// whole item's (Go's JSON: keys sorted) under [`WHOLE_ITEM`], and each
/// field's read. The braces are spaced: `}}` would end the tag.
fn as_json_texts(list: &str, item_refs: &[&Ref]) -> String {
    // Go's JSON writes `<`, `>` and `&` as `\u003c`…; Argo undoes that on
    // an item's text, but here it would meet them escaped twice.
    let json = |value: &str| {
        let mut text = format!("toJson({value})");
        // The needle is built from two pieces: Argo undoes Go's escapes
        // in an expression's text too, which would turn `\\u003c` into `\<`.
        for (escaped, plain) in [("u003c", "<"), ("u003e", ">"), ("u0026", "&")] {
            text = format!("sprig.replace('\\\\' + '{escaped}', '{plain}', {text})");
        }
        text
    };
    let mut entries = vec![format!("'{WHOLE_ITEM}': {}", json("#"))];
    for r in item_refs {
        if let Ref::Item {
            field: Some(field), ..
        } = r
        {
            entries.push(format!("'{field}': {}", json(&format!("#['{field}']"))));
        }
    }
    format!(
        "toJson(map(sprig.fromJson({list}), {{ {{{}}} }}))",
        entries.join(", ")
    )
}

fn passthrough(name: &str) -> String {
    format!("{{{{inputs.parameters.{name}}}}}")
}

fn parameter(name: &str, value: Option<String>) -> Parameter {
    Parameter {
        name: name.to_string(),
        value,
        value_from: None,
    }
}

fn inputs_of(names: Vec<String>) -> Option<Inputs> {
    (!names.is_empty()).then(|| Inputs {
        parameters: names.iter().map(|n| parameter(n, None)).collect(),
        artifacts: Vec::new(),
    })
}

fn task(
    name: String,
    template: String,
    dependencies: Vec<String>,
    parameters: Vec<Parameter>,
) -> DagTask {
    DagTask {
        name,
        template,
        dependencies,
        arguments: Some(Arguments {
            parameters,
            artifacts: Vec::new(),
        })
        .filter(|a| !a.parameters.is_empty()),
        when: None,
        with_items: Vec::new(),
        with_param: None,
    }
}

/// A step's task as [`Dags::step_task`] plans it: what its [`DagTask`]
/// holds, the arguments' values still to be found (built, or written
/// one at a time by [`super::dag_emit`]).
pub(super) struct StepTask<'d> {
    pub(super) name: String,
    pub(super) template: Cow<'d, str>,
    pub(super) dependencies: Vec<String>,
    /// A step with `when`: the condition as an expression tag, the guard's
    /// first argument ([`COND`]).
    pub(super) condition: Option<String>,
    /// The values the step reads, an argument each.
    pub(super) inputs: &'d [Ref],
}

impl StepTask<'_> {
    fn build(self, dags: &Dags<'_>, scope: Option<BlockId>) -> DagTask {
        let mut parameters = Vec::with_capacity(self.inputs.len() + 1);
        if let Some(condition) = self.condition {
            parameters.push(parameter(COND, Some(condition)));
        }
        parameters.extend(dags.arguments(scope, self.inputs));
        task(
            self.name,
            self.template.into_owned(),
            self.dependencies,
            parameters,
        )
    }
}

/// A task as [`Dags::each_task`] hands it: a step's planned (nearly all
/// of them), a block's built.
pub(super) enum Task<'d> {
    Step(StepTask<'d>),
    Built(DagTask),
}

impl Task<'_> {
    fn build(self, dags: &Dags<'_>, scope: Option<BlockId>) -> DagTask {
        match self {
            Task::Step(step) => step.build(dags, scope),
            Task::Built(task) => task,
        }
    }
}

/// A DAG template.
pub(crate) fn dag_template(name: &str, tasks: Vec<DagTask>) -> Template {
    Template {
        name: name.to_string(),
        inputs: None,
        outputs: None,
        metadata: None,
        dag: Some(DagTemplate { tasks }),
        init_containers: Vec::new(),
        container: None,
        retry_strategy: None,
        pod_spec_patch: None,
        active_deadline_seconds: None,
        parallelism: None,
        node_selector: BTreeMap::new(),
        tolerations: Vec::new(),
        sidecars: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use crate::lower::{CompileOptions, compile, compile_streamed, yaml};
    use crate::source::SourceFile;

    /// The DAGs written task by task (`compile_streamed`, each task laid
    /// out by `dag_emit`) are the DAGs built whole (`compile`, written by
    /// serde's derive), byte for byte, for every compile golden's program,
    /// every example and a generated one: blocks of each kind, `when`,
    /// files passed between steps, params and outputs read by many steps.
    #[test]
    fn tasks_written_lazily_match_the_built_dags() {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut programs: Vec<_> = ["tests/compile", "examples", "examples/kfp-samples"]
            .into_iter()
            .flat_map(|dir| {
                std::fs::read_dir(format!("{root}/{dir}"))
                    .into_iter()
                    .flatten()
            })
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "kfp"))
            .map(|path| {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                SourceFile::new(path.display().to_string(), text)
            })
            .collect();
        programs.push(SourceFile::new(
            "generated.kfp".to_string(),
            crate::generate::program(60),
        ));
        let mut compared = 0;
        for file in programs {
            let options = CompileOptions::default();
            let Ok(built) = compile(&file, &options) else {
                continue;
            };
            let streamed = compile_streamed(&file, &options, |workflow| {
                let mut bytes = Vec::new();
                yaml::write_yaml(workflow, &mut bytes).map(|()| bytes)
            });
            let Ok((Ok(bytes), _)) = streamed else {
                panic!("{} compiles whole but not streamed", file.name());
            };
            assert_eq!(
                String::from_utf8_lossy(&bytes),
                built.yaml,
                "{}",
                file.name()
            );
            compared += 1;
        }
        assert!(compared >= 40, "only {compared} programs compiled");
    }
}
