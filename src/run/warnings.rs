//! Every warning `kfpl run` gives (`W06xx`): things worth saying that do
//! not fail a step. Each is a [`Diagnostic`] like the checker's, so the CLI
//! renders both the same way (human, short or JSON). They are about a run,
//! not a place in the source, so they carry no labels.

use crate::diagnostics::{Code, Diagnostic};
use crate::run::store::StoreError;

/// W0601: a metric line whose value is not a number.
pub(crate) fn metric_not_a_number(step: &str, metric: &str, text: &str) -> Diagnostic {
    Diagnostic::new(
        Code::W0601,
        format!(
            "metric `{metric}` of step `{step}` was printed as `{text}`, which is not a number; ignored"
        ),
    )
    .help(format!(
        "print a finite number, e.g. `{metric}=0.25`; the last number printed wins"
    ))
}

/// W0602: a step succeeded without printing a declared metric as a number;
/// `rejected` is the last text it printed for it instead (`inf`), if any.
pub(crate) fn metric_never_printed(step: &str, metric: &str, rejected: Option<&str>) -> Diagnostic {
    let what = match rejected {
        Some(text) => format!("was printed only as `{text}`, never as a finite number"),
        None => "was declared but never printed".to_string(),
    };
    Diagnostic::new(
        Code::W0602,
        format!("metric `{metric}` of step `{step}` {what}; recorded as missing"),
    )
    .help(format!(
        "print a line `{metric}=VALUE` on the step's stdout, spelled exactly as declared"
    ))
}

/// W0603: an output file that is not UTF-8.
pub(crate) fn output_not_utf8(step: &str, output: &str) -> Diagnostic {
    Diagnostic::new(
        Code::W0603,
        format!(
            "output `{output}` of step `{step}` is not valid UTF-8; invalid bytes were replaced"
        ),
    )
    .help("write text to `$KFP_OUTPUTS/NAME`; pass binary data through a `data` claim instead")
}

/// W0604: the run went on, but its records could not be updated.
pub(crate) fn records_not_updated(what: &str, problem: &StoreError) -> Diagnostic {
    Diagnostic::new(
        Code::W0604,
        format!("{what} was not recorded: {problem}"),
    )
    .help("the steps go on, but the run will fail (E0611): `kfpl runs show` would lack this. Check that the state folder (`$KFPL_HOME`, else `.kfpl`) is writable and has room")
}

/// W0605: SIGINT/SIGTERM could not be blocked, so Ctrl-C is not turned into a cancelled run.
pub(crate) fn signals_not_watched(problem: &nix::Error) -> Diagnostic {
    Diagnostic::new(
        Code::W0605,
        format!("cannot watch for Ctrl-C during the run: {problem}"),
    )
    .help("Ctrl-C will kill kfpl without stopping the steps or recording the end; the next `kfpl run` marks the run interrupted and stops what it left running")
}

/// W0604 too: a step's log could not be written to the end (a full disk).
pub(crate) fn log_cut(
    step: &str,
    log: &std::path::Path,
    written: u64,
    problem: &std::io::Error,
) -> Diagnostic {
    Diagnostic::new(
        Code::W0604,
        format!(
            "the log of step `{step}` is cut: `{}` holds only the first {written} bytes the step printed ({problem})",
            log.display()
        ),
    )
    .help("check that the state folder (`$KFPL_HOME`, else `.kfpl`) has room; the rest of the step's output was shown but not kept")
}

/// W0606: a step succeeded without writing a declared output.
pub(crate) fn output_never_written(step: &str, output: &str) -> Diagnostic {
    Diagnostic::new(
        Code::W0606,
        format!(
            "output `{output}` of step `{step}` was declared but never written; later steps get an empty value"
        ),
    )
    .help(format!(
        "write the value to `$KFP_OUTPUTS/{output}` (e.g. `echo VALUE > $KFP_OUTPUTS/{output}`), spelled exactly as declared"
    ))
}

/// W0615: a step wrote a secret's value into an output, recorded masked.
pub(crate) fn output_masked(step: &str, output: &str) -> Diagnostic {
    Diagnostic::new(
        Code::W0615,
        format!(
            "output `{output}` of step `{step}` held the value of a secret and was recorded masked"
        ),
    )
    .help("do not pass secrets through outputs: give the step that needs it `secret_env` or `secret_volumes`")
}

/// W0607: the settings of `pipeline` that only the cluster uses, each
/// named once (step settings first, in the spec's order); `None` when it
/// has none.
pub(crate) fn cluster_only(pipeline: &crate::check::ir::Pipeline) -> Option<Diagnostic> {
    let mut settings: Vec<&str> = Vec::new();
    let step_settings = pipeline.steps.iter().flat_map(|s| s.cluster.settings());
    for setting in step_settings.chain(pipeline.cluster.settings()) {
        if !settings.contains(&setting) {
            settings.push(setting);
        }
    }
    if settings.is_empty() {
        return None;
    }
    let names: Vec<String> = settings.iter().map(|s| format!("`{s}`")).collect();
    Some(
        Diagnostic::new(
            Code::W0607,
            format!(
                "{} apply on the cluster only; this local run ignores them",
                names.join(", ")
            ),
        )
        .help("`kfpl compile` writes them into the Argo workflow; nothing to change to run here"),
    )
}

/// W0613: a step with `visuals = true` whose UI metadata is missing or not
/// KFP's `{"outputs": [...]}` (`why` says which, or which item).
pub(crate) fn ui_metadata(step: &str, why: &str, path: &std::path::Path) -> Diagnostic {
    Diagnostic::new(
        Code::W0613,
        format!(
            "the UI metadata of step `{step}` ({}) {why}; the KFP UI would skip it",
            path.display()
        ),
    )
    .help("write `{\"outputs\": [{\"type\": \"markdown\", \"storage\": \"inline\", \"source\": \"# Report\"}]}` to `$KFP_UI_METADATA`; types: markdown, table, confusion_matrix, roc, web-app, tensorboard")
}

/// W0614: a visual kfpl cannot draw here (a remote source, an unreadable
/// file, data that does not fit its type); it is kept as written.
pub(crate) fn visual_not_drawn(
    step: &str,
    index: usize,
    visual: &super::visuals::Visual,
    why: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::W0614,
        format!(
            "visual {index} of step `{step}` ({}) is not drawn locally: {why}",
            visual.kind.as_str()
        ),
    )
    .help("to draw it here, write the data into the step's working directory and name that file as `source`, or put it inline with `\"storage\": \"inline\"`")
}

/// W0611: a step with `cache = true` whose key reads run information
/// (`written`, e.g. `$<workflow.uid>`), which differs on every run.
pub(crate) fn cached_reads_run_information(step: &str, written: &str) -> Diagnostic {
    Diagnostic::new(
        Code::W0611,
        format!(
            "step `{step}` has `cache = true` but reads `{written}`, which differs on every run: it is never reused"
        ),
    )
    .help("pass run information to a later step without `cache`, or drop `cache = true` from this one")
}

/// W0612: a step with `cache = true` that mounts `data` claims (`claims`).
pub(crate) fn cached_mounts_claims(step: &str, claims: &[&str]) -> Diagnostic {
    let names: Vec<String> = claims.iter().map(|c| format!("`{c}`")).collect();
    Diagnostic::new(
        Code::W0612,
        format!(
            "step `{step}` has `cache = true` and mounts {}: when it is reused, it writes nothing to them again",
            names.join(", ")
        ),
    )
    .help("pass data between steps as outputs, or drop `cache = true` when a later step needs what it writes to the claim")
}

/// W0609: no mount namespace on the host, so `file` inputs are protected by
/// their permissions only.
pub(crate) fn file_inputs_unprotected(step: &str, reason: &str) -> Diagnostic {
    Diagnostic::new(
        Code::W0609,
        format!(
            "step `{step}` reads `file` outputs, which cannot be mounted read-only for it ({reason}); it gets them with their write permission removed, which does not stop root"
        ),
    )
    .help("allow unprivileged user namespaces, or run with `--engine podman` or `--engine docker`")
}

/// W0610: a sidecar that did not stop on SIGTERM within the grace was killed.
pub(crate) fn sidecar_killed(step: &str, sidecar: &str) -> Diagnostic {
    Diagnostic::new(
        Code::W0610,
        format!(
            "sidecar `{sidecar}` of step `{step}` did not stop within {}s of SIGTERM and was killed",
            super::sidecars::GRACE.as_secs()
        ),
    )
    .help(format!(
        "let the sidecar exit on SIGTERM; its output is in the step's folder as `sidecar-{sidecar}.log`"
    ))
}
