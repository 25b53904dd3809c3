//! Running a checked pipeline on this machine (`kfpl run`).
//!
//! [`run`] takes an [`ir::Pipeline`] and [`RunOptions`], checks what must hold
//! before anything starts (param values, GPUs, a private mount namespace for
//! `data` claims, the run being resumed), records a new run in the
//! [`store`](crate::run::store), then schedules the steps as real processes:
//!
//! - [`plan`] is the instance graph: a step runs once per iteration of each
//!   `for` and pass of each `repeat` around it, and `if`, `for`, `repeat`
//!   and `finally` blocks open as the values they need become known (a false
//!   condition skips every step inside); [`condition`] evaluates conditions
//!   with values as data;
//! - [`schedule`] decides which ready instances may start (at most
//!   `parallelism` at once, free GPUs);
//! - [`executor`] runs one step on a thread of its own: `sync_source`
//!   ([`git`]), each attempt as a process in its own process group (through
//!   [`sandbox`] when it mounts claims), logs, outputs, [`metrics`]; its
//!   pipes are read by [`reader`], its outputs and logs opened by [`files`]
//!   (never blocking on a FIFO, never following a link), and what escaped
//!   its process group is found by [`reap`];
//! - [`engine`] is the loop in between: it starts steps, records every event,
//!   enforces timeouts and turns SIGINT/SIGTERM ([`signals`]) into a
//!   cancelled run with no processes left behind;
//! - [`preflight`] is everything before the loop: the run being resumed,
//!   params, GPUs, the sandbox probe;
//! - [`protocol`] is what the engine and the step threads exchange
//!   (messages, the [`StepReport`], the live process group), so neither
//!   imports the other's internals;
//! - [`warnings`] builds every `W06xx` run warning as a [`Diagnostic`];
//! - [`engine_container`] builds the `podman run`/`docker run` argv a step
//!   is spawned with under `--engine podman|docker`, checks images before
//!   the run and removes stopped or leftover containers.
//!
//! The library never prints: progress reaches the caller as [`Event`]s
//! through an [`Observer`]. See docs/run.md for the state folder's layout,
//! the sandbox and the records' schema.

mod artifacts;
pub mod cache;
mod condition;
pub mod display;
mod engine;
mod engine_container;
mod executor;
mod files;
mod git;
mod gpus;
pub(crate) mod metrics;
mod plan;
mod preflight;
mod prepare;
mod protocol;
mod reader;
mod reap;
pub mod sandbox;
pub(crate) mod schedule;
mod secrets;
pub mod settings;
mod sidecars;
mod signals;
pub mod store;
pub mod visuals;
pub mod volumes;
mod warnings;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::diagnostics::{Code, Diagnostic};
use crate::ir;
pub use engine_container::{Engine, Pull, shell_quote};
pub use protocol::{MetricValue, RunStatus, StepProblem, StepReport, StepStatus};

/// What `kfpl run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The file as given (recorded, shown by `kfpl runs show`).
    pub source_path: String,
    /// The program text (recorded with the run).
    pub source_text: String,
    /// `-p NAME=VALUE` overrides, already split.
    pub overrides: Vec<(String, String)>,
    /// The experiment the run belongs to.
    pub experiment: String,
    /// How many steps may run at once (at least 1).
    pub parallelism: usize,
    /// A run to resume: its succeeded steps are reused, the others run again.
    pub resume: Option<String>,
    /// The state folder (see [`state_dir`]).
    pub state_dir: PathBuf,
    /// The `kfpl` binary, re-executed as `kfpl __sandbox-exec` for steps
    /// that mount `data` claims; without it such steps cannot run.
    pub sandbox_exe: Option<PathBuf>,
    /// How long a step gets between SIGTERM and SIGKILL when it is stopped.
    pub kill_grace: Duration,
    /// The directory relative `sync_source` paths are read from.
    pub invocation_dir: PathBuf,
    /// Where steps run: on the host, or in their images (podman, docker).
    pub engine: Engine,
    /// When a container engine pulls images.
    pub pull: Pull,
    /// `--no-cache`: steps with `cache = true` run (and are recorded for
    /// later runs) instead of being reused.
    pub no_cache: bool,
}

impl RunOptions {
    /// Options with the defaults: experiment `default`, one step a CPU, the
    /// state folder from [`state_dir`], no sandbox binary.
    pub fn new(source_path: impl Into<String>, source_text: impl Into<String>) -> RunOptions {
        let invocation_dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        RunOptions {
            source_path: source_path.into(),
            source_text: source_text.into(),
            overrides: Vec::new(),
            experiment: "default".into(),
            parallelism: default_parallelism(),
            resume: None,
            state_dir: state_dir(),
            sandbox_exe: None,
            kill_grace: Duration::from_secs(3),
            invocation_dir,
            engine: Engine::Host,
            pull: Pull::Missing,
            no_cache: false,
        }
    }
}

/// The number of CPUs (1 when unknown): the default `--parallelism`.
pub(crate) fn default_parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The state folder: `$KFPL_HOME` when set and not empty, else `.kfpl` in the
/// current directory; made absolute, since steps run elsewhere.
pub fn state_dir() -> PathBuf {
    let dir = match std::env::var_os("KFPL_HOME") {
        Some(home) if !home.is_empty() => PathBuf::from(home),
        _ => PathBuf::from(".kfpl"),
    };
    std::path::absolute(&dir).unwrap_or(dir)
}

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The step's stdout.
    Stdout,
    /// The step's stderr.
    Stderr,
}

/// Something that happened during a run, for the caller to show.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// Runs found `running` whose kfpl is gone, now marked `interrupted`.
    Interrupted {
        /// Their ids.
        runs: &'a [String],
    },
    /// The run is recorded and about to start its steps.
    Started {
        /// Its id.
        run: &'a str,
        /// The pipeline identifier.
        pipeline: &'a str,
        /// The experiment.
        experiment: &'a str,
        /// Every step, in order.
        steps: &'a [String],
        /// Logs and working directories.
        run_dir: &'a Path,
        /// The run it resumes.
        resumed_from: Option<&'a str>,
    },
    /// A step's attempt started.
    StepStarted {
        /// The step (the record's name: `train[1] lr=0.1` for an iteration).
        step: &'a str,
        /// 1 for the first.
        attempt: u32,
        /// Attempts it may make in all (retries + 1).
        max_attempts: u32,
        /// `CUDA_VISIBLE_DEVICES` it got.
        gpus: &'a str,
    },
    /// An attempt failed and the step will be tried again.
    StepRetrying {
        /// The step (the record's name).
        step: &'a str,
        /// The attempt that failed.
        attempt: u32,
        /// Why it failed.
        reason: &'a str,
    },
    /// A line a step printed (without its newline).
    Output {
        /// The step (the record's name).
        step: &'a str,
        /// stdout or stderr.
        stream: Stream,
        /// The text (lossy UTF-8, cut at 16 KiB).
        line: &'a str,
    },
    /// Something worth saying that does not fail the run (a `W06xx`
    /// diagnostic, without labels: it is about the run, not the source).
    Warning {
        /// The step concerned, if one is.
        step: Option<&'a str>,
        /// The warning.
        diagnostic: &'a Diagnostic,
    },
    /// A step ended, or will never start (skipped), or was reused.
    StepFinished {
        /// Its report.
        step: &'a StepReport,
    },
    /// SIGINT or SIGTERM arrived: every step is being stopped.
    Cancelling {
        /// The signal's name.
        signal: &'a str,
    },
    /// Nothing happened for a while (at most 100 ms): a chance to redraw.
    Tick,
}

/// Receives [`Event`]s, on the thread that called [`run`].
pub trait Observer {
    /// One event.
    fn event(&mut self, event: &Event<'_>);
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;

impl Observer for Quiet {
    fn event(&mut self, _event: &Event<'_>) {}
}

/// How a run went.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// `r1`, `r2`, …
    pub run_id: String,
    /// Succeeded, failed or cancelled.
    pub status: RunStatus,
    /// The run's folder.
    pub run_dir: PathBuf,
    /// Wall time.
    pub duration: Duration,
    /// Every instance of every step (a step in a loop or a repeat has one
    /// an iteration or pass): steps in topological order, each one's
    /// instances in the order they were learnt of.
    pub steps: Vec<StepReport>,
    /// Why the run failed where no step's record says so (a repeat that
    /// reached its limit without its condition holding).
    pub problem: Option<String>,
    /// Every warning given during the run (each also went to the observer).
    pub warnings: Vec<Diagnostic>,
    /// What could not be written to the records or the logs (a full disk):
    /// each was a W0604 warning; any makes the run a failure (see [`RunReport::incomplete`]).
    pub unrecorded: Vec<String>,
}

impl RunReport {
    /// Whether every step succeeded (or was reused).
    pub fn succeeded(&self) -> bool {
        self.status == RunStatus::Succeeded
    }

    /// kfpl's exit status for this run: 0 only when every step succeeded
    /// and everything was recorded.
    pub fn exit_code(&self) -> i32 {
        i32::from(!self.succeeded() || !self.unrecorded.is_empty())
    }

    /// E0611 when part of the run could not be recorded: what was lost.
    pub fn incomplete(&self) -> Option<Diagnostic> {
        if self.unrecorded.is_empty() {
            return None;
        }
        let lost = self
            .unrecorded
            .iter()
            .map(|what| format!("\n  - {what}"))
            .collect::<String>();
        Some(error(
            Code::E0611,
            format!(
                "the record of run `{}` is incomplete; what was lost:{lost}",
                self.run_id
            ),
            "free space where the state folder is (`$KFPL_HOME`, else `.kfpl`) and run again; `kfpl runs show` and `--resume` cannot trust this run",
        ))
    }
}

/// Runs `pipeline`. Errors found before anything starts come back as
/// diagnostics (nothing ran, nothing was recorded); once the run is recorded,
/// the result is a [`RunReport`] whatever happened to the steps.
///
/// SIGINT, SIGTERM and SIGHUP are blocked on the calling thread for the
/// duration (and so on every thread it starts) and read through a signalfd;
/// callers with threads of their own should block them there too.
pub fn run(
    pipeline: &ir::Pipeline,
    options: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<RunReport, Vec<Diagnostic>> {
    engine_container::prepare(options.engine, options.pull, pipeline)?;
    engine::run(pipeline, options, observer)
}

/// The exact commands a container engine would run, one per step in order,
/// each after its sidecars' (`kfpl run --dry-run`): params bound as for a run, upstream outputs shown
/// as `<step.output>` (loop items as `<lr>`, run information as
/// `<workflow.name>`) since nothing has run; a step in a loop is shown once.
pub fn dry_run(
    pipeline: &ir::Pipeline,
    options: &RunOptions,
) -> Result<Vec<Vec<String>>, Vec<Diagnostic>> {
    let params = crate::check::params::bind(
        pipeline,
        &options.overrides,
        crate::check::params::Missing::Error,
    )?;
    let values = prepare::Placeholders { params };
    let run_id = "DRYRUN";
    let run_dir = options.state_dir.join("runs").join(run_id);
    let place = prepare::RunPlace {
        state_dir: &options.state_dir,
        run_id,
        run_dir: &run_dir,
        params: &values.params,
        secrets: &secrets::Secrets::unloaded(&options.state_dir),
        read_only_inputs: true,
    };
    Ok(pipeline
        .steps
        .iter()
        .enumerate()
        .flat_map(|(index, step)| {
            let gpus = step
                .gpus
                .fixed()
                .map_or_else(Vec::new, |n| (0..n).collect());
            let pod = format!("{run_id}-{}", step.name);
            let target = prepare::Target {
                id: index,
                step: index,
                name: &step.name,
                key: &step.name,
                pod: &pod,
            };
            let spec = prepare::step_spec(pipeline, target, &|part| values.part(part), gpus, place);
            let argv = |spec: prepare::StepSpec| match options.engine.binary() {
                Some(binary) => engine_container::run_argv(binary, &spec, options.pull),
                None => spec.argv,
            };
            let mut all: Vec<prepare::StepSpec> = step
                .sidecars
                .iter()
                .map(|s| sidecars::spec(&spec, s))
                .collect();
            all.push(spec);
            // Under an engine, the others join the first sidecar's network.
            if let (Some(_), [first, rest @ ..]) = (options.engine.binary(), all.as_mut_slice()) {
                let owner = engine_container::container_name(first);
                for joining in rest.iter_mut() {
                    joining.network = Some(owner.clone());
                }
            }
            all.into_iter().map(argv).collect::<Vec<_>>()
        })
        .collect())
}

/// The run records cannot be used: nothing can start.
pub fn store_error(problem: &store::StoreError) -> Diagnostic {
    error(
        Code::E0607,
        format!("cannot use the run records: {problem}"),
        problem.help(),
    )
}

/// The one diagnostic for a problem that is not about a place in the source.
pub(crate) fn error(code: Code, message: impl Into<String>, help: impl Into<String>) -> Diagnostic {
    Diagnostic::new(code, message).help(help)
}
