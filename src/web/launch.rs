//! "Run again": starts `kfpl run` on a recorded run's pipeline with params
//! from a form, and cancels runs it started. The only process the server
//! ever starts is `kfpl run` itself (the binary it was given, never a
//! shell), on the pipeline file the run recorded, and only while that file
//! still holds the text that was run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::data::RunView;
use crate::check::params::{self, Missing};
use crate::run::RunStatus;
use crate::run::store::{Store, source_hash};

/// The runs this server started, so that it can cancel them (and only them)
/// and reap them when they end.
#[derive(Debug, Default)]
pub(super) struct Children(Mutex<Vec<Child>>);

/// What the form sent: each param's text and the experiment.
#[derive(Debug, Default, Clone)]
pub(super) struct Request {
    pub(super) params: BTreeMap<String, String>,
    pub(super) experiment: String,
}

impl Request {
    /// The form's `param.NAME` and `experiment` fields.
    pub(super) fn from_pairs(pairs: &[(String, String)]) -> Request {
        let mut request = Request::default();
        for (key, value) in pairs {
            if let Some(name) = key.strip_prefix("param.") {
                request.params.insert(name.to_string(), value.clone());
            } else if key == "experiment" {
                request.experiment = value.trim().to_string();
            }
        }
        request
    }

    /// The run's own values, to start the form with.
    pub(super) fn like(view: &RunView) -> Request {
        Request {
            params: view.record.params.clone(),
            experiment: view.record.experiment.clone(),
        }
    }
}

/// The pipeline file of `view` as it was run, or why it cannot be run again.
fn pipeline_file(view: &RunView) -> Result<PathBuf, String> {
    let run = &view.record;
    let path =
        std::path::absolute(&run.source_path).unwrap_or_else(|_| PathBuf::from(&run.source_path));
    let unchanged =
        std::fs::read_to_string(&path).is_ok_and(|text| source_hash(&text) == run.source_hash);
    if unchanged {
        Ok(path)
    } else {
        Err(format!(
            "`{}` is not in this folder or has changed since {} ran: start it with `kfpl run` instead",
            run.source_path, run.id
        ))
    }
}

/// Whether `view` can be run again from here (its file is here, unchanged, and checks).
pub(super) fn can_run_again(view: &RunView) -> Result<(), String> {
    if view.pipeline.is_none() {
        return Err(format!(
            "the program {} ran no longer checks",
            view.record.id
        ));
    }
    pipeline_file(view).map(|_| ())
}

/// Checks the form exactly as `-p` is checked, starts `kfpl run`, and
/// returns the new run's id once it is recorded; or every problem found.
pub(super) fn start(
    kfpl: &Path,
    state: &Path,
    children: &Children,
    view: &RunView,
    request: &Request,
) -> Result<String, Vec<String>> {
    let pipeline = view.pipeline.as_ref().ok_or_else(|| {
        vec![format!(
            "the program {} ran no longer checks",
            view.record.id
        )]
    })?;
    let file = pipeline_file(view).map_err(|e| vec![e])?;
    let overrides: Vec<(String, String)> = request.params.clone().into_iter().collect();
    let values = params::bind(pipeline, &overrides, Missing::Error).map_err(|diagnostics| {
        diagnostics
            .iter()
            .map(|d| match &d.help {
                Some(help) => format!("{}: {} ({help})", d.code.as_str(), d.message),
                None => format!("{}: {}", d.code.as_str(), d.message),
            })
            .collect::<Vec<_>>()
    })?;
    let experiment = if request.experiment.is_empty() {
        view.record.experiment.clone()
    } else {
        request.experiment.clone()
    };
    let mut command = Command::new(kfpl);
    command.arg("run").arg(&file);
    for (name, value) in &values {
        // `NAME=` first: a value cannot be read as a flag.
        command.arg("-p").arg(format!("{name}={value}"));
    }
    // Its own process group: Ctrl-C on `kfpl ui` does not cancel the runs it started.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command
        .arg(format!("--experiment={experiment}"))
        .env("KFPL_HOME", state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command
        .spawn()
        .map_err(|e| vec![format!("cannot start `kfpl run`: {e}")])?;
    let found = wait_for_record(state, &mut child);
    children.keep(child);
    found.map_err(|e| vec![e])
}

/// The id of the run that `child` records, once it has (10 s at most).
fn wait_for_record(state: &Path, child: &mut Child) -> Result<String, String> {
    let pid = i64::from(child.id());
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(store) = Store::open(state)
            && let Ok(ids) = store.last_runs(8, None)
        {
            for id in ids.iter().rev() {
                if let Ok(Some(run)) = store.run(id)
                    && run.pid == pid
                {
                    return Ok(run.id);
                }
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "`kfpl run` stopped ({status}) before it recorded a run"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err("`kfpl run` did not record its run within 10 seconds".into())
}

impl Children {
    fn keep(&self, child: Child) {
        if let Ok(mut children) = self.0.lock() {
            // Reap the ones that have ended.
            children.retain_mut(|c| matches!(c.try_wait(), Ok(None)));
            children.push(child);
        }
    }

    /// Asks the run to stop (SIGINT: `kfpl run` cancels its steps and records
    /// `cancelled`), when it is running and this server started it.
    pub(super) fn cancel(&self, view: &RunView) -> Result<(), String> {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        if view.record.status != RunStatus::Running {
            return Err(format!("{} is not running", view.record.id));
        }
        let children = self
            .0
            .lock()
            .map_err(|_| "the list of started runs is unusable".to_string())?;
        let ours = children
            .iter()
            .any(|c| i64::from(c.id()) == view.record.pid);
        if !ours {
            return Err(format!(
                "{} was not started from this page; stop it where it runs (Ctrl-C)",
                view.record.id
            ));
        }
        let pid = i32::try_from(view.record.pid).map_err(|_| "a bad pid".to_string())?;
        kill(Pid::from_raw(pid), Signal::SIGINT).map_err(|e| format!("cannot signal the run: {e}"))
    }
}
