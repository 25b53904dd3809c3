//! `kfpl run --engine podman` and `--engine docker`, end to end: the real
//! binary driving the real engine with the local test image
//! `kfpl-test/busybox:1` (built by tests/engine/build-busybox-image.sh, which
//! .ci/setup runs). Inputs are `tests/engine/*.kfp`, and examples/digits.kfp
//! in `kfpl-test/python:1` (tests/engine/build-python-image.sh). Every test
//! runs under both engines (modules `podman` and `docker`), with the same
//! programs and assertions; docker is the private daemon
//! tests/engine/start-docker.sh starts, holding podman's very images. Every
//! test has its own `KFPL_HOME`; containers are found by their `kfpl.dir`
//! label, so parallel tests never see each other's. Without the engine, its
//! daemon or the image the tests fail under CI and skip elsewhere.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use support::{TempDir, root, text};

const IMAGE: &str = "kfpl-test/busybox:1";

/// The image examples/digits.kfp runs in here, in place of its
/// `python:3.12-slim` (no registry is reachable).
const PYTHON_IMAGE: &str = "kfpl-test/python:1";

/// Where tests/engine/start-docker.sh writes its daemon's `DOCKER_HOST`.
const DOCKER_HOST_FILE: &str = "/run/kfpl-test/docker-host";

/// Each test below runs once per engine: `podman::NAME` and `docker::NAME`.
macro_rules! under_each_engine {
    ($($test:ident),* $(,)?) => {
        mod podman {
            $(#[test]
            fn $test() {
                super::$test(super::Engine::Podman)
            })*
        }
        mod docker {
            $(#[test]
            fn $test() {
                super::$test(super::Engine::Docker)
            })*
        }
    };
}

under_each_engine!(
    a_step_runs_in_its_image_not_on_the_host,
    a_sidecar_container_serves_its_step_and_is_gone_after,
    claims_persist_and_belong_to_the_user_and_outputs_and_metrics_are_collected,
    a_timeout_leaves_no_container,
    a_missing_image_is_named_before_anything_runs,
    ctrl_c_removes_the_container,
    the_next_start_removes_the_containers_of_a_killed_kfpl,
    a_sync_source_checkout_is_in_the_container_at_code_repo,
    digits_gives_the_same_accuracy_in_its_image_as_on_the_host,
    a_file_output_is_mounted_read_only_into_its_readers,
);

/// The container engine a test drives (`--engine NAME`).
#[derive(Clone, Copy)]
enum Engine {
    Podman,
    Docker,
}

impl Engine {
    /// The `--engine` value, the engine's program and the record's `engine`.
    fn name(self) -> &'static str {
        match self {
            Engine::Podman => "podman",
            Engine::Docker => "docker",
        }
    }

    /// `DOCKER_HOST` for docker: the caller's, else the test daemon's (else
    /// docker's default); nothing for podman.
    fn host(self) -> Option<String> {
        match self {
            Engine::Podman => None,
            Engine::Docker => std::env::var("DOCKER_HOST").ok().or_else(|| {
                std::fs::read_to_string(DOCKER_HOST_FILE)
                    .ok()
                    .map(|host| host.trim().to_string())
            }),
        }
    }

    /// The engine's own program, talking to the test daemon.
    fn command(self) -> Command {
        let mut command = Command::new(self.name());
        if let Some(host) = self.host() {
            command.env("DOCKER_HOST", host);
        }
        command
    }

    /// True when `ARGS…` succeeds.
    fn succeeds(self, args: &[&str]) -> bool {
        self.command()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// True when the engine and the test image are here (else skipped, or
    /// failed under CI).
    fn ready(self) -> bool {
        self.has(IMAGE, "tests/engine/build-busybox-image.sh")
    }

    /// True when the engine (and docker's daemon) and `image`, which
    /// `script` builds, are here (else skipped, or failed under CI).
    fn has(self, image: &str, script: &str) -> bool {
        if !support::require_tool(self.name()) {
            return false;
        }
        let script = match self {
            Engine::Podman => script.to_string(),
            Engine::Docker => {
                let answers = self.succeeds(&["info"]);
                let daemon = "a docker daemon (tests/engine/start-docker.sh starts one, as root)";
                if !support::require(daemon, answers) {
                    return false;
                }
                format!("{script}, then tests/engine/start-docker.sh")
            }
        };
        let exists = self.succeeds(&["image", "inspect", image]);
        support::require(
            &format!("the {} image {image} ({script})", self.name()),
            exists,
        )
    }
}

/// A working directory with its own state folder.
struct Env {
    _root: TempDir,
    cwd: PathBuf,
    home: PathBuf,
    engine: Engine,
}

impl Env {
    fn new(name: &str, engine: Engine) -> Env {
        let root = TempDir::new(&format!("engine-{}-{name}", engine.name()));
        let cwd = root.join("cwd");
        let home = root.join("home");
        for dir in [&cwd, &home] {
            std::fs::create_dir_all(dir).unwrap();
        }
        Env {
            _root: root,
            cwd,
            home,
            engine,
        }
    }

    /// kfpl with this state folder, talking to the engine's test daemon.
    fn runner<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(
        &self,
        args: I,
    ) -> support::Kfpl {
        let runner = support::kfpl(args)
            .current_dir(&self.cwd)
            .env("KFPL_HOME", &self.home);
        match self.engine.host() {
            Some(host) => runner.env("DOCKER_HOST", host),
            None => runner,
        }
    }

    fn kfpl(&self, args: &[&str]) -> Output {
        self.runner(args).output()
    }

    /// `kfpl run --engine ENGINE FILE ARGS…`
    fn run_file(&self, file: &Path, args: &[&str]) -> Output {
        let engine = self.engine.name();
        let mut all = vec!["run", "--engine", engine, file.to_str().unwrap()];
        all.extend(args);
        self.kfpl(&all)
    }

    /// `kfpl run --engine ENGINE tests/engine/NAME.kfp ARGS…`
    fn run(&self, name: &str, args: &[&str]) -> Output {
        self.run_file(&fixture(name), args)
    }

    /// `kfpl run --engine ENGINE tests/engine/NAME.kfp` in the background.
    fn spawn(&self, name: &str) -> Child {
        let file = fixture(name);
        self.runner([
            "run",
            "--engine",
            self.engine.name(),
            file.to_str().unwrap(),
        ])
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    }

    /// Waits (bounded) until run `id` has a running container.
    fn wait_for_container(&self, id: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.containers(id).is_empty() {
            assert!(
                Instant::now() < deadline,
                "run {id} never started its container"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `kfpl runs show RUN --format json`
    fn show(&self, run: &str) -> Value {
        let out = self.kfpl(&["runs", "show", run, "--format", "json"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The containers (running or not) of run `id` of this state folder.
    fn containers(&self, id: &str) -> String {
        let run_dir = self.home.join("runs").join(id);
        let out = self
            .engine
            .command()
            .args(["ps", "-a", "--format", "{{.Names}}", "--filter"])
            .arg(format!("label=kfpl.dir={}", run_dir.display()))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    }
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/engine").join(format!("{name}.kfp"))
}

fn owner(path: &Path) -> (u32, u32) {
    let meta = std::fs::metadata(path).unwrap();
    (meta.uid(), meta.gid())
}

fn a_step_runs_in_its_image_not_on_the_host(engine: Engine) {
    if !engine.ready() {
        return;
    }
    let env = Env::new("in-image", engine);
    let host_only = env.cwd.join("host-only");
    std::fs::write(&host_only, "the host's").unwrap();
    let hostfile = format!("hostfile={}", host_only.display());
    let out = env.run("in_image", &["-p", &hostfile]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("probe | 5"),
        "dc ran in the image: {stdout}"
    );
    assert!(stdout.contains("inside kfpl-test/busybox"), "{stdout}");
    assert_eq!(env.containers("r1"), "", "--rm removed the container");
    // The same pipeline on the host lacks `dc` (and sees the host file).
    let host = env.kfpl(&[
        "run",
        "--engine",
        "host",
        fixture("in_image").to_str().unwrap(),
        "-p",
        &hostfile,
    ]);
    assert!(!host.status.success(), "{}", text(&host.stderr));
}

fn claims_persist_and_belong_to_the_user_and_outputs_and_metrics_are_collected(engine: Engine) {
    if !engine.ready() {
        return;
    }
    let env = Env::new("claims", engine);
    for run in ["r1", "r2"] {
        let out = env.run("claims", &[]);
        assert!(out.status.success(), "{run}: {}", text(&out.stderr));
    }
    let count = env.home.join("volumes/shelf/count");
    assert_eq!(std::fs::read_to_string(&count).unwrap(), "2\n");
    assert_eq!(
        owner(&count),
        owner(&env.cwd),
        "a claim's file belongs to whoever ran kfpl"
    );
    let run = env.show("r2");
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["engine"], engine.name(), "the record says where it ran");
    assert_eq!(run["steps"][0]["outputs"]["count"], "2");
    assert_eq!(run["metrics"][0]["name"], "accuracy");
    assert_eq!(run["metrics"][0]["value"], 0.2);
    let log = std::fs::read_to_string(run["steps"][1]["stdout_log"].as_str().unwrap()).unwrap();
    assert_eq!(log, "read 2\n", "the output reached the next step");
}

fn a_file_output_is_mounted_read_only_into_its_readers(engine: Engine) {
    if !engine.ready() {
        return;
    }
    let env = Env::new("files", engine);
    let out = env.run("files", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run = env.show("r1");
    let logs: Vec<String> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| std::fs::read_to_string(s["stdout_log"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(logs[1], "weights\nwrite refused\n", "{logs:?}");
    assert_eq!(logs[2], "weights\n", "{logs:?}");
    let kept = env.home.join("runs/r1/make/outputs/model");
    assert_eq!(std::fs::read_to_string(kept).unwrap(), "weights\n");
}

fn a_sidecar_container_serves_its_step_and_is_gone_after(engine: Engine) {
    if !engine.ready() {
        return;
    }
    let env = Env::new("sidecar", engine);
    let out = env.run("sidecar", &[]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        text(&out.stdout).contains("served"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        !stderr.contains("W0610"),
        "the server did not stop on SIGTERM: {stderr}"
    );
    assert_eq!(env.containers("r1"), "", "the sidecar's container is gone");
}

fn a_timeout_leaves_no_container(engine: Engine) {
    if !engine.ready() {
        return;
    }
    let env = Env::new("timeout", engine);
    let out = env.run("timeout", &[]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("E0605"), "{stderr}");
    assert_eq!(env.containers("r1"), "", "the timed-out container is gone");
}

fn a_missing_image_is_named_before_anything_runs(engine: Engine) {
    if !engine.ready() {
        return;
    }
    let env = Env::new("missing", engine);
    let out = env.run("missing_image", &["--pull", "never"]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("E0613"), "{stderr}");
    assert!(stderr.contains("kfpl-test/absent:1"), "{stderr}");
    assert!(
        !stderr.contains(IMAGE),
        "only the missing image is named: {stderr}"
    );
    assert!(
        !env.home.join("runs").exists(),
        "nothing ran and nothing was recorded"
    );
}

#[test]
fn dry_run_prints_the_engine_commands() {
    for engine in [Engine::Podman, Engine::Docker] {
        let env = Env::new("dry-run", engine);
        let out = env.run("resources", &["--dry-run", "-p", "who=a b"]);
        let binary = format!("{} run --rm", engine.name());
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(stdout.starts_with(&binary), "{stdout}");
        for flag in [
            "--name kfpl-DRYRUN-train-",
            "--label kfpl.run=DRYRUN",
            "--cpus 0.5",
            "--memory 64m",
            "--device nvidia.com/gpu=0",
            "--env 'KFP_who=a b'",
            "kfpl-test/busybox:1 sh -c 'echo hello ${KFP_who}'",
        ] {
            assert!(stdout.contains(flag), "{flag} in {stdout}");
        }
        assert!(!stdout.contains("CUDA_VISIBLE_DEVICES"), "{stdout}");
        let user = format!("--user {}:{}", nix::unistd::getuid(), nix::unistd::getgid());
        assert!(stdout.contains(&user), "runs as whoever ran kfpl: {stdout}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert!(
            lines[0].contains("--pull never"),
            "a fixed image was made present before the run: {stdout}"
        );
        assert!(
            lines.last().unwrap().contains("--pull missing"),
            "an image known only at the step's start follows --pull: {stdout}"
        );
        assert!(!env.home.join("runs").exists(), "a dry run runs nothing");
    }
}

fn signal(child: &Child, signal: nix::sys::signal::Signal) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, signal);
}

fn ctrl_c_removes_the_container(engine: Engine) {
    if !engine.ready() {
        return;
    }
    let env = Env::new("ctrl-c", engine);
    let mut child = env.spawn("long");
    env.wait_for_container("r1");
    signal(&child, nix::sys::signal::Signal::SIGINT);
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert_eq!(env.containers("r1"), "", "Ctrl-C left no container");
    assert_eq!(env.show("r1")["status"], "cancelled");
}

fn the_next_start_removes_the_containers_of_a_killed_kfpl(engine: Engine) {
    if !engine.ready() {
        return;
    }
    let env = Env::new("kill-9", engine);
    let mut child = env.spawn("long");
    env.wait_for_container("r1");
    signal(&child, nix::sys::signal::Signal::SIGKILL);
    let _ = child.wait();
    assert_ne!(
        env.containers("r1"),
        "",
        "kill -9 leaves the container running"
    );
    let out = env.run("in_image", &["-p", "hostfile=/nonexistent"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        env.containers("r1"),
        "",
        "the next start removed the killed run's container"
    );
}

/// `git ARGS…` in `dir`.
fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

fn a_sync_source_checkout_is_in_the_container_at_code_repo(engine: Engine) {
    if !engine.ready() || !support::require_tool("git") {
        return;
    }
    let env = Env::new("sync", engine);
    let repo = env.cwd.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "--quiet"]);
    std::fs::write(repo.join("version.txt"), "from the repo\n").unwrap();
    git(&repo, &["add", "version.txt"]);
    git(&repo, &["commit", "--quiet", "-m", "first"]);
    let out = env.run("sync_source", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("show | from the repo"),
        "{}",
        text(&out.stdout)
    );
}

/// The metrics of `run` as `name=value` lines, in the order recorded.
fn metrics(run: &Value) -> Vec<String> {
    run["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{}={}", m["name"].as_str().unwrap(), m["value"]))
        .collect()
}

fn digits_gives_the_same_accuracy_in_its_image_as_on_the_host(engine: Engine) {
    if !engine.has(PYTHON_IMAGE, "tests/engine/build-python-image.sh") {
        return;
    }
    let example = root().join("examples/digits.kfp");
    let source = std::fs::read_to_string(&example).unwrap();
    // The one change: the image, which cannot be pulled here, becomes the
    // local python image. The commands, params and claims are the example's.
    let published = "image = \"python:3.12-slim\"";
    assert_eq!(source.matches(published).count(), 3, "every step's image");
    let local = source.replace(published, &format!("image = \"{PYTHON_IMAGE}\""));

    let host = Env::new("digits-host", engine); // its engine is not used
    let out = host.kfpl(&["run", "--engine", "host", example.to_str().unwrap()]);
    assert!(out.status.success(), "host: {}", text(&out.stderr));
    let on_host = host.show("r1");

    let contained = Env::new("digits", engine);
    let copy = contained.cwd.join("digits.kfp");
    std::fs::write(&copy, local).unwrap();
    let out = contained.run_file(&copy, &[]);
    assert!(
        out.status.success(),
        "{}: {}",
        engine.name(),
        text(&out.stderr)
    );
    let in_image = contained.show("r1");

    assert_eq!(in_image["engine"], engine.name());
    assert_eq!(in_image["steps"][1]["image"], PYTHON_IMAGE);
    let host_metrics = metrics(&on_host);
    assert!(
        host_metrics.iter().any(|m| m.starts_with("accuracy=")),
        "{host_metrics:?}"
    );
    assert_eq!(
        metrics(&in_image),
        host_metrics,
        "same accuracy and loss in the image as on the host"
    );
    let exported = contained
        .home
        .join("volumes/digits-data/export/1/model.json");
    assert!(exported.is_file(), "the model reached the claim");
}
