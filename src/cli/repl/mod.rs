//! `kfpl repl [FILE]`: the interactive session (see `kfpl::repl`).
//!
//! The library's session is the backend: it answers each input with text
//! and never touches the terminal. This module owns the terminal side: the
//! line editor and what it prints ([`frontend`]), the editor's rustyline
//! helper ([`helper`]), and the `:run` hook that prints a run's progress as
//! it happens.

mod frontend;
mod helper;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use kfpl::SourceFile;
use kfpl::diagnostics::render::Style;
use kfpl::repl::Options;
use kfpl::repl::hooks::{self, Answer, Hooks};
use kfpl::run::{Event, Observer};

use self::frontend::Settings;
use super::ColorChoice;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A .kfp file to load first.
    file: Option<PathBuf>,
}

impl Args {
    pub(crate) fn run(self, color: ColorChoice) -> ExitCode {
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        let settings = Settings {
            file: self.file.map(|f| f.display().to_string()),
            color,
            history: frontend::history_path(),
            options: Options {
                style: Style { color, width: 100 },
                hooks: Hooks {
                    run: run_streaming,
                    ..Hooks::default()
                },
                ..Options::default()
            },
        };
        match frontend::run(settings) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: the terminal failed: {error}");
                ExitCode::FAILURE
            }
        }
    }
}

/// `:run` in the terminal: each progress line is printed as it happens
/// (the library's default hook would hold them until the run ends).
fn run_streaming(file: &SourceFile, params: &[(String, String)]) -> Answer {
    hooks::run_observed(file, params, &mut PrintProgress)
}

/// Prints [`hooks::progress_line`]s to stdout.
struct PrintProgress;

impl Observer for PrintProgress {
    fn event(&mut self, event: &Event<'_>) {
        if let Some(line) = hooks::progress_line(event) {
            println!("{line}");
        }
    }
}
