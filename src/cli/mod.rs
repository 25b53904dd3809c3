//! The command line: clap types and one module per verb, each a thin layer
//! over the library. Diagnostics go to stderr, results to stdout.
//!
//! Exit codes: 0 success, 1 the program or run failed, 2 usage errors (clap).

mod check;
mod compile;
mod explain;
mod report;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

pub(crate) use report::Reporter;

/// kfpl: write, check, compile and run machine-learning pipelines.
#[derive(Debug, Parser)]
#[command(name = "kfpl", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// How diagnostics are printed.
    #[arg(long, global = true, value_enum, default_value_t = MessageFormat::Human)]
    pub(crate) message_format: MessageFormat,

    /// When to use colour in diagnostics (NO_COLOR is honoured).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// `--message-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MessageFormat {
    /// Source snippets with labels and help.
    Human,
    /// One line each: `file:line:col: error[code]: message`.
    Short,
    /// One JSON object a line.
    Json,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// Colour when stderr is a terminal and NO_COLOR is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Parse and check pipelines; print every error and warning.
    #[command(after_help = "Example:\n  kfpl check examples/mnist.kfp")]
    Check(check::Args),
    /// Lower a pipeline to an Argo Workflow (YAML, or a KFP package with `-o x.tar.gz`).
    #[command(
        after_help = "Examples:\n  kfpl compile examples/mnist.kfp | kubectl create -f -\n  kfpl compile examples/mnist.kfp -p learning_rate=0.05 -o mnist.tar.gz"
    )]
    Compile(compile::Args),
    /// Explain a diagnostic code.
    #[command(after_help = "Example:\n  kfpl explain E0401")]
    Explain(explain::Args),
}

/// Parses the command line and runs the verb.
pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    let reporter = Reporter::new(cli.message_format, cli.color);
    match cli.command {
        Command::Check(args) => args.run(&reporter),
        Command::Compile(args) => args.run(&reporter),
        Command::Explain(args) => args.run(),
    }
}

/// Turns a panic into an E0901 report instead of a backtrace.
pub(crate) fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        eprintln!(
            "error[kfpl::E0901]: internal error: {payload}{location}\n  help: this is a bug in kfpl; please report it with the input that caused it (`kfpl explain E0901`)"
        );
    }));
}
