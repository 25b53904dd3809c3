//! `kfpl run FILE`: check, then run locally with live progress; and the
//! hidden `kfpl __sandbox-exec` that sets up a step's mounts.
//!
//! Progress goes to stderr: one spinner line per running step (indicatif)
//! when stderr is a terminal, plain event lines otherwise (tests, CI logs).
//! Step output goes out prefixed with the step's name (`train | …`): stdout
//! lines on stdout, stderr lines on stderr. The summary goes to stdout.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use kfpl::SourceFile;
use kfpl::run::{
    Engine, Event, Observer, Pull, RunOptions, RunReport, StepReport, StepStatus, Stream,
    shell_quote,
};

use super::Reporter;
use super::runs::{duration, table};
use kfpl::run::display::metric_text;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The .kfp file to run.
    file: PathBuf,
    /// Set a param for this run (repeatable): `-p learning_rate=0.1`.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// The experiment the run is recorded in (created when new).
    #[arg(long, default_value = "default")]
    experiment: String,
    /// How many steps may run at once [default: the number of CPUs].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    parallelism: Option<u32>,
    /// Re-run only the steps of RUN that did not succeed, reusing the outputs of
    /// those that did (with RUN's params unless `-p` overrides them).
    #[arg(long, value_name = "RUN")]
    resume: Option<String>,
    /// Where steps run: `host` (processes on this machine), or `podman` /
    /// `docker` (each step in its `image`).
    #[arg(long, env = "KFPL_ENGINE", default_value = "host", value_parser = ["host", "podman", "docker"])]
    engine: String,
    /// When a container engine pulls images: `missing` (if not present), `always`, `never`.
    #[arg(long, default_value = "missing", value_parser = ["missing", "if-not-present", "always", "never"])]
    pull: String,
    /// Run every step with `cache = true` instead of reusing an earlier
    /// identical run of it (its new result is recorded for later runs).
    #[arg(long)]
    no_cache: bool,
    /// Print each step's command (for a container engine, the exact
    /// `podman run …`) in order, and run nothing.
    #[arg(long)]
    dry_run: bool,
}

impl Args {
    pub(crate) fn run(self, reporter: &Reporter) -> ExitCode {
        let Some((file, pipeline)) = reporter.read_checked(&self.file) else {
            return ExitCode::FAILURE;
        };
        let name = file.name().to_string();
        let Some(overrides) = reporter.overrides(&self.params, &file) else {
            // `-p` without `NAME=VALUE` is a usage error (CLI.md: exit 2).
            return ExitCode::from(super::USAGE_ERROR);
        };
        let mut options = RunOptions::new(&name, file.text());
        options.overrides = overrides;
        options.experiment = self.experiment;
        options.resume = self.resume;
        options.no_cache = self.no_cache;
        options.sandbox_exe = std::env::current_exe().ok();
        // The flag, else the pipeline's `parallelism`, else one step a CPU.
        if let Some(n) = self.parallelism.or(pipeline.cluster.parallelism) {
            options.parallelism = n as usize;
        }
        // Both were checked by clap's value parsers.
        options.engine = Engine::parse(&self.engine).unwrap_or_default();
        options.pull = Pull::parse(&self.pull).unwrap_or_default();
        if self.dry_run {
            return print_dry_run(&pipeline, &options, reporter, &file);
        }
        let width = pipeline
            .steps
            .iter()
            .map(|s| s.name.len())
            .max()
            .unwrap_or(0);
        let mut observer = Progress::new(width, *reporter, &file);
        let result = kfpl::run::run(&pipeline, &options, &mut observer);
        observer.clear();
        match result {
            Ok(report) => {
                print_summary(&report);
                if let Some(incomplete) = report.incomplete() {
                    reporter.emit(&[incomplete], &file);
                }
                if report.exit_code() == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(diagnostics) => {
                reporter.emit(&diagnostics, &file);
                ExitCode::FAILURE
            }
        }
    }
}

/// `--dry-run`: one shell-quoted command line a step.
fn print_dry_run(
    pipeline: &kfpl::ir::Pipeline,
    options: &RunOptions,
    reporter: &Reporter,
    file: &kfpl::SourceFile,
) -> ExitCode {
    match kfpl::run::dry_run(pipeline, options) {
        Ok(commands) => {
            for argv in commands {
                let words: Vec<String> = argv.iter().map(|a| shell_quote(a)).collect();
                println!("{}", words.join(" "));
            }
            ExitCode::SUCCESS
        }
        Err(diagnostics) => {
            reporter.emit(&diagnostics, file);
            ExitCode::FAILURE
        }
    }
}

/// Prints the end-of-run table on stdout.
fn print_summary(report: &RunReport) {
    let mut rows = vec![vec![
        "step".to_string(),
        "status".into(),
        "time".into(),
        "attempts".into(),
        "metrics".into(),
    ]];
    for step in &report.steps {
        let metrics: Vec<String> = step
            .metrics
            .iter()
            .map(|m| {
                let format = match m.format {
                    kfpl::ir::MetricFormat::Raw => "raw",
                    kfpl::ir::MetricFormat::Percentage => "percentage",
                };
                format!("{}={}", m.name, metric_text(m.value, format))
            })
            .collect();
        rows.push(vec![
            step.name.clone(),
            step.status.to_string(),
            step.duration.map(duration).unwrap_or_else(|| "-".into()),
            step.attempts.to_string(),
            metrics.join(" "),
        ]);
    }
    let mut out = std::io::stdout().lock();
    let incomplete = if report.unrecorded.is_empty() {
        ""
    } else {
        ", but its record is incomplete (see below)"
    };
    let _ = writeln!(
        out,
        "run {} {} in {}{incomplete}",
        report.run_id,
        report.status,
        duration(report.duration)
    );
    if let Some(problem) = &report.problem {
        let _ = writeln!(out, "why: {problem}");
    }
    let _ = write!(out, "{}", table(&rows, "  "));
    let _ = writeln!(out, "logs: {}", report.run_dir.display());
}

/// Shows events: spinners on a terminal, plain lines elsewhere; warnings
/// as diagnostics, in the `--message-format` `kfpl check` uses.
struct Progress<'a> {
    width: usize,
    bars: Option<(MultiProgress, BTreeMap<String, ProgressBar>)>,
    stdout_terminal: bool,
    reporter: Reporter,
    file: &'a SourceFile,
}

impl<'a> Progress<'a> {
    fn new(width: usize, reporter: Reporter, file: &'a SourceFile) -> Progress<'a> {
        let terminal = std::io::stderr().is_terminal();
        Progress {
            reporter,
            file,
            width,
            bars: terminal.then(|| {
                (
                    MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                    BTreeMap::new(),
                )
            }),
            stdout_terminal: std::io::stdout().is_terminal(),
        }
    }

    fn clear(&mut self) {
        if let Some((multi, bars)) = &mut self.bars {
            for bar in bars.values() {
                bar.finish_and_clear();
            }
            bars.clear();
            let _ = multi.clear();
        }
    }

    /// A line for stderr, above the spinners when there are some.
    fn note(&self, line: &str) {
        match &self.bars {
            Some((multi, _)) => {
                let _ = multi.println(line);
            }
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
        }
    }

    fn output(&self, step: &str, stream: Stream, line: &str) {
        let text = format!("{step:<width$} | {line}", width = self.width);
        match (stream, &self.bars) {
            (Stream::Stdout, Some(_)) if !self.stdout_terminal => {
                let _ = writeln!(std::io::stdout().lock(), "{text}");
            }
            (Stream::Stdout, None) => {
                let _ = writeln!(std::io::stdout().lock(), "{text}");
            }
            _ => self.note(&text),
        }
    }

    fn started(&mut self, step: &str, attempt: u32, max_attempts: u32, gpus: &str) {
        let attempt_text = if max_attempts > 1 {
            format!(" (attempt {attempt} of {max_attempts})")
        } else {
            String::new()
        };
        let gpu_text = if gpus.is_empty() {
            String::new()
        } else {
            format!(" on GPU {gpus}")
        };
        match &mut self.bars {
            Some((multi, bars)) => {
                let bar = bars.entry(step.to_string()).or_insert_with(|| {
                    let style = ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner());
                    multi.add(ProgressBar::new_spinner().with_style(style))
                });
                bar.set_message(format!("{step}{attempt_text}{gpu_text}"));
                bar.tick();
            }
            None => self.note(&format!("▸ {step} started{attempt_text}{gpu_text}")),
        }
    }

    fn finished(&mut self, step: &StepReport) {
        if let Some((_, bars)) = &mut self.bars
            && let Some(bar) = bars.remove(&step.name)
        {
            bar.finish_and_clear();
        }
        let time = step.duration.map(duration).unwrap_or_default();
        let problem = step.problem.as_ref();
        let line = match step.status {
            StepStatus::Succeeded => format!("✓ {} succeeded in {time}", step.name),
            StepStatus::Reused => format!("= {} reused (succeeded in the resumed run)", step.name),
            StepStatus::Cached => match &step.cached_from {
                Some((run, from)) => {
                    format!("= {} cached (reused run {run} step {from})", step.name)
                }
                None => format!("= {} cached", step.name),
            },
            StepStatus::Skipped => format!(
                "- {} skipped: {}",
                step.name,
                problem.map_or("not started", |p| p.message.as_str())
            ),
            StepStatus::Cancelled => format!("✗ {} cancelled after {time}", step.name),
            StepStatus::Failed
            | StepStatus::Pending
            | StepStatus::Running
            | StepStatus::Interrupted => {
                // A step that failed before it started (a bad value) ran for no time.
                let when = match step.duration {
                    Some(_) => format!("after {time}"),
                    None => "before it started".to_string(),
                };
                match problem {
                    Some(p) => format!(
                        "✗ {} failed {when}: {} [kfpl::{}]",
                        step.name,
                        p.message,
                        p.code.as_str()
                    ),
                    None => format!("✗ {} failed {when}", step.name),
                }
            }
        };
        self.note(&line);
    }
}

impl Observer for Progress<'_> {
    fn event(&mut self, event: &Event<'_>) {
        match event {
            Event::Interrupted { runs } => self.note(&format!(
                "kfpl: marked {} as interrupted: the kfpl running them stopped before they finished",
                runs.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
            )),
            Event::Started {
                run,
                pipeline,
                experiment,
                steps,
                run_dir,
                resumed_from,
            } => {
                let resumed = resumed_from.map(|r| format!(", resuming `{r}`")).unwrap_or_default();
                let plural = if steps.len() == 1 { "" } else { "s" };
                self.note(&format!(
                    "run {run}: pipeline `{pipeline}`, experiment `{experiment}`, {} step{plural}{resumed}; logs in {}",
                    steps.len(),
                    run_dir.display()
                ));
            }
            Event::StepStarted {
                step,
                attempt,
                max_attempts,
                gpus,
            } => self.started(step, *attempt, *max_attempts, gpus),
            Event::StepRetrying { step, attempt, reason } => {
                self.note(&format!("↻ {step}: attempt {attempt} failed ({reason}); trying again"));
            }
            Event::Output { step, stream, line } => self.output(step, *stream, line),
            Event::Warning { diagnostic, .. } => {
                let text = self.reporter.render(std::slice::from_ref(diagnostic), self.file);
                self.note(text.trim_end());
            }
            Event::StepFinished { step } => self.finished(step),
            Event::Cancelling { signal } => self.note(&format!(
                "kfpl: {signal}: stopping every step (send it again to kill them at once)"
            )),
            Event::Tick => {
                if let Some((_, bars)) = &self.bars {
                    for bar in bars.values() {
                        bar.tick();
                    }
                }
            }
        }
    }
}

/// `kfpl __sandbox-exec`: set up a step's mounts, then exec its command (internal).
#[derive(Debug, clap::Args)]
pub(crate) struct SandboxArgs {
    /// Only check that a private mount namespace can be made.
    #[arg(long)]
    probe: bool,
    /// An empty folder to build the step's root on.
    #[arg(long)]
    root: PathBuf,
    /// The step's working directory.
    #[arg(long)]
    cwd: Option<PathBuf>,
    /// A claim folder and the path it appears at (repeatable).
    #[arg(long, num_args = 2, value_names = ["DIR", "PATH"])]
    mount: Vec<PathBuf>,
    /// A mount path to make read-only once mounted (repeatable).
    #[arg(long)]
    read_only: Vec<PathBuf>,
    /// The command, after `--`.
    #[arg(last = true)]
    command: Vec<OsString>,
}

impl SandboxArgs {
    pub(crate) fn run(self) -> ExitCode {
        use kfpl::run::sandbox;
        let error = if self.probe {
            match sandbox::probe(&self.root) {
                Ok(()) => return ExitCode::SUCCESS,
                Err(error) => error,
            }
        } else {
            let mounts = self
                .mount
                .chunks(2)
                .filter_map(|pair| match pair {
                    [dir, path] => Some((dir.clone(), path.clone())),
                    _ => None,
                })
                .collect();
            let cwd = self.cwd.unwrap_or_else(|| PathBuf::from("/"));
            sandbox::exec(&sandbox::Sandbox {
                root: self.root,
                cwd,
                mounts,
                read_only: self.read_only,
                command: self.command,
            })
        };
        let _ = writeln!(std::io::stderr().lock(), "kfpl: {}", error.message);
        ExitCode::from(error.exit_code())
    }
}
