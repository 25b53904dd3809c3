//! Printing diagnostics for the CLI: picks the format and colour once.

use std::io::{IsTerminal, Write};

use kfpl::diagnostics::render::{self, Format, Style};
use std::path::Path;

use kfpl::{Diagnostic, SourceFile, ir};

use super::{ColorChoice, MessageFormat};

/// Prints diagnostics to stderr in the chosen format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reporter {
    format: Format,
    style: Style,
}

impl Reporter {
    /// From the global flags.
    pub(crate) fn new(format: MessageFormat, color: ColorChoice) -> Reporter {
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stderr().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        let format = match format {
            MessageFormat::Human => Format::Human,
            MessageFormat::Short => Format::Short,
            MessageFormat::Json => Format::Json,
        };
        Reporter {
            format,
            style: Style { color, width: 100 },
        }
    }

    /// Prints `diagnostics` about `file`.
    pub(crate) fn emit(&self, diagnostics: &[Diagnostic], file: &SourceFile) {
        if diagnostics.is_empty() {
            return;
        }
        let text = self.render(diagnostics, file);
        let mut stderr = std::io::stderr().lock();
        // Nothing useful can be done when stderr is gone.
        let _ = stderr.write_all(text.as_bytes());
    }

    /// `diagnostics` as [`Reporter::emit`] prints them, for callers that
    /// must place the text themselves (above `kfpl run`'s progress lines).
    pub(crate) fn render(&self, diagnostics: &[Diagnostic], file: &SourceFile) -> String {
        render::render_all(diagnostics, file, self.format, self.style)
    }

    /// Prints a summary line (`2 errors, 1 warning`) in the human format.
    pub(crate) fn summary(&self, name: &str, diagnostics: &[Diagnostic]) {
        if self.format != Format::Human || diagnostics.is_empty() {
            return;
        }
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = diagnostics.len() - errors;
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(
            stderr,
            "{name}: {}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        );
    }

    /// Reads a source file, printing the reason when it cannot be read.
    pub(crate) fn read(&self, path: &Path) -> Option<SourceFile> {
        self.read_named(path, &path.display().to_string())
    }

    /// [`Reporter::read`], with diagnostics naming the file `name`.
    pub(crate) fn read_named(&self, path: &Path, name: &str) -> Option<SourceFile> {
        match kfpl::read_source(path, name) {
            Ok(file) => Some(file),
            Err(error) => {
                self.emit(&[error.diagnostic], &error.file);
                None
            }
        }
    }

    /// Reads and checks a file, printing every diagnostic; the IR when it has no errors.
    pub(crate) fn read_checked(&self, path: &Path) -> Option<(SourceFile, ir::Pipeline)> {
        let file = self.read(path)?;
        let checked = kfpl::check(&file);
        self.emit(&checked.diagnostics, &file);
        match checked.pipeline {
            Some(pipeline) => Some((file, pipeline)),
            None => {
                self.summary(file.name(), &checked.diagnostics);
                None
            }
        }
    }

    /// Splits `-p NAME=VALUE` arguments, printing every malformed one.
    pub(crate) fn overrides(
        &self,
        arguments: &[String],
        file: &SourceFile,
    ) -> Option<Vec<(String, String)>> {
        let mut pairs = Vec::new();
        let mut bad = Vec::new();
        for argument in arguments {
            match kfpl::params::parse_override(argument) {
                Ok(pair) => pairs.push(pair),
                Err(diagnostic) => bad.push(diagnostic),
            }
        }
        if bad.is_empty() {
            Some(pairs)
        } else {
            self.emit(&bad, file);
            None
        }
    }
}
