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
