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
    /// `kfpl compile FILE [-o OUT]`, every other argument as clap leaves it
    /// when not given (`cli::plain_compile`).
    pub(crate) fn plain(file: PathBuf, output: Option<PathBuf>) -> Args {
        Args {
            file,
            output,
            params: Vec::new(),
            git_image: DEFAULT_GIT_IMAGE.to_string(),
        }
    }

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
        // Warnings come after the YAML: the size is known once it is written.
        let (written, mut warnings) =
            match lower::compile_streamed_then_exit(&file, &options, |workflow| {
                self.write(workflow)
            }) {
                Ok(compiled) => compiled,
                Err(diagnostics) => {
                    reporter.emit(&diagnostics, &file);
                    reporter.summary(&name, &diagnostics);
                    return ExitCode::FAILURE;
                }
            };
        match written {
            Ok(bytes) => {
                warnings.extend(lower::size_warning(bytes));
                reporter.emit(&warnings, &file);
                ExitCode::SUCCESS
            }
            Err(diagnostic) => {
                reporter.emit(&warnings, &file);
                reporter.emit(&[diagnostic], &SourceFile::new(&name, ""));
                ExitCode::FAILURE
            }
        }
    }

    /// Writes the YAML (or the package) where `-o` says; the YAML's size.
    /// YAML is streamed: a large workflow is never held as text. No
    /// `BufWriter`: the YAML writer passes its output on in 64 KiB chunks.
    fn write(
        &self,
        workflow: &lower::Workflow<lower::StepTemplates<'_>>,
    ) -> Result<u64, Diagnostic> {
        let Some(path) = &self.output else {
            let mut stdout = Counted::new(std::io::stdout().lock());
            // A closed pipe (`| head`) is not worth an error.
            let _ = lower::yaml::write_streamed(workflow, &mut stdout);
            return Ok(stdout.bytes);
        };
        let shown = path.display().to_string();
        let is_package = shown.ends_with(".tar.gz") || shown.ends_with(".tgz");
        if is_package {
            let yaml = lower::yaml::to_yaml(workflow).map_err(|e| lower::not_serialisable(&e))?;
            let bytes = lower::package(&yaml).map_err(|error| cannot_write(&shown, &error))?;
            std::fs::write(path, bytes).map_err(|error| cannot_write(&shown, &error))?;
            return Ok(yaml.len() as u64);
        }
        let file = std::fs::File::create(path).map_err(|error| cannot_write(&shown, &error))?;
        let mut file = Counted::new(file);
        lower::yaml::write_streamed(workflow, &mut file)
            .map_err(|error| cannot_write(&shown, &std::io::Error::other(error.to_string())))?;
        Ok(file.bytes)
    }
}

/// A writer that counts what passes through it.
struct Counted<W> {
    inner: W,
    bytes: u64,
}

impl<W> Counted<W> {
    fn new(inner: W) -> Self {
        Counted { inner, bytes: 0 }
    }
}

impl<W: std::io::Write> std::io::Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn cannot_write(path: &str, error: &std::io::Error) -> Diagnostic {
    Diagnostic::new(Code::E0503, format!("cannot write `{path}`: {error}")).help(
        "check that the directory exists and is writable, or leave out `-o` to print to stdout",
    )
}
