//! The command line: clap types and one module per verb, each a thin layer
//! over the library. Diagnostics go to stderr, results to stdout.
//!
//! Exit codes: 0 success, 1 the program or run failed, 2 usage errors (clap).

mod check;
mod compile;
mod completions;
mod explain;
mod fmt;
mod graph;
mod lsp;
mod repl;
mod report;
mod run;
mod runs;
mod ui;
mod visuals;

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

pub(crate) use report::Reporter;

/// The exit status of a command line that is itself wrong (clap's usage
/// errors, and `-p` without `NAME=VALUE`).
pub(crate) const USAGE_ERROR: u8 = 2;

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
    /// Print a generated program of N steps (benchmarks, scale tests).
    #[command(name = "dev-generate", hide = true)]
    DevGenerate {
        /// Number of steps.
        steps: usize,
    },
    /// Draw the step graph (ascii, dot or mermaid).
    #[command(
        after_help = "Examples:\n  kfpl graph examples/mnist.kfp\n  kfpl graph examples/mnist.kfp --format dot | dot -Tsvg > mnist.svg"
    )]
    Graph(graph::Args),
    /// Serve the Language Server Protocol on stdin/stdout (for editors).
    Lsp(lsp::Args),
    /// Build a pipeline interactively, one declaration at a time.
    #[command(after_help = "Examples:\n  kfpl repl\n  kfpl repl examples/mnist.kfp")]
    Repl(repl::Args),
    /// Run a pipeline on this machine and record the run.
    #[command(
        after_help = "Example:\n  kfpl run examples/digits.kfp -p learning_rate=0.1 --experiment digits"
    )]
    Run(run::Args),
    /// List, show and compare recorded runs.
    #[command(
        after_help = "Examples:\n  kfpl runs list\n  kfpl runs show r1\n  kfpl runs compare --last 2"
    )]
    Runs(runs::Args),
    /// Internal: set up a step's mounts, then exec its command.
    #[command(name = "__sandbox-exec", hide = true)]
    SandboxExec(run::SandboxArgs),
    /// Rewrite pipelines in the one canonical layout.
    #[command(
        after_help = "Examples:\n  kfpl fmt examples/\n  kfpl fmt --check pipeline.kfp\n  kfpl fmt - < in.kfp > out.kfp"
    )]
    Fmt(fmt::Args),
    /// Write shell completions to stdout.
    #[command(
        after_help = "Example:\n  kfpl completions bash > ~/.local/share/bash-completion/completions/kfpl"
    )]
    Completions(completions::Args),
    /// Serve the recorded runs as web pages on 127.0.0.1 (runs, one run, compare).
    #[command(after_help = "Examples:\n  kfpl ui\n  kfpl ui --port 0 --open")]
    Ui(ui::Args),
    /// Write the man page (roff) to stdout.
    #[command(after_help = "Example:\n  kfpl man > ~/.local/share/man/man1/kfpl.1")]
    Man(completions::ManArgs),
}

/// Parses the command line and runs the verb.
pub(crate) fn main() -> ExitCode {
    // Lets the tests prove that a crash is reported as E0901, not a backtrace.
    if std::env::var_os("KFPL_TEST_INTERNAL_PANIC").is_some() {
        panic!("panic requested by KFPL_TEST_INTERNAL_PANIC");
    }
    let cli = plain_compile(std::env::args_os()).unwrap_or_else(Cli::parse);
    let reporter = Reporter::new(cli.message_format, cli.color);
    match cli.command {
        Command::Check(args) => args.run(&reporter),
        Command::Compile(args) => args.run(&reporter),
        Command::Explain(args) => args.run(),
        Command::DevGenerate { steps } => {
            print!("{}", kfpl::generate::program(steps));
            ExitCode::SUCCESS
        }
        Command::Graph(args) => args.run(&reporter),
        Command::Lsp(args) => args.run(),
        Command::Repl(args) => args.run(cli.color),
        Command::Run(args) => args.run(&reporter),
        Command::Runs(args) => args.run(&reporter),
        Command::SandboxExec(args) => args.run(),
        Command::Fmt(args) => args.run(&reporter),
        Command::Completions(args) => args.run(),
        Command::Man(args) => args.run(),
        Command::Ui(args) => args.run(&reporter),
    }
}

/// `kfpl compile FILE [-o OUT]`, the command line of nearly every compile,
/// read without clap. clap builds the whole command tree, every verb with
/// every argument, before it reads a word: ~0.26 M instructions, 15% of
/// compiling the tutorial's pipeline. Anything else, and any word clap could
/// read another way (an empty one, one starting with `-`), is left to clap;
/// a proptest (below) checks that clap reads whatever this takes the same way.
fn plain_compile(args: impl IntoIterator<Item = OsString>) -> Option<Cli> {
    let mut args = args.into_iter().skip(1); // the program's name
    if args.next()? != "compile" {
        return None;
    }
    let rest: Vec<OsString> = args.collect();
    let (file, output) = match rest.as_slice() {
        [file] => (file, None),
        [file, flag, output] if is_output_flag(flag) => (file, Some(output)),
        [flag, output, file] if is_output_flag(flag) => (file, Some(output)),
        _ => return None,
    };
    if !is_plain_word(file) || !output.is_none_or(|o| is_plain_word(o)) {
        return None;
    }
    let args = compile::Args::plain(PathBuf::from(file), output.map(PathBuf::from));
    Some(Cli {
        message_format: MessageFormat::Human,
        color: ColorChoice::Auto,
        command: Command::Compile(args),
    })
}

fn is_output_flag(word: &OsStr) -> bool {
    word == "-o" || word == "--output"
}

/// A word clap can only read as a value: not empty (clap refuses an empty
/// path), not a flag, not `-` or `--`.
fn is_plain_word(word: &OsStr) -> bool {
    word.as_encoded_bytes().first().is_some_and(|&b| b != b'-')
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::os::unix::ffi::OsStringExt;

    /// Words of a command line, weighted to the ones `plain_compile` looks at.
    fn word() -> impl Strategy<Value = OsString> {
        let known = [
            "compile",
            "check",
            "-o",
            "--output",
            "--output=o.yaml",
            "-oo.yaml",
            "-o=o.yaml",
            "f.kfp",
            "o.yaml",
            "o.tar.gz",
            "-",
            "--",
            "",
            " ",
            "help",
            "-p",
            "a=1",
            "--color",
            "never",
            "--message-format",
            "json",
            "-h",
            "--help",
            "-V",
            "--version",
            "--git-image",
            "img",
            "x y",
            "é.kfp",
            "-1",
            "--o",
            "-O",
            "--out",
            "-op",
        ];
        prop_oneof![
            4 => prop::sample::select(known.to_vec()).prop_map(OsString::from),
            2 => "[-a-z.=]{0,4}".prop_map(OsString::from),
            1 => Just(OsString::from_vec(vec![b'f', 0xff, b'.'])),
        ]
    }

    /// Command lines that mostly start with `compile`.
    fn command_line() -> impl Strategy<Value = Vec<OsString>> {
        let verb = prop_oneof![3 => Just(OsString::from("compile")), 1 => word()];
        (verb, prop::collection::vec(word(), 0..5)).prop_map(|(verb, rest)| {
            let mut line = vec![OsString::from("kfpl"), verb];
            line.extend(rest);
            line
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        #[test]
        fn clap_reads_a_plain_compile_the_same_way(line in command_line()) {
            if let Some(plain) = plain_compile(line.clone()) {
                match Cli::try_parse_from(&line) {
                    Ok(clap) => prop_assert_eq!(format!("{plain:?}"), format!("{clap:?}")),
                    Err(error) => prop_assert!(false, "clap refuses {line:?}: {error}"),
                }
            }
        }
    }

    #[test]
    fn the_usual_compiles_are_plain() {
        for line in [
            &["kfpl", "compile", "examples/mnist.kfp"][..],
            &["kfpl", "compile", "examples/mnist.kfp", "-o", "mnist.yaml"],
            &[
                "kfpl",
                "compile",
                "--output",
                "mnist.tar.gz",
                "examples/mnist.kfp",
            ],
        ] {
            assert!(
                plain_compile(line.iter().map(OsString::from)).is_some(),
                "{line:?}"
            );
        }
        for line in [
            &["kfpl", "compile"][..],
            &["kfpl", "compile", "-"],
            &["kfpl", "compile", "x.kfp", "-p", "a=1"],
            &["kfpl", "--color", "never", "compile", "x.kfp"],
            &["kfpl", "check", "x.kfp"],
        ] {
            assert!(
                plain_compile(line.iter().map(OsString::from)).is_none(),
                "{line:?}"
            );
        }
    }
}
