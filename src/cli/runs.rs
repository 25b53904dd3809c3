//! `kfpl runs list|show|compare|why`: the recorded runs, as aligned tables
//! or `--format json` (the seed's "Compare runs": params, duration,
//! metrics), and why a step was cached or ran.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use kfpl::run::RunStatus;
use kfpl::run::display::{metric_text, short_time};
use kfpl::run::settings::StepSettings;
use kfpl::run::store::{RunRecord, Store};
use kfpl::{Code, Diagnostic, SourceFile};
use serde_json::{Value, json};

use super::Reporter;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: RunsCommand,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns for people.
    Table,
    /// JSON for scripts.
    Json,
}

#[derive(Debug, clap::Subcommand)]
enum RunsCommand {
    /// The recorded runs, oldest first: id, experiment, status, start, duration, params, metrics.
    #[command(after_help = "Example:\n  kfpl runs list --experiment digits")]
    List {
        /// Only the runs of this experiment.
        #[arg(long)]
        experiment: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One run: each step's status, times, outputs, metrics and log paths.
    #[command(after_help = "Example:\n  kfpl runs show r1")]
    Show {
        /// The run (`r1`, or `1`).
        run: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Runs side by side: params, duration and every metric of every step.
    #[command(
        after_help = "Examples:\n  kfpl runs compare r1 r2\n  kfpl runs compare --last 2 --format json"
    )]
    Compare {
        /// The runs to compare.
        #[arg(required_unless_present = "last")]
        runs: Vec<String>,
        /// Compare the last N runs (of `--experiment`, when given) instead.
        #[arg(long, value_name = "N", conflicts_with = "runs")]
        last: Option<usize>,
        /// With `--last`: only runs of this experiment.
        #[arg(long, requires = "last")]
        experiment: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Draws the visuals (KFP UI metadata) of a run's steps as HTML and SVG files, with an index.html.
    #[command(
        after_help = "Examples:\n  kfpl runs visuals r3\n  kfpl runs visuals r3 evaluate -o /tmp/r3-visuals"
    )]
    Visuals {
        /// The run (`r1`, or `1`).
        run: String,
        /// Only this step (its identifier, or its name as `runs show` lists it).
        step: Option<String>,
        /// The folder to write into (default: the run's folder's `visuals/`).
        #[arg(short = 'o', long = "out", value_name = "DIR")]
        out: Option<std::path::PathBuf>,
    },
    /// Why a step was cached or ran: the run and step it reused, or which
    /// parts of its cache key changed since the last run of it.
    #[command(
        after_help = "Examples:\n  kfpl runs why r2 train\n  kfpl runs why 3 'train[1] lr=0.1'"
    )]
    Why {
        /// The run (`r2`, or `2`).
        run: String,
        /// The step, as `kfpl runs show` names it.
        step: String,
    },
}

impl Args {
    pub(crate) fn run(self, reporter: &Reporter) -> ExitCode {
        let no_file = SourceFile::new("", "");
        let fail = |diagnostic: Diagnostic| {
            reporter.emit(&[diagnostic], &no_file);
            ExitCode::FAILURE
        };
        let state = kfpl::run::state_dir();
        if !state.join("kfpl.db").exists() {
            // Nothing recorded here: say so without creating a state folder.
            return match self.command {
                RunsCommand::List { format, .. } => {
                    print(if format == Format::Json { "[]\n" } else { "no runs recorded yet; start one with `kfpl run FILE`\n" });
                    ExitCode::SUCCESS
                }
                RunsCommand::Show { .. }
                | RunsCommand::Compare { .. }
                | RunsCommand::Visuals { .. }
                | RunsCommand::Why { .. } => fail(
                    Diagnostic::new(Code::E0608, format!("no runs are recorded in `{}`", state.display()))
                        .help("run `kfpl runs` where `kfpl run` ran, or set `KFPL_HOME` to its state folder"),
                ),
            };
        }
        // Listing needs no write access to the state folder.
        let store = match Store::open_to_read(&state) {
            Ok(store) => store,
            Err(e) => return fail(kfpl::run::store_error(&e)),
        };
        let result = match self.command {
            RunsCommand::List { experiment, format } => list(&store, experiment.as_deref(), format),
            RunsCommand::Show { run, format } => {
                load(&store, &[run]).map(|runs| runs.iter().for_each(|r| show(r, format)))
            }
            RunsCommand::Compare {
                runs,
                last,
                experiment,
                format,
            } => {
                let ids = match last {
                    Some(n) => store
                        .last_runs(n, experiment.as_deref())
                        .map_err(|e| kfpl::run::store_error(&e)),
                    None => Ok(runs),
                };
                ids.and_then(|ids| load(&store, &ids))
                    .map(|runs| compare(&runs, format))
            }
            RunsCommand::Visuals { run, step, out } => load(&store, &[run])
                .and_then(|runs| draw_visuals(&runs[0], step.as_deref(), out, reporter)),
            RunsCommand::Why { run, step } => why(&store, &run, &step),
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(diagnostic) => fail(diagnostic),
        }
    }
}

/// Every named run, with its steps; E0608 for the first unknown one.
fn load(store: &Store, ids: &[String]) -> Result<Vec<RunRecord>, Diagnostic> {
    let db = |e: kfpl::run::store::StoreError| kfpl::run::store_error(&e);
    let mut runs = Vec::new();
    for id in ids {
        let resolved = store.resolve_id(id).map_err(db)?;
        let record = match resolved {
            Some(resolved) => store.run(&resolved).map_err(db)?,
            None => None,
        };
        match record {
            Some(record) => runs.push(record),
            None => {
                return Err(
                    Diagnostic::new(Code::E0608, format!("there is no run `{id}`"))
                        .help("`kfpl runs list` shows the recorded runs"),
                );
            }
        }
    }
    Ok(runs)
}

/// `kfpl runs why RUN STEP`.
fn why(store: &Store, run: &str, step: &str) -> Result<(), Diagnostic> {
    let db = |e: kfpl::run::store::StoreError| kfpl::run::store_error(&e);
    let record = load(store, &[run.to_string()])?.remove(0);
    match kfpl::run::cache::why(store, &record.id, step).map_err(db)? {
        Some(why) => {
            print(&format!("{} {step}: {why}\n", record.id));
            Ok(())
        }
        None => {
            let names: Vec<&str> = record.steps.iter().map(|s| s.name.as_str()).collect();
            Err(Diagnostic::new(
                Code::E0608,
                format!("run {} has no step `{step}`", record.id),
            )
            .help(format!("its steps: {}", names.join(", "))))
        }
    }
}

fn print(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn print_json(value: &Value) {
    print(&format!(
        "{}\n",
        serde_json::to_string_pretty(value).unwrap_or_default()
    ));
}

fn list(store: &Store, experiment: Option<&str>, format: Format) -> Result<(), Diagnostic> {
    let runs = store
        .runs(experiment)
        .map_err(|e| kfpl::run::store_error(&e))?;
    if format == Format::Json {
        print_json(&serde_json::to_value(&runs).unwrap_or_default());
        return Ok(());
    }
    if runs.is_empty() {
        print("no runs recorded yet; start one with `kfpl run FILE`\n");
        return Ok(());
    }
    let mut rows = vec![
        [
            "run",
            "experiment",
            "pipeline",
            "status",
            "started (UTC)",
            "duration",
            "params",
            "metrics",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for run in &runs {
        rows.push(vec![
            run.id.clone(),
            run.experiment.clone(),
            run.pipeline.clone(),
            run.status.to_string(),
            short_time(&run.started_at),
            run_duration(run),
            run.params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            metric_columns(run)
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect::<Vec<_>>()
                .join(" "),
        ]);
    }
    print(&table(&rows, "  "));
    Ok(())
}

/// `runs visuals`: draws, warns about what it could not draw, prints the files.
fn draw_visuals(
    run: &RunRecord,
    step: Option<&str>,
    out: Option<std::path::PathBuf>,
    reporter: &Reporter,
) -> Result<(), Diagnostic> {
    let (files, warnings) = super::visuals::render(run, step, out)?;
    reporter.emit(&warnings, &SourceFile::new("", ""));
    let lines: Vec<String> = files.iter().map(|f| format!("{}\n", f.display())).collect();
    print(&lines.concat());
    Ok(())
}

fn show(run: &RunRecord, format: Format) {
    if format == Format::Json {
        let mut value = with_settings(run);
        value["visuals"] = super::visuals::show_json(run);
        print_json(&value);
        return;
    }
    let mut out = String::new();
    out.push_str(&format!(
        "run {} ({}), experiment `{}`: {}\n",
        run.id, run.pipeline, run.experiment, run.status
    ));
    let mut facts = vec![
        vec![
            "file".to_string(),
            format!("{} (fnv {})", run.source_path, run.source_hash),
        ],
        vec![
            "started".into(),
            format!("{} UTC", short_time(&run.started_at)),
        ],
        vec!["duration".into(), run_duration(run)],
        vec![
            "params".into(),
            run.params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
        ],
    ];
    if let Some(from) = &run.resumed_from {
        facts.push(vec!["resumed".into(), format!("from {from}")]);
    }
    if let Some(engine) = &run.engine {
        facts.push(vec!["engine".into(), engine.clone()]);
    }
    if let Some(message) = &run.message {
        facts.push(vec!["message".into(), message.clone()]);
    }
    facts.push(vec!["folder".into(), run.run_dir.clone()]);
    // A volume with `keep = true` outlives the run: say where it is.
    for (name, folder) in kfpl::run::volumes::kept(std::path::Path::new(&run.run_dir)) {
        facts.push(vec![
            "volume".into(),
            format!("{name} kept at {}", folder.display()),
        ]);
    }
    out.push_str(&table(&facts, "  "));
    out.push('\n');
    let mut rows = vec![
        [
            "step", "status", "attempts", "time", "exit", "gpus", "outputs", "metrics",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for step in &run.steps {
        let metrics: Vec<String> = run
            .metrics
            .iter()
            .filter(|m| m.step == step.name)
            .map(|m| format!("{}={}", m.name, metric_text(m.value, &m.format)))
            .collect();
        let outputs: Vec<String> = step
            .outputs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", shorten(v, 40)))
            .collect();
        let exit = match (step.exit_code, step.signal) {
            (Some(code), _) => code.to_string(),
            (None, Some(signal)) => format!("signal {signal}"),
            (None, None) => "-".into(),
        };
        rows.push(vec![
            step.name.clone(),
            step.status.to_string(),
            step.attempts.to_string(),
            step.duration_s.map_or("-".into(), seconds),
            exit,
            if step.gpus.is_empty() {
                "-".into()
            } else {
                step.gpus.clone()
            },
            outputs.join(" "),
            metrics.join(" "),
        ]);
    }
    out.push_str(&table(&rows, "  "));
    let problems: Vec<Vec<String>> = run
        .steps
        .iter()
        .filter_map(|s| {
            s.message
                .as_ref()
                .map(|m| vec![format!("{}:", s.name), m.clone()])
        })
        .collect();
    if !problems.is_empty() {
        out.push('\n');
        out.push_str(&table(&problems, " "));
    }
    out.push_str(&settings_section(run));
    if !run.warnings.is_empty() {
        out.push_str("\nwarnings\n");
        for warning in &run.warnings {
            out.push_str(&format!(
                "  warning[{}]: {}\n",
                warning.code, warning.message
            ));
        }
    }
    out.push_str(&super::visuals::show_lines(run));
    out.push_str("\nlogs\n");
    for step in &run.steps {
        out.push_str(&format!("  {}: {}\n", step.name, step.step_dir));
    }
    print(&out);
}

/// Each step's recorded pod metadata (`display_name`, `annotations`,
/// `labels`), read from its folder: they are kept there, not in the records.
fn step_settings(run: &RunRecord) -> Vec<(&str, StepSettings)> {
    run.steps
        .iter()
        .filter_map(|s| Some((s.name.as_str(), StepSettings::read(Path::new(&s.step_dir))?)))
        .collect()
}

/// The `settings` lines of `runs show`, empty when no step has any.
fn settings_section(run: &RunRecord) -> String {
    let rows: Vec<Vec<String>> = step_settings(run)
        .into_iter()
        .map(|(name, settings)| vec![format!("  {name}:"), settings.summary()])
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    format!("\nsettings\n{}", table(&rows, " "))
}

/// The run as JSON, each step that has settings with a `settings` object.
fn with_settings(run: &RunRecord) -> Value {
    let mut value = serde_json::to_value(run).unwrap_or_default();
    let settings: BTreeMap<&str, StepSettings> = step_settings(run).into_iter().collect();
    if let Some(steps) = value.get_mut("steps").and_then(Value::as_array_mut) {
        for step in steps {
            let name = step.get("name").and_then(Value::as_str).unwrap_or_default();
            if let Some(found) = settings.get(name) {
                let found = serde_json::to_value(found).unwrap_or_default();
                if let Some(object) = step.as_object_mut() {
                    object.insert("settings".into(), found);
                }
            }
        }
    }
    value
}

fn compare(runs: &[RunRecord], format: Format) {
    let param_names: Vec<&String> = {
        let mut names: Vec<&String> = runs.iter().flat_map(|r| r.params.keys()).collect();
        names.sort();
        names.dedup();
        names
    };
    // Every metric of every step, in the order first seen; with its format.
    let mut metric_keys: Vec<(String, String, String)> = Vec::new();
    for run in runs {
        for m in &run.metrics {
            if !metric_keys
                .iter()
                .any(|(s, n, _)| *s == m.step && *n == m.name)
            {
                metric_keys.push((m.step.clone(), m.name.clone(), m.format.clone()));
            }
        }
    }
    let metric = |run: &RunRecord, step: &str, name: &str| {
        run.metrics
            .iter()
            .find(|m| m.step == step && m.name == name)
            .and_then(|m| m.value)
    };
    if format == Format::Json {
        let runs: Vec<Value> = runs
            .iter()
            .map(|run| {
                let metrics: serde_json::Map<String, Value> = metric_keys
                    .iter()
                    .map(|(step, name, format)| {
                        let value = metric(run, step, name);
                        (
                            format!("{step}.{name}"),
                            json!({
                                "step": step, "name": name, "format": format,
                                "value": value, "missing": value.is_none(),
                            }),
                        )
                    })
                    .collect();
                json!({
                    "id": run.id,
                    "experiment": run.experiment,
                    "pipeline": run.pipeline,
                    "status": run.status,
                    "started_at": run.started_at,
                    "duration_s": run.duration_s,
                    "params": run.params,
                    "metrics": metrics,
                })
            })
            .collect();
        print_json(&json!({ "runs": runs }));
        return;
    }
    let mut rows = vec![{
        let mut header = vec![String::new()];
        header.extend(runs.iter().map(|r| r.id.clone()));
        header
    }];
    let mut row = |label: String, cell: &dyn Fn(&RunRecord) -> String| {
        let mut cells = vec![label];
        cells.extend(runs.iter().map(cell));
        rows.push(cells);
    };
    row("experiment".into(), &|r| r.experiment.clone());
    row("pipeline".into(), &|r| r.pipeline.clone());
    row("status".into(), &|r| r.status.to_string());
    row("started (UTC)".into(), &|r| short_time(&r.started_at));
    row("duration".into(), &|r| run_duration(r));
    for name in &param_names {
        row(format!("param  {name}"), &|r| {
            r.params.get(*name).cloned().unwrap_or_else(|| "-".into())
        });
    }
    for (step, name, format) in &metric_keys {
        row(format!("metric {step}.{name}"), &|r| {
            metric_text(metric(r, step, name), format)
        });
    }
    print(&table(&rows, "  "));
}

/// The metric columns of a listing: `name=value`, `step.name` when names repeat.
fn metric_columns(run: &RunRecord) -> Vec<(String, String)> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &run.metrics {
        *count.entry(m.name.as_str()).or_default() += 1;
    }
    run.metrics
        .iter()
        .map(|m| {
            let key = if count.get(m.name.as_str()).copied().unwrap_or(0) > 1 {
                format!("{}.{}", m.step, m.name)
            } else {
                m.name.clone()
            };
            (key, metric_text(m.value, &m.format))
        })
        .collect()
}

fn run_duration(run: &RunRecord) -> String {
    match (run.duration_s, run.status) {
        (Some(s), _) => seconds(s),
        (None, RunStatus::Running) => "running".into(),
        (None, _) => "-".into(),
    }
}

fn seconds(s: f64) -> String {
    duration(Duration::from_secs_f64(s.max(0.0)))
}

/// `0.4s`, `12.3s`, `4m05s`, `2h03m`.
pub(crate) fn duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!("{}h{:02}m", (s / 3600.0) as u64, (s % 3600.0 / 60.0) as u64)
    }
}

fn shorten(text: &str, max: usize) -> String {
    let one_line = text.replace('\n', "⏎");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Rows as aligned columns (by characters), trailing spaces trimmed.
pub(crate) fn table(rows: &[Vec<String>], gap: &str) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str(gap);
            }
            line.push_str(cell);
            let pad = widths[c].saturating_sub(cell.chars().count());
            line.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
