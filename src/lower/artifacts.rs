//! `output NAME: file` on Argo: output and input artifacts, held in the
//! cluster's default artifact repository (KFP installs one).
//!
//! - The producer's template declares `outputs.artifacts: [{name: NAME,
//!   path: <KFP_OUTPUTS>/NAME}]` (a file or a folder; Argo uploads either),
//!   and no output parameter of that name: a parameter would read the file
//!   as text. Its wrapper fails the step, in `kfpl run`'s words, when the
//!   command made nothing there (see `script`).
//! - A reader's template declares `inputs.artifacts: [{name: STEP-NAME,
//!   path: /kfpl/inputs/STEP/NAME}]`: Argo places its own copy there before
//!   the step starts. The reader's `$<STEP.NAME>` is that fixed path, which
//!   reaches the command as every value does: through its `KFP_STEP__NAME`
//!   variable, never as shell text ([`with_paths`]).
//! - Each task passes the artifact on: `from: "{{tasks.STEP.outputs.artifacts.NAME}}"`
//!   in the DAG that holds the producer's task, `from:
//!   "{{inputs.artifacts.STEP-NAME}}"` in every DAG between that one and
//!   the reader (blocks, loop bodies, parallelism wrappers, `when` guards,
//!   a repeat's passes), each of which declares it as an input ([`wire`]).
//!
//! The checker makes sure a file is read only where this holds: inside the
//! producer's loops and repeats (E0340), by `command` and `env` (E0342).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::argo_types::{Arguments, Artifact, Inputs, Template};
use super::dag::template_name;
use super::names::{OUTPUTS_DIR, kubernetes_name};
use crate::check::ir::{ParamType, Part, Pipeline, Step, Template as Text};

/// Where a reader's input artifacts are placed.
pub(crate) const INPUTS_DIR: &str = "/kfpl/inputs";

/// A file output a step reads: `(producer, output)`.
type FileRef = (String, String);

/// The artifact's name between templates: `STEP-NAME`, as a value's input.
fn input_name((step, output): &FileRef) -> String {
    format!("{step}-{output}")
}

/// Where a reader finds the file.
fn input_path((step, output): &FileRef) -> String {
    format!("{INPUTS_DIR}/{step}/{output}")
}

/// The step as its container sees it: each read of a file output is the
/// fixed path of its input artifact, as a let named after the value's own
/// variable, so a shell command reads it from `KFP_STEP__NAME`.
/// `files` is `pipeline.file_inputs(step)`.
pub(crate) fn with_paths<'s>(
    pipeline: &Pipeline,
    step: &'s Step,
    files: &[FileRef],
) -> Cow<'s, Step> {
    if files.is_empty() {
        return Cow::Borrowed(step);
    }
    let mut step = step.clone();
    let replace = |text: &mut Text| replace_file_reads(pipeline, text);
    match &mut step.command {
        crate::check::ir::Command::Shell(text) => replace(text),
        crate::check::ir::Command::Exec(args) => args.iter_mut().for_each(replace),
    }
    for var in &mut step.env {
        replace(&mut var.value);
    }
    Cow::Owned(step)
}

/// Replaces each read of a file output in `text` (and in the lets it
/// reads, whose values may read outputs too) by the let holding its path.
fn replace_file_reads(pipeline: &Pipeline, text: &mut Text) {
    for part in &mut text.parts {
        match part {
            Part::Let { value, .. } => {
                let mut inner = (**value).clone();
                replace_file_reads(pipeline, &mut inner);
                if inner != **value {
                    *value = Arc::new(inner);
                }
            }
            Part::Output { .. } if pipeline.is_file_output(part) => {
                let Part::Output {
                    step: producer,
                    output,
                    span,
                } = part
                else {
                    continue;
                };
                let (name, span) = (format!("{producer}__{output}"), *span);
                let path = input_path(&(producer.clone(), output.clone()));
                *part = Part::Let {
                    name,
                    value: Arc::new(Text::text(path, span)),
                    span,
                };
            }
            _ => {}
        }
    }
}

/// The artifacts a producer's template uploads.
pub(crate) fn outputs(step: &Step) -> impl Iterator<Item = Artifact> + '_ {
    step.outputs
        .iter()
        .filter(|o| o.ty == ParamType::File)
        .map(|o| Artifact {
            name: o.name.clone(),
            path: Some(format!("{OUTPUTS_DIR}/{}", o.name)),
            ..Artifact::default()
        })
}

/// The artifacts a reader's template has placed before it starts.
/// `files` is `pipeline.file_inputs(step)`.
pub(crate) fn inputs(files: &[FileRef]) -> Vec<Artifact> {
    files
        .iter()
        .map(|file| Artifact {
            name: input_name(file),
            path: Some(input_path(file)),
            ..Artifact::default()
        })
        .collect()
}

/// Passes every file a step reads down the DAGs from its producer's task
/// to the reader's: step `i`'s template is step `template_owners[i]`'s.
pub(crate) fn wire(pipeline: &Pipeline, template_owners: &[usize], dags: &mut [Template]) {
    let mut needs: BTreeMap<String, BTreeSet<FileRef>> = BTreeMap::new();
    for (index, step) in pipeline.steps.iter().enumerate() {
        let files = pipeline.file_inputs(step);
        if !files.is_empty() {
            let template = template_name(pipeline, template_owners, index);
            needs.entry(template).or_default().extend(files);
        }
    }
    let producer_task = |file: &FileRef| {
        let index = pipeline.step_position(&file.0)?;
        let template = template_name(pipeline, template_owners, index);
        Some((kubernetes_name(&file.0), template))
    };
    let made_in = |dag: &Template, file: &FileRef| {
        producer_task(file).is_some_and(|(name, template)| {
            dag.dag
                .iter()
                .flat_map(|d| &d.tasks)
                .any(|t| t.name == name && t.template == template)
        })
    };
    // What each DAG must receive: what its tasks read and it does not make.
    // A repeat's passes call one another, so this runs until nothing changes.
    loop {
        let mut changed = false;
        for dag in dags.iter() {
            let wanted: Vec<FileRef> = dag
                .dag
                .iter()
                .flat_map(|d| &d.tasks)
                .flat_map(|t| needs.get(&t.template).into_iter().flatten())
                .filter(|file| !made_in(dag, file))
                .cloned()
                .collect();
            let own = needs.entry(dag.name.clone()).or_default();
            for file in wanted {
                changed |= own.insert(file);
            }
        }
        if !changed {
            break;
        }
    }
    for dag in dags.iter_mut() {
        let here: Vec<(FileRef, bool)> = needs
            .values()
            .flatten()
            .map(|file| (file.clone(), made_in(dag, file)))
            .collect();
        let made: BTreeSet<FileRef> = here
            .into_iter()
            .filter(|(_, made)| *made)
            .map(|(f, _)| f)
            .collect();
        let Some(body) = dag.dag.as_mut() else {
            continue;
        };
        for task in &mut body.tasks {
            let Some(files) = needs.get(&task.template) else {
                continue;
            };
            let artifacts: Vec<Artifact> = files
                .iter()
                .map(|file| Artifact {
                    name: input_name(file),
                    from: Some(if made.contains(file) {
                        format!(
                            "{{{{tasks.{}.outputs.artifacts.{}}}}}",
                            kubernetes_name(&file.0),
                            file.1
                        )
                    } else {
                        format!("{{{{inputs.artifacts.{}}}}}", input_name(file))
                    }),
                    ..Artifact::default()
                })
                .collect();
            if !artifacts.is_empty() {
                task.arguments
                    .get_or_insert_with(Arguments::default)
                    .artifacts = artifacts;
            }
        }
        if let Some(files) = needs.get(&dag.name).filter(|f| !f.is_empty()) {
            dag.inputs.get_or_insert_with(Inputs::default).artifacts = files
                .iter()
                .map(|file| Artifact {
                    name: input_name(file),
                    ..Artifact::default()
                })
                .collect();
        }
    }
}
