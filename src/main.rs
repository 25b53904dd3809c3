//! The `kfpl` binary: a panic hook and the CLI; everything else is in the library.

use std::process::ExitCode;

// cli/ is where kfpl talks to the terminal: the one module that may use the
// process's stdin, stdout and stderr (clippy.toml disallows them elsewhere).
#[allow(clippy::disallowed_methods, reason = "cli/ owns the process's streams")]
mod cli;

// Why mimalloc, and which build of it: Cargo.toml, at the dependency.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::install_panic_hook();
    cli::main()
}
