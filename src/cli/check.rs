//! `kfpl check FILE...`: parse and check, print every diagnostic.

use std::path::PathBuf;
use std::process::ExitCode;

use super::Reporter;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The .kfp files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

impl Args {
    pub(crate) fn run(self, reporter: &Reporter) -> ExitCode {
        let mut failed = false;
        for (at, path) in self.files.iter().enumerate() {
            let Some(file) = reporter.read(path) else {
                failed = true;
                continue;
            };
            let checked = kfpl::check(&file);
            reporter.emit(&checked.diagnostics, &file);
            reporter.summary(file.name(), &checked.diagnostics);
            failed |= checked.pipeline.is_none();
            if at + 1 == self.files.len() {
                // The last file's IR is left to the process's exit, which
                // hands the memory back at once: freeing it piece by piece
                // would cost ~5% of a check (rustc and cargo skip such
                // frees at exit the same way). Earlier files' IRs are freed,
                // so checking many files does not add them up.
                std::mem::forget(checked.pipeline);
            }
        }
        if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    }
}
