//! `kfpl compile FILE [-o OUT] [-p NAME=VALUE]... [--git-image IMG]`: lower
//! to an Argo Workflow. YAML goes to stdout, or to `OUT`; an `OUT` ending in
//! `.tar.gz` or `.tgz` gets a KFP pipeline package instead.

use std::path::PathBuf;
use std::process::ExitCode;

use kfpl::lower::{self, DEFAULT_GIT_IMAGE};
use kfpl::{Code, CompileOptions, Diagnostic, SourceFile};

use super::Reporter;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The .kfp file to compile.
    file: PathBuf,
    /// Write here instead of stdout: `x.yaml` for YAML, `x.tar.gz` (or
    /// `.tgz`) for a KFP pipeline package.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// Set a param's value in the workflow (repeatable); checked against its type.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// The image that clones `sync_source` repositories (needs `sh` and `git`).
    #[arg(long, value_name = "IMAGE", default_value = DEFAULT_GIT_IMAGE)]
    git_image: String,
}

impl Args {
    pub(crate) fn run(self, reporter: &Reporter) -> ExitCode {
        let Some(file) = reporter.read(&self.file) else {
            return ExitCode::FAILURE;
        };
        let name = file.name().to_string();
        let Some(params) = reporter.overrides(&self.params, &file) else {
            // A malformed `-p` is a usage error, as for `kfpl run`.
            return ExitCode::from(super::USAGE_ERROR);
        };
        let options = CompileOptions {
            params,
            git_image: self.git_image.clone(),
        };
        let (workflow, warnings) = match lower::compile_workflow(&file, &options) {
            Ok(compiled) => compiled,
            Err(diagnostics) => {
                reporter.emit(&diagnostics, &file);
                reporter.summary(&name, &diagnostics);
                return ExitCode::FAILURE;
            }
        };
        reporter.emit(&warnings, &file);
        match self.write(&workflow) {
            Ok(()) => ExitCode::SUCCESS,
            Err(diagnostic) => {
                reporter.emit(&[diagnostic], &SourceFile::new(&name, ""));
                ExitCode::FAILURE
            }
        }
    }

    /// Writes the YAML (or the package) where `-o` says. YAML is streamed:
    /// a large workflow is never held as text.
    fn write(&self, workflow: &lower::Workflow) -> Result<(), Diagnostic> {
        let Some(path) = &self.output else {
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            // A closed pipe (`| head`) is not worth an error.
            let _ = lower::yaml::write_yaml(workflow, stdout);
            return Ok(());
        };
        let shown = path.display().to_string();
        let is_package = shown.ends_with(".tar.gz") || shown.ends_with(".tgz");
        if is_package {
            let yaml = lower::yaml::to_yaml(workflow).map_err(|e| lower::not_serialisable(&e))?;
            let bytes = lower::package(&yaml).map_err(|error| cannot_write(&shown, &error))?;
            return std::fs::write(path, bytes).map_err(|error| cannot_write(&shown, &error));
        }
        let file = std::fs::File::create(path).map_err(|error| cannot_write(&shown, &error))?;
        lower::yaml::write_yaml(workflow, std::io::BufWriter::new(file))
            .map_err(|error| cannot_write(&shown, &std::io::Error::other(error.to_string())))
    }
}

fn cannot_write(path: &str, error: &std::io::Error) -> Diagnostic {
    Diagnostic::new(Code::E0503, format!("cannot write `{path}`: {error}")).help(
        "check that the directory exists and is writable, or leave out `-o` to print to stdout",
    )
}
