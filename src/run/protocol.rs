//! What passes between the engine's loop and the step threads: the channel
//! messages, the one record of how a step went ([`StepReport`], also what
//! the store writes and the caller is shown) with its typed [`StepStatus`],
//! and the [`Live`] process group the engine polices.
//!
//! The engine, the executor and the store import this module and it imports
//! none of them, so the engine depends on the executor one way only.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant, SystemTime};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::Stream;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir;

/// How a run ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Still going (or its kfpl died and no one has looked since).
    Running,
    /// Every step succeeded.
    Succeeded,
    /// A step failed, or the run could not go on.
    Failed,
    /// Stopped by Ctrl-C (SIGINT) or SIGTERM.
    Cancelled,
    /// Its kfpl process died without finishing the record.
    Interrupted,
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// Not started yet.
    Pending,
    /// Started, not finished.
    Running,
    /// Exited 0.
    Succeeded,
    /// Failed on its last attempt (exit code, signal, timeout, setup error).
    Failed,
    /// Never started: an upstream step failed or the run was stopped.
    Skipped,
    /// Stopped by a cancelled run.
    Cancelled,
    /// Not run again: its outputs came from the run being resumed.
    Reused,
    /// Running when its kfpl died.
    Interrupted,
    /// Not run: its cache key matched an earlier successful run of it
    /// (`cache = true`), whose outputs and metrics it has.
    Cached,
}

/// Statuses are these words wherever they are text (the records, `kfpl
/// runs`, JSON): `as_str` writes them, `FromStr` reads them back, and
/// nothing else spells them.
macro_rules! status_text {
    ($ty:ident { $($variant:ident => $text:literal,)* }) => {
        impl $ty {
            /// The word stored and shown.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text,)* }
            }
        }
        impl std::str::FromStr for $ty {
            type Err = UnknownStatus;
            fn from_str(text: &str) -> Result<$ty, UnknownStatus> {
                match text {
                    $($text => Ok($ty::$variant),)*
                    _ => Err(UnknownStatus(text.to_string())),
                }
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A status word no kfpl writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status `{0}`")]
pub struct UnknownStatus(pub String);

status_text!(RunStatus {
    Running => "running",
    Succeeded => "succeeded",
    Failed => "failed",
    Cancelled => "cancelled",
    Interrupted => "interrupted",
});

status_text!(StepStatus {
    Pending => "pending",
    Running => "running",
    Succeeded => "succeeded",
    Failed => "failed",
    Skipped => "skipped",
    Cancelled => "cancelled",
    Reused => "reused",
    Interrupted => "interrupted",
    Cached => "cached",
});

impl StepStatus {
    /// Whether the step's outputs are usable: it succeeded, now or in the
    /// run it was reused (or cached) from.
    pub fn is_success(self) -> bool {
        matches!(
            self,
            StepStatus::Succeeded | StepStatus::Reused | StepStatus::Cached
        )
    }
}

/// From a step's thread to the engine.
#[derive(Debug)]
pub(crate) enum Msg {
    /// An attempt is starting.
    /// The step thread waits for `recorded` before it starts the process,
    /// so a kfpl killed after that leaves the step `running` in the
    /// records (and so `interrupted`, with its processes found and stopped),
    /// never `pending` with a process nobody knows of.
    Attempt {
        step: usize,
        attempt: u32,
        started_ms: i64,
        recorded: std::sync::mpsc::SyncSender<()>,
    },
    /// An attempt failed and another follows.
    Retry {
        step: usize,
        attempt: u32,
        reason: String,
    },
    /// A line the step printed.
    Line {
        step: usize,
        stream: Stream,
        line: String,
    },
    /// A `W06xx` run warning about the step.
    Warning {
        step: usize,
        warning: Box<Diagnostic>,
    },
    /// The step ended; always the thread's last message.
    Done {
        step: usize,
        report: Box<StepReport>,
    },
}

/// A metric's value at the end of a step.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricValue {
    /// The declared name.
    pub name: String,
    /// The last number printed; `None`: never printed (missing, not zero).
    pub value: Option<f64>,
    /// The last text printed for it that was not a finite number (`inf`):
    /// says why a metric that was printed is still missing.
    pub rejected: Option<String>,
    /// Raw or percentage.
    pub format: ir::MetricFormat,
}

/// Why a step did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub struct StepProblem {
    /// E06xx.
    pub code: Code,
    /// What happened.
    pub message: String,
}

/// How one step went: what its thread sends back, what the store records,
/// what the caller is shown.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    /// The record's name: the step, or one of its instances (`train[1] lr=0.1`, `next#2`).
    pub name: String,
    /// Its final status.
    pub status: StepStatus,
    /// Attempts made.
    pub attempts: u32,
    /// The first attempt's start, milliseconds since the epoch.
    pub started_ms: Option<i64>,
    /// The last attempt's end, milliseconds since the epoch.
    pub ended_ms: i64,
    /// From the first start to the last end.
    pub duration: Option<Duration>,
    /// The last attempt's exit code.
    pub exit_code: Option<i32>,
    /// The signal that ended the last attempt.
    pub signal: Option<i32>,
    /// Output values (after success, or reused).
    pub outputs: BTreeMap<String, String>,
    /// Declared metrics, in declaration order.
    pub metrics: Vec<MetricValue>,
    /// Why it failed, was cancelled or skipped.
    pub problem: Option<StepProblem>,
    /// The folder with its logs, working directory and outputs.
    pub step_dir: PathBuf,
    /// A `cached` step: the run and step record it was reused from.
    pub cached_from: Option<(String, String)>,
}

impl StepReport {
    /// A step that has not run: no attempts, every declared metric missing.
    /// `status` and `problem` say what became of it.
    pub(crate) fn unrun<'m>(
        name: &str,
        step_dir: PathBuf,
        declared: impl IntoIterator<Item = (&'m str, ir::MetricFormat)>,
        status: StepStatus,
        problem: Option<StepProblem>,
    ) -> StepReport {
        StepReport {
            name: name.to_string(),
            status,
            attempts: 0,
            started_ms: None,
            ended_ms: now_ms(),
            duration: None,
            exit_code: None,
            signal: None,
            outputs: BTreeMap::new(),
            metrics: declared
                .into_iter()
                .map(|(name, format)| MetricValue {
                    name: name.to_string(),
                    value: None,
                    rejected: None,
                    format,
                })
                .collect(),
            problem,
            step_dir,
            cached_from: None,
        }
    }

    /// Whether the last attempt ran a process to its end (it has an exit
    /// code or a signal): only then were its metrics read, and recorded.
    pub fn ran(&self) -> bool {
        self.exit_code.is_some() || self.signal.is_some()
    }
}

/// Why the engine is stopping a process group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KillReason {
    Timeout,
    Cancel,
}

/// A stop in progress: SIGTERM sent at `term_at`, SIGKILL once `hard`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kill {
    pub(crate) reason: KillReason,
    pub(crate) term_at: Instant,
    pub(crate) hard: bool,
}

/// The process group a step is running now, shared with the engine.
#[derive(Debug, Default)]
pub(crate) struct Live {
    /// The group (= the leader's pid) while it may have members.
    pub(crate) pgid: Option<i32>,
    pub(crate) started: Option<Instant>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) kill: Option<Kill>,
}

impl Live {
    /// Sends SIGTERM to the group (first time) and remembers why.
    pub(crate) fn stop(&mut self, reason: KillReason, now: Instant) {
        if let (Some(pgid), None) = (self.pgid, self.kill) {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGTERM);
            self.kill = Some(Kill {
                reason,
                term_at: now,
                hard: false,
            });
        }
    }

    /// Sends SIGKILL to the group.
    pub(crate) fn kill_now(&mut self) {
        if let Some(pgid) = self.pgid {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
            if let Some(kill) = &mut self.kill {
                kill.hard = true;
            }
        }
    }

    /// When the engine must next act on this group: the end of a kill's
    /// grace period, else the timeout.
    pub(crate) fn deadline(&self, kill_grace: Duration) -> Option<Instant> {
        match (&self.kill, self.started, self.timeout) {
            (Some(kill), _, _) if !kill.hard => Some(kill.term_at + kill_grace),
            (None, Some(started), Some(timeout)) => Some(started + timeout),
            _ => None,
        }
    }
}

/// What every step thread shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) cancel: AtomicBool,
    pub(crate) state_dir: PathBuf,
    pub(crate) invocation_dir: PathBuf,
    pub(crate) sandbox_exe: Option<PathBuf>,
    /// Where steps run (the host, or a container engine).
    pub(crate) engine: super::Engine,
    /// When a container engine pulls an image known only at the step's start.
    pub(crate) pull: super::Pull,
}

/// Milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
