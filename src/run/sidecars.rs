//! `sidecar NAME { image, command, env }` under `kfpl run`: a helper
//! process started before the step's main process and stopped when it
//! ends, as Argo does (`executor.go` KillSidecars, the model's pod.py).
//!
//! - A sidecar runs where the step runs: as a process (in the step's
//!   sandbox view when the step mounts claims or volumes), or under
//!   `--engine podman|docker` as a second container with the same mounts
//!   and `--init`. There the first sidecar's container starts first, and
//!   the step's container and the other sidecars join its network (as a
//!   pod's containers share one), so `localhost` is shared everywhere.
//! - It is spawned in a process group of its own, with its `env` on top of
//!   kfpl's environment and the step's `KFPL_RUN_ID`, `KFPL_RUN_DIR` and
//!   `KFP_OUTPUTS` (the tag by which kfpl finds what a step left behind).
//!   Its stdout and stderr go to `sidecar-NAME.log` in the step's folder.
//! - When the main process ends, each sidecar's whole group gets SIGTERM,
//!   then SIGKILL after [`GRACE`] (W0610 when it came to that), and a
//!   container is removed.
//! - A sidecar that exited non-zero on its own before main ended fails the
//!   step (Argo: a sidecar exit other than 137/143 fails the pod).

use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::prepare::StepSpec;
use crate::check::ir::Sidecar;
use crate::check::values::kubernetes_name;

/// How long a sidecar has between SIGTERM and SIGKILL.
pub(crate) const GRACE: Duration = Duration::from_secs(2);
/// How often a stopping sidecar is looked at.
const POLL: Duration = Duration::from_millis(20);
/// The step's variables a sidecar sees too.
const SHARED_ENV: &[&str] = &["KFPL_RUN_ID", "KFPL_RUN_DIR", "KFP_OUTPUTS"];

/// The spec a sidecar runs with: the step's place and mounts, with the
/// sidecar's image, command and env (no GPUs, limits or secret variables).
pub(crate) fn spec(main: &StepSpec, sidecar: &Sidecar) -> StepSpec {
    let mut spec = main.clone();
    spec.pod = format!("{}-{}", main.pod, kubernetes_name(&sidecar.name));
    spec.name = format!("{} sidecar {}", main.name, sidecar.name);
    spec.image = sidecar.image.clone();
    // Not checked before the run: pulled as `--pull` says.
    spec.image_fixed = false;
    spec.argv = sidecar.argv.clone();
    spec.env = main
        .env
        .iter()
        .filter(|(name, _)| SHARED_ENV.contains(&name.as_str()))
        .cloned()
        .chain(sidecar.env.iter().cloned())
        .collect();
    spec.secrets.env.clear();
    spec.gpus.clear();
    spec.cpu = None;
    spec.memory = None;
    spec.sidecars.clear();
    // A server exec'd as a container's pid 1 would ignore SIGTERM.
    spec.init = true;
    spec
}

/// `spec` joining the network of the container `owner`.
pub(crate) fn joined(spec: &StepSpec, owner: String) -> StepSpec {
    let mut joined = spec.clone();
    joined.network = Some(owner);
    joined
}

/// How long a sidecar's container has to start before it fails the step.
const START_WAIT: Duration = Duration::from_secs(60);

/// Waits until the container `name` runs (true), or its `podman run`
/// ended or it never started (false): only a running container's network
/// can be joined.
pub(crate) fn wait_running(binary: &str, name: &str, child: &mut Child) -> bool {
    let deadline = Instant::now() + START_WAIT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        let inspected = Command::new(binary)
            .args([
                "container",
                "inspect",
                "--format",
                "{{.State.Running}}",
                name,
            ])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output();
        if inspected.is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"true")) {
            return true;
        }
        std::thread::sleep(POLL * 5);
    }
    false
}

/// The log of sidecar `name` in the step's folder.
pub(crate) fn log_path(main: &StepSpec, name: &str) -> std::path::PathBuf {
    main.dirs.step.join(format!("sidecar-{name}.log"))
}

/// Points a sidecar's stdout and stderr at its log.
pub(crate) fn redirect(command: &mut Command, log: &File) -> std::io::Result<()> {
    command.stdout(log.try_clone()?).stderr(log.try_clone()?);
    Ok(())
}

/// A started sidecar.
pub(crate) struct Running {
    pub(crate) name: String,
    pub(crate) child: Child,
    /// Its spec, under a container engine (which removes its container by it).
    pub(crate) container: Option<StepSpec>,
}

/// How a sidecar ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// It exited on SIGTERM, or on its own with status 0.
    Stopped,
    /// It outlived the grace and got SIGKILL.
    Killed,
    /// It exited on its own, with this failure, before main ended.
    Failed(String),
}

/// Stops each sidecar (SIGTERM to its group, SIGKILL after `grace`) and
/// says how each ended.
pub(crate) fn stop(running: Vec<Running>, grace: Duration) -> Vec<(Running, Ending)> {
    let mut out = Vec::with_capacity(running.len());
    let mut stopping = Vec::new();
    for mut sidecar in running {
        match sidecar.child.try_wait() {
            Ok(Some(status)) => {
                let ending = own_exit(&sidecar.name, status);
                group_kill(&sidecar, Signal::SIGKILL);
                out.push((sidecar, ending));
            }
            _ => {
                group_kill(&sidecar, Signal::SIGTERM);
                stopping.push(sidecar);
            }
        }
    }
    let deadline = Instant::now() + grace;
    for mut sidecar in stopping {
        let ending = loop {
            if let Ok(Some(_)) = sidecar.child.try_wait() {
                break Ending::Stopped;
            }
            if Instant::now() >= deadline {
                group_kill(&sidecar, Signal::SIGKILL);
                let _ = sidecar.child.wait();
                break Ending::Killed;
            }
            std::thread::sleep(POLL);
        };
        // What the sidecar started and left in its group goes with it.
        group_kill(&sidecar, Signal::SIGKILL);
        out.push((sidecar, ending));
    }
    out
}

fn group_kill(sidecar: &Running, signal: Signal) {
    let _ = killpg(Pid::from_raw(sidecar.child.id() as i32), signal);
}

/// A sidecar that ended before it was asked to: a failure unless it
/// succeeded, or was killed the way Argo does not count (137, 143).
fn own_exit(name: &str, status: ExitStatus) -> Ending {
    let killed =
        matches!(status.signal(), Some(9 | 15)) || matches!(status.code(), Some(137 | 143));
    if status.success() || killed {
        return Ending::Stopped;
    }
    let how = match (status.code(), status.signal()) {
        (Some(code), _) => format!("with code {code}"),
        (None, Some(signal)) => format!("on signal {signal}"),
        (None, None) => "abnormally".to_string(),
    };
    Ending::Failed(format!(
        "sidecar `{name}` exited {how} on its own before the step ended (a failed sidecar fails the step, as on Argo); see its log"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    fn start(name: &str, script: &str) -> Running {
        let child = Command::new("sh")
            .args(["-c", script])
            .process_group(0)
            .spawn()
            .expect("sh");
        Running {
            name: name.into(),
            child,
            container: None,
        }
    }

    /// Whether a live process (a zombie is not) of the group led by `pid`
    /// is left, from `/proc/*/stat` (`pid (comm) state ppid pgrp …`).
    fn group_alive(pid: u32) -> bool {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return false;
        };
        entries.flatten().any(|entry| {
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
            let live = fields.first().is_some_and(|s| *s != "Z" && *s != "X");
            live && fields.get(2) == Some(&pid.to_string().as_str())
        })
    }

    #[test]
    fn a_server_is_stopped_with_its_children() {
        let sidecar = start("server", "sleep 600 & wait");
        let pid = sidecar.child.id();
        let ended = stop(vec![sidecar], GRACE);
        assert_eq!(ended[0].1, Ending::Stopped);
        assert!(!group_alive(pid), "the server's `sleep` outlived it");
    }

    #[test]
    fn one_ignoring_sigterm_is_killed() {
        let ready = std::env::temp_dir().join(format!("kfpl-stubborn-{}", std::process::id()));
        let script = format!(
            "trap '' TERM; touch '{}'; while :; do sleep 0.05; done",
            ready.display()
        );
        let sidecar = start("stubborn", &script);
        // Asked to stop only once its trap is in place (the file says so).
        while !ready.exists() {
            std::thread::sleep(POLL);
        }
        let _ = std::fs::remove_file(&ready);
        let ended = stop(vec![sidecar], Duration::from_millis(300));
        assert_eq!(ended[0].1, Ending::Killed);
    }

    #[test]
    fn one_failing_on_its_own_fails_the_step() {
        let mut sidecar = start("broken", "exit 3");
        let _ = sidecar.child.wait();
        // Reaped already: `try_wait` reports the status it kept.
        let ended = stop(vec![sidecar], GRACE);
        assert!(
            matches!(&ended[0].1, Ending::Failed(m) if m.contains("code 3")),
            "{:?}",
            ended[0].1
        );
    }
}
