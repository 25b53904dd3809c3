//! The run loop: checks before starting, then start steps as the scheduler
//! allows, record every event, enforce timeouts, turn signals into a
//! cancelled run.
//!
//! Everything that touches the records or the observer happens on the
//! calling thread; step threads talk to it through one channel. The loop
//! wakes on every message and at least every 100 ms (to read signals, check
//! deadlines and let the caller redraw).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::executor::{self, KillReason, Live, Msg, Outcome, Shared, now_ms};
use super::prepare::{self, Values};
use super::schedule::Scheduler;
use super::signals::Signals;
use super::{
    Event, MetricValue, Observer, RunOptions, RunReport, RunStatus, StepProblem, StepReport,
    StepStatus, error, gpus,
};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir;
use crate::params::{self, Missing, count_value};
use crate::run::store::{MetricRecord, NewRun, RunRecord, StepEnd, StepRecord, Store, StoreError};

/// The longest the loop sleeps.
const TICK: Duration = Duration::from_millis(100);

pub(super) fn run(
    pipeline: &ir::Pipeline,
    options: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<RunReport, Vec<Diagnostic>> {
    // Blocked from before the run is recorded until it is finished, so a
    // Ctrl-C can never leave a recorded run without its end.
    let signals = Signals::block().ok();
    let store = Store::open(&options.state_dir).map_err(|e| vec![store_error(&e)])?;
    if !store.interrupted_on_open().is_empty() {
        observer.event(&Event::Interrupted {
            runs: store.interrupted_on_open(),
        });
    }
    let resumed = match &options.resume {
        Some(id) => Some(resume_from(&store, id, pipeline)?),
        None => None,
    };
    let mut overrides: Vec<(String, String)> = Vec::new();
    if let Some(old) = &resumed {
        overrides.extend(
            old.params
                .iter()
                .filter(|(name, _)| pipeline.param(name).is_some())
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }
    overrides.extend(options.overrides.iter().cloned());
    let params = params::bind(pipeline, &overrides, Missing::Error)?;
    let (needs, total_gpus) = check_gpus(pipeline, &params)?;
    check_sandbox(pipeline, options)?;
    let gpus = Gpus {
        needs,
        total: total_gpus,
    };
    let checked = Checked {
        store,
        resumed,
        params,
        gpus,
        signals,
    };
    Engine::start(pipeline, options, checked, observer)
}

fn store_error(problem: &StoreError) -> Diagnostic {
    error(
        Code::E0607,
        format!("cannot use the run records: {problem}"),
        "check that the state folder (`$KFPL_HOME`, else `.kfpl`) is writable",
    )
}

/// The run to resume: it exists and ran the same pipeline.
fn resume_from(
    store: &Store,
    id: &str,
    pipeline: &ir::Pipeline,
) -> Result<RunRecord, Vec<Diagnostic>> {
    let unknown = || {
        vec![error(
            Code::E0608,
            format!("there is no run `{id}` to resume"),
            "`kfpl runs list` shows the recorded runs",
        )]
    };
    let resolved = store.resolve_id(id).map_err(|e| vec![store_error(&e)])?;
    let Some(resolved) = resolved else {
        return Err(unknown());
    };
    let record = store.run(&resolved).map_err(|e| vec![store_error(&e)])?;
    let Some(record) = record else {
        return Err(unknown());
    };
    if record.pipeline != pipeline.ident {
        return Err(vec![
            error(
                Code::E0609,
                format!(
                    "run `{}` ran pipeline `{}`, not `{}`",
                    record.id, record.pipeline, pipeline.ident
                ),
                format!("resume it with the file it ran (`{}`)", record.source_path),
            )
            .primary(pipeline.span, "this pipeline"),
        ]);
    }
    Ok(record)
}

/// What the checks before starting produced.
struct Checked {
    store: Store,
    resumed: Option<RunRecord>,
    params: BTreeMap<String, String>,
    gpus: Gpus,
    signals: Option<Signals>,
}

/// GPU needs per step and the machine's count.
struct Gpus {
    needs: Vec<u32>,
    total: u32,
}

/// Each step's GPU need and the inventory; an error for each step that wants more than the machine has.
fn check_gpus(
    pipeline: &ir::Pipeline,
    params: &BTreeMap<String, String>,
) -> Result<(Vec<u32>, u32), Vec<Diagnostic>> {
    let needs: Vec<u32> = pipeline
        .steps
        .iter()
        .map(|s| count_value(&s.gpus, params))
        .collect();
    if needs.iter().all(|&n| n == 0) {
        return Ok((needs, 0));
    }
    let inventory = gpus::inventory().map_err(|bad| {
        vec![error(
            Code::E0602,
            format!("`KFPL_GPUS` is `{bad}`, not a whole number of GPUs"),
            "set `KFPL_GPUS=2` to declare two GPUs, or unset it to ask `nvidia-smi -L`",
        )]
    })?;
    let errors: Vec<Diagnostic> = pipeline
        .steps
        .iter()
        .zip(&needs)
        .filter(|(_, need)| **need > inventory.count)
        .map(|(step, need)| {
            let plural = |n: u32| if n == 1 { "" } else { "s" };
            error(
                Code::E0602,
                format!(
                    "step `{}` needs {need} GPU{}, but this machine has {} ({})",
                    step.name,
                    plural(*need),
                    inventory.count,
                    inventory.source
                ),
                "lower the step's `gpus`, run on a machine with more GPUs, or declare them with `KFPL_GPUS=N`",
            )
            .primary(step.name_span, format!("needs {need} GPU{}", plural(*need)))
        })
        .collect();
    if errors.is_empty() {
        Ok((needs, inventory.count))
    } else {
        Err(errors)
    }
}

/// Steps with `data` need a private mount namespace: try one before starting.
fn check_sandbox(pipeline: &ir::Pipeline, options: &RunOptions) -> Result<(), Vec<Diagnostic>> {
    let Some(mount) = pipeline.steps.iter().flat_map(|s| s.data.first()).next() else {
        return Ok(());
    };
    let reason = match &options.sandbox_exe {
        None => Err("no kfpl binary was given to set the mounts up".to_string()),
        Some(exe) => probe(exe, &options.state_dir),
    };
    reason.map_err(|reason| {
        vec![
            error(
                Code::E0603,
                format!(
                    "steps mount data claims, but this machine gives kfpl no private mount namespace: {reason}"
                ),
                "run kfpl as root, or allow unprivileged user namespaces (`sysctl -w user.max_user_namespaces=15000`, `sysctl -w kernel.unprivileged_userns_clone=1`; on Ubuntu also `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`); kfpl never creates the mount paths on the host",
            )
            .primary(mount.span, format!("`{}` would be mounted at `{}`", mount.claim, mount.path)),
        ]
    })
}

fn probe(exe: &Path, state_dir: &Path) -> Result<(), String> {
    let dir = state_dir.join(format!("probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let out = Command::new(exe)
        .args(["__sandbox-exec", "--probe", "--root"])
        .arg(&dir)
        .stdin(Stdio::null())
        .output();
    let _ = std::fs::remove_dir(&dir);
    match out {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stderr);
            let line = text
                .lines()
                .last()
                .unwrap_or("")
                .trim_start_matches("kfpl: ");
            Err(if line.is_empty() {
                format!("the probe failed ({})", out.status)
            } else {
                line.to_string()
            })
        }
        Err(e) => Err(format!("cannot run `{}`: {e}", exe.display())),
    }
}

struct Engine<'a> {
    pipeline: &'a ir::Pipeline,
    options: &'a RunOptions,
    store: Store,
    observer: &'a mut dyn Observer,
    run_id: String,
    run_dir: std::path::PathBuf,
    values: Values,
    scheduler: Scheduler,
    lives: Vec<Option<Arc<Mutex<Live>>>>,
    gpus: Vec<String>,
    reports: Vec<Option<StepReport>>,
    shared: Arc<Shared>,
    warnings: Vec<String>,
    cancelled: Option<String>,
    failed: Option<usize>,
}

impl<'a> Engine<'a> {
    fn start(
        pipeline: &'a ir::Pipeline,
        options: &'a RunOptions,
        checked: Checked,
        observer: &'a mut dyn Observer,
    ) -> Result<RunReport, Vec<Diagnostic>> {
        let Checked {
            mut store,
            resumed,
            params,
            gpus,
            signals,
        } = checked;
        let started = Instant::now();
        let names: Vec<String> = pipeline.steps.iter().map(|s| s.name.clone()).collect();
        let mut values = Values {
            params,
            outputs: BTreeMap::new(),
        };
        let reused: Vec<&StepRecord> = resumed
            .iter()
            .flat_map(|old| &old.steps)
            .filter(|s| {
                StepStatus::parse(&s.status).is_some_and(StepStatus::is_success)
                    && pipeline.step(&s.name).is_some()
            })
            .collect();
        let reused_names: BTreeSet<&str> = reused.iter().map(|s| s.name.as_str()).collect();
        let reused_metrics: Vec<&MetricRecord> = resumed
            .iter()
            .flat_map(|old| &old.metrics)
            .filter(|m| reused_names.contains(m.step.as_str()))
            .collect();
        for step in &reused {
            for (output, value) in &step.outputs {
                values
                    .outputs
                    .insert((step.name.clone(), output.clone()), value.clone());
            }
        }
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
            resumed_from: resumed.as_ref().map(|r| r.id.as_str()),
            steps: pipeline
                .steps
                .iter()
                .map(|s| (s.name.as_str(), values.render(&s.image)))
                .collect(),
            reused: reused.clone(),
            reused_metrics: reused_metrics.clone(),
        };
        let (run_id, run_dir) = store
            .begin_run(&new_run)
            .map_err(|e| vec![store_error(&e)])?;
        let done: Vec<bool> = names
            .iter()
            .map(|n| reused_names.contains(n.as_str()))
            .collect();
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
        let n = pipeline.steps.len();
        let mut engine = Engine {
            pipeline,
            options,
            store,
            observer,
            run_id,
            run_dir,
            values,
            scheduler: Scheduler::new(deps, gpus.needs, gpus.total, options.parallelism, &done),
            lives: vec![None; n],
            gpus: vec![String::new(); n],
            reports: vec![None; n],
            shared: Arc::new(Shared {
                cancel: AtomicBool::new(false),
                state_dir: options.state_dir.clone(),
                invocation_dir: options.invocation_dir.clone(),
                sandbox_exe: options.sandbox_exe.clone(),
            }),
            warnings: Vec::new(),
            cancelled: None,
            failed: None,
        };
        engine.observer.event(&Event::Started {
            run: &engine.run_id,
            pipeline: &pipeline.ident,
            experiment: &options.experiment,
            steps: &names,
            run_dir: &engine.run_dir,
            resumed_from: resumed.as_ref().map(|r| r.id.as_str()),
        });
        for old in &reused {
            let Some(index) = pipeline.step_position(&old.name) else {
                continue;
            };
            let metrics = reused_metrics
                .iter()
                .filter(|m| m.step == old.name)
                .map(|m| (m.name.clone(), m.value))
                .collect();
            let report = engine.report(
                index,
                StepStatus::Reused,
                0,
                None,
                old.exit_code,
                metrics,
                None,
            );
            engine
                .observer
                .event(&Event::StepFinished { step: &report });
            engine.reports[index] = Some(report);
        }
        engine.drive(signals.as_ref());
        let report = engine.finish(started);
        drop(signals);
        Ok(report)
    }

    fn drive(&mut self, signals: Option<&Signals>) {
        if signals.is_none() {
            self.warnings
                .push("cannot watch for Ctrl-C: signals could not be blocked".into());
        }
        let (tx, rx) = mpsc::channel::<Msg>();
        let mut threads = Vec::new();
        let mut last_tick = Instant::now();
        loop {
            for (index, gpus) in self.scheduler.start_ready() {
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
                let spawned = std::thread::Builder::new()
                    .name(format!("step-{}", spec.name))
                    .spawn(move || executor::supervise(spec, live, shared, tx));
                match spawned {
                    Ok(handle) => threads.push(handle),
                    Err(e) => {
                        let outcome = failed_outcome(
                            Code::E0601,
                            format!("cannot start a thread for the step: {e}"),
                        );
                        self.done(index, outcome);
                    }
                }
            }
            if self.scheduler.running() == 0 {
                break;
            }
            match rx.recv_timeout(self.next_wake()) {
                Ok(msg) => self.handle(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            while let Ok(msg) = rx.try_recv() {
                self.handle(msg);
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

    /// How long the loop may sleep: until the next deadline, at most a tick.
    fn next_wake(&self) -> Duration {
        let now = Instant::now();
        let mut wake = TICK;
        for live in self.lives.iter().flatten() {
            let live = live.lock().unwrap_or_else(PoisonError::into_inner);
            let deadline = match (&live.kill, live.started, live.timeout) {
                (Some(kill), _, _) if !kill.hard => Some(kill.term_at + self.options.kill_grace),
                (None, Some(started), Some(timeout)) => Some(started + timeout),
                _ => None,
            };
            if let Some(deadline) = deadline {
                wake = wake.min(deadline.saturating_duration_since(now));
            }
        }
        wake.max(Duration::from_millis(1))
    }

    /// Timeouts: SIGTERM when due, SIGKILL after the grace period.
    fn police(&mut self) {
        let now = Instant::now();
        for live in self.lives.iter().flatten() {
            let mut live = live.lock().unwrap_or_else(PoisonError::into_inner);
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
            let mut live = live.lock().unwrap_or_else(PoisonError::into_inner);
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

    fn record<T>(&mut self, result: Result<T, StoreError>) {
        if let Err(e) = result {
            self.warnings.push(e.to_string());
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Attempt {
                step,
                attempt,
                started_ms,
            } => {
                let name = self.pipeline.steps[step].name.clone();
                let result = self.store.step_started(
                    &self.run_id,
                    &name,
                    attempt,
                    started_ms,
                    &self.gpus[step],
                );
                self.record(result);
                let max_attempts =
                    count_value(&self.pipeline.steps[step].retries, &self.values.params)
                        .saturating_add(1);
                self.observer.event(&Event::StepStarted {
                    step: &name,
                    attempt,
                    max_attempts,
                    gpus: &self.gpus[step],
                });
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
            Msg::Warning {
                step,
                code,
                message,
            } => self.warn(step, code, &message),
            Msg::Done { step, outcome } => self.done(step, *outcome),
        }
    }

    /// A warning: into the step's stderr log and to the observer.
    fn warn(&mut self, step: usize, code: Code, message: &str) {
        let log = self.run_dir.join(self.name(step)).join("stderr.log");
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            use std::io::Write;
            let _ = writeln!(file, "kfpl: warning[{code}]: {message}");
        }
        let name = self.name(step).to_string();
        self.observer.event(&Event::Warning {
            step: Some(&name),
            code,
            message,
        });
    }

    fn done(&mut self, index: usize, outcome: Outcome) {
        let success = outcome.status == StepStatus::Succeeded;
        self.scheduler.finish(index, success);
        self.lives[index] = None;
        let name = self.name(index).to_string();
        if success {
            for (output, value) in &outcome.outputs {
                self.values
                    .outputs
                    .insert((name.clone(), output.clone()), value.clone());
            }
            for (metric, value) in &outcome.metrics {
                if value.is_none() {
                    self.warn(
                        index,
                        Code::W0602,
                        &format!(
                            "metric `{metric}` was declared but never printed; recorded as missing"
                        ),
                    );
                }
            }
        } else if outcome.status == StepStatus::Failed && self.failed.is_none() {
            self.failed = Some(index);
        }
        let formats = self.formats(index);
        let end = StepEnd {
            status: outcome.status,
            attempts: outcome.attempts,
            started_ms: outcome.started_ms,
            ended_ms: outcome.ended_ms,
            exit_code: outcome.exit_code,
            signal: outcome.signal,
            outputs: &outcome.outputs,
            message: outcome.problem.as_ref().map(|p| p.message.as_str()),
            metrics: outcome
                .metrics
                .iter()
                .map(|(name, value)| {
                    let format = formats.get(name).copied().unwrap_or("raw");
                    (name.as_str(), *value, format)
                })
                .collect(),
        };
        let result = self.store.step_finished(&self.run_id, &name, &end);
        self.record(result);
        let report = self.report(
            index,
            outcome.status,
            outcome.attempts,
            outcome.duration,
            outcome.exit_code,
            outcome.metrics,
            outcome.problem,
        );
        self.observer.event(&Event::StepFinished { step: &report });
        self.reports[index] = Some(report);
    }

    fn formats(&self, index: usize) -> BTreeMap<String, &'static str> {
        self.pipeline.steps[index]
            .metrics
            .iter()
            .map(|m| (m.name.clone(), format_name(m.format)))
            .collect()
    }

    #[allow(clippy::too_many_arguments)] // reason: one report from the pieces of an outcome
    fn report(
        &self,
        index: usize,
        status: StepStatus,
        attempts: u32,
        duration: Option<Duration>,
        exit_code: Option<i32>,
        metrics: Vec<(String, Option<f64>)>,
        problem: Option<StepProblem>,
    ) -> StepReport {
        let step = &self.pipeline.steps[index];
        StepReport {
            name: step.name.clone(),
            status,
            attempts,
            duration,
            exit_code,
            metrics: step
                .metrics
                .iter()
                .map(|m| MetricValue {
                    name: m.name.clone(),
                    value: metrics
                        .iter()
                        .find(|(name, _)| *name == m.name)
                        .and_then(|(_, v)| *v),
                    format: m.format,
                })
                .collect(),
            problem,
            step_dir: self.run_dir.join(&step.name),
        }
    }

    fn finish(mut self, started: Instant) -> RunReport {
        let no_outputs = BTreeMap::new();
        for index in self.scheduler.unstarted() {
            let reason = if self.cancelled.is_some() {
                "the run was cancelled".to_string()
            } else if let Some(dep) = self.scheduler.failed_dependency(index) {
                format!("it depends on `{}`, which failed", self.name(dep))
            } else if let Some(failed) = self.failed {
                format!("step `{}` failed first", self.name(failed))
            } else {
                "not started".to_string()
            };
            let name = self.name(index).to_string();
            let end = StepEnd {
                status: StepStatus::Skipped,
                attempts: 0,
                started_ms: None,
                ended_ms: now_ms(),
                exit_code: None,
                signal: None,
                outputs: &no_outputs,
                message: Some(&reason),
                metrics: Vec::new(),
            };
            let result = self.store.step_finished(&self.run_id, &name, &end);
            self.record(result);
            let problem = StepProblem {
                code: Code::E0601,
                message: reason,
            };
            let report = self.report(
                index,
                StepStatus::Skipped,
                0,
                None,
                None,
                Vec::new(),
                Some(problem),
            );
            self.observer.event(&Event::StepFinished { step: &report });
            self.reports[index] = Some(report);
        }
        let status = if self.cancelled.is_some() {
            RunStatus::Cancelled
        } else if self.failed.is_some()
            || self
                .reports
                .iter()
                .any(|r| r.as_ref().is_none_or(|r| !r.status.is_success()))
        {
            RunStatus::Failed
        } else {
            RunStatus::Succeeded
        };
        let message = match (&self.cancelled, self.failed) {
            (Some(signal), _) => Some(format!("cancelled by {signal}")),
            (None, Some(index)) => Some(format!("step `{}` failed", self.name(index))),
            (None, None) => None,
        };
        let exit = i32::from(status != RunStatus::Succeeded);
        let result =
            self.store
                .finish_run(&self.run_id, status, now_ms(), exit, message.as_deref());
        self.record(result);
        let steps = self
            .reports
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| StepReport {
                    name: self.pipeline.steps[i].name.clone(),
                    status: StepStatus::Skipped,
                    attempts: 0,
                    duration: None,
                    exit_code: None,
                    metrics: Vec::new(),
                    problem: None,
                    step_dir: self.run_dir.join(&self.pipeline.steps[i].name),
                })
            })
            .collect();
        RunReport {
            run_id: self.run_id,
            status,
            run_dir: self.run_dir,
            duration: started.elapsed(),
            steps,
            warnings: self.warnings,
        }
    }
}

/// `raw` or `percentage`.
pub(crate) fn format_name(format: ir::MetricFormat) -> &'static str {
    match format {
        ir::MetricFormat::Raw => "raw",
        ir::MetricFormat::Percentage => "percentage",
    }
}

/// The outcome of a step that failed before (or without) running.
pub(super) fn failed_outcome(code: Code, message: String) -> Outcome {
    Outcome {
        status: StepStatus::Failed,
        attempts: 0,
        started_ms: None,
        ended_ms: now_ms(),
        duration: None,
        exit_code: None,
        signal: None,
        outputs: BTreeMap::new(),
        metrics: Vec::new(),
        problem: Some(StepProblem { code, message }),
    }
}
