//! `kfpl repl [FILE]`: the interactive session (see `kfpl::repl`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use kfpl::diagnostics::render::Style;
use kfpl::repl::Options;
use kfpl::repl::frontend::{self, Settings};

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
