//! The run loop: record the run, start steps as the scheduler allows,
//! record every event, enforce timeouts, turn signals into a cancelled run.
//!
//! Everything that touches the records or the observer happens on the
//! calling thread; step threads talk to it through one channel of
//! [`Msg`]s. The loop wakes on every message and at least every 100 ms (to
//! read signals, check deadlines and let the caller redraw). What happens
//! before the first step (resume, params, GPUs, the sandbox probe) is
//! [`preflight`]'s.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender as Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::executor;
use super::plan::{Action, InstanceId, Plan, State};
use super::preflight::{self, Gpus, Ready, Resumed};
use super::prepare::{self, RunPlace, Target};
use super::protocol::{
    KillReason, Live, MetricValue, Msg, Shared, StepProblem, StepReport, now_ms,
};
use super::schedule::Scheduler;
use super::signals::Signals;
use super::store::{MetricRecord, NewRun, NewStep, StepRecord, Store, StoreError, Takeover};
use super::{
    Event, Observer, RunOptions, RunReport, RunStatus, StepStatus, gpus, store_error, warnings,
};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir;
use crate::params::count_value;

/// The longest the loop sleeps.
const TICK: Duration = Duration::from_millis(100);
/// Messages waiting for the loop at most. A step that prints faster than
/// the caller shows its lines waits (as on a full pipe) instead of queueing
/// them in memory: lines are at most 16 KiB, so the queue stays under
/// 16 MiB whatever the steps print.
const QUEUE: usize = 1024;

pub(super) fn run(
    pipeline: &ir::Pipeline,
    options: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<RunReport, Vec<Diagnostic>> {
    let ready = preflight::check(pipeline, options, observer)?;
    let started = Instant::now();
    let Ready {
        store,
        resumed,
        params,
        gpus,
        secrets,
        unprotected_inputs,
        signals,
    } = ready;
    let mut engine = Engine::begin(pipeline, options, store, params, gpus, resumed, observer)?;
    engine.announce();
    super::volumes::create(&pipeline.volumes, &engine.run_dir);
    engine.warn_cluster_only();
    engine.warn_cache();
    for warning in &secrets.warnings {
        engine.warn(None, warning.clone());
    }
    engine.secrets = secrets;
    engine.read_only_inputs = unprotected_inputs.is_none();
    if let Some(warning) = unprotected_inputs {
        engine.warn(None, warning);
    }
    let signals = engine.watch(signals);
    engine.drive(signals.as_ref());
    let report = engine.finish(started);
    // Unblocked only now: the run's end is recorded.
    drop(signals);
    Ok(report)
}

struct Engine<'a> {
    pipeline: &'a ir::Pipeline,
    options: &'a RunOptions,
    store: Store,
    observer: &'a mut dyn Observer,
    run_id: String,
    run_dir: PathBuf,
    /// Every instance of every step, as the run learns of them.
    plan: Plan<'a>,
    scheduler: Scheduler,
    /// GPUs each step needs (by step index).
    gpu_needs: Vec<u32>,
    /// GPUs the machine has.
    gpu_total: u32,
    resumed: Option<Resumed>,
    /// By instance id, while it runs.
    lives: BTreeMap<InstanceId, Arc<Mutex<Live>>>,
    /// `CUDA_VISIBLE_DEVICES` each instance got.
    gpus: BTreeMap<InstanceId, String>,
    reports: BTreeMap<InstanceId, StepReport>,
    shared: Arc<Shared>,
    warnings: Vec<Diagnostic>,
    /// What could not be recorded (each also a W0604 warning): the run fails.
    unrecorded: Vec<String>,
    cancelled: Option<String>,
    /// SIGINT/SIGTERM received: the second stops the `finally` steps too.
    signals_seen: u32,
    /// The first record that failed.
    failed: Option<String>,
    /// Why the run fails where no step failed (a repeat that reached its limit).
    run_failures: Vec<String>,
    /// Whether the `finally` steps were opened (everything else ended).
    finally_opened: bool,
    /// Whether an instance ended since the plan was last asked: only then
    /// can it say something new (output lines and ticks change nothing).
    plan_stale: bool,
    /// The secrets the steps read (see `secrets`).
    secrets: super::secrets::Secrets,
    /// Whether `file` inputs are mounted read-only (see `artifacts`).
    read_only_inputs: bool,
}

impl<'a> Engine<'a> {
    /// Records the run and sets the loop up.
    fn begin(
        pipeline: &'a ir::Pipeline,
        options: &'a RunOptions,
        mut store: Store,
        params: BTreeMap<String, String>,
        gpus: Gpus,
        resumed: Option<Resumed>,
        observer: &'a mut dyn Observer,
    ) -> Result<Engine<'a>, Vec<Diagnostic>> {
        let (run_id, run_dir) =
            record_run(&mut store, pipeline, options, &params, resumed.as_ref())?;
        Ok(Engine {
            pipeline,
            options,
            store,
            observer,
            plan: Plan::new(pipeline, params, &run_id),
            run_id,
            run_dir,
            scheduler: Scheduler::new(gpus.total, options.parallelism),
            gpu_needs: gpus.needs,
            gpu_total: gpus.total,
            resumed,
            lives: BTreeMap::new(),
            gpus: BTreeMap::new(),
            reports: BTreeMap::new(),
            shared: Arc::new(Shared {
                cancel: AtomicBool::new(false),
                state_dir: options.state_dir.clone(),
                invocation_dir: options.invocation_dir.clone(),
                sandbox_exe: options.sandbox_exe.clone(),
                engine: options.engine,
                pull: options.pull,
            }),
            warnings: Vec::new(),
            unrecorded: Vec::new(),
            cancelled: None,
            signals_seen: 0,
            failed: None,
            run_failures: Vec::new(),
            finally_opened: false,
            plan_stale: true,
            secrets: super::secrets::Secrets::default(),
            read_only_inputs: true,
        })
    }

    /// Tells the observer the run is recorded and about to start.
    fn announce(&mut self) {
        let names: Vec<String> = self.pipeline.steps.iter().map(|s| s.name.clone()).collect();
        self.observer.event(&Event::Started {
            run: &self.run_id,
            pipeline: &self.pipeline.ident,
            experiment: &self.options.experiment,
            steps: &names,
            run_dir: &self.run_dir,
            resumed_from: self.resumed.as_ref().map(|r| r.run.id.as_str()),
        });
    }

    /// W0607, once, before any step starts: shown, not recorded (the
    /// settings are in the recorded source already).
    fn warn_cluster_only(&mut self) {
        if let Some(warning) = warnings::cluster_only(self.pipeline) {
            self.observer.event(&Event::Warning {
                step: None,
                diagnostic: &warning,
            });
        }
    }

    /// W0611 and W0612, once per cached step, before any step starts.
    fn warn_cache(&mut self) {
        for warning in super::cache::warnings(self.pipeline) {
            self.warn(None, warning);
        }
    }

    /// The report of an instance taken over from an earlier run.
    fn taken_over_report(&self, id: InstanceId, takeover: &Takeover<'_>) -> StepReport {
        let mut report = self.unrun(id, takeover.status, None);
        report.exit_code = takeover.old.exit_code;
        report.outputs = takeover.old.outputs.clone();
        report.step_dir = PathBuf::from(takeover.step_dir);
        report.cached_from = takeover
            .cached_from
            .map(|(run, step)| (run.to_string(), step.to_string()));
        let metrics = takeover.metrics;
        for metric in &mut report.metrics {
            metric.value = metrics
                .iter()
                .find(|m| m.name == metric.name)
                .and_then(|m| m.value);
        }
        report
    }

    /// The signal watch, or a warning that Ctrl-C cannot be caught.
    fn watch(&mut self, signals: nix::Result<Signals>) -> Option<Signals> {
        match signals {
            Ok(signals) => Some(signals),
            Err(problem) => {
                self.warn(None, warnings::signals_not_watched(&problem));
                None
            }
        }
    }

    /// The loop: apply what the plan says, start what may start, handle
    /// messages, police deadlines, until nothing runs; then the `finally`
    /// steps the same way.
    fn drive(&mut self, signals: Option<&Signals>) {
        let (tx, rx) = mpsc::sync_channel::<Msg>(QUEUE);
        let mut threads = Vec::new();
        let mut last_tick = Instant::now();
        loop {
            self.follow_plan();
            threads.extend(self.start_ready(&tx));
            if self.scheduler.running() == 0 {
                if self.open_finally() {
                    continue;
                }
                break;
            }
            if !self.receive(&rx) {
                break;
            }
            if let Some(signal) = signals.and_then(Signals::pending) {
                self.on_signal(signal.as_str());
            }
            self.police();
            if last_tick.elapsed() >= TICK {
                last_tick = Instant::now();
                self.observer.event(&Event::Tick);
            }
        }
        for thread in threads {
            let _ = thread.join();
        }
    }

    /// Applies the plan's actions until it has nothing more to say.
    fn follow_plan(&mut self) {
        if !std::mem::replace(&mut self.plan_stale, false) {
            return;
        }
        loop {
            let actions = self.plan.advance();
            if actions.is_empty() {
                return;
            }
            self.apply(actions);
        }
    }

    fn apply(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Created(id) => self.record_created(id),
                Action::Run(id) => self.ready(id),
                Action::Skip(id, reason) => self.never_ran(id, StepStatus::Skipped, reason),
                Action::Fail(id, reason) => self.never_ran(id, StepStatus::Failed, reason),
                Action::RunFails(reason) => self.run_failures.push(reason),
            }
        }
    }

    /// A new instance: its `pending` record.
    fn record_created(&mut self, id: InstanceId) {
        let instance = &self.plan.instances[id];
        let step = &self.pipeline.steps[instance.step];
        let image = self
            .plan
            .render(&step.image, &instance.scope, step.block, Some(id));
        let step_dir = self.run_dir.join(&instance.key);
        let new_step = NewStep {
            name: &instance.name,
            step: &step.name,
            position: instance.step,
            iteration: instance.iteration,
            pass: instance.pass,
            image: &image.unwrap_or_default(),
            step_dir: &step_dir,
        };
        let result = self.store.add_step(&self.run_id, &new_step);
        let what = format!("step `{}`", instance.name);
        self.record(&what, result);
    }

    /// An instance may run: reused from the resumed run, or queued.
    fn ready(&mut self, id: InstanceId) {
        let instance = &self.plan.instances[id];
        let old = self
            .resumed
            .as_ref()
            .and_then(|r| r.reused.iter().find(|s| s.name == instance.name))
            .cloned();
        match old {
            Some(old) => self.reuse(id, &old),
            None if self.take_from_cache(id) => {}
            None => {
                let instance = &self.plan.instances[id];
                let fixed = self.gpu_needs.get(instance.step).copied().unwrap_or(0);
                let step = &self.pipeline.steps[instance.step];
                let render = |template: &ir::Template| {
                    let rendered =
                        self.plan
                            .render(template, &instance.scope, step.block, Some(id));
                    rendered.ok()
                };
                match gpus::start_values(step, fixed, self.gpu_total, &render) {
                    Ok(need) => self.scheduler.queue(id, need),
                    // A bad value fails the step as a failed start does.
                    Err(problem) => {
                        let report = self.unrun(id, StepStatus::Failed, Some(problem));
                        self.done(id, report);
                    }
                }
            }
        }
    }

    /// Takes an instance over from the resumed run: its outputs and metrics.
    fn reuse(&mut self, id: InstanceId, old: &StepRecord) {
        let from = self
            .resumed
            .as_ref()
            .map(|r| r.run.id.clone())
            .unwrap_or_default();
        let metrics: Vec<MetricRecord> = self
            .resumed
            .iter()
            .flat_map(|r| &r.reused_metrics)
            .filter(|m| m.step == old.name)
            .cloned()
            .collect();
        let metrics: Vec<&MetricRecord> = metrics.iter().collect();
        let takeover = Takeover {
            status: StepStatus::Reused,
            name: &old.name,
            old,
            metrics: &metrics,
            step_dir: &old.step_dir,
            times: (old.started_ms, old.ended_ms),
            message: format!("outputs reused from run `{from}`"),
            cached_from: None,
        };
        self.take_over(id, &takeover);
    }

    /// Records an instance taken over from an earlier run, passes its
    /// outputs on and shows it.
    fn take_over(&mut self, id: InstanceId, takeover: &Takeover<'_>) {
        let result = self.store.take_over_step(&self.run_id, takeover);
        let what = format!("step `{}` ({})", takeover.name, takeover.status);
        self.record(&what, result);
        let report = self.taken_over_report(id, takeover);
        let outputs = takeover.old.outputs.clone();
        self.plan.finish(id, State::Succeeded, outputs);
        self.plan_stale = true;
        self.observer.event(&Event::StepFinished { step: &report });
        self.reports.insert(id, report);
    }

    /// A step with `cache = true`: records its key, and takes it over from
    /// the latest successful run of it with the same key, unless
    /// `--no-cache` was given. False when it is to run.
    fn take_from_cache(&mut self, id: InstanceId) -> bool {
        let pipeline = self.pipeline;
        let instance = &self.plan.instances[id];
        let step = &pipeline.steps[instance.step];
        if !step.cache {
            return false;
        }
        let name = instance.name.clone();
        let step_dir = self.run_dir.join(&instance.key);
        let plan = &self.plan;
        let value = |part: &ir::Part| plan.part_text(id, part);
        let (parts, may_reuse) =
            super::cache::step_key(pipeline, step, &value, &self.run_dir, self.options);
        let key = parts.digest();
        let result = self.store.set_cache_key(&self.run_id, &name, &key, &parts);
        self.record(&format!("the cache key of step `{name}`"), result);
        if self.options.no_cache || !may_reuse {
            return false;
        }
        let hit = super::cache::find_source(&self.store, &step.name, &key, &step_dir);
        let Some((run, mut old, metrics)) = hit else {
            return false;
        };
        // Its file outputs were linked into this step's folder: read them there.
        for output in step.outputs.iter().filter(|o| o.ty == ir::ParamType::File) {
            if let Some(record) = old.outputs.get_mut(&output.name)
                && let Some(moved) =
                    super::artifacts::moved_record(record, &self.run_dir, &step_dir)
            {
                *record = moved;
            }
        }
        let metrics: Vec<&MetricRecord> = metrics.iter().collect();
        let now = now_ms();
        let takeover = Takeover {
            status: StepStatus::Cached,
            name: &name,
            old: &old,
            metrics: &metrics,
            step_dir: &step_dir.to_string_lossy(),
            times: (Some(now), Some(now)),
            message: format!("cached: reused run {run} step {}", old.name),
            cached_from: Some((&run, &old.name)),
        };
        self.take_over(id, &takeover);
        true
    }

    /// An instance that never ran: skipped (a condition, a dependency that
    /// did not succeed, a stopped run) or failed (a value it needs).
    fn never_ran(&mut self, id: InstanceId, status: StepStatus, reason: String) {
        if status == StepStatus::Failed && self.failed.is_none() {
            self.failed = Some(self.plan.instances[id].name.clone());
        }
        let problem = StepProblem {
            code: Code::E0601,
            message: reason,
        };
        let report = self.unrun(id, status, Some(problem));
        self.finished(id, report);
    }

    /// Once nothing runs: the instances never started are skipped, then the
    /// `finally` steps open (still after a first Ctrl-C, not after a
    /// second). False when they were opened already.
    fn open_finally(&mut self) -> bool {
        if self.finally_opened {
            return false;
        }
        self.finally_opened = true;
        self.skip_leftovers();
        let status =
            if self.cancelled.is_some() || self.failed.is_some() || !self.run_failures.is_empty() {
                "Failed"
            } else {
                "Succeeded"
            };
        if self.signals_seen < 2 {
            self.shared.cancel.store(false, Ordering::SeqCst);
            self.scheduler.resume();
        }
        let actions = self.plan.open_finally(status);
        self.apply(actions);
        self.plan_stale = true;
        true
    }

    /// Records as skipped what was queued or waiting but will never start.
    fn skip_leftovers(&mut self) {
        let reason = if self.signals_seen >= 2 && self.finally_opened {
            "the run was stopped by a second signal"
        } else if self.cancelled.is_some() {
            "the run was cancelled"
        } else {
            "not started"
        };
        for id in self.scheduler.unstarted() {
            self.plan.finish(id, State::Blocked, BTreeMap::new());
            self.never_ran(id, StepStatus::Skipped, reason.to_string());
        }
        let actions = self.plan.stop(reason);
        self.apply(actions);
    }

    /// Starts every instance the scheduler lets start; their threads. One
    /// that fails to start is a failure like any other: it frees its slot
    /// at once.
    fn start_ready(&mut self, tx: &Sender<Msg>) -> Vec<JoinHandle<()>> {
        let mut threads = Vec::new();
        loop {
            let ready = self.scheduler.start_ready();
            if ready.is_empty() {
                return threads;
            }
            for (id, gpus) in ready {
                match self.spawn_step(id, gpus, tx) {
                    Ok(thread) => threads.push(thread),
                    Err(problem) => {
                        let report = self.unrun(id, StepStatus::Failed, Some(problem));
                        self.done(id, report);
                    }
                }
            }
        }
    }

    /// One instance's thread; why it failed when no thread can be made.
    fn spawn_step(
        &mut self,
        id: InstanceId,
        gpus: Vec<u32>,
        tx: &Sender<Msg>,
    ) -> Result<JoinHandle<()>, StepProblem> {
        let instance = &self.plan.instances[id];
        let pod = self.plan.pod_name(id);
        let target = Target {
            id,
            step: instance.step,
            name: &instance.name,
            key: &instance.key,
            pod: &pod,
        };
        let place = RunPlace {
            state_dir: &self.options.state_dir,
            run_id: &self.run_id,
            run_dir: &self.run_dir,
            params: self.plan.params(),
            secrets: &self.secrets,
            read_only_inputs: self.read_only_inputs,
        };
        let plan = &self.plan;
        let value = |part: &ir::Part| plan.part_text(id, part);
        let spec = prepare::step_spec(self.pipeline, target, &value, gpus, place);
        let step = &self.pipeline.steps[instance.step];
        if let Some(settings) = super::settings::StepSettings::of(&step.cluster) {
            let step_dir = self.run_dir.join(&instance.key);
            settings.write(&step_dir).map_err(|e| StepProblem {
                code: Code::E0607,
                message: format!(
                    "cannot record the step's settings in `{}`: {e}",
                    step_dir.display()
                ),
            })?;
        }
        self.gpus.insert(id, gpus::visible_devices(&spec.gpus));
        let live = Arc::new(Mutex::new(Live::default()));
        self.lives.insert(id, Arc::clone(&live));
        let shared = Arc::clone(&self.shared);
        let tx = tx.clone();
        std::thread::Builder::new()
            .name(format!("step-{}", spec.pod))
            .spawn(move || executor::supervise(spec, live, shared, tx))
            .map_err(|e| StepProblem {
                code: Code::E0601,
                message: format!("cannot start a thread for the step: {e}"),
            })
    }

    /// Waits for the next message (at most until the next deadline), then
    /// handles every one waiting; false once no step thread is left.
    fn receive(&mut self, rx: &Receiver<Msg>) -> bool {
        match rx.recv_timeout(self.next_wake()) {
            Ok(msg) => self.handle(msg),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return false,
        }
        while let Ok(msg) = rx.try_recv() {
            self.handle(msg);
        }
        true
    }

    /// How long the loop may sleep: until the next deadline, at most a tick.
    fn next_wake(&self) -> Duration {
        let now = Instant::now();
        self.lives
            .values()
            .filter_map(|live| lock(live).deadline(self.options.kill_grace))
            .map(|deadline| deadline.saturating_duration_since(now))
            .fold(TICK, Duration::min)
            .max(Duration::from_millis(1))
    }

    /// Timeouts: SIGTERM when due, SIGKILL after the grace period.
    fn police(&mut self) {
        let now = Instant::now();
        for live in self.lives.values() {
            let mut live = lock(live);
            if live.pgid.is_none() {
                continue;
            }
            match live.kill {
                None => {
                    if let (Some(started), Some(timeout)) = (live.started, live.timeout)
                        && now.duration_since(started) >= timeout
                    {
                        live.stop(KillReason::Timeout, now);
                    }
                }
                Some(kill)
                    if !kill.hard
                        && now.duration_since(kill.term_at) >= self.options.kill_grace =>
                {
                    live.kill_now();
                }
                Some(_) => {}
            }
        }
    }

    /// The first signal stops every step (SIGTERM, then SIGKILL after the
    /// grace period), and the `finally` steps run once they ended; a second
    /// kills them at once, and stops (or forgoes) the `finally` steps too.
    fn on_signal(&mut self, signal: &str) {
        let now = Instant::now();
        self.signals_seen += 1;
        let first = self.cancelled.is_none();
        if first {
            self.cancelled = Some(signal.to_string());
            self.observer.event(&Event::Cancelling { signal });
        }
        self.shared.cancel.store(true, Ordering::SeqCst);
        self.scheduler.stop();
        for live in self.lives.values() {
            let mut live = lock(live);
            // A `finally` step started after the first signal is stopped
            // for the first time by the second: a cancellation too.
            live.stop(KillReason::Cancel, now);
            if let Some(kill) = &mut live.kill {
                // A timeout in progress becomes a cancellation.
                kill.reason = KillReason::Cancel;
            }
            if !first {
                live.kill_now();
            }
        }
    }

    fn name(&self, id: InstanceId) -> &str {
        &self.plan.instances[id].name
    }

    /// A report for instance `id` that has not run.
    fn unrun(
        &self,
        id: InstanceId,
        status: StepStatus,
        problem: Option<StepProblem>,
    ) -> StepReport {
        let instance = &self.plan.instances[id];
        let step = &self.pipeline.steps[instance.step];
        StepReport::unrun(
            &instance.name,
            self.run_dir.join(&instance.key),
            step.metrics.iter().map(|m| (m.name.as_str(), m.format)),
            status,
            problem,
        )
    }

    /// A failed write to the records is a warning (the steps go on) and
    /// makes the run a failure at the end; `what` says what was lost.
    fn record<T>(&mut self, what: &str, result: Result<T, StoreError>) {
        if let Err(e) = result {
            self.warn(None, warnings::records_not_updated(what, &e));
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Attempt {
                step,
                attempt,
                started_ms,
                recorded,
            } => {
                self.attempt_started(step, attempt, started_ms);
                let _ = recorded.send(());
            }
            Msg::Retry {
                step,
                attempt,
                reason,
            } => {
                let name = self.name(step).to_string();
                self.observer.event(&Event::StepRetrying {
                    step: &name,
                    attempt,
                    reason: &reason,
                });
            }
            Msg::Line { step, stream, line } => {
                let name = self.name(step).to_string();
                self.observer.event(&Event::Output {
                    step: &name,
                    stream,
                    line: &line,
                });
            }
            Msg::Warning { step, warning } => self.warn(Some(step), *warning),
            Msg::Done { step, report } => self.done(step, *report),
        }
    }

    fn attempt_started(&mut self, step: usize, attempt: u32, started_ms: i64) {
        let name = self.name(step).to_string();
        let gpus = self.gpus.get(&step).cloned().unwrap_or_default();
        let result = self
            .store
            .step_started(&self.run_id, &name, attempt, started_ms, &gpus);
        self.record(
            &format!("the start of step `{name}` (attempt {attempt})"),
            result,
        );
        let retries = &self.pipeline.steps[self.plan.instances[step].step].retries;
        let max_attempts = count_value(retries, self.plan.params()).saturating_add(1);
        self.observer.event(&Event::StepStarted {
            step: &name,
            attempt,
            max_attempts,
            gpus: &gpus,
        });
    }

    /// A warning: into the step's stderr log (when about a step), to the
    /// observer, and into the run's report.
    fn warn(&mut self, step: Option<usize>, warning: Diagnostic) {
        let name = step.map(|id| self.name(id).to_string());
        if let Some(id) = step {
            let log = self
                .run_dir
                .join(&self.plan.instances[id].key)
                .join("stderr.log");
            if let Ok(mut file) = super::files::append(&log) {
                use std::io::Write;
                let _ = writeln!(file, "kfpl: warning[{}]: {}", warning.code, warning.message);
            }
        }
        self.observer.event(&Event::Warning {
            step: name.as_deref(),
            diagnostic: &warning,
        });
        if warning.code == Code::W0604 {
            self.unrecorded.push(warning.message.clone());
        } else {
            let result = self.store.warning(
                &self.run_id,
                name.as_deref(),
                warning.code.as_str(),
                &warning.message,
            );
            self.record(&format!("warning {}", warning.code.as_str()), result);
        }
        self.warnings.push(warning);
    }

    /// An instance ended: pass its outputs on, record it, tell the observer.
    fn done(&mut self, id: InstanceId, report: StepReport) {
        self.plan_stale = true;
        let success = report.status == StepStatus::Succeeded;
        self.scheduler.finish(id);
        self.lives.remove(&id);
        if success {
            self.plan
                .finish(id, State::Succeeded, report.outputs.clone());
            self.warn_missing_metrics(id, &report.metrics);
        } else {
            self.plan.finish(id, State::Failed, BTreeMap::new());
            if report.status == StepStatus::Failed && self.failed.is_none() {
                self.failed = Some(report.name.clone());
            }
        }
        self.finished(id, report);
    }

    fn warn_missing_metrics(&mut self, id: InstanceId, metrics: &[MetricValue]) {
        for metric in metrics.iter().filter(|m| m.value.is_none()) {
            let warning = warnings::metric_never_printed(
                self.name(id),
                &metric.name,
                metric.rejected.as_deref(),
            );
            self.warn(Some(id), warning);
        }
    }

    /// Records an instance's end and shows it.
    fn finished(&mut self, id: InstanceId, report: StepReport) {
        let result = self.store.step_finished(&self.run_id, &report);
        self.record(&format!("the end of step `{}`", report.name), result);
        self.observer.event(&Event::StepFinished { step: &report });
        self.reports.insert(id, report);
    }

    /// Skips what never started, records the run's end, and reports it.
    fn finish(mut self, started: Instant) -> RunReport {
        self.skip_leftovers();
        super::volumes::remove_unkept(&self.pipeline.volumes, &self.run_dir);
        let status = self.run_status();
        let message = self.run_message();
        // kfpl's own exit status: a run that could not be recorded whole fails.
        let exit = i32::from(status != RunStatus::Succeeded || !self.unrecorded.is_empty());
        let result =
            self.store
                .finish_run(&self.run_id, status, now_ms(), exit, message.as_deref());
        self.record(
            "the end of the run (its record still says `running`)",
            result,
        );
        // Topological order of the steps, then iterations and passes in order.
        let mut order: Vec<(usize, InstanceId)> = self
            .plan
            .instances
            .iter()
            .enumerate()
            .map(|(id, instance)| (instance.step, id))
            .collect();
        order.sort_unstable();
        let mut reports = std::mem::take(&mut self.reports);
        let steps = order
            .into_iter()
            .map(|(_, id)| {
                reports
                    .remove(&id)
                    .unwrap_or_else(|| self.unrun(id, StepStatus::Skipped, None))
            })
            .collect();
        RunReport {
            run_id: self.run_id,
            status,
            run_dir: self.run_dir,
            duration: started.elapsed(),
            steps,
            problem: (!self.run_failures.is_empty()).then(|| self.run_failures.join("; ")),
            warnings: self.warnings,
            unrecorded: self.unrecorded,
        }
    }

    fn run_status(&self) -> RunStatus {
        let any_failed = self
            .plan
            .instances
            .iter()
            .any(|i| matches!(i.state, State::Failed | State::Blocked));
        if self.cancelled.is_some() {
            RunStatus::Cancelled
        } else if self.failed.is_some() || !self.run_failures.is_empty() || any_failed {
            RunStatus::Failed
        } else {
            RunStatus::Succeeded
        }
    }

    fn run_message(&self) -> Option<String> {
        match (&self.cancelled, &self.failed) {
            (Some(signal), _) => Some(format!("cancelled by {signal}")),
            (None, Some(name)) => Some(format!("step `{name}` failed")),
            (None, None) if !self.run_failures.is_empty() => Some(self.run_failures.join("; ")),
            (None, None) if !self.unrecorded.is_empty() => {
                Some("part of the run could not be recorded (E0611)".to_string())
            }
            (None, None) => None,
        }
    }
}

fn lock(live: &Mutex<Live>) -> MutexGuard<'_, Live> {
    live.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records the new run (its steps are recorded as the plan creates them); its id and folder.
fn record_run(
    store: &mut Store,
    pipeline: &ir::Pipeline,
    options: &RunOptions,
    params: &BTreeMap<String, String>,
    resumed: Option<&Resumed>,
) -> Result<(String, PathBuf), Vec<Diagnostic>> {
    let runs_dir = options.state_dir.join("runs");
    let new_run = NewRun {
        experiment: &options.experiment,
        pipeline: &pipeline.ident,
        pipeline_name: &pipeline.name,
        source_path: &options.source_path,
        source: &options.source_text,
        params,
        started_ms: now_ms(),
        runs_dir: &runs_dir,
        resumed_from: resumed.map(|r| r.run.id.as_str()),
        engine: options.engine.name(),
        no_cache: options.no_cache,
    };
    store.begin_run(&new_run).map_err(|e| vec![store_error(&e)])
}
