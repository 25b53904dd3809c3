//! `kfpl fmt PATH... [--check]`: rewrite files in the canonical layout.
//!
//! A directory stands for every `.kfp` file under it (hidden directories
//! skipped); `-` reads stdin and writes stdout. Files are rewritten through a
//! temporary file in the same directory and a rename, so a failure never
//! leaves half a file. Names of changed files go to stdout, diagnostics to
//! stderr.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kfpl::{Code, Diagnostic, SourceFile};

use super::Reporter;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Files and directories to format (every .kfp file under a directory); `-` formats stdin to stdout.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Change nothing: name each file that is not formatted (`would reformat: PATH`) and exit 1 if any.
    #[arg(long)]
    check: bool,
}

/// What happened to one file.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Unchanged,
    Changed,
    Failed,
}

impl Args {
    pub(crate) fn run(self, reporter: &Reporter) -> ExitCode {
        let stdin = Path::new("-");
        if self.paths.iter().any(|p| p == stdin) {
            if self.paths.len() > 1 {
                use clap::CommandFactory;
                super::Cli::command()
                    .error(
                        clap::error::ErrorKind::ArgumentConflict,
                        "`-` (stdin) cannot be combined with other paths",
                    )
                    .exit();
            }
            return exit(self.stdin(reporter) == Outcome::Failed);
        }
        let mut failed = false;
        let mut changed = false;
        for path in self.expand(reporter, &mut failed) {
            match self.file(&path, reporter) {
                Outcome::Unchanged => {}
                Outcome::Changed => changed = true,
                Outcome::Failed => failed = true,
            }
        }
        exit(failed || (self.check && changed))
    }

    /// The files named, directories replaced by the `.kfp` files under them.
    fn expand(&self, reporter: &Reporter, failed: &mut bool) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for path in &self.paths {
            if path.is_dir() {
                walk(path, &mut files, reporter, failed);
            } else {
                files.push(path.clone());
            }
        }
        files
    }

    fn file(&self, path: &Path, reporter: &Reporter) -> Outcome {
        let Some(file) = reporter.read(path) else {
            return Outcome::Failed;
        };
        let name = file.name().to_string();
        let Some(formatted) = format(&file, reporter) else {
            return Outcome::Failed;
        };
        if formatted == file.text() {
            return Outcome::Unchanged;
        }
        if self.check {
            println!("would reformat: {name}");
            return Outcome::Changed;
        }
        if let Err(error) = write_in_place(path, &formatted) {
            let diagnostic = Diagnostic::new(
                Code::E0801,
                format!("cannot write `{name}`: {error}"),
            )
            .help(
                "check that the file and its directory are writable; the file was left as it was",
            );
            reporter.emit(&[diagnostic], &SourceFile::new(name, ""));
            return Outcome::Failed;
        }
        println!("reformatted: {name}");
        Outcome::Changed
    }

    /// `kfpl fmt -`: stdin to stdout (with `--check`, nothing is written).
    fn stdin(&self, reporter: &Reporter) -> Outcome {
        let name = "<stdin>";
        let Some(file) = reporter.read_named(Path::new("/dev/stdin"), name) else {
            return Outcome::Failed;
        };
        let Some(formatted) = format(&file, reporter) else {
            return Outcome::Failed;
        };
        let changed = formatted != file.text();
        if self.check {
            if changed {
                println!("would reformat: {name}");
                return Outcome::Failed;
            }
            return Outcome::Unchanged;
        }
        let mut stdout = std::io::stdout().lock();
        if stdout
            .write_all(formatted.as_bytes())
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return Outcome::Failed;
        }
        if changed {
            Outcome::Changed
        } else {
            Outcome::Unchanged
        }
    }
}

fn exit(failed: bool) -> ExitCode {
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Formats, printing the diagnostics of a file that cannot be formatted.
fn format(file: &SourceFile, reporter: &Reporter) -> Option<String> {
    match kfpl::fmt::format(file) {
        Ok(text) => Some(text),
        Err(diagnostics) => {
            reporter.emit(&diagnostics, file);
            reporter.summary(file.name(), &diagnostics);
            None
        }
    }
}

/// Every `.kfp` file under `dir`, sorted; hidden directories and symbolic
/// links to directories are skipped.
fn walk(dir: &Path, files: &mut Vec<PathBuf>, reporter: &Reporter, failed: &mut bool) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            let name = dir.display().to_string();
            let diagnostic = Diagnostic::new(
                Code::E0001,
                format!("cannot read directory `{name}`: {error}"),
            )
            .help("check the path and that the directory is readable");
            reporter.emit(&[diagnostic], &SourceFile::new(name, ""));
            *failed = true;
            return;
        }
    };
    let mut paths: Vec<(PathBuf, bool)> = entries
        .filter_map(Result::ok)
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
        .map(|entry| {
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            (entry.path(), is_dir)
        })
        .collect();
    paths.sort();
    for (path, is_dir) in paths {
        if is_dir {
            walk(&path, files, reporter, failed);
        } else if path.extension().is_some_and(|ext| ext == "kfp") {
            files.push(path);
        }
    }
}

/// Replaces the file (the target of a symbolic link) through a temporary
/// file beside it, keeping its permissions.
fn write_in_place(path: &Path, text: &str) -> std::io::Result<()> {
    let target = fs::canonicalize(path)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{file_name}.kfpl-fmt-{}", std::process::id()));
    let permissions = fs::metadata(&target)?.permissions();
    let result = (|| {
        let mut file = fs::File::create_new(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::set_permissions(&temp, permissions)?;
        fs::rename(&temp, &target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}
