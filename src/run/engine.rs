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
use super::preflight::{self, Gpus, Ready, Resumed};
use super::prepare::{self, Values};
use super::protocol::{
    KillReason, Live, MetricValue, Msg, Shared, StepProblem, StepReport, now_ms,
};
use super::schedule::Scheduler;
use super::signals::Signals;
use super::store::{MetricRecord, NewRun, StepRecord, Store, StoreError};
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
        signals,
    } = ready;
    let mut engine = Engine::begin(
        pipeline,
        options,
        store,
        params,
        gpus,
        resumed.as_ref(),
        observer,
    )?;
    engine.announce(resumed.as_ref());
    if let Some(resumed) = &resumed {
        engine.report_reused(resumed);
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
    values: Values,
    scheduler: Scheduler,
    lives: Vec<Option<Arc<Mutex<Live>>>>,
    gpus: Vec<String>,
    reports: Vec<Option<StepReport>>,
    shared: Arc<Shared>,
    warnings: Vec<Diagnostic>,
    /// What could not be recorded (each also a W0604 warning): the run fails.
    unrecorded: Vec<String>,
    cancelled: Option<String>,
    failed: Option<usize>,
}

impl<'a> Engine<'a> {
    /// Records the run and sets the loop up; reused steps count as done.
    fn begin(
        pipeline: &'a ir::Pipeline,
        options: &'a RunOptions,
        mut store: Store,
        params: BTreeMap<String, String>,
        gpus: Gpus,
        resumed: Option<&Resumed>,
        observer: &'a mut dyn Observer,
    ) -> Result<Engine<'a>, Vec<Diagnostic>> {
        let values = Values {
            params,
            outputs: reused_outputs(resumed),
        };
        let (run_id, run_dir) = record_run(&mut store, pipeline, options, &values, resumed)?;
        let n = pipeline.steps.len();
        Ok(Engine {
            pipeline,
            options,
            store,
            observer,
            run_id,
            run_dir,
            values,
            scheduler: new_scheduler(pipeline, gpus, options.parallelism, resumed),
            lives: vec![None; n],
            gpus: vec![String::new(); n],
            reports: vec![None; n],
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
            failed: None,
        })
    }

    /// Tells the observer the run is recorded and about to start.
    fn announce(&mut self, resumed: Option<&Resumed>) {
        let names: Vec<String> = self.pipeline.steps.iter().map(|s| s.name.clone()).collect();
        self.observer.event(&Event::Started {
            run: &self.run_id,
            pipeline: &self.pipeline.ident,
            experiment: &self.options.experiment,
            steps: &names,
            run_dir: &self.run_dir,
            resumed_from: resumed.map(|r| r.run.id.as_str()),
        });
    }

    /// Reports the steps taken over from the resumed run as finished.
    fn report_reused(&mut self, resumed: &Resumed) {
        for old in &resumed.reused {
            let Some(index) = self.pipeline.step_position(&old.name) else {
                continue;
            };
            let report = self.reused_report(index, old, &resumed.reused_metrics);
            self.observer.event(&Event::StepFinished { step: &report });
            self.reports[index] = Some(report);
        }
    }

    fn reused_report(
        &self,
        index: usize,
        old: &StepRecord,
        metrics: &[MetricRecord],
    ) -> StepReport {
        let mut report = self.unrun(index, StepStatus::Reused, None);
        report.exit_code = old.exit_code;
        report.outputs = old.outputs.clone();
        for metric in &mut report.metrics {
            metric.value = metrics
                .iter()
                .find(|m| m.step == old.name && m.name == metric.name)
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

    /// The loop: start what may start, handle messages, police deadlines,
    /// until nothing runs.
    fn drive(&mut self, signals: Option<&Signals>) {
        let (tx, rx) = mpsc::sync_channel::<Msg>(QUEUE);
        let mut threads = Vec::new();
        let mut last_tick = Instant::now();
        loop {
            threads.extend(self.start_ready(&tx));
            if self.scheduler.running() == 0 || !self.receive(&rx) {
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

    /// Starts every step the scheduler lets start; their threads. A step
    /// that fails to start is a failure like any other: it frees its slot
    /// and the other ready steps still start (Argo's failFast, see
    /// `schedule`), so ask again until nothing more starts.
    fn start_ready(&mut self, tx: &Sender<Msg>) -> Vec<JoinHandle<()>> {
        let mut threads = Vec::new();
        loop {
            let ready = self.scheduler.start_ready();
            if ready.is_empty() {
                return threads;
            }
            for (index, gpus) in ready {
                match self.spawn_step(index, gpus, tx) {
                    Ok(thread) => threads.push(thread),
                    Err(problem) => {
                        let report = self.unrun(index, StepStatus::Failed, Some(problem));
                        self.done(index, report);
                    }
                }
            }
        }
    }

    /// One step's thread; why the step failed when no thread can be made.
    fn spawn_step(
        &mut self,
        index: usize,
        gpus: Vec<u32>,
        tx: &Sender<Msg>,
    ) -> Result<JoinHandle<()>, StepProblem> {
        let spec = prepare::step_spec(
            self.pipeline,
            index,
            &self.values,
            gpus,
            &self.options.state_dir,
            &self.run_id,
            &self.run_dir,
        );
        self.gpus[index] = gpus::visible_devices(&spec.gpus);
        let live = Arc::new(Mutex::new(Live::default()));
        self.lives[index] = Some(Arc::clone(&live));
        let shared = Arc::clone(&self.shared);
        let tx = tx.clone();
        std::thread::Builder::new()
            .name(format!("step-{}", spec.name))
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
            .iter()
            .flatten()
            .filter_map(|live| lock(live).deadline(self.options.kill_grace))
            .map(|deadline| deadline.saturating_duration_since(now))
            .fold(TICK, Duration::min)
            .max(Duration::from_millis(1))
    }

    /// Timeouts: SIGTERM when due, SIGKILL after the grace period.
    fn police(&mut self) {
        let now = Instant::now();
        for live in self.lives.iter().flatten() {
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
    /// grace period); a second kills them at once.
    fn on_signal(&mut self, signal: &str) {
        let now = Instant::now();
        let first = self.cancelled.is_none();
        if first {
            self.cancelled = Some(signal.to_string());
            self.shared.cancel.store(true, Ordering::SeqCst);
            self.scheduler.stop();
            self.observer.event(&Event::Cancelling { signal });
        }
        for live in self.lives.iter().flatten() {
            let mut live = lock(live);
            if first {
                live.stop(KillReason::Cancel, now);
                if let Some(kill) = &mut live.kill {
                    // A timeout in progress becomes a cancellation.
                    kill.reason = KillReason::Cancel;
                }
            } else {
                live.kill_now();
            }
        }
    }

    fn name(&self, index: usize) -> &str {
        &self.pipeline.steps[index].name
    }

    /// A report for step `index` that has not run.
    fn unrun(&self, index: usize, status: StepStatus, problem: Option<StepProblem>) -> StepReport {
        let step = &self.pipeline.steps[index];
        StepReport::unrun(
            &step.name,
            self.run_dir.join(&step.name),
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
        let result =
            self.store
                .step_started(&self.run_id, &name, attempt, started_ms, &self.gpus[step]);
        self.record(
            &format!("the start of step `{name}` (attempt {attempt})"),
            result,
        );
        let max_attempts =
            count_value(&self.pipeline.steps[step].retries, &self.values.params).saturating_add(1);
        self.observer.event(&Event::StepStarted {
            step: &name,
            attempt,
            max_attempts,
            gpus: &self.gpus[step],
        });
    }

    /// A warning: into the step's stderr log (when about a step), to the
    /// observer, and into the run's report.
    fn warn(&mut self, step: Option<usize>, warning: Diagnostic) {
        let name = step.map(|index| self.name(index).to_string());
        if let Some(name) = &name {
            let log = self.run_dir.join(name).join("stderr.log");
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

    /// A step ended: pass its outputs on, record it, tell the observer.
    fn done(&mut self, index: usize, report: StepReport) {
        let success = report.status == StepStatus::Succeeded;
        self.scheduler.finish(index, success);
        self.lives[index] = None;
        if success {
            self.pass_outputs_on(&report);
            self.warn_missing_metrics(index, &report.metrics);
        } else if report.status == StepStatus::Failed && self.failed.is_none() {
            self.failed = Some(index);
        }
        self.finished(index, report);
    }

    fn pass_outputs_on(&mut self, report: &StepReport) {
        for (output, value) in &report.outputs {
            self.values
                .outputs
                .insert((report.name.clone(), output.clone()), value.clone());
        }
    }

    fn warn_missing_metrics(&mut self, index: usize, metrics: &[MetricValue]) {
        for metric in metrics.iter().filter(|m| m.value.is_none()) {
            let warning = warnings::metric_never_printed(
                self.name(index),
                &metric.name,
                metric.rejected.as_deref(),
            );
            self.warn(Some(index), warning);
        }
    }

    /// Records a step's end and shows it.
    fn finished(&mut self, index: usize, report: StepReport) {
        let result = self.store.step_finished(&self.run_id, &report);
        self.record(&format!("the end of step `{}`", report.name), result);
        self.observer.event(&Event::StepFinished { step: &report });
        self.reports[index] = Some(report);
    }

    /// Skips what never started, records the run's end, and reports it.
    fn finish(mut self, started: Instant) -> RunReport {
        self.skip_unstarted();
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
        let reports = std::mem::take(&mut self.reports);
        let steps = reports
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.unwrap_or_else(|| self.unrun(i, StepStatus::Skipped, None)))
            .collect();
        RunReport {
            run_id: self.run_id,
            status,
            run_dir: self.run_dir,
            duration: started.elapsed(),
            steps,
            warnings: self.warnings,
            unrecorded: self.unrecorded,
        }
    }

    fn skip_unstarted(&mut self) {
        for index in self.scheduler.unstarted() {
            let problem = StepProblem {
                code: Code::E0601,
                message: self.skip_reason(index),
            };
            let report = self.unrun(index, StepStatus::Skipped, Some(problem));
            self.finished(index, report);
        }
    }

    fn skip_reason(&self, index: usize) -> String {
        if self.cancelled.is_some() {
            "the run was cancelled".to_string()
        } else if let Some(dep) = self.scheduler.failed_dependency(index) {
            format!("it depends on `{}`, which failed", self.name(dep))
        } else if let Some(failed) = self.failed {
            format!("step `{}` failed first", self.name(failed))
        } else {
            "not started".to_string()
        }
    }

    fn run_status(&self) -> RunStatus {
        let all_succeeded = self
            .reports
            .iter()
            .all(|r| r.as_ref().is_some_and(|r| r.status.is_success()));
        if self.cancelled.is_some() {
            RunStatus::Cancelled
        } else if self.failed.is_some() || !all_succeeded {
            RunStatus::Failed
        } else {
            RunStatus::Succeeded
        }
    }

    fn run_message(&self) -> Option<String> {
        match (&self.cancelled, self.failed) {
            (Some(signal), _) => Some(format!("cancelled by {signal}")),
            (None, Some(index)) => Some(format!("step `{}` failed", self.name(index))),
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

/// The outputs the resumed run's reused steps pass on.
fn reused_outputs(resumed: Option<&Resumed>) -> BTreeMap<(String, String), String> {
    resumed
        .into_iter()
        .flat_map(|r| &r.reused)
        .flat_map(|step| {
            step.outputs
                .iter()
                .map(|(output, value)| ((step.name.clone(), output.clone()), value.clone()))
        })
        .collect()
}

/// Records the new run (its steps pending, or reused); its id and folder.
fn record_run(
    store: &mut Store,
    pipeline: &ir::Pipeline,
    options: &RunOptions,
    values: &Values,
    resumed: Option<&Resumed>,
) -> Result<(String, PathBuf), Vec<Diagnostic>> {
    let runs_dir = options.state_dir.join("runs");
    let new_run = NewRun {
        experiment: &options.experiment,
        pipeline: &pipeline.ident,
        pipeline_name: &pipeline.name,
        source_path: &options.source_path,
        source: &options.source_text,
        params: &values.params,
        started_ms: now_ms(),
        runs_dir: &runs_dir,
        resumed_from: resumed.map(|r| r.run.id.as_str()),
        engine: options.engine.name(),
        steps: pipeline
            .steps
            .iter()
            .map(|s| (s.name.as_str(), values.render(&s.image)))
            .collect(),
        reused: resumed
            .map(|r| r.reused.iter().collect())
            .unwrap_or_default(),
        reused_metrics: resumed
            .map(|r| r.reused_metrics.iter().collect())
            .unwrap_or_default(),
    };
    store.begin_run(&new_run).map_err(|e| vec![store_error(&e)])
}

/// The scheduler over the pipeline's dependencies, reused steps already done.
fn new_scheduler(
    pipeline: &ir::Pipeline,
    gpus: Gpus,
    parallelism: usize,
    resumed: Option<&Resumed>,
) -> Scheduler {
    let deps: Vec<Vec<usize>> = pipeline
        .steps
        .iter()
        .map(|s| {
            s.dependencies
                .iter()
                .filter_map(|d| pipeline.step_position(&d.step))
                .collect()
        })
        .collect();
    let done: Vec<bool> = pipeline
        .steps
        .iter()
        .map(|s| resumed.is_some_and(|r| r.reuses(&s.name)))
        .collect();
    Scheduler::new(deps, gpus.needs, gpus.total, parallelism, &done)
}
