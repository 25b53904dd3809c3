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
    let _ = file;
    None
}

/// What `:run` calls, with the `-p` overrides already checked against the
/// params: runs the pipeline (showing its own progress on the terminal) and
/// returns the summary to print.
pub fn run_pipeline(file: &SourceFile, params: &[(String, String)]) -> Answer {
    let _ = (file, params);
    None
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
