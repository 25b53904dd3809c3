//! Where the REPL reaches the compiler (`:yaml`) and the local runner
//! (`:run`), which live in other modules of kfpl.
//!
//! Each hook gets the session's whole program as a [`SourceFile`] named
//! `<session>` (already checked clean) and answers `None` when this build
//! has no such stage, `Some(Ok(text))` to print, or `Some(Err(diagnostics))`
//! about that file. The session reaches them through [`Hooks`], so tests
//! can put fakes in their place.

use crate::{Diagnostic, SourceFile};

/// What a hook answers: `None` when this build lacks the stage, else text
/// to print or diagnostics about the file it was given.
pub type Answer = Option<Result<String, Vec<Diagnostic>>>;

/// What `:yaml` calls: the program lowered to Argo Workflow YAML.
pub fn compile_yaml(file: &SourceFile) -> Answer {
    let options = crate::lower::CompileOptions::default();
    Some(crate::lower::compile(file, &options).map(|compiled| compiled.yaml))
}

/// What `:run` calls, with the `-p` overrides already checked against the
/// params: runs the pipeline (showing its own progress on the terminal) and
/// returns the summary to print.
pub fn run_pipeline(file: &SourceFile, params: &[(String, String)]) -> Answer {
    let checked = crate::check(file);
    let Some(pipeline) = checked.pipeline else {
        return Some(Err(checked.diagnostics));
    };
    let mut options = crate::run::RunOptions::new(file.name(), file.text());
    options.overrides = params.to_vec();
    options.experiment = "repl".into();
    options.sandbox_exe = std::env::current_exe().ok();
    let report = match crate::run::run(&pipeline, &options, &mut Lines) {
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

/// Shows a run's progress as plain lines: the REPL owns the terminal, so no
/// live redrawing here (`kfpl run` draws the full progress view).
struct Lines;

impl crate::run::Observer for Lines {
    fn event(&mut self, event: &crate::run::Event<'_>) {
        use crate::run::Event;
        #[allow(clippy::print_stdout, reason = "the REPL's :run streams step output")]
        match event {
            Event::StepStarted { step, .. } => println!("{step}: started"),
            Event::Output { step, line, .. } => println!("{step} | {line}"),
            Event::StepFinished { step } => println!("{}: {}", step.name, step.status.as_str()),
            Event::Warning { diagnostic, .. } => println!("warning: {}", diagnostic.message),
            _ => {}
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
