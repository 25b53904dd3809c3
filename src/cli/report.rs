//! Printing diagnostics for the CLI: picks the format and colour once.

use std::io::{IsTerminal, Write};

use kfpl::diagnostics::render::{self, Format, Style};
use kfpl::{Diagnostic, SourceFile};

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
        let text = render::render_all(diagnostics, file, self.format, self.style);
        let mut stderr = std::io::stderr().lock();
        // Nothing useful can be done when stderr is gone.
        let _ = stderr.write_all(text.as_bytes());
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
}
