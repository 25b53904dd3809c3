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
        for path in &self.files {
            let Some(file) = reporter.read(path) else {
                failed = true;
                continue;
            };
            let checked = kfpl::check(&file);
            reporter.emit(&checked.diagnostics, &file);
            reporter.summary(file.name(), &checked.diagnostics);
            failed |= checked.pipeline.is_none();
        }
        if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    }
}
