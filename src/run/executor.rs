//! One step, start to end, on a thread of its own: `sync_source`, then each
//! attempt as a real process, retries, outputs and metrics.
//!
//! An attempt is spawned in its own process group (`process_group(0)`),
//! with stdin from `/dev/null`, its working directory, and the spec's
//! environment. Steps that mount claims are spawned as `kfpl __sandbox-exec`
//! (see [`super::sandbox`]), which execs the command in the same process, so
//! the process group is the same. Two reader threads copy stdout and stderr
//! to the step's log files and, line by line, to the engine (stdout lines are
//! also fed to the metric [`Collector`]). When the main process exits, the
//! rest of its group is killed (as a container's processes die with it), so
//! no step leaves processes behind. A process that left the group (`setsid`)
//! and still holds the step's pipes, or any left after a timeout or Ctrl-C,
//! is found by the step's tag and killed ([`super::reap`]); and once the
//! group is gone the readers stop at the first idle moment (or after
//! `DRAIN_MAX` more bytes), so nothing outside the group can hold the step
//! open.
//! Timeouts and Ctrl-C are enforced by the engine through the shared
//! [`Live`] record: SIGTERM to the group, SIGKILL after the grace period.
//!
//! The lines go to the engine through a bounded channel: a step that prints
//! faster than the caller shows waits, and kfpl's memory stays flat.

use crate::check::ir::ParamType;
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender as Sender;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::artifacts::KeepError;
use super::files::{append, read_output};
use super::metrics::Collector;
use super::prepare::StepSpec;
use super::protocol::{
    KillReason, Live, MetricValue, Msg, Shared, StepProblem, StepReport, now_ms,
};
use super::reader::{ChildPipe, DRAIN_IDLE, Reader, pipes_closed};
use super::{StepStatus, Stream, sidecars, warnings};
use crate::check::values::{MAX_VALUE_BYTES, value_too_large};
use crate::diagnostics::Code;

/// The output every step has without declaring it (LANGUAGE.md, "Outputs"):
/// most steps never write it, so leaving it empty is worth no warning.
const IMPLICIT_OUTPUT: &str = "output";
/// Exit status of `kfpl __sandbox-exec` when it cannot set the step up.
pub(crate) const SANDBOX_FAILED: i32 = 125;
/// Exit status of `kfpl __sandbox-exec` when the command does not exist.
pub(crate) const NOT_FOUND: i32 = 127;

fn lock(live: &Mutex<Live>) -> std::sync::MutexGuard<'_, Live> {
    live.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sends `Done` when dropped without having sent it (a panic in the step
/// thread must not leave the engine waiting forever).
struct DoneGuard<'a> {
    spec: &'a StepSpec,
    tx: Sender<Msg>,
    sent: bool,
}

impl DoneGuard<'_> {
    fn send(mut self, report: StepReport) {
        self.sent = true;
        let _ = self.tx.send(Msg::Done {
            step: self.spec.index,
            report: Box::new(report),
        });
    }
}

impl Drop for DoneGuard<'_> {
    fn drop(&mut self) {
        if !self.sent {
            let problem = StepProblem {
                code: Code::E0901,
                message: "internal error while running the step".into(),
            };
            let _ = self.tx.send(Msg::Done {
                step: self.spec.index,
                report: Box::new(unrun(self.spec, StepStatus::Failed, Some(problem))),
            });
        }
    }
}

/// The report of a step that ran no process.
fn unrun(spec: &StepSpec, status: StepStatus, problem: Option<StepProblem>) -> StepReport {
    StepReport::unrun(
        &spec.name,
        spec.dirs.step.clone(),
        spec.metrics
            .iter()
            .map(|(name, format)| (name.as_str(), *format)),
        status,
        problem,
    )
}

/// Runs the step to its end and sends `Msg::Done`.
pub(crate) fn supervise(
    spec: StepSpec,
    live: Arc<Mutex<Live>>,
    shared: Arc<Shared>,
    tx: Sender<Msg>,
) {
    let guard = DoneGuard {
        spec: &spec,
        tx: tx.clone(),
        sent: false,
    };
    let report = Supervisor {
        spec: &spec,
        live: &live,
        shared: &shared,
        tx: &tx,
    }
    .run();
    guard.send(report);
}

struct Supervisor<'a> {
    spec: &'a StepSpec,
    live: &'a Mutex<Live>,
    shared: &'a Shared,
    tx: &'a Sender<Msg>,
}

/// One attempt's result.
struct Attempt {
    exit_code: Option<i32>,
    signal: Option<i32>,
    metrics: Vec<(String, Option<f64>)>,
    /// Metrics printed as something that is not a number: the last text.
    rejected: Vec<(String, String)>,
    result: Result<BTreeMap<String, String>, AttemptError>,
}

impl Attempt {
    /// Stopped (or never started) because the run was cancelled.
    fn cancelled() -> Attempt {
        Attempt {
            exit_code: None,
            signal: None,
            metrics: Vec::new(),
            rejected: Vec::new(),
            result: Err(AttemptError::Cancelled),
        }
    }
}

/// Copies what the collector read into the declared metrics.
fn fill_metrics(
    declared: &mut [MetricValue],
    read: &[(String, Option<f64>)],
    rejected: &[(String, String)],
) {
    for metric in declared {
        metric.value = read
            .iter()
            .find(|(name, _)| *name == metric.name)
            .and_then(|(_, value)| *value);
        metric.rejected = rejected
            .iter()
            .find(|(name, _)| *name == metric.name)
            .map(|(_, text)| text.clone());
    }
}

/// Whether `retries` tries a failure again. A `sync_source` that cannot be
/// had is not: on Argo the clone is an init container, whose failure makes
/// the pod an Error, and a `retryStrategy` without `retryPolicy` retries
/// only Failures (v3.3 `workflow/controller/operator.go`,
/// `processNodeRetries`: `RetryPolicyOnFailure` by default).
fn is_retried(problem: &StepProblem) -> bool {
    problem.code != Code::E0606
}

/// Why a failure that [`is_retried`] does not try again is final.
const NOT_RETRIED: &str =
    "not retried: a failed `sync_source` is an Error on Argo, and `retries` repeats only failures";

enum AttemptError {
    Cancelled,
    Failed(StepProblem),
}

impl Supervisor<'_> {
    /// Attempts until one succeeds, the retries are spent or the run is cancelled.
    fn run(&self) -> StepReport {
        let spec = self.spec;
        let first = Instant::now();
        let started_ms = now_ms();
        let mut synced = false;
        let mut attempt = 0;
        let max_attempts = spec.retries.saturating_add(1);
        loop {
            attempt += 1;
            let (recorded, start_recorded) = std::sync::mpsc::sync_channel(1);
            let _ = self.tx.send(Msg::Attempt {
                step: spec.index,
                attempt,
                started_ms: now_ms(),
                recorded,
            });
            // Err: the engine is gone, and there is nothing to wait for.
            let _ = start_recorded.recv();
            let result = if self.shared.cancel.load(Ordering::SeqCst) {
                Attempt::cancelled()
            } else {
                self.attempt(attempt, &mut synced)
            };
            let mut report = StepReport {
                attempts: attempt,
                started_ms: Some(started_ms),
                duration: Some(first.elapsed()),
                exit_code: result.exit_code,
                signal: result.signal,
                ..unrun(spec, StepStatus::Succeeded, None)
            };
            fill_metrics(&mut report.metrics, &result.metrics, &result.rejected);
            match result.result {
                Ok(outputs) => {
                    report.outputs = outputs;
                    return report;
                }
                Err(AttemptError::Cancelled) => {
                    report.status = StepStatus::Cancelled;
                    report.problem = Some(self.cancelled());
                    return report;
                }
                Err(AttemptError::Failed(mut problem)) => {
                    let retries_left = attempt < max_attempts;
                    if retries_left && !is_retried(&problem) {
                        problem.message = format!("{} ({NOT_RETRIED})", problem.message);
                        self.note(&format!("kfpl: {NOT_RETRIED}"));
                    } else if retries_left && !self.shared.cancel.load(Ordering::SeqCst) {
                        self.retry(attempt, max_attempts, problem.message);
                        continue;
                    }
                    report.status = StepStatus::Failed;
                    report.problem = Some(problem);
                    return report;
                }
            }
        }
    }

    fn cancelled(&self) -> StepProblem {
        StepProblem {
            code: Code::E0601,
            message: "stopped: the run was cancelled".into(),
        }
    }

    /// Notes a failed attempt that will be tried again, in the log and to the engine.
    fn retry(&self, attempt: u32, max_attempts: u32, reason: String) {
        self.note(&format!(
            "kfpl: attempt {attempt} of {max_attempts} failed: {reason}; trying again"
        ));
        let _ = self.tx.send(Msg::Retry {
            step: self.spec.index,
            attempt,
            reason,
        });
    }

    /// A `W06xx` warning about this step, to the engine.
    fn warn(&self, warning: crate::diagnostics::Diagnostic) {
        let _ = self.tx.send(Msg::Warning {
            step: self.spec.index,
            warning: Box::new(warning),
        });
    }

    /// A line of kfpl's own in the step's stderr log.
    fn note(&self, text: &str) {
        if let Ok(mut log) = append(&self.spec.dirs.stderr_log) {
            let _ = writeln!(log, "{text}");
        }
    }

    fn failed(&self, code: Code, message: String) -> Attempt {
        self.note(&format!("kfpl: error[{code}]: {message}"));
        Attempt {
            exit_code: None,
            signal: None,
            metrics: Vec::new(),
            rejected: Vec::new(),
            result: Err(AttemptError::Failed(StepProblem { code, message })),
        }
    }

    fn attempt(&self, attempt: u32, synced: &mut bool) -> Attempt {
        let spec = self.spec;
        let dirs = &spec.dirs;
        for dir in [&dirs.work, &dirs.outputs] {
            if let Err(e) = std::fs::create_dir_all(dir) {
                return self.failed(
                    Code::E0607,
                    format!("cannot create `{}`: {e}", dir.display()),
                );
            }
        }
        if !spec.mounts.is_empty() {
            if self.shared.engine.binary().is_none() {
                let _ = std::fs::create_dir_all(&dirs.root);
            }
            for (claim, _) in &spec.mounts {
                if let Err(e) = std::fs::create_dir_all(claim) {
                    return self.failed(
                        Code::E0607,
                        format!("cannot create `{}`: {e}", claim.display()),
                    );
                }
            }
        }
        let ui = super::visuals::metadata_dir(&dirs.step);
        if spec.visuals
            && let Err(e) = std::fs::create_dir_all(&ui)
        {
            return self.failed(
                Code::E0607,
                format!("cannot create `{}`: {e}", ui.display()),
            );
        }
        // Outputs (and visuals) are the last attempt's only.
        if attempt > 1 {
            clear_dir(&dirs.outputs);
            clear_dir(&ui);
            self.note(&format!("kfpl: attempt {attempt}"));
        }
        if let (Some(sync), false) = (&spec.sync, *synced) {
            let mut log = match append(&dirs.stderr_log) {
                Ok(log) => log,
                Err(e) => {
                    return self.failed(
                        Code::E0607,
                        format!("cannot open `{}`: {e}", dirs.stderr_log.display()),
                    );
                }
            };
            let register = |pgid: Option<u32>| {
                let mut live = lock(self.live);
                live.pgid = pgid.map(|p| p as i32);
                live.started = Some(Instant::now());
                live.timeout = None;
                live.kill = None;
                if pgid.is_some() && self.shared.cancel.load(Ordering::SeqCst) {
                    live.stop(KillReason::Cancel, Instant::now());
                }
            };
            let synced_now = super::git::sync(
                sync,
                &self.shared.state_dir,
                &self.shared.invocation_dir,
                &dirs.work,
                &mut log,
                &register,
            );
            if self.shared.cancel.load(Ordering::SeqCst) {
                return Attempt::cancelled();
            }
            if let Err(message) = synced_now {
                return self.failed(Code::E0606, message);
            }
            *synced = true;
        }
        self.run_process()
    }

    /// The command that runs `spec` (the step's, or a sidecar's) where
    /// the step runs: as a process, in the sandbox, or in a container.
    fn command(&self, spec: &StepSpec) -> Result<Command, (Code, String)> {
        let mut command = if let Some(binary) = self.shared.engine.binary() {
            let argv = super::engine_container::run_argv(binary, spec, self.shared.pull);
            let mut command = Command::new(binary);
            command.args(&argv[1..]);
            command
        } else if spec.mounts.is_empty() {
            let (program, args) = spec
                .argv
                .split_first()
                .ok_or((Code::E0604, "the command is empty".to_string()))?;
            let mut command = Command::new(program);
            command.args(args);
            command
        } else {
            let exe = self.shared.sandbox_exe.as_ref().ok_or((
                Code::E0603,
                "the step mounts data claims, but no kfpl binary was given to set up its mounts"
                    .to_string(),
            ))?;
            let mut command = Command::new(exe);
            command
                .arg("__sandbox-exec")
                .arg("--root")
                .arg(&spec.dirs.root)
                .arg("--cwd")
                .arg(&spec.dirs.work);
            for (claim, path) in &spec.mounts {
                command.arg("--mount").arg(claim).arg(path);
            }
            for path in spec.read_only_mounts() {
                command.arg("--read-only").arg(path);
            }
            command.arg("--").args(&spec.argv);
            command
        };
        command
            .current_dir(&spec.dirs.work)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .envs(spec.secrets.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        Ok(command)
    }

    fn run_process(&self) -> Attempt {
        let spec = self.spec;
        let logs = (append(&spec.dirs.stdout_log), append(&spec.dirs.stderr_log));
        let (Ok(stdout_log), Ok(stderr_log)) = logs else {
            return self.failed(
                Code::E0607,
                format!("cannot open the logs in `{}`", spec.dirs.step.display()),
            );
        };
        let (sidecars, network) = match self.start_sidecars() {
            Ok(started) => started,
            Err((code, message)) => return self.failed(code, message),
        };
        // Under an engine, the step joins its first sidecar's network, as a pod's containers share one.
        let joined = network.map(|owner| sidecars::joined(spec, owner));
        let mut command = match self.command(joined.as_ref().unwrap_or(spec)) {
            Ok(command) => command,
            Err((code, message)) => {
                self.stop_sidecars(sidecars);
                return self.failed(code, message);
            }
        };
        let mut child: Child = match command.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let program = spec.argv.first().map_or("", String::as_str);
                return self.failed(Code::E0604, format!("command `{program}` not found"));
            }
            Err(e) => return self.failed(Code::E0601, format!("cannot start the command: {e}")),
        };
        let pid = child.id() as i32;
        {
            let mut live = lock(self.live);
            live.pgid = Some(pid);
            live.started = Some(Instant::now());
            live.timeout = spec.timeout;
            live.kill = None;
            if self.shared.cancel.load(Ordering::SeqCst) {
                live.stop(KillReason::Cancel, Instant::now());
            }
        }
        let collector = Collector::new(spec.metrics.iter().map(|(name, _)| name.clone()));
        let gone = Arc::new(AtomicBool::new(false));
        let (ended_tx, ended) = std::sync::mpsc::channel::<()>();
        let read = |reader: Reader, pipe| {
            let gone = Arc::clone(&gone);
            let ended_tx = ended_tx.clone();
            std::thread::spawn(move || {
                let reader = reader.read(pipe, &gone);
                let _ = ended_tx.send(());
                reader
            })
        };
        let readers = (
            child.stdout.take().map(|pipe| {
                let reader =
                    Reader::new(spec, Stream::Stdout, stdout_log, Some(collector), self.tx);
                read(reader, ChildPipe::Stdout(pipe))
            }),
            child.stderr.take().map(|pipe| {
                let reader = Reader::new(spec, Stream::Stderr, stderr_log, None, self.tx);
                read(reader, ChildPipe::Stderr(pipe))
            }),
        );
        drop(ended_tx);
        let status = child.wait();
        let kill = {
            let mut live = lock(self.live);
            // The main process is gone: so is the rest of its group.
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
            live.pgid = None;
            live.kill.take()
        };
        let sidecar_failure = self.stop_sidecars(sidecars);
        let held = !pipes_closed(&ended, DRAIN_IDLE);
        if let (Some(binary), Some(_)) = (self.shared.engine.binary(), &kill) {
            // A killed `podman run` leaves its container running.
            super::engine_container::remove(binary, spec);
        }
        if held || kill.is_some() {
            // Something that left the group (setsid) still holds the pipes,
            // or the step was stopped: kill what carries the step's tag.
            let outputs = spec.dirs.outputs.to_string_lossy();
            super::reap::kill_tagged("KFP_OUTPUTS", &outputs);
        }
        gone.store(true, Ordering::SeqCst);
        let stdout = readers.0.and_then(|h| h.join().ok());
        let stderr = readers.1.and_then(|h| h.join().ok());
        for reader in [&stdout, &stderr].into_iter().flatten() {
            if let Some(warning) = reader.log_cut() {
                self.warn(warning);
            }
        }
        if !spec.mounts.is_empty() {
            let _ = std::fs::remove_dir(&spec.dirs.root);
        }
        let collector = stdout.as_ref().and_then(|r| r.collector.as_ref());
        let metrics = collector.map(Collector::values).unwrap_or_default();
        let rejected = collector.map(Collector::rejected).unwrap_or_default();
        let status = match status {
            Ok(status) => status,
            Err(e) => return self.failed(Code::E0601, format!("lost the step's process: {e}")),
        };
        let mut attempt = Attempt {
            exit_code: status.code(),
            signal: status.signal(),
            metrics,
            rejected,
            result: Ok(BTreeMap::new()),
        };
        let last_kfpl_line = stderr.and_then(|r| r.last_kfpl_line);
        attempt.result = match kill.map(|k| k.reason) {
            Some(KillReason::Cancel) => Err(AttemptError::Cancelled),
            Some(KillReason::Timeout) => {
                let limit = spec.timeout.map_or(0, |t| t.as_secs());
                let problem = StepProblem {
                    code: Code::E0605,
                    message: format!("timed out after {limit}s; its processes were stopped"),
                };
                self.note(&format!(
                    "kfpl: error[{}]: {}",
                    problem.code, problem.message
                ));
                Err(AttemptError::Failed(problem))
            }
            None if status.success() => match sidecar_failure {
                Some(message) => {
                    self.note(&format!("kfpl: error[{}]: {message}", Code::E0601));
                    Err(AttemptError::Failed(StepProblem {
                        code: Code::E0601,
                        message,
                    }))
                }
                None => self.read_outputs().inspect(|_| self.check_visuals()),
            },
            None => Err(AttemptError::Failed(
                self.exit_problem(status, last_kfpl_line),
            )),
        };
        attempt
    }

    /// Starts the step's sidecars, each in its own process group, its
    /// output in `sidecar-NAME.log`; on a failure, stops those started.
    /// Under an engine, also the container whose network the others join
    /// (the first sidecar's, once it runs).
    fn start_sidecars(&self) -> Result<(Vec<sidecars::Running>, Option<String>), (Code, String)> {
        let mut running: Vec<sidecars::Running> = Vec::with_capacity(self.spec.sidecars.len());
        let mut network: Option<String> = None;
        for sidecar in &self.spec.sidecars {
            let mut started = self.start_sidecar(sidecar, network.as_deref());
            if let (Ok(first), Some(binary), None) =
                (&mut started, self.shared.engine.binary(), &network)
            {
                let name = first
                    .container
                    .as_ref()
                    .map(super::engine_container::container_name);
                network =
                    name.filter(|name| sidecars::wait_running(binary, name, &mut first.child));
                if network.is_none() {
                    let message = format!(
                        "the container of sidecar `{}` did not start; see its log",
                        sidecar.name
                    );
                    if let Ok(first) = started {
                        running.push(first);
                    }
                    started = Err(message);
                }
            }
            match started {
                Ok(started) => running.push(started),
                Err(message) => {
                    self.stop_sidecars(running);
                    return Err((Code::E0601, message));
                }
            }
        }
        Ok((running, network))
    }

    fn start_sidecar(
        &self,
        sidecar: &crate::check::ir::Sidecar,
        network: Option<&str>,
    ) -> Result<sidecars::Running, String> {
        let mut spec = sidecars::spec(self.spec, sidecar);
        spec.network = network.map(String::from);
        let cannot =
            |e: &dyn std::fmt::Display| format!("cannot start sidecar `{}`: {e}", sidecar.name);
        let mut command = self
            .command(&spec)
            .map_err(|(_, message)| cannot(&message))?;
        let log_path = sidecars::log_path(self.spec, &sidecar.name);
        let log = append(&log_path).map_err(|e| cannot(&e))?;
        sidecars::redirect(&mut command, &log).map_err(|e| cannot(&e))?;
        let child = command.spawn().map_err(|e| cannot(&e))?;
        Ok(sidecars::Running {
            name: sidecar.name.clone(),
            child,
            container: self.shared.engine.binary().map(|_| spec),
        })
    }

    /// Stops the sidecars once main has ended: W0610 for each that had to
    /// be killed; the failure of one that exited non-zero on its own.
    fn stop_sidecars(&self, running: Vec<sidecars::Running>) -> Option<String> {
        let mut failure = None;
        for (sidecar, ending) in sidecars::stop(running, sidecars::GRACE) {
            if let (Some(binary), Some(spec)) = (self.shared.engine.binary(), &sidecar.container) {
                super::engine_container::remove(binary, spec);
            }
            match ending {
                sidecars::Ending::Stopped => {}
                sidecars::Ending::Killed => {
                    self.warn(warnings::sidecar_killed(&self.spec.name, &sidecar.name))
                }
                sidecars::Ending::Failed(message) => {
                    failure.get_or_insert(message);
                }
            }
        }
        failure
    }

    fn exit_problem(&self, status: ExitStatus, last_kfpl_line: Option<String>) -> StepProblem {
        let sandboxed = !self.spec.mounts.is_empty();
        let kfpl_line = last_kfpl_line.map(|l| l.trim_start_matches("kfpl: ").to_string());
        match (status.code(), kfpl_line) {
            (Some(SANDBOX_FAILED), Some(line)) if sandboxed => StepProblem {
                code: Code::E0603,
                message: format!("cannot mount the step's data claims: {line}"),
            },
            (Some(NOT_FOUND), Some(line)) if sandboxed && line.starts_with("command") => {
                StepProblem {
                    code: Code::E0604,
                    message: line,
                }
            }
            (Some(code), _) => StepProblem {
                code: Code::E0601,
                message: format!("exited with code {code}"),
            },
            (None, _) => {
                let name = status
                    .signal()
                    .and_then(|s| Signal::try_from(s).ok())
                    .map_or_else(|| "a signal".to_string(), |s| s.as_str().to_string());
                StepProblem {
                    code: Code::E0601,
                    message: format!("was killed by {name}"),
                }
            }
        }
    }

    /// W0613/W0614 about the UI metadata of a step with `visuals = true`,
    /// which stays in the step's folder as it was written.
    fn check_visuals(&self) {
        if self.spec.visuals {
            let (_, warnings) = super::visuals::load_step(&self.spec.name, &self.spec.dirs.step);
            warnings.into_iter().for_each(|w| self.warn(w));
        }
    }

    /// Reads `$KFP_OUTPUTS/NAME` for every output: missing = "" (with a
    /// W0606 warning), one trailing newline trimmed.
    fn read_outputs(&self) -> Result<BTreeMap<String, String>, AttemptError> {
        let mut outputs = BTreeMap::new();
        for (name, ty) in &self.spec.outputs {
            let fail = |code: Code, message: String| {
                self.note(&format!("kfpl: error[{}]: {message}", code.as_str()));
                Err(AttemptError::Failed(StepProblem { code, message }))
            };
            let bad = |message: String| fail(Code::E0610, message);
            if *ty == ParamType::File {
                match self.keep_file(name) {
                    Ok(record) => outputs.insert(name.clone(), record),
                    Err(KeepError::Missing(message)) => return fail(Code::E0612, message),
                    Err(KeepError::Bad(message)) => return bad(message),
                };
                continue;
            }
            // A value's bytes never outnumber its quoted length: past the
            // limit plus a newline, the rest cannot matter.
            let most = MAX_VALUE_BYTES as u64 + 2;
            let mut bytes = match read_output(&self.spec.dirs.outputs, name, most) {
                Ok(Some(bytes)) => bytes,
                Ok(None) => {
                    if let Some(message) = typed_output_missing(name, *ty) {
                        return fail(Code::E0612, message);
                    }
                    if name != IMPLICIT_OUTPUT {
                        self.warn(warnings::output_never_written(&self.spec.name, name));
                    }
                    Vec::new()
                }
                Err(message) => return bad(message),
            };
            if bytes.last() == Some(&b'\n') {
                bytes.pop();
            }
            // The size first: a cut-off read must not be judged on its last bytes.
            if let Some(why) = value_too_large(&String::from_utf8_lossy(&bytes)) {
                return bad(format!("output `{name}` is too large: {why}"));
            }
            if bytes.contains(&0) {
                return bad(format!("output `{name}` contains a NUL byte"));
            }
            let text = match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => {
                    self.warn(warnings::output_not_utf8(&self.spec.name, name));
                    String::from_utf8_lossy(e.as_bytes()).into_owned()
                }
            };
            if let Err(message) = check_typed_output(name, *ty, &text) {
                return fail(Code::E0612, message);
            }
            let text = match self.spec.secrets.masker.mask_text(&text) {
                Some(masked) => {
                    self.warn(warnings::output_masked(&self.spec.name, name));
                    // The file is kept with the run: it holds the record's value.
                    let kept = self.spec.dirs.outputs.join(name);
                    if let Err(e) = std::fs::write(&kept, &masked) {
                        return bad(format!("cannot mask output `{name}`: {e}"));
                    }
                    masked
                }
                None => text,
            };
            outputs.insert(name.clone(), text);
        }
        Ok(outputs)
    }
}

impl Supervisor<'_> {
    /// Keeps a `file` output with the run (see `artifacts`): its record.
    fn keep_file(&self, name: &str) -> Result<String, KeepError> {
        let dirs = &self.spec.dirs;
        let run_dir = dirs.step.parent().unwrap_or(&dirs.step);
        super::artifacts::keep(run_dir, &dirs.outputs, name)
    }
}

/// E0612: a typed output the step never wrote.
fn typed_output_missing(name: &str, ty: ParamType) -> Option<String> {
    (ty != ParamType::String).then(|| crate::check::types::missing_message(name, ty))
}

/// E0612: a typed output that is not of its type (the one rule: `check::types`).
fn check_typed_output(name: &str, ty: ParamType, text: &str) -> Result<(), String> {
    crate::check::types::check_output(ty, text)
        .map_err(|_| crate::check::types::mismatch_message(name, ty))
}

fn clear_dir(dir: &std::path::Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}
