//! Everything before the first step is scheduled: open the records, find
//! the run being resumed (`--resume`) and what it lends, bind the params,
//! share out the GPUs, and try a private mount namespace when steps mount
//! `data` claims. Any error here means nothing ran and nothing was recorded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};

use super::signals::Signals;
use super::store::{MetricRecord, RunRecord, StepRecord, Store};
use super::{Event, Observer, RunOptions, error, gpus, store_error};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir;
use crate::params::{self, Missing, count_value};

/// What the checks before starting produced.
#[derive(Debug)]
pub(crate) struct Ready {
    pub(crate) store: Store,
    pub(crate) resumed: Option<Resumed>,
    pub(crate) params: BTreeMap<String, String>,
    pub(crate) gpus: Gpus,
    /// The secrets the steps read, checked and loaded.
    pub(crate) secrets: super::secrets::Secrets,
    /// W0609 when the `file` outputs steps read cannot be mounted
    /// read-only for them (the run goes on: see `artifacts`).
    pub(crate) unprotected_inputs: Option<Diagnostic>,
    /// `Err` when Ctrl-C cannot be watched (the run goes on, with a warning).
    pub(crate) signals: nix::Result<Signals>,
}

/// GPU needs per step and the machine's count.
#[derive(Debug)]
pub(crate) struct Gpus {
    pub(crate) needs: Vec<u32>,
    pub(crate) total: u32,
}

/// The run being resumed and the steps it lends.
#[derive(Debug)]
pub(crate) struct Resumed {
    pub(crate) run: RunRecord,
    /// Its steps that succeeded (or were reused) and still exist.
    pub(crate) reused: Vec<StepRecord>,
    /// Their metrics.
    pub(crate) reused_metrics: Vec<MetricRecord>,
}

impl Resumed {}

/// Runs every check, in order; the signals are blocked first, so a Ctrl-C
/// can never leave a recorded run without its end.
pub(crate) fn check(
    pipeline: &ir::Pipeline,
    options: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<Ready, Vec<Diagnostic>> {
    let signals = Signals::block();
    let store = open_store(options, observer)?;
    let resumed = match &options.resume {
        Some(id) => Some(resume(&store, id, pipeline)?),
        None => None,
    };
    let params = bind_params(pipeline, options, resumed.as_ref())?;
    let gpus = check_gpus(pipeline, &params)?;
    check_sandbox(pipeline, options)?;
    let unprotected_inputs = check_input_mounts(pipeline, options);
    let secrets = super::secrets::load(pipeline, &options.state_dir)?;
    Ok(Ready {
        store,
        resumed,
        params,
        gpus,
        secrets,
        unprotected_inputs,
        signals,
    })
}

/// Opens the records, telling the observer about runs found abandoned.
fn open_store(options: &RunOptions, observer: &mut dyn Observer) -> Result<Store, Vec<Diagnostic>> {
    let store = Store::open(&options.state_dir).map_err(|e| vec![store_error(&e)])?;
    if !store.interrupted_on_open().is_empty() {
        observer.event(&Event::Interrupted {
            runs: store.interrupted_on_open(),
        });
    }
    Ok(store)
}

/// The resumed run's params (those the pipeline still declares), then `-p`.
fn bind_params(
    pipeline: &ir::Pipeline,
    options: &RunOptions,
    resumed: Option<&Resumed>,
) -> Result<BTreeMap<String, String>, Vec<Diagnostic>> {
    let inherited = resumed
        .into_iter()
        .flat_map(|old| &old.run.params)
        .filter(|(name, _)| pipeline.param(name).is_some())
        .map(|(k, v)| (k.clone(), v.clone()));
    let overrides: Vec<(String, String)> =
        inherited.chain(options.overrides.iter().cloned()).collect();
    params::bind(pipeline, &overrides, Missing::Error)
}

/// The run to resume: it exists and ran the same pipeline.
fn resume(store: &Store, id: &str, pipeline: &ir::Pipeline) -> Result<Resumed, Vec<Diagnostic>> {
    let unknown = || {
        vec![error(
            Code::E0608,
            format!("there is no run `{id}` to resume"),
            "`kfpl runs list` shows the recorded runs",
        )]
    };
    let resolved = store.resolve_id(id).map_err(|e| vec![store_error(&e)])?;
    let Some(resolved) = resolved else {
        return Err(unknown());
    };
    let record = store.run(&resolved).map_err(|e| vec![store_error(&e)])?;
    let Some(record) = record else {
        return Err(unknown());
    };
    if record.pipeline != pipeline.ident {
        return Err(vec![
            error(
                Code::E0609,
                format!(
                    "run `{}` ran pipeline `{}`, not `{}`",
                    record.id, record.pipeline, pipeline.ident
                ),
                format!("resume it with the file it ran (`{}`)", record.source_path),
            )
            .primary(pipeline.span, "this pipeline"),
        ]);
    }
    Ok(lent_steps(record, pipeline))
}

/// The records of `run` that succeeded and whose step the pipeline still
/// has, with their metrics. An instance is reused when the new run has one
/// of the same name (the same iteration and item, or the same pass).
fn lent_steps(run: RunRecord, pipeline: &ir::Pipeline) -> Resumed {
    let reused: Vec<StepRecord> = run
        .steps
        .iter()
        .filter(|s| s.status.is_success() && pipeline.step(&s.step).is_some())
        .cloned()
        .collect();
    let names: BTreeSet<&str> = reused.iter().map(|s| s.name.as_str()).collect();
    let reused_metrics = run
        .metrics
        .iter()
        .filter(|m| names.contains(m.step.as_str()))
        .cloned()
        .collect();
    Resumed {
        run,
        reused,
        reused_metrics,
    }
}

/// Each step's GPU need and the inventory; an error for each step that wants more than the machine has.
fn check_gpus(
    pipeline: &ir::Pipeline,
    params: &BTreeMap<String, String>,
) -> Result<Gpus, Vec<Diagnostic>> {
    let needs: Vec<u32> = pipeline
        .steps
        .iter()
        .map(|s| count_value(&s.gpus, params))
        .collect();
    // A need read from an output is known later, against the inventory.
    let later = pipeline
        .steps
        .iter()
        .any(|s| matches!(s.gpus, ir::Count::Output(_)));
    if needs.iter().all(|&n| n == 0) && !later {
        return Ok(Gpus { needs, total: 0 });
    }
    let inventory = gpus::inventory().map_err(|bad| {
        vec![error(
            Code::E0602,
            format!("`KFPL_GPUS` is `{bad}`, not a whole number of GPUs"),
            "set `KFPL_GPUS=2` to declare two GPUs, or unset it to ask `nvidia-smi -L`",
        )]
    })?;
    let errors: Vec<Diagnostic> = pipeline
        .steps
        .iter()
        .zip(&needs)
        .filter(|(_, need)| **need > inventory.count)
        .map(|(step, need)| too_many_gpus(step, *need, &inventory))
        .collect();
    if errors.is_empty() {
        Ok(Gpus {
            needs,
            total: inventory.count,
        })
    } else {
        Err(errors)
    }
}

fn too_many_gpus(step: &ir::Step, need: u32, inventory: &gpus::Inventory) -> Diagnostic {
    let plural = |n: u32| if n == 1 { "" } else { "s" };
    error(
        Code::E0602,
        format!(
            "step `{}` needs {need} GPU{}, but this machine has {} ({})",
            step.name,
            plural(need),
            inventory.count,
            inventory.source
        ),
        "lower the step's `gpus`, run on a machine with more GPUs, or declare them with `KFPL_GPUS=N`",
    )
    .primary(step.name_span, format!("needs {need} GPU{}", plural(need)))
}

/// Steps with `data` or `secret_volumes` need a private mount namespace: try one before starting.
fn check_sandbox(pipeline: &ir::Pipeline, options: &RunOptions) -> Result<(), Vec<Diagnostic>> {
    // A container engine mounts claims itself.
    if options.engine.binary().is_some() {
        return Ok(());
    }
    // Secrets are mounted the same way (read-only).
    let first = pipeline.steps.iter().find_map(|s| {
        let claim = s.data.first().map(|m| (m.span, &m.claim, &m.path));
        claim.or_else(|| {
            s.secret_volumes
                .first()
                .map(|v| (v.span, &v.secret, &v.path))
        })
    });
    let Some((span, claim, path)) = first else {
        return Ok(());
    };
    let reason = match &options.sandbox_exe {
        None => Err("no kfpl binary was given to set the mounts up".to_string()),
        Some(exe) => probe(exe, &options.state_dir),
    };
    reason.map_err(|reason| {
        vec![
            error(
                Code::E0603,
                format!(
                    "steps mount data claims or secrets, but this machine gives kfpl no private mount namespace: {reason}"
                ),
                "run kfpl as root, or allow unprivileged user namespaces (`sysctl -w user.max_user_namespaces=15000`, `sysctl -w kernel.unprivileged_userns_clone=1`; on Ubuntu also `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`); kfpl never creates the mount paths on the host",
            )
            .primary(span, format!("`{claim}` would be mounted at `{path}`")),
        ]
    })
}

/// Steps that read `file` outputs get them through a read-only mount: on
/// the host engine, in a private mount namespace. Without one the run goes
/// on with a warning (W0609) about the first such step.
fn check_input_mounts(pipeline: &ir::Pipeline, options: &RunOptions) -> Option<Diagnostic> {
    if options.engine.binary().is_some() {
        return None;
    }
    let reader = pipeline
        .steps
        .iter()
        .find(|s| !pipeline.file_inputs(s).is_empty())?;
    let reason = match &options.sandbox_exe {
        None => Err("no kfpl binary was given to set the mounts up".to_string()),
        Some(exe) => probe(exe, &options.state_dir),
    };
    reason
        .err()
        .map(|reason| super::warnings::file_inputs_unprotected(&reader.name, &reason))
}

/// Runs `kfpl __sandbox-exec --probe` in a scratch folder; why it failed, if it did.
fn probe(exe: &Path, state_dir: &Path) -> Result<(), String> {
    let dir = state_dir.join(format!("probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let out = Command::new(exe)
        .args(["__sandbox-exec", "--probe", "--root"])
        .arg(&dir)
        .stdin(Stdio::null())
        .output();
    let _ = std::fs::remove_dir(&dir);
    match out {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(probe_failure(&out)),
        Err(e) => Err(format!("cannot run `{}`: {e}", exe.display())),
    }
}

/// The probe's own last `kfpl: …` line, else its exit status.
fn probe_failure(out: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .last()
        .unwrap_or("")
        .trim_start_matches("kfpl: ");
    if line.is_empty() {
        format!("the probe failed ({})", out.status)
    } else {
        line.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceFile;

    const READS_A_FILE: &str = "pipeline p {\n  step make {\n    image = \"a\"\n    output model: file\n    command = \"true\"\n  }\n  step use {\n    image = \"a\"\n    command = \"cat $<make.model>\"\n  }\n}\n";

    /// Without a binary to set the sandbox up, a reader of a file gets it
    /// unmounted, and the run says so once (W0609); a container engine
    /// mounts it itself.
    #[test]
    fn file_readers_without_a_mount_namespace_are_warned_about() {
        let checked = crate::check(&SourceFile::new("p.kfp", READS_A_FILE));
        let pipeline = checked.pipeline.expect("the program checks");
        let mut options = RunOptions::new("p.kfp", READS_A_FILE);
        options.sandbox_exe = None;
        let warning = check_input_mounts(&pipeline, &options).expect("W0609");
        assert_eq!(warning.code, Code::W0609);
        assert!(
            warning.message.contains("step `use`"),
            "{}",
            warning.message
        );
        options.engine = crate::run::Engine::Podman;
        assert!(check_input_mounts(&pipeline, &options).is_none());
    }
}
