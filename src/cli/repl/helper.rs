//! The line editor's helper: rustyline's completion, highlighting and
//! validation hooks, each a call to a pure function of `kfpl::repl`.
//!
//! It lives here, beside the editor, rather than in the library: it prints
//! nothing, but it only binds the library's functions to rustyline's traits
//! (and completes file names from the working folder), which is the
//! terminal's business. The library keeps the functions themselves
//! ([`complete::complete`], [`highlight::highlight`],
//! [`input::is_incomplete`]), so its API carries no line-editor types and
//! another frontend can call them directly.

use std::borrow::Cow;

use kfpl::repl::complete::{self, Completion, Names};
use kfpl::repl::{highlight, input};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper, Hinter};

/// Completion, highlighting, validation.
#[derive(Helper, Hinter)]
pub(crate) struct KfpHelper {
    /// What the session has declared, for completion (refreshed before each prompt).
    pub(crate) names: Names,
    color: bool,
    files: FilenameCompleter,
}

impl KfpHelper {
    /// A helper that colours the input when `color` is set.
    pub(crate) fn new(color: bool) -> KfpHelper {
        KfpHelper {
            names: Names::default(),
            color,
            files: FilenameCompleter::new(),
        }
    }
}

impl Completer for KfpHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let _ = ctx;
        match complete::complete(line, pos, &self.names) {
            Completion::Path => self.files.complete_path(line, pos),
            Completion::Words { start, words } => Ok((
                start,
                words
                    .into_iter()
                    .map(|w| Pair {
                        display: w.clone(),
                        replacement: w,
                    })
                    .collect(),
            )),
        }
    }
}

impl Highlighter for KfpHelper {
    fn highlight<'l>(&self, line: &'l str, pos: usize) -> Cow<'l, str> {
        let _ = pos;
        if self.color {
            Cow::Owned(highlight::highlight(line))
        } else {
            Cow::Borrowed(line)
        }
    }

    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        default: bool,
    ) -> Cow<'b, str> {
        if self.color && default {
            Cow::Owned(format!("\x1b[1;32m{prompt}\x1b[0m"))
        } else {
            Cow::Borrowed(prompt)
        }
    }

    fn highlight_char(&self, line: &str, pos: usize, kind: CmdKind) -> bool {
        let _ = (line, pos);
        self.color && kind != CmdKind::MoveCursor
    }
}

impl Validator for KfpHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if input::is_incomplete(ctx.input()) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}
