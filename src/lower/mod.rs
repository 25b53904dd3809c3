//! Lowering: the checked IR → one Argo `Workflow` that runs on any cluster
//! with Argo and that a Kubeflow Pipelines v1 server accepts as a package.
//!
//! [`compile`] is the whole path from source text: check, bind the params
//! (a param with neither a default nor `-p` becomes a required input of the
//! workflow, given at submission), refuse what cannot be
//! lowered (E05xx, [`checks`]), build the model ([`argo`]), write YAML
//! ([`yaml`]). The pieces:
//! - [`argo_types`]: the typed Argo model (serde + `k8s-openapi`);
//! - `argo`: IR → model; `script`: each container's `command`/`env` and
//!   shell wrappers (metrics, git clone); `text`: carrying user text
//!   verbatim past Argo's `{{…}}` and Kubernetes' `$(…)`; `names`: names,
//!   paths and volumes;
//! - [`lint`]: the guarantees `argo lint` would check, on the model;
//! - [`package`]: the KFP pipeline package (`.tar.gz` holding `pipeline.yaml`).
//!
//! Nothing here does I/O; docs/compile.md describes the output.

mod argo;
pub mod argo_types;
mod artifacts;
mod block;
mod cache;
mod checks;
mod cluster;
mod condition;
mod dag;
mod dag_emit;
mod emit;
pub mod lint;
mod names;
mod script;
mod secrets;
mod sidecars;
mod text;
mod volumes;
pub mod yaml;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io::Write;

pub use argo::StepTemplates;
pub use argo_types::Workflow;
pub use lint::lint;

use crate::check::ir::Pipeline;
use crate::check::params::{Missing, bind};
use crate::diagnostics::{self, Code, Diagnostic};
use crate::source::{SourceFile, Span};

/// The image of the init container that clones `sync_source` (needs `sh` and `git`).
pub const DEFAULT_GIT_IMAGE: &str = "alpine/git:v2.45.2";

/// How to compile.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileOptions {
    /// `-p NAME=VALUE` overrides, in order.
    pub params: Vec<(String, String)>,
    /// The image that clones `sync_source` repositories.
    pub git_image: String,
}

impl Default for CompileOptions {
    fn default() -> CompileOptions {
        CompileOptions {
            params: Vec::new(),
            git_image: DEFAULT_GIT_IMAGE.to_string(),
        }
    }
}

/// Output size past which `kfpl compile` warns (W0501): Kubernetes stores
/// objects in etcd, which refuses requests over 1.5 MiB, and KFP stores the
/// workflow again; 1 MB leaves room for what the server adds.
pub const SIZE_WARNING_BYTES: u64 = 1_000_000;

/// etcd's request limit, named in W0501.
const ETCD_LIMIT: &str = "1.5 MiB";

/// W0501 when `bytes` of YAML pass [`SIZE_WARNING_BYTES`].
pub fn size_warning(bytes: u64) -> Option<Diagnostic> {
    (bytes > SIZE_WARNING_BYTES).then(|| {
        Diagnostic::new(
            Code::W0501,
            format!(
                "the compiled workflow is {:.1} MB; a cluster refuses objects over {ETCD_LIMIT}",
                bytes as f64 / 1e6
            ),
        )
        .help(
            "shrink it: loop over what differs (`for lr in [0.001, 0.002] { step train { … } }` \
             is one template however many items); steps with identical settings share one \
             template, so give alike steps the same image, command and resources; or split \
             the pipeline in two",
        )
    })
}

/// A compiled program.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// The workflow.
    pub workflow: Workflow,
    /// The workflow as YAML (what `kfpl compile` prints).
    pub yaml: String,
    /// Warnings from checking, and W0501 for a large workflow.
    pub warnings: Vec<Diagnostic>,
}

/// Checks `file` and lowers it to an Argo workflow. On failure, every
/// diagnostic (errors and warnings, sorted) comes back.
///
/// ```
/// use kfpl::{CompileOptions, SourceFile, compile};
///
/// let file = SourceFile::new("hello.kfp", r#"
/// pipeline hello {
///   param who: string = "world"
///   step greet {
///     image = "alpine:3.20"
///     command = "echo hello $<who>"
///   }
/// }
/// "#);
/// let compiled = compile(&file, &CompileOptions::default()).expect("compiles");
/// assert_eq!(compiled.workflow.spec.templates.len(), 2); // the DAG and `greet`
/// assert!(compiled.yaml.contains("generateName: hello-"));
/// // The value reaches the script as a variable, never as script text.
/// assert!(compiled.yaml.contains("echo hello ${KFP_who}"));
/// assert!(kfpl::lower::lint(&compiled.workflow).is_empty());
///
/// // A number param refuses a word.
/// let file = SourceFile::new("n.kfp", r#"
/// pipeline n {
///   param lr: number = 0.1
///   step s { image = "alpine" command = "echo $<lr>" }
/// }
/// "#);
/// let options = CompileOptions { params: vec![("lr".into(), "abc".into())], ..Default::default() };
/// let errors = compile(&file, &options).expect_err("abc is not a number");
/// assert_eq!(errors[0].code.as_str(), "E0303");
/// ```
pub fn compile(file: &SourceFile, options: &CompileOptions) -> Result<Compiled, Vec<Diagnostic>> {
    let (workflow, mut diagnostics) = compile_workflow(file, options)?;
    match yaml::to_yaml(&workflow) {
        Ok(yaml) => Ok(Compiled {
            warnings: diagnostics
                .into_iter()
                .chain(size_warning(yaml.len() as u64))
                .collect(),
            workflow,
            yaml,
        }),
        Err(error) => {
            diagnostics.push(not_serialisable(&error));
            Err(diagnostics)
        }
    }
}

/// [`compile`] without the YAML text: the workflow and the warnings. For
/// large programs, use [`compile_streamed`] instead: it never holds the
/// whole model or the text.
pub fn compile_workflow(
    file: &SourceFile,
    options: &CompileOptions,
) -> Result<(Workflow, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (pipeline, values, diagnostics) = checked(file, options)?;
    let workflow = lower(&pipeline, &values, &options.git_image);
    with_warnings(workflow, diagnostics)
}

/// Compiles `file` and hands the workflow to `write` with its step
/// templates built one at a time as it is serialised (with
/// [`yaml::write_yaml`], say): peak memory is the checked IR, not the
/// model or the text. `write`'s result comes back with the warnings.
pub fn compile_streamed<R>(
    file: &SourceFile,
    options: &CompileOptions,
    write: impl FnOnce(&Workflow<StepTemplates<'_>>) -> R,
) -> Result<(R, Vec<Diagnostic>), Vec<Diagnostic>> {
    streamed_then(file, options, write, drop)
}

/// [`compile_streamed`] for a process that exits once it returns (`kfpl
/// compile`): the checked IR is left to the exit, which hands the memory
/// back at once, where freeing it piece by piece costs ~2% of a compile
/// (rustc and cargo skip such frees at exit the same way).
pub fn compile_streamed_then_exit<R>(
    file: &SourceFile,
    options: &CompileOptions,
    write: impl FnOnce(&Workflow<StepTemplates<'_>>) -> R,
) -> Result<(R, Vec<Diagnostic>), Vec<Diagnostic>> {
    streamed_then(file, options, write, std::mem::forget)
}

/// [`compile_streamed`], then `release` the checked IR.
fn streamed_then<R>(
    file: &SourceFile,
    options: &CompileOptions,
    write: impl FnOnce(&Workflow<StepTemplates<'_>>) -> R,
    release: impl FnOnce(Pipeline),
) -> Result<(R, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (pipeline, values, diagnostics) = checked(file, options)?;
    let refused = refusals(&pipeline, &values, &options.git_image);
    let streamed = refused
        .is_empty()
        .then(|| argo::streamed(&pipeline, &values, &options.git_image))
        .ok_or(refused);
    let written = streamed.map(|workflow| write(&workflow));
    release(pipeline);
    with_warnings(written, diagnostics)
}

/// The checked pipeline and its bound params, with the warnings so far.
/// A param without a value stays a required input: Argo asks for it at
/// `argo submit`, KFP's run form asks for it (LANGUAGE.md lets the value
/// come at run time, and KFP v1 accepts such pipelines).
type Checked = (Pipeline, BTreeMap<String, String>, Vec<Diagnostic>);

fn checked(file: &SourceFile, options: &CompileOptions) -> Result<Checked, Vec<Diagnostic>> {
    let checked = crate::check(file);
    let mut diagnostics = checked.diagnostics;
    let Some(pipeline) = checked.pipeline else {
        return Err(diagnostics);
    };
    match bind(&pipeline, &options.params, Missing::Allow) {
        Ok(values) => Ok((pipeline, values, diagnostics)),
        Err(errors) => {
            diagnostics.extend(errors);
            diagnostics::sort(&mut diagnostics);
            Err(diagnostics)
        }
    }
}

/// `result` with the warnings beside it, or every diagnostic, sorted.
fn with_warnings<T>(
    result: Result<T, Vec<Diagnostic>>,
    mut diagnostics: Vec<Diagnostic>,
) -> Result<(T, Vec<Diagnostic>), Vec<Diagnostic>> {
    match result {
        Ok(value) => Ok((value, diagnostics)),
        Err(errors) => {
            diagnostics.extend(errors);
            diagnostics::sort(&mut diagnostics);
            Err(diagnostics)
        }
    }
}

/// E0901 for a workflow serde_yaml refuses (a bug: the model is plain data).
pub fn not_serialisable(error: &dyn std::fmt::Display) -> Diagnostic {
    Diagnostic::new(
        Code::E0901,
        format!("internal error: the workflow does not serialise as YAML: {error}"),
    )
}

/// Lowers a checked pipeline with bound param values (see
/// [`crate::params::bind`]; a param missing from `values` is left for the
/// submitter to give). Errors are E05xx.
pub fn lower(
    pipeline: &Pipeline,
    values: &BTreeMap<String, String>,
    git_image: &str,
) -> Result<Workflow, Vec<Diagnostic>> {
    let mut errors = refusals(pipeline, values, git_image);
    if errors.is_empty() {
        argo::workflow(pipeline, values, git_image).map_err(|error| vec![not_serialisable(&error)])
    } else {
        diagnostics::sort(&mut errors);
        Err(errors)
    }
}

/// What cannot be lowered (E05xx), unsorted.
fn refusals(
    pipeline: &Pipeline,
    values: &BTreeMap<String, String>,
    git_image: &str,
) -> Vec<Diagnostic> {
    let mut errors = checks::check(pipeline, values);
    if git_image.contains("{{") || git_image.trim().is_empty() {
        errors.push(
            Diagnostic::new(
                Code::E0501,
                format!("`--git-image {git_image}` is not an image Argo can run"),
            )
            .primary(Span::DETACHED, "")
            .help(format!(
                "give an image reference such as `{DEFAULT_GIT_IMAGE}`"
            )),
        );
    }
    errors
}

/// A KFP pipeline package: a gzip tar holding `pipeline.yaml`, as the KFP
/// compiler writes (the same bytes for the same YAML: no timestamps).
pub fn package(yaml: &str) -> std::io::Result<Vec<u8>> {
    let gzip = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    let mut archive = tar::Builder::new(gzip);
    let mut header = tar::Header::new_gnu();
    header.set_size(yaml.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_entry_type(tar::EntryType::Regular);
    archive.append_data(&mut header, "pipeline.yaml", yaml.as_bytes())?;
    let mut gzip = archive.into_inner()?;
    gzip.flush()?;
    gzip.finish()
}
