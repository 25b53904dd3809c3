//! `kfpl graph FILE [--format ascii|dot|mermaid]`: the step graph, control
//! blocks as clusters (see [`kfpl::graph`]).
//!
//! ascii is the default everywhere, on a terminal and in a pipe alike, so the
//! output never changes with where it goes; `--format dot` or `mermaid` is
//! for other tools (`kfpl graph x.kfp --format dot | dot -Tsvg > x.svg`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use kfpl::graph::{self, Format};

use super::Reporter;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The .kfp file.
    file: PathBuf,

    /// Output format: a drawing for the terminal, Graphviz or Mermaid.
    #[arg(long, short, value_enum, default_value_t = GraphFormat::Ascii)]
    format: GraphFormat,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum GraphFormat {
    /// Boxes and lines (solid: uses an output; dotted: `after`); blocks listed below.
    Ascii,
    /// Graphviz dot (solid and dashed edges; blocks as clusters).
    Dot,
    /// Mermaid flowchart (`-->` and `-.->` edges; blocks as subgraphs).
    Mermaid,
}

impl Args {
    pub(crate) fn run(self, reporter: &Reporter) -> ExitCode {
        let Some((_, pipeline)) = reporter.read_checked(&self.file) else {
            return ExitCode::FAILURE;
        };
        let format = match self.format {
            GraphFormat::Ascii => Format::Ascii,
            GraphFormat::Dot => Format::Dot,
            GraphFormat::Mermaid => Format::Mermaid,
        };
        let text = graph::render(&pipeline, format);
        let mut stdout = std::io::stdout().lock();
        // A closed pipe (`| head`) is not an error worth reporting.
        let _ = stdout.write_all(text.as_bytes());
        ExitCode::SUCCESS
    }
}
