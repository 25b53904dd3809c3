//! `kfpl runs visuals RUN [STEP] [-o DIR]`, and the visuals part of
//! `kfpl runs show`: the library reads and draws ([`kfpl::run::visuals`]),
//! this prints.

use std::path::{Path, PathBuf};

use kfpl::run::store::{RunRecord, StepRecord};
use kfpl::run::visuals::{self, StepVisuals};
use kfpl::{Code, Diagnostic};
use serde_json::{Value, json};

/// The steps of `run` that `step` names (all of them for `None`): by
/// identifier (every iteration) or by the name `runs show` lists; E0355
/// for a name the run does not have.
fn chosen<'r>(run: &'r RunRecord, step: Option<&str>) -> Result<Vec<&'r StepRecord>, Diagnostic> {
    let steps: Vec<&StepRecord> = run
        .steps
        .iter()
        .filter(|s| step.is_none_or(|name| s.step == name || s.name == name))
        .collect();
    match step {
        Some(name) if steps.is_empty() => Err(Diagnostic::new(
            Code::E0355,
            format!("run {} has no step `{name}`", run.id),
        )
        .help(format!("`kfpl runs show {}` lists its steps", run.id))),
        _ => Ok(steps),
    }
}

/// Where the drawings go by default: `<run>/visuals`, unless a step's own
/// folder has that name.
fn default_out(run: &RunRecord) -> PathBuf {
    let run_dir = Path::new(&run.run_dir);
    let taken = run
        .steps
        .iter()
        .any(|s| Path::new(&s.step_dir) == run_dir.join("visuals"));
    run_dir.join(if taken { "visuals-kfpl" } else { "visuals" })
}

/// Draws the visuals of `step` (or every step) of `run` into `out`; the
/// warnings about what it could not draw, and the files written.
pub(crate) fn render(
    run: &RunRecord,
    step: Option<&str>,
    out: Option<PathBuf>,
) -> Result<(Vec<PathBuf>, Vec<Diagnostic>), Diagnostic> {
    let steps = chosen(run, step)?;
    let steps: Vec<StepVisuals<'_>> = steps
        .iter()
        .map(|s| StepVisuals {
            name: &s.name,
            step_dir: Path::new(&s.step_dir),
        })
        .collect();
    let out = out.unwrap_or_else(|| default_out(run));
    let rendered = visuals::render_run(&run.id, &steps, &out).map_err(|why| {
        Diagnostic::new(
            Code::E0607,
            format!("cannot write the visuals of run {}: {why}", run.id),
        )
        .help("choose a writable folder with `-o DIR`")
    })?;
    Ok((rendered.files, rendered.warnings))
}

/// The `visuals` lines of `runs show`: one per visual, `  step: roc from roc.csv`.
pub(crate) fn show_lines(run: &RunRecord) -> String {
    let mut out = String::new();
    for step in &run.steps {
        for visual in visuals::kept(Path::new(&step.step_dir)) {
            out.push_str(&format!("  {}: {}\n", step.name, visual.describe()));
        }
    }
    if out.is_empty() {
        return out;
    }
    format!(
        "\nvisuals (`kfpl runs visuals {}` draws them)\n{out}",
        run.id
    )
}

/// The `visuals` of `runs show --format json`: one object per visual.
pub(crate) fn show_json(run: &RunRecord) -> Value {
    let mut list = Vec::new();
    for step in &run.steps {
        for (index, visual) in visuals::kept(Path::new(&step.step_dir)).iter().enumerate() {
            let (storage, source) = match &visual.source {
                visuals::Source::Inline(_) => ("inline", None),
                visuals::Source::Local(path) => ("local", Some(path.as_str())),
                visuals::Source::Remote(uri) => ("remote", Some(uri.as_str())),
            };
            list.push(json!({
                "step": step.name,
                "index": index + 1,
                "type": visual.kind.as_str(),
                "storage": storage,
                "source": source,
                "description": visual.describe(),
            }));
        }
    }
    Value::Array(list)
}
