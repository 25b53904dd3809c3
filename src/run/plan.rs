//! The instance graph: which step runs how many times, known as the run goes.
//!
//! A step runs as one or more *instances*, one for each iteration of the
//! `for` loops and each pass of the `repeat`s around it. An instance lives
//! in a [`Scope`]: one entry per loop (the iteration, from 0) and repeat
//! (the pass, from 1) around it, outermost first. Blocks open as values
//! become known: an `if` when the steps its condition reads have ended, a
//! `for` when its list is known (a `: list` output when its producer ends),
//! each `repeat` pass when the one before ended and `until` did not hold,
//! `finally` when the engine says everything else ended. A block that does
//! not run (a false condition, a dependency that failed) is *closed*: every
//! step inside it, nested ones too, gets one record in that state.
//!
//! An instance waits for its dependencies to be *settled* in its scope: a
//! dependency in the same iteration is that iteration's instance; one in a
//! loop the reader is not in is every iteration; one in a repeat the reader
//! is not in is the whole repeat (then its last pass). Skipped counts as
//! done (Argo: a Skipped dependency is complete); a failure, or a step that
//! never ran because of one, blocks the reader.
//!
//! Pure logic, no processes: [`Plan::advance`] says what to record and what
//! to run, the engine reports how instances ended ([`Plan::finish`]); the
//! [`Scheduler`](super::schedule::Scheduler) decides when they start.

use std::collections::BTreeMap;

use super::condition::{self, condition_source};
use crate::check::json::{self, Json};
use crate::check::values::kubernetes_name;
use crate::ir::{self, BlockId, BlockKind, Condition, Items, Part, Template};
use crate::params::count_value;

/// Where an instance is: (block, iteration from 0 or pass from 1) for each
/// `for` and `repeat` around it, outermost first.
pub(crate) type Scope = Vec<(BlockId, u32)>;

/// An index into [`Plan::instances`].
pub(crate) type InstanceId = usize;

/// Where an instance stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Its dependencies have not all ended.
    Waiting,
    /// Handed to the engine to run.
    Running,
    /// Ran and succeeded (or was reused).
    Succeeded,
    /// Ran and failed, was cancelled, or could not run (a value it reads is missing).
    Failed,
    /// A condition was false: done, for its dependents.
    Skipped,
    /// Never ran because a dependency failed or the run stopped: failed, for its dependents.
    Blocked,
}

impl State {
    /// `name` is the record, `cause` the failed record that kept it from running.
    fn settle(self, name: &str, cause: Option<&String>) -> Settle {
        match self {
            State::Waiting | State::Running => Settle::Pending,
            State::Succeeded | State::Skipped => Settle::Done,
            State::Failed | State::Blocked => Settle::Failed(cause.map_or(name, |c| c).to_string()),
        }
    }
}

/// One run of one step.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    /// Index into the pipeline's steps.
    pub(crate) step: usize,
    pub(crate) scope: Scope,
    /// The record's name: `train`, `train[1] lr=0.1`, `next#2`.
    pub(crate) name: String,
    /// The name without item labels, for folders and pod names: `train[1]`, `next#2`.
    pub(crate) key: String,
    /// The innermost loop iteration around it (from 0), if any.
    pub(crate) iteration: Option<u32>,
    /// The innermost repeat pass around it (from 1), if any.
    pub(crate) pass: Option<u32>,
    pub(crate) state: State,
    /// The failed record that kept it from running (when blocked).
    cause: Option<String>,
    /// Its outputs once it succeeded.
    pub(crate) outputs: BTreeMap<String, String>,
}

/// What the engine must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// A new instance: record it `pending`.
    Created(InstanceId),
    /// Its dependencies ended and its `when` holds: run it.
    Run(InstanceId),
    /// Record it `skipped` with this reason (never run).
    Skip(InstanceId, String),
    /// Record it `failed` with this reason (never run): a value it needs cannot be read.
    Fail(InstanceId, String),
    /// The run fails for a reason no single step holds (a repeat that never ended).
    RunFails(String),
}

/// Whether a dependency has ended.
#[derive(Debug, Clone, PartialEq)]
enum Settle {
    Pending,
    Done,
    /// It (or what it needed) failed: the record named.
    Failed(String),
}

impl Settle {
    /// Pending before failed before done, over several.
    fn all(items: impl IntoIterator<Item = Settle>) -> Settle {
        let mut out = Settle::Done;
        for item in items {
            match item {
                Settle::Pending => return Settle::Pending,
                Settle::Failed(name) if out == Settle::Done => out = Settle::Failed(name),
                _ => {}
            }
        }
        out
    }
}

/// A block opened (or closed) in one scope.
#[derive(Debug, Clone)]
enum Head {
    /// Its steps run in this scope (an `if` or `else` chosen, `finally` started).
    Open,
    /// It does not run: every step inside was recorded in this state.
    Closed(State, Option<String>),
    /// A `for` with its items; iterations `0..opened` are open.
    Items { items: Vec<Json>, opened: u32 },
    /// A `repeat` at pass `pass` of at most `max`; `end` once decided (the last pass, or failed).
    Repeat {
        pass: u32,
        max: u32,
        end: Option<Result<u32, ()>>,
    },
}

/// A block that may still open more: a loop with iterations not yet open,
/// a repeat whose pass may end.
#[derive(Debug, Clone, Copy)]
enum Move {
    Iterations { total: u32, opened: u32 },
    Pass { pass: u32, max: u32 },
}

/// The instance graph of one run.
#[derive(Debug)]
pub(crate) struct Plan<'p> {
    pipeline: &'p ir::Pipeline,
    params: BTreeMap<String, String>,
    /// `<pipeline in Kubernetes form>-<run id>` and the run id.
    workflow: (String, String),
    /// `$<workflow.status>`, set when `finally` opens.
    status: Option<&'static str>,
    pub(crate) instances: Vec<Instance>,
    by_scope: BTreeMap<(usize, Scope), InstanceId>,
    heads: BTreeMap<(BlockId, Scope), Head>,
    /// Blocks whose head is not resolved yet, in the order they were met.
    unresolved: Vec<(BlockId, Scope)>,
    actions: Vec<Action>,
    stopped: bool,
}

impl<'p> Plan<'p> {
    /// The plan of a new run: the top level is open (but not `finally`).
    pub(crate) fn new(
        pipeline: &'p ir::Pipeline,
        params: BTreeMap<String, String>,
        run_id: &str,
    ) -> Plan<'p> {
        let mut plan = Plan {
            pipeline,
            params,
            // As on Argo, where the workflow is named after the pipeline's
            // Kubernetes name (`generateName`) and every pod after the workflow.
            workflow: (
                format!("{}-{run_id}", kubernetes_name(&pipeline.ident)),
                run_id.to_string(),
            ),
            status: None,
            instances: Vec::new(),
            by_scope: BTreeMap::new(),
            heads: BTreeMap::new(),
            unresolved: Vec::new(),
            actions: Vec::new(),
            stopped: false,
        };
        plan.open(None, &Vec::new());
        plan
    }

    /// What to do now: new instances, instances to run, skip or fail.
    /// Call again after every [`Plan::finish`].
    pub(crate) fn advance(&mut self) -> Vec<Action> {
        loop {
            let before = self.actions.len();
            self.resolve_heads();
            self.progress_heads();
            self.release_instances();
            if self.actions.len() == before {
                break;
            }
        }
        std::mem::take(&mut self.actions)
    }

    /// Instance `id` ended; `outputs` when it succeeded.
    pub(crate) fn finish(
        &mut self,
        id: InstanceId,
        state: State,
        outputs: BTreeMap<String, String>,
    ) {
        if let Some(instance) = self.instances.get_mut(id) {
            instance.state = state;
            instance.outputs = outputs;
        }
    }

    /// Nothing more opens or runs (Ctrl-C, or the end of the main part of
    /// the run): what still waits is closed as blocked, with `reason`.
    pub(crate) fn stop(&mut self, reason: &str) -> Vec<Action> {
        self.stopped = true;
        for (block, scope) in std::mem::take(&mut self.unresolved) {
            self.close(block, &scope, State::Blocked, reason, None);
        }
        for id in 0..self.instances.len() {
            if self.instances[id].state == State::Waiting {
                self.instances[id].state = State::Blocked;
                self.actions.push(Action::Skip(id, reason.to_string()));
            }
        }
        std::mem::take(&mut self.actions)
    }

    /// Opens the `finally` block (if there is one), with `$<workflow.status>`.
    pub(crate) fn open_finally(&mut self, status: &'static str) -> Vec<Action> {
        self.stopped = false;
        self.status = Some(status);
        let finally = self
            .pipeline
            .blocks_in(None)
            .find(|(_, b)| b.kind == BlockKind::Finally)
            .map(|(id, _)| id);
        if let Some(block) = finally {
            self.heads.insert((block, Vec::new()), Head::Open);
            self.open(Some(block), &Vec::new());
        }
        self.advance()
    }

    /// Creates the instances of the steps directly in `block` and queues its child blocks.
    fn open(&mut self, block: Option<BlockId>, scope: &Scope) {
        let pipeline = self.pipeline;
        for (index, _) in pipeline.steps_in(block) {
            self.create(index, scope);
        }
        for (child, b) in pipeline.blocks_in(block) {
            if b.kind != BlockKind::Finally {
                self.unresolved.push((child, scope.clone()));
            }
        }
    }

    fn create(&mut self, step: usize, scope: &Scope) -> InstanceId {
        if let Some(&id) = self.by_scope.get(&(step, scope.clone())) {
            return id;
        }
        let id = self.instances.len();
        let (key, name) = self.names(step, scope);
        let innermost = |kind: fn(&BlockKind) -> bool| {
            scope
                .iter()
                .rev()
                .find(|(b, _)| kind(&self.pipeline.blocks[*b].kind))
                .map(|&(_, n)| n)
        };
        let instance = Instance {
            step,
            scope: scope.clone(),
            name,
            key,
            iteration: innermost(|k| matches!(k, BlockKind::For { .. })),
            pass: innermost(|k| matches!(k, BlockKind::Repeat { .. })),
            state: State::Waiting,
            cause: None,
            outputs: BTreeMap::new(),
        };
        self.instances.push(instance);
        self.by_scope.insert((step, scope.clone()), id);
        self.actions.push(Action::Created(id));
        id
    }

    /// `train[1]` and `train[1] lr=0.1`: the step, `[i]` per iteration and
    /// `#p` per pass, then `var=item` per loop.
    fn names(&self, step: usize, scope: &Scope) -> (String, String) {
        let mut key = self.pipeline.steps[step].name.clone();
        let mut labels = Vec::new();
        for (depth, &(block, n)) in scope.iter().enumerate() {
            match &self.pipeline.blocks[block].kind {
                BlockKind::For { var, .. } => {
                    key.push_str(&format!("[{n}]"));
                    if let Some(item) = self.item(block, &scope[..depth], n) {
                        labels.push(format!("{var}={}", label(&item.interpolated())));
                    }
                }
                _ => key.push_str(&format!("#{n}")),
            }
        }
        let name = std::iter::once(key.clone())
            .chain(labels)
            .collect::<Vec<_>>()
            .join(" ");
        (key, name)
    }

    fn item(&self, block: BlockId, prefix: &[(BlockId, u32)], n: u32) -> Option<&Json> {
        match self.heads.get(&(block, prefix.to_vec())) {
            Some(Head::Items { items, .. }) => items.get(n as usize),
            _ => None,
        }
    }

    /// Records every step inside `block` (nested ones too) in `state`;
    /// `cause` is the failed record that kept them from running.
    fn close(
        &mut self,
        block: BlockId,
        scope: &Scope,
        state: State,
        reason: &str,
        cause: Option<&String>,
    ) {
        self.heads
            .insert((block, scope.clone()), Head::Closed(state, cause.cloned()));
        let pipeline = self.pipeline;
        let inside: Vec<usize> = pipeline
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| pipeline.is_within(s.block, block))
            .map(|(i, _)| i)
            .collect();
        for step in inside {
            let id = self.create(step, scope);
            self.instances[id].state = state;
            self.instances[id].cause = cause.cloned();
            self.actions.push(match state {
                State::Failed => Action::Fail(id, reason.to_string()),
                _ => Action::Skip(id, reason.to_string()),
            });
        }
    }

    /// Opens or closes each block whose head can now be read.
    fn resolve_heads(&mut self) {
        if self.stopped {
            return;
        }
        let mut index = 0;
        while index < self.unresolved.len() {
            let (block, scope) = self.unresolved[index].clone();
            if self.resolve(block, &scope) {
                self.unresolved.remove(index);
            } else {
                index += 1;
            }
        }
    }

    /// Resolves one head; false while what it reads has not ended.
    fn resolve(&mut self, block: BlockId, scope: &Scope) -> bool {
        let pipeline = self.pipeline;
        let b = &pipeline.blocks[block];
        let deps = Settle::all(
            b.dependencies
                .iter()
                .map(|dep| self.settled(dep, scope, b.parent)),
        );
        match deps {
            Settle::Pending => return false,
            Settle::Failed(name) => {
                let reason = format!("it depends on `{name}`, which failed");
                self.close(block, scope, State::Blocked, &reason, Some(&name));
                return true;
            }
            Settle::Done => {}
        }
        match &b.kind {
            BlockKind::If {
                condition,
                otherwise,
            } => self.decide_if(block, scope, condition, *otherwise),
            BlockKind::For { var, items, .. } => self.read_items(block, scope, var, items),
            BlockKind::Repeat { max, .. } => self.first_pass(block, scope, max),
            BlockKind::Finally => {}
        }
        true
    }

    /// Opens an `if` (or `else`) block its condition chose, else closes it as skipped.
    fn decide_if(&mut self, block: BlockId, scope: &Scope, condition: &Condition, otherwise: bool) {
        let parent = self.pipeline.blocks[block].parent;
        match self.holds(condition, scope, parent) {
            Ok(holds) if holds != otherwise => {
                self.heads.insert((block, scope.clone()), Head::Open);
                self.open(Some(block), scope);
            }
            Ok(holds) => {
                let reason = format!("its condition `{}` is {holds}", condition_source(condition));
                self.close(block, scope, State::Skipped, &reason, None);
            }
            Err(problem) => {
                let reason = format!("its condition cannot be evaluated: {problem}");
                self.close(block, scope, State::Failed, &reason, None);
            }
        }
    }

    /// Reads a `for`'s items (its iterations open in [`Plan::progress_heads`]).
    fn read_items(&mut self, block: BlockId, scope: &Scope, var: &str, items: &Items) {
        let parent = self.pipeline.blocks[block].parent;
        match self.items(items, scope, parent) {
            Ok(items) => {
                self.heads
                    .insert((block, scope.clone()), Head::Items { items, opened: 0 });
            }
            Err(problem) => {
                let reason = format!("the list of `for {var}` {problem}");
                self.close(block, scope, State::Failed, &reason, None);
            }
        }
    }

    /// Opens a repeat's first pass.
    fn first_pass(&mut self, block: BlockId, scope: &Scope, max: &ir::Count) {
        let max = count_value(max, &self.params);
        if max == 0 {
            self.close(block, scope, State::Failed, "the repeat's `max` is 0", None);
            return;
        }
        let head = Head::Repeat {
            pass: 1,
            max,
            end: None,
        };
        self.heads.insert((block, scope.clone()), head);
        self.open(Some(block), &within(scope, block, 1));
    }

    /// Opens more loop iterations as the cap allows; ends or continues repeats.
    fn progress_heads(&mut self) {
        if self.stopped {
            return;
        }
        // What may move, read first: opening blocks changes `heads`.
        let moving: Vec<(BlockId, Scope, Move)> = self
            .heads
            .iter()
            .filter_map(|((block, scope), head)| {
                let movement = match head {
                    Head::Items { items, opened } if (*opened as usize) < items.len() => {
                        Move::Iterations {
                            total: items.len() as u32,
                            opened: *opened,
                        }
                    }
                    Head::Repeat {
                        pass,
                        max,
                        end: None,
                    } => Move::Pass {
                        pass: *pass,
                        max: *max,
                    },
                    _ => return None,
                };
                Some((*block, scope.clone(), movement))
            })
            .collect();
        for (block, scope, movement) in moving {
            match movement {
                Move::Iterations { total, opened } => {
                    self.open_iterations(block, &scope, total, opened);
                }
                Move::Pass { pass, max } => self.next_pass(block, &scope, pass, max),
            }
        }
    }

    fn open_iterations(&mut self, block: BlockId, scope: &Scope, total: u32, opened: u32) {
        let cap = match &self.pipeline.blocks[block].kind {
            BlockKind::For {
                parallelism: Some(n),
                ..
            } => (*n).max(1),
            _ => u32::MAX,
        };
        let mut running = (0..opened)
            .filter(|&i| self.region(block, &within(scope, block, i)) == Settle::Pending)
            .count() as u32;
        let mut next = opened;
        while next < total && running < cap {
            self.open(Some(block), &within(scope, block, next));
            next += 1;
            running += 1;
        }
        if let Some(Head::Items { opened, .. }) = self.heads.get_mut(&(block, scope.clone())) {
            *opened = next;
        }
    }

    /// After pass `pass` settled: `until` decides whether another starts.
    fn next_pass(&mut self, block: BlockId, scope: &Scope, pass: u32, max: u32) {
        let at = within(scope, block, pass);
        let end = match self.region(block, &at) {
            Settle::Pending => return,
            Settle::Failed(_) => Some(Err(())),
            Settle::Done => {
                let BlockKind::Repeat { until, .. } = &self.pipeline.blocks[block].kind else {
                    return;
                };
                match self.holds(until, &at, Some(block)) {
                    Ok(true) => Some(Ok(pass)),
                    Ok(false) if pass < max => None,
                    Ok(false) => {
                        self.actions.push(Action::RunFails(format!(
                            "the repeat reached its limit of {max} pass{} and `until {}` never held",
                            if max == 1 { "" } else { "es" },
                            condition_source(until)
                        )));
                        Some(Err(()))
                    }
                    Err(problem) => {
                        self.actions.push(Action::RunFails(format!(
                            "the repeat's `until` cannot be evaluated after pass {pass}: {problem}"
                        )));
                        Some(Err(()))
                    }
                }
            }
        };
        let next = if end.is_none() { pass + 1 } else { pass };
        self.heads.insert(
            (block, scope.clone()),
            Head::Repeat {
                pass: next,
                max,
                end,
            },
        );
        if end.is_none() {
            self.open(Some(block), &within(scope, block, next));
        }
    }

    /// Runs, skips or blocks each waiting instance whose dependencies ended.
    fn release_instances(&mut self) {
        if self.stopped {
            return;
        }
        for id in 0..self.instances.len() {
            if self.instances[id].state != State::Waiting {
                continue;
            }
            let step = &self.pipeline.steps[self.instances[id].step];
            let scope = self.instances[id].scope.clone();
            let deps = Settle::all(
                step.dependencies
                    .iter()
                    .map(|d| self.settled(&d.step, &scope, step.block)),
            );
            let (state, action) = match deps {
                Settle::Pending => continue,
                Settle::Failed(name) => {
                    let reason = format!("it depends on `{name}`, which failed");
                    self.instances[id].cause = Some(name);
                    (State::Blocked, Action::Skip(id, reason))
                }
                Settle::Done => self.decide(id),
            };
            self.instances[id].state = state;
            self.actions.push(action);
        }
    }

    /// Whether an instance whose dependencies ended runs: its `when`, and
    /// every loop item field it reads.
    fn decide(&self, id: InstanceId) -> (State, Action) {
        let instance = &self.instances[id];
        let step = &self.pipeline.steps[instance.step];
        if let Some(when) = &step.when {
            match self.holds(when, &instance.scope, step.block) {
                Ok(true) => {}
                Ok(false) => {
                    let reason = format!("its `when` (`{}`) is false", condition_source(when));
                    return (State::Skipped, Action::Skip(id, reason));
                }
                Err(problem) => {
                    let reason = format!("its `when` cannot be evaluated: {problem}");
                    return (State::Failed, Action::Fail(id, reason));
                }
            }
        }
        match self.check_fields(instance) {
            Ok(()) => (State::Running, Action::Run(id)),
            Err(problem) => (State::Failed, Action::Fail(id, problem)),
        }
    }

    /// Every `$<item.field>` the step reads exists in its item.
    fn check_fields(&self, instance: &Instance) -> Result<(), String> {
        let step = &self.pipeline.steps[instance.step];
        for template in step.templates() {
            for part in template.references() {
                if let Part::Item { field: Some(_), .. } = part {
                    self.value(part, &instance.scope, step.block)?;
                }
            }
        }
        Ok(())
    }

    /// Whether `dep` has ended, read from `scope` in block `from`.
    fn settled(&self, dep: &str, scope: &Scope, from: Option<BlockId>) -> Settle {
        let Some(index) = self.pipeline.step_position(dep) else {
            return Settle::Done;
        };
        let (chain, prefix) = self.path(index, scope, from);
        self.settled_along(index, &chain, prefix)
    }

    /// The blocks around step `index` that do not surround `from`
    /// (outermost first), and the part of `scope` they share.
    fn path(&self, index: usize, scope: &Scope, from: Option<BlockId>) -> (Vec<BlockId>, Scope) {
        let around_reader = self.pipeline.ancestors(from);
        let around_step = self.pipeline.ancestors(self.pipeline.steps[index].block);
        let mut chain: Vec<BlockId> = around_step
            .iter()
            .copied()
            .filter(|b| !around_reader.contains(b))
            .collect();
        chain.reverse();
        let prefix = scope
            .iter()
            .copied()
            .filter(|(b, _)| around_step.contains(b))
            .collect();
        (chain, prefix)
    }

    fn settled_along(&self, index: usize, chain: &[BlockId], scope: Scope) -> Settle {
        let Some((&block, rest)) = chain.split_first() else {
            return match self.by_scope.get(&(index, scope)) {
                Some(&id) => {
                    let instance = &self.instances[id];
                    instance
                        .state
                        .settle(&instance.name, instance.cause.as_ref())
                }
                None => Settle::Pending,
            };
        };
        let name = || self.pipeline.steps[index].name.clone();
        match self.heads.get(&(block, scope.clone())) {
            None => Settle::Pending,
            Some(Head::Open) => self.settled_along(index, rest, scope),
            Some(Head::Closed(state, cause)) => state.settle(&name(), cause.as_ref()),
            Some(Head::Items { items, opened }) => {
                if (*opened as usize) < items.len() {
                    return Settle::Pending;
                }
                Settle::all(
                    (0..*opened).map(|i| self.settled_along(index, rest, within(&scope, block, i))),
                )
            }
            Some(Head::Repeat { end: None, .. }) => Settle::Pending,
            Some(Head::Repeat {
                end: Some(Err(())), ..
            }) => Settle::Failed(name()),
            Some(Head::Repeat {
                end: Some(Ok(last)),
                ..
            }) => self.settled_along(index, rest, within(&scope, block, *last)),
        }
    }

    /// Whether every step in `block` at `scope` (inside it) has ended.
    fn region(&self, block: BlockId, scope: &Scope) -> Settle {
        let pipeline = self.pipeline;
        Settle::all(
            pipeline
                .steps
                .iter()
                .filter(|s| pipeline.is_within(s.block, block))
                .map(|s| self.settled(&s.name, scope, Some(block))),
        )
    }

    /// Evaluates `condition` in `scope`, read from block `from`.
    fn holds(
        &self,
        condition: &Condition,
        scope: &Scope,
        from: Option<BlockId>,
    ) -> Result<bool, String> {
        condition::holds(condition, &mut |template: &Template| {
            self.render(template, scope, from, None)
        })
    }

    /// A `for`'s items: a JSON array.
    fn items(
        &self,
        items: &Items,
        scope: &Scope,
        from: Option<BlockId>,
    ) -> Result<Vec<Json>, String> {
        let text = match items {
            Items::Fixed(text) => text.clone(),
            Items::Param(name) => self.params.get(name).cloned().unwrap_or_default(),
            Items::Output { step, output } => self.output(step, output, scope, from),
        };
        match json::parse_with_item_starts(text.trim()) {
            Ok((Json::List(items), _)) => Ok(items),
            Ok(_) => Err(format!(
                "is `{}`, which is not a JSON array",
                label(text.trim())
            )),
            Err(e) => Err(format!(
                "is not JSON ({} at byte {}): `{}`",
                e.why,
                e.at,
                label(text.trim())
            )),
        }
    }

    /// `template` as text in `scope`, read from block `from`; `instance`
    /// names the pod for `$<workflow.pod_name>`.
    pub(crate) fn render(
        &self,
        template: &Template,
        scope: &Scope,
        from: Option<BlockId>,
        instance: Option<InstanceId>,
    ) -> Result<String, String> {
        let mut problem = None;
        let text = template.render(&mut |part| match part {
            Part::Workflow { field, .. } if field == "pod_name" => {
                instance.map(|id| self.pod_name(id)).unwrap_or_default()
            }
            _ => self.value(part, scope, from).unwrap_or_else(|e| {
                problem.get_or_insert(e);
                String::new()
            }),
        });
        match problem {
            Some(problem) => Err(problem),
            None => Ok(text),
        }
    }

    /// Every param's value.
    pub(crate) fn params(&self) -> &BTreeMap<String, String> {
        &self.params
    }

    /// One interpolation as instance `id` reads it (its loop items, its
    /// iteration's outputs, its pod name). A missing field reads as empty:
    /// [`Plan::advance`] failed the instance before it could run.
    pub(crate) fn part_text(&self, id: InstanceId, part: &Part) -> String {
        let instance = &self.instances[id];
        let block = self.pipeline.steps[instance.step].block;
        match part {
            Part::Workflow { field, .. } if field == "pod_name" => self.pod_name(id),
            _ => self.value(part, &instance.scope, block).unwrap_or_default(),
        }
    }

    /// `<workflow name>-<step>[-<index>…]`, the step in Kubernetes form
    /// (`my-pipeline-r3-train-1`): it starts with `$<workflow.name>`, as an
    /// Argo pod's name does.
    pub(crate) fn pod_name(&self, id: InstanceId) -> String {
        let instance = &self.instances[id];
        let mut name = format!(
            "{}-{}",
            self.workflow.0,
            kubernetes_name(&self.pipeline.steps[instance.step].name)
        );
        for (_, n) in &instance.scope {
            name.push_str(&format!("-{n}"));
        }
        name
    }

    /// One interpolated value (not literal text, not a pod name).
    pub(crate) fn value(
        &self,
        part: &Part,
        scope: &Scope,
        from: Option<BlockId>,
    ) -> Result<String, String> {
        Ok(match part {
            Part::Text(text) => text.clone(),
            Part::Param { name, .. } => self.params.get(name).cloned().unwrap_or_default(),
            Part::Let { value, .. } => self.render(value, scope, from, None)?,
            Part::Output { step, output, .. } => self.output(step, output, scope, from),
            Part::Item { var, field, .. } => self.item_value(var, field.as_deref(), scope, from)?,
            Part::Carry { name, .. } => self.carry(name, scope, from)?,
            Part::Workflow { field, .. } => match field.as_str() {
                "name" => self.workflow.0.clone(),
                "uid" => self.workflow.1.clone(),
                "status" => self.status.unwrap_or("Running").to_string(),
                _ => String::new(),
            },
        })
    }

    /// `$<step.output>` read from `scope` in block `from`: the instance's
    /// value, a JSON list of strings over loops the reader is not in, a
    /// repeat's last pass.
    fn output(&self, step: &str, output: &str, scope: &Scope, from: Option<BlockId>) -> String {
        let Some(index) = self.pipeline.step_position(step) else {
            return String::new();
        };
        let (chain, prefix) = self.path(index, scope, from);
        match self.output_along(index, output, &chain, prefix) {
            Some(serde_json::Value::String(text)) => text,
            Some(list) => list.to_string(),
            None => String::new(),
        }
    }

    fn output_along(
        &self,
        index: usize,
        output: &str,
        chain: &[BlockId],
        scope: Scope,
    ) -> Option<serde_json::Value> {
        let Some((&block, rest)) = chain.split_first() else {
            let id = self.by_scope.get(&(index, scope))?;
            let value = self.instances[*id].outputs.get(output)?;
            return Some(serde_json::Value::String(value.clone()));
        };
        match self.heads.get(&(block, scope.clone()))? {
            Head::Open => self.output_along(index, output, rest, scope),
            Head::Closed(..) => None,
            Head::Items { opened, .. } => Some(serde_json::Value::Array(
                (0..*opened)
                    .map(|i| {
                        self.output_along(index, output, rest, within(&scope, block, i))
                            .unwrap_or_else(|| serde_json::Value::String(String::new()))
                    })
                    .collect(),
            )),
            Head::Repeat { pass, end, .. } => {
                let last = match end {
                    Some(Ok(last)) => *last,
                    _ => *pass,
                };
                self.output_along(index, output, rest, within(&scope, block, last))
            }
        }
    }

    /// The loop `for var` around `from`, and the item of this iteration.
    fn item_value(
        &self,
        var: &str,
        field: Option<&str>,
        scope: &Scope,
        from: Option<BlockId>,
    ) -> Result<String, String> {
        let pipeline = self.pipeline;
        let Some(block) = pipeline.ancestors(from).into_iter().find(
            |&b| matches!(&pipeline.blocks[b].kind, BlockKind::For { var: v, .. } if v == var),
        ) else {
            return Ok(String::new());
        };
        let Some(depth) = scope.iter().position(|(b, _)| *b == block) else {
            return Ok(String::new());
        };
        let n = scope[depth].1;
        let Some(item) = self.item(block, &scope[..depth], n) else {
            return Ok(String::new());
        };
        match field {
            None => Ok(item.interpolated()),
            Some(field) => match item {
                Json::Map(entries) => entries.get(field).map(Json::interpolated).ok_or_else(|| {
                    format!(
                        "item {n} of `for {var}` has no field `{field}`: {}",
                        label(&item.to_text())
                    )
                }),
                _ => Err(format!(
                    "item {n} of `for {var}` is not a map, so it has no field `{field}`: {}",
                    label(&item.to_text())
                )),
            },
        }
    }

    /// `$<name>` of `carry name = INITIAL then NEXT`: INITIAL in pass 1,
    /// NEXT of the pass before after that.
    fn carry(&self, name: &str, scope: &Scope, from: Option<BlockId>) -> Result<String, String> {
        let pipeline = self.pipeline;
        for block in pipeline.ancestors(from) {
            let BlockKind::Repeat { carries, .. } = &pipeline.blocks[block].kind else {
                continue;
            };
            let Some(carry) = carries.iter().find(|c| c.name == name) else {
                continue;
            };
            let Some(depth) = scope.iter().position(|(b, _)| *b == block) else {
                break;
            };
            let pass = scope[depth].1;
            if pass <= 1 {
                let outside = scope[..depth].to_vec();
                return self.render(
                    &carry.initial,
                    &outside,
                    pipeline.blocks[block].parent,
                    None,
                );
            }
            let before = within(&scope[..depth].to_vec(), block, pass - 1);
            return Ok(self.output(&carry.next.0, &carry.next.1, &before, Some(block)));
        }
        Ok(String::new())
    }
}

/// `scope` with one more entry: `block` at `n`.
fn within(scope: &Scope, block: BlockId, n: u32) -> Scope {
    let mut inner = scope.clone();
    inner.push((block, n));
    inner
}

/// A value short enough for a name or a message (40 characters at most, on one line).
fn label(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= 40 {
        one_line
    } else {
        let cut: String = one_line.chars().take(39).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
