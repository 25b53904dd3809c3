//! Where the REPL reaches the compiler (`:yaml`) and the local runner
//! (`:run`), which live in other modules of kfpl.
//!
//! Each hook gets the session's whole program as a [`SourceFile`] named
//! `<session>` (already checked clean) and answers `None` when this build
//! has no such stage, `Some(Ok(text))` for the session to reply with, or
//! `Some(Err(diagnostics))` about that file. The session reaches them
//! through [`Hooks`], so tests (and `kfpl repl`) can put others in their place.

use crate::{Diagnostic, SourceFile};

/// What a hook answers: `None` when this build lacks the stage, else text
/// to reply with or diagnostics about the file it was given.
pub type Answer = Option<Result<String, Vec<Diagnostic>>>;

/// What `:yaml` calls: the program lowered to Argo Workflow YAML.
pub(crate) fn compile_yaml(file: &SourceFile) -> Answer {
    let options = crate::lower::CompileOptions::default();
    Some(crate::lower::compile(file, &options).map(|compiled| compiled.yaml))
}

/// What `:run` calls by default: runs the pipeline and answers its progress
/// lines ([`progress_line`]) followed by the summary, all at once. `kfpl repl`
/// puts its own hook in this one's place that prints each line as it happens
/// (through [`run_observed`]): the library never writes to the terminal.
pub(crate) fn run_pipeline(file: &SourceFile, params: &[(String, String)]) -> Answer {
    let mut progress = Progress::default();
    let answer = run_observed(file, params, &mut progress);
    answer.map(|result| result.map(|summary| progress.text + &summary))
}

/// Runs the pipeline with the `-p` overrides (already checked against the
/// params), telling `observer` what happens, and returns the summary.
pub fn run_observed(
    file: &SourceFile,
    params: &[(String, String)],
    observer: &mut dyn crate::run::Observer,
) -> Answer {
    let checked = crate::check(file);
    let Some(pipeline) = checked.pipeline else {
        return Some(Err(checked.diagnostics));
    };
    let mut options = crate::run::RunOptions::new(file.name(), file.text());
    options.overrides = params.to_vec();
    options.experiment = "repl".into();
    options.sandbox_exe = std::env::current_exe().ok();
    let report = match crate::run::run(&pipeline, &options, observer) {
        Ok(report) => report,
        Err(diagnostics) => return Some(Err(diagnostics)),
    };
    let mut summary = format!(
        "run {} {} in {:.1}s",
        report.run_id,
        report.status.as_str(),
        report.duration.as_secs_f64()
    );
    for step in &report.steps {
        summary.push_str(&format!("\n  {:<20} {}", step.name, step.status.as_str()));
        for metric in &step.metrics {
            let value = metric
                .value
                .map_or("missing".to_string(), |v| v.to_string());
            summary.push_str(&format!("  {}={value}", metric.name));
        }
    }
    Some(Ok(summary))
}

/// A run's progress as the REPL shows it, one plain line per event worth
/// showing (the REPL owns the terminal, so no live redrawing: `kfpl run`
/// draws the full progress view). `None` for the events it leaves out.
pub fn progress_line(event: &crate::run::Event<'_>) -> Option<String> {
    use crate::run::Event;
    match event {
        Event::StepStarted { step, .. } => Some(format!("{step}: started")),
        Event::Output { step, line, .. } => Some(format!("{step} | {line}")),
        Event::StepFinished { step } => Some(format!("{}: {}", step.name, step.status.as_str())),
        Event::Warning { diagnostic, .. } => Some(format!("warning: {}", diagnostic.message)),
        _ => None,
    }
}

/// Gathers the progress lines of a run, each ending with a line break.
#[derive(Debug, Default)]
struct Progress {
    text: String,
}

impl crate::run::Observer for Progress {
    fn event(&mut self, event: &crate::run::Event<'_>) {
        if let Some(line) = progress_line(event) {
            self.text.push_str(&line);
            self.text.push('\n');
        }
    }
}

/// The stages the session calls into.
#[derive(Debug, Clone, Copy)]
pub struct Hooks {
    /// `:yaml`.
    pub compile_yaml: fn(&SourceFile) -> Answer,
    /// `:run`.
    pub run: fn(&SourceFile, &[(String, String)]) -> Answer,
}

impl Default for Hooks {
    fn default() -> Hooks {
        Hooks {
            compile_yaml,
            run: run_pipeline,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Progress, progress_line};
    use crate::run::{Event, Observer, Stream};

    #[test]
    fn progress_keeps_the_lines_worth_showing_in_order() {
        let mut progress = Progress::default();
        progress.event(&Event::StepStarted {
            step: "train",
            attempt: 1,
            max_attempts: 1,
            gpus: "",
        });
        progress.event(&Event::Tick);
        progress.event(&Event::Output {
            step: "train",
            stream: Stream::Stdout,
            line: "epoch 1",
        });
        assert_eq!(progress.text, "train: started\ntrain | epoch 1\n");
        assert_eq!(progress_line(&Event::Tick), None);
    }
}
