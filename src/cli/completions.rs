//! `kfpl completions SHELL` and `kfpl man`: generated from the clap
//! definition, so they always match the real command line.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

/// `kfpl completions SHELL`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The shell to write completions for.
    #[arg(value_enum)]
    shell: Shell,
}

impl Args {
    pub(crate) fn run(self) -> ExitCode {
        let mut command = super::Cli::command();
        let mut out = Vec::new();
        clap_complete::generate(self.shell, &mut command, "kfpl", &mut out);
        write_stdout(&out)
    }
}

/// `kfpl man`.
#[derive(Debug, clap::Args)]
pub(crate) struct ManArgs {}

impl ManArgs {
    pub(crate) fn run(self) -> ExitCode {
        let man = clap_mangen::Man::new(super::Cli::command());
        let mut out = Vec::new();
        if let Err(error) = man.render(&mut out) {
            eprintln!("error: cannot render the man page: {error}");
            return ExitCode::FAILURE;
        }
        write_stdout(&out)
    }
}

fn write_stdout(bytes: &[u8]) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is not worth a message.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot write to stdout: {error}");
            ExitCode::FAILURE
        }
    }
}
