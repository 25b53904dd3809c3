//! Running steps in their `image` through podman or docker (`--engine`).
//!
//! The host path is unchanged: a container step is the same process tree
//! seen from kfpl (`podman run` in its own process group, its pipes read and
//! logged as before), only its argv differs. The step's folders are mounted
//! at their host paths, so `KFP_OUTPUTS`, `KFPL_RUN_DIR` and the working
//! directory mean the same inside and out; claims are mounted at their
//! `data` paths. The container runs as the invoking uid:gid, so what it
//! writes into claims and outputs stays the user's.
//!
//! Containers are named `kfpl-<run>-<step>-<folder hash>` and labelled
//! `kfpl.run=<id>`, `kfpl.dir=<run folder>` and `kfpl.pid=<kfpl's pid>`: a stopped step's container is removed by name,
//! and at the next start any container whose kfpl is gone is removed by label.
//! Engine configuration (runtime, cgroup manager, ulimits) belongs in the
//! engine's containers.conf, not here.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use super::prepare::StepSpec;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir;

/// Where steps run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// As processes on this machine (the sandbox for claims).
    #[default]
    Host,
    /// `podman run` in the step's image.
    Podman,
    /// `docker run`: the same arguments as podman.
    Docker,
}

impl Engine {
    /// Parses `host`, `podman` or `docker`.
    pub fn parse(text: &str) -> Option<Engine> {
        match text {
            "host" => Some(Engine::Host),
            "podman" => Some(Engine::Podman),
            "docker" => Some(Engine::Docker),
            _ => None,
        }
    }

    /// The name as written on the command line and in the run record.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Host => "host",
            Engine::Podman => "podman",
            Engine::Docker => "docker",
        }
    }

    /// The container engine's binary, `None` on the host.
    pub fn binary(self) -> Option<&'static str> {
        match self {
            Engine::Host => None,
            Engine::Podman => Some("podman"),
            Engine::Docker => Some("docker"),
        }
    }
}

/// When images are pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pull {
    /// Only when the image is not present (the default).
    #[default]
    Missing,
    /// Before every run.
    Always,
    /// Never: a missing image is an error.
    Never,
}

impl Pull {
    /// The word `run --pull` takes.
    fn as_str(self) -> &'static str {
        match self {
            Pull::Missing => "missing",
            Pull::Always => "always",
            Pull::Never => "never",
        }
    }

    /// Parses `missing` (also `if-not-present`), `always` or `never`.
    pub fn parse(text: &str) -> Option<Pull> {
        match text {
            "missing" | "if-not-present" => Some(Pull::Missing),
            "always" => Some(Pull::Always),
            "never" => Some(Pull::Never),
            _ => None,
        }
    }
}

/// The container's name: `kfpl-<pod name>-<hash of the run folder>`, the
/// pod name being `<run>-<step>[-<index>…]`. Run
/// ids count from `r1` in each state folder, so the folder's hash keeps two
/// projects' (or two tests') containers apart.
pub(crate) fn container_name(spec: &StepSpec) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    spec.dirs.step.parent().hash(&mut hasher);
    let folder = hasher.finish() as u32;
    format!("kfpl-{}-{folder:08x}", spec.pod)
}

/// The invoking user, as `--user` takes it.
fn invoking_user() -> String {
    format!("{}:{}", nix::unistd::getuid(), nix::unistd::getgid())
}

/// The full argv (`podman run …`) that runs `spec` in its image. An image
/// known before the run was made present then (see [`prepare`]), so it is
/// not pulled again; one known only now is pulled as `pull` says.
pub(crate) fn run_argv(binary: &str, spec: &StepSpec, pull: Pull) -> Vec<String> {
    let run_id = &spec.run_id;
    let mut argv: Vec<String> = vec![binary.into(), "run".into(), "--rm".into()];
    if spec.init {
        argv.push("--init".into());
    }
    if let Some(owner) = &spec.network {
        argv.push(format!("--network=container:{owner}"));
    }
    let mut flag = |name: &str, value: String| {
        argv.push(name.to_string());
        argv.push(value);
    };
    flag("--name", container_name(spec));
    flag("--label", format!("kfpl.run={run_id}"));
    if let Some(run_dir) = spec.dirs.step.parent() {
        flag("--label", format!("kfpl.dir={}", run_dir.display()));
    }
    flag("--label", format!("kfpl.pid={}", std::process::id()));
    flag("--user", invoking_user());
    let pull = if spec.image_fixed { Pull::Never } else { pull };
    flag("--pull", pull.as_str().to_string());
    let work = spec.dirs.work.to_string_lossy().into_owned();
    let outputs = spec.dirs.outputs.to_string_lossy().into_owned();
    flag("--volume", format!("{work}:{work}"));
    flag("--volume", format!("{outputs}:{outputs}"));
    if spec.visuals {
        let ui = super::visuals::metadata_dir(&spec.dirs.step);
        let ui = ui.to_string_lossy();
        flag("--volume", format!("{ui}:{ui}"));
    }
    for (claim, path) in &spec.mounts {
        let read_only = spec.read_only_mounts().any(|p| p == path);
        let suffix = if read_only { ":ro" } else { "" };
        flag("--volume", format!("{}:{path}{suffix}", claim.display()));
    }
    flag("--workdir", work);
    if let Some(cpu) = &spec.cpu {
        flag("--cpus", kubernetes_cpus(cpu));
    }
    if let Some(memory) = &spec.memory {
        flag("--memory", kubernetes_bytes(memory));
    }
    for gpu in &spec.gpus {
        flag("--device", format!("nvidia.com/gpu={gpu}"));
    }
    for (name, value) in &spec.env {
        // The device is chosen by `--device`: inside, GPUs count from 0.
        if name != "CUDA_VISIBLE_DEVICES" {
            flag("--env", format!("{name}={value}"));
        }
    }
    // The value comes from the engine's own environment, off the command line.
    for (name, _) in &spec.secrets.env {
        flag("--env", name.clone());
    }
    argv.push(spec.image.clone());
    argv.extend(spec.argv.iter().cloned());
    argv
}

/// `500m` → `0.5`, `2` → `2`: what `--cpus` takes.
fn kubernetes_cpus(quantity: &str) -> String {
    match quantity.strip_suffix('m').map(str::parse::<f64>) {
        Some(Ok(milli)) => format!("{}", milli / 1000.0),
        _ => quantity.to_string(),
    }
}

/// `512Mi` → `512m`, `2Gi` → `2g`, a plain number → bytes: what `--memory` takes.
fn kubernetes_bytes(quantity: &str) -> String {
    const UNITS: [(&str, &str); 8] = [
        ("Ki", "k"),
        ("Mi", "m"),
        ("Gi", "g"),
        ("Ti", "t"),
        ("K", "k"),
        ("M", "m"),
        ("G", "g"),
        ("T", "t"),
    ];
    for (suffix, unit) in UNITS {
        if let Some(number) = quantity.strip_suffix(suffix) {
            return format!("{number}{unit}");
        }
    }
    quantity.to_string()
}

/// Runs `binary args…` quietly; true when it succeeded.
fn quietly(binary: &str, args: &[&str]) -> bool {
    Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Removes a stopped step's container (a killed `podman run` leaves it).
pub(crate) fn remove(binary: &str, spec: &StepSpec) {
    kill_and_remove(binary, &container_name(spec));
}

/// Kills and removes a container at once. The step had its grace period
/// (or its kfpl is gone), but podman's `rm -f` would first send SIGTERM and
/// wait 10 s more, which a container's `sh` (pid 1, no handler) ignores;
/// docker's `rm -f` kills at once and has no `--time`.
fn kill_and_remove(binary: &str, container: &str) {
    if binary == "docker" {
        quietly(binary, &["rm", "-f", container]);
    } else {
        quietly(binary, &["rm", "-f", "--time", "0", container]);
    }
}

/// `ps --format` for a container's id and its kfpl's pid: podman's `.Labels`
/// is a map, docker's a string with a `.Label` method.
fn id_and_pid_format(binary: &str) -> &'static str {
    if binary == "docker" {
        "{{.ID}} {{.Label \"kfpl.pid\"}}"
    } else {
        "{{.ID}} {{index .Labels \"kfpl.pid\"}}"
    }
}

/// Removes containers of runs whose kfpl is gone (killed with `kill -9`).
fn remove_leftovers(binary: &str) {
    let Ok(listed) = Command::new(binary)
        .args(["ps", "-a", "--filter", "label=kfpl.run", "--format"])
        .arg(id_and_pid_format(binary))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    else {
        return;
    };
    for line in String::from_utf8_lossy(&listed.stdout).lines() {
        let mut fields = line.split_whitespace();
        let (Some(id), pid) = (fields.next(), fields.next()) else {
            continue;
        };
        let alive = pid
            .and_then(|p| p.parse::<i32>().ok())
            .is_some_and(|p| nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), None).is_ok());
        if !alive {
            kill_and_remove(binary, id);
        }
    }
}

/// The images the steps name without interpolation (the others are known
/// only when their step starts).
fn fixed_images(pipeline: &ir::Pipeline) -> BTreeSet<String> {
    pipeline
        .steps
        .iter()
        .filter_map(|step| step.image.as_const())
        .collect()
}

/// Before anything runs: the engine answers, leftovers are removed and every
/// fixed image is present (pulled as `pull` says).
pub(crate) fn prepare(
    engine: Engine,
    pull: Pull,
    pipeline: &ir::Pipeline,
) -> Result<(), Vec<Diagnostic>> {
    let Some(binary) = engine.binary() else {
        return Ok(());
    };
    if !quietly(binary, &["version"]) {
        return Err(vec![super::error(
            Code::E0613,
            format!("the container engine `{binary}` cannot be run"),
            format!(
                "install {binary} (and start its daemon for docker), or run with `--engine host`"
            ),
        )]);
    }
    remove_leftovers(binary);
    let missing: Vec<String> = fixed_images(pipeline)
        .into_iter()
        .filter(|image| !image_ready(binary, pull, image))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(missing
        .iter()
        .map(|image| {
            super::error(
                Code::E0613,
                format!("image `{image}` is not on this machine and cannot be pulled"),
                format!("pull or build `{image}` (`{binary} pull {image}`), or check its name; with `--pull never` nothing is pulled"),
            )
        })
        .collect())
}

/// Whether `image` is present once the pull policy is applied.
fn image_ready(binary: &str, pull: Pull, image: &str) -> bool {
    let exists = || quietly(binary, &["image", "inspect", image]);
    match pull {
        Pull::Never => exists(),
        Pull::Missing => exists() || quietly(binary, &["pull", image]),
        Pull::Always => quietly(binary, &["pull", image]) || exists(),
    }
}

/// Shell-quotes one argument for `--dry-run`.
pub fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@%+".contains(&b));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_become_engine_flags() {
        assert_eq!(kubernetes_cpus("500m"), "0.5");
        assert_eq!(kubernetes_cpus("2"), "2");
        assert_eq!(kubernetes_bytes("512Mi"), "512m");
        assert_eq!(kubernetes_bytes("2G"), "2g");
        assert_eq!(kubernetes_bytes("1000"), "1000");
    }

    #[test]
    fn engines_and_pull_policies_parse() {
        assert_eq!(
            Engine::parse("docker").and_then(Engine::binary),
            Some("docker")
        );
        assert_eq!(Engine::parse("vm"), None);
        assert_eq!(Pull::parse("if-not-present"), Some(Pull::Missing));
        assert_eq!(shell_quote("a b'c"), r"'a b'\''c'");
    }
}
