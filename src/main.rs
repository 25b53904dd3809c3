//! The `kfpl` binary: a panic hook and the CLI; everything else is in the library.

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    cli::install_panic_hook();
    cli::main()
}
