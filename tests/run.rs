//! `kfpl run` and `kfpl runs`, end to end: the real binary, real processes,
//! real git, real SQLite. Inputs are `tests/run/*.kfp`; where the output is
//! compared, the expected text sits beside the input (`.stdout`, `.stderr`,
//! `.json`) and `KFPL_BLESS=1` rewrites it. Every test has its own temporary
//! `KFPL_HOME` and working directory. Waits are bounded polls on files the
//! steps write, never timing assertions.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use support::{Kfpl, TempDir, root, text};

/// A temporary working directory with its own state folder.
struct Env {
    root: TempDir,
    cwd: PathBuf,
    home: PathBuf,
    scratch: PathBuf,
    gpus: Option<&'static str>,
}

impl Env {
    fn new(name: &str) -> Env {
        let root = TempDir::new(&format!("run-{name}"));
        let cwd = root.join("cwd");
        let home = root.join("home");
        let scratch = root.join("scratch");
        for dir in [&cwd, &home, &scratch] {
            std::fs::create_dir_all(dir).unwrap();
        }
        Env {
            root,
            cwd,
            home,
            scratch,
            gpus: None,
        }
    }

    fn command(&self, args: &[&str]) -> Kfpl {
        let command = support::kfpl(args)
            .current_dir(&self.cwd)
            .env("KFPL_HOME", &self.home);
        match self.gpus {
            Some(gpus) => command.env("KFPL_GPUS", gpus),
            None => command,
        }
    }

    fn kfpl(&self, args: &[&str]) -> Output {
        self.command(args).output()
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// `kfpl run tests/run/NAME.kfp [-p dir=SCRATCH] ARGS…` (`dir` when the fixture declares it)
    fn run(&self, name: &str, args: &[&str]) -> Output {
        let file = fixture(name);
        let dir = format!("dir={}", self.scratch.display());
        let mut all = vec!["run", file.to_str().unwrap()];
        if std::fs::read_to_string(&file)
            .unwrap()
            .contains("param dir")
        {
            all.extend(["-p", dir.as_str()]);
        }
        all.extend(args);
        self.kfpl(&all)
    }

    /// `kfpl runs show RUN --format json`
    fn show(&self, run: &str) -> Value {
        let out = self.kfpl(&["runs", "show", run, "--format", "json"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Replaces the temporary root, durations and dates so output compares.
    fn normalize(&self, text: &str) -> String {
        let text = normalize_durations(&text.replace(&self.root.display().to_string(), "[TMP]"));
        normalize_dates(&text)
    }
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/run").join(format!("{name}.kfp"))
}

/// `2024-05-01 12:34:56` → `[DATE]` (same width, so tables keep their shape).
fn normalize_dates(text: &str) -> String {
    let pattern = "dddd-dd-dd dd:dd:dd";
    let chars: Vec<char> = text.chars().collect();
    let width = pattern.len();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let matches = i + width <= chars.len()
            && pattern
                .chars()
                .zip(&chars[i..i + width])
                .all(|(p, c)| match p {
                    'd' => c.is_ascii_digit(),
                    other => other == *c,
                });
        if matches {
            out.push_str("[DATE]             ");
            i += width;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// `1.2s`, `0.0s` → `[T]`.
fn normalize_durations(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let mut j = i;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        let boundary = start == 0 || !chars[start - 1].is_alphanumeric();
        if j > start
            && boundary
            && j + 2 < chars.len() + 1
            && chars.get(j) == Some(&'.')
            && chars.get(j + 1).is_some_and(char::is_ascii_digit)
            && chars.get(j + 2) == Some(&'s')
            && !chars.get(j + 3).is_some_and(|c| c.is_alphanumeric())
        {
            out.push_str("[T]");
            i = j + 3;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Compares with (or, under `KFPL_BLESS=1`, writes) `tests/run/NAME.EXTENSION`.
fn expect_file(name: &str, extension: &str, actual: &str) {
    let path = root().join("tests/run").join(format!("{name}.{extension}"));
    support::expect_file(&path, actual);
}

/// Waits (bounded) until `path` exists and is not empty.
fn wait_for(path: &Path) {
    let start = Instant::now();
    while std::fs::metadata(path).map_or(true, |m| m.len() == 0) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn pid_in(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Whether a process is gone (no such pid, or a zombie no one has reaped yet).
fn gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// Waits (bounded) until `pid` is gone.
fn wait_gone(pid: i32) -> bool {
    let start = Instant::now();
    while !gone(pid) {
        if start.elapsed() > Duration::from_secs(10) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

fn kill(pid: i32, signal: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal);
}

fn statuses(run: &Value) -> Vec<(String, String)> {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn outputs_metrics_and_values_as_data() {
    let env = Env::new("hello");
    let who = format!(
        "$(touch {}/pwned); `touch {}/pwned2`",
        env.scratch.display(),
        env.scratch.display()
    );
    let out = env.kfpl(&[
        "run",
        fixture("hello_metrics").to_str().unwrap(),
        "-p",
        &format!("who={who}"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !env.scratch.join("pwned").exists(),
        "a param value was run as shell code"
    );
    assert!(
        !env.scratch.join("pwned2").exists(),
        "a param value was run as shell code"
    );
    expect_file(
        "hello_metrics",
        "stdout",
        &env.normalize(&text(&out.stdout)),
    );
    expect_file(
        "hello_metrics",
        "stderr",
        &env.normalize(&text(&out.stderr)),
    );
    let run = env.show("r1");
    assert_eq!(run["status"], "succeeded");
    let greet = &run["steps"][0];
    assert_eq!(
        greet["outputs"]["shout"], "HELLO\n",
        "one trailing newline trimmed"
    );
    assert_eq!(greet["outputs"]["output"], "greeted");
    let log = std::fs::read_to_string(greet["stderr_log"].as_str().unwrap()).unwrap();
    assert!(
        log.contains("W0601"),
        "the metric warning is in the step's log: {log}"
    );
    let answer = &run["steps"][1];
    let log = std::fs::read_to_string(answer["stderr_log"].as_str().unwrap()).unwrap();
    assert_eq!(log, "to stderr\n");
    let metrics: Vec<(String, Value)> = run["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap().to_string(), m["value"].clone()))
        .collect();
    assert_eq!(
        metrics,
        [
            ("accuracy".to_string(), Value::from(0.93)),
            ("loss".to_string(), Value::Null),
            ("f1".to_string(), Value::Null),
        ]
    );
}

#[test]
fn independent_steps_run_at_the_same_time() {
    let env = Env::new("parallel");
    let out = env.run("parallel", &["--parallelism", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(env.scratch.join("left.started").exists());
    assert!(env.scratch.join("right.started").exists());
}

#[test]
fn claims_persist_between_runs_and_the_host_is_untouched() {
    let env = Env::new("claims");
    let host_paths = [Path::new("/training"), Path::new("/tmp/kfpl-test-missing")];
    let existed: Vec<bool> = host_paths.iter().map(|p| p.exists()).collect();
    for expected in ["1", "2"] {
        let out = env.run("claims", &[]);
        assert!(
            out.status.success(),
            "{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let count = std::fs::read_to_string(env.home.join("volumes/user-susan/count")).unwrap();
        assert_eq!(count.trim(), expected);
    }
    let volume = env.home.join("volumes/user-susan/dataset");
    assert!(volume.join("run-1.txt").exists() && volume.join("run-2.txt").exists());
    assert_eq!(
        std::fs::read_to_string(env.home.join("volumes/scratch/file")).unwrap(),
        "scratch\n"
    );
    for (path, existed) in host_paths.iter().zip(existed) {
        if !existed {
            assert!(!path.exists(), "{} was created on the host", path.display());
        }
    }
    let second = env.show("r2");
    let read = &second["steps"][1];
    let log = std::fs::read_to_string(read["stdout_log"].as_str().unwrap()).unwrap();
    // `read` runs beside `count`: it sees the count before, during (empty) or after the write.
    assert!(["1\n", "2\n", ""].contains(&log.as_str()), "{log:?}");
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

#[test]
fn sync_source_checks_out_the_requested_commit() {
    if !support::require_tool("git") {
        return;
    }
    let env = Env::new("sync");
    let repo = env.cwd.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "--quiet"]);
    std::fs::write(repo.join("version.txt"), "v1\n").unwrap();
    git(&repo, &["add", "version.txt"]);
    git(&repo, &["commit", "--quiet", "-m", "first"]);
    let first = git(&repo, &["rev-parse", "HEAD"]);
    std::fs::write(repo.join("version.txt"), "v2\n").unwrap();
    git(&repo, &["commit", "--quiet", "-am", "second"]);
    let second = git(&repo, &["rev-parse", "HEAD"]);

    let file = fixture("sync_source");
    let file = file.to_str().unwrap();
    let out = env.kfpl(&["run", file, "-p", &format!("commit={first}")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("show | v1\n"), "{stdout}");
    assert!(stdout.contains(&format!("show | {first}\n")), "{stdout}");
    // The mirror is reused, and a later commit is found in it.
    let out = env.kfpl(&["run", file, "-p", &format!("commit={second}")]);
    assert!(
        text(&out.stdout).contains("show | v2\n"),
        "{}",
        text(&out.stderr)
    );
    // A revision made after the mirror was: fetched again.
    std::fs::write(repo.join("version.txt"), "v3\n").unwrap();
    git(&repo, &["commit", "--quiet", "-am", "third"]);
    let third = git(&repo, &["rev-parse", "HEAD"]);
    let out = env.kfpl(&["run", file, "-p", &format!("commit={third}")]);
    assert!(
        text(&out.stdout).contains("show | v3\n"),
        "{}",
        text(&out.stderr)
    );
    // A bad revision fails the step with git's message.
    let out = env.kfpl(&["run", file, "-p", "commit=no-such-revision"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("E0606"), "{stderr}");
    assert!(stderr.contains("no-such-revision"), "{stderr}");
    assert!(stderr.contains("fatal:"), "git's own message: {stderr}");
}

#[test]
fn a_failed_step_stops_its_dependents() {
    let env = Env::new("failure");
    let out = env.run("failure", &[]);
    assert_eq!(out.status.code(), Some(1));
    expect_file("failure", "stderr", &env.normalize(&text(&out.stderr)));
    let run = env.show("r1");
    assert_eq!(run["status"], "failed");
    assert_eq!(
        statuses(&run),
        pairs(&[
            ("first", "succeeded"),
            ("broken", "failed"),
            ("after_broken", "skipped")
        ])
    );
    assert_eq!(run["steps"][1]["exit_code"], 3);
}

#[test]
fn a_timeout_kills_the_step_and_its_children() {
    let env = Env::new("timeout");
    let out = env.run("timeout", &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("E0605"), "{stderr}");
    let child = pid_in(&env.scratch.join("child.pid"));
    let main = pid_in(&env.scratch.join("main.pid"));
    let (child_gone, main_gone) = (wait_gone(child), wait_gone(main));
    kill(child, nix::sys::signal::Signal::SIGKILL);
    assert!(
        child_gone,
        "the step's background child {child} survived the timeout"
    );
    assert!(main_gone, "the step {main} survived the timeout");
    assert_eq!(env.show("r1")["steps"][0]["status"], "failed");
}

#[test]
fn retries_run_a_failed_step_again() {
    let env = Env::new("retries");
    let out = env.run("retries", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run = env.show("r1");
    assert_eq!(run["steps"][0]["attempts"], 2);
    assert_eq!(
        run["metrics"][0]["value"], 2.0,
        "the last attempt's metrics count"
    );
    assert!(text(&out.stderr).contains("attempt 1 failed"));
}

#[test]
fn sigint_stops_every_step_and_records_a_cancelled_run() {
    let env = Env::new("sigint");
    let file = fixture("sigint");
    let dir = format!("dir={}", env.scratch.display());
    let child = env.spawn(&["run", file.to_str().unwrap(), "-p", &dir]);
    let files = ["a.child", "a.main", "b.child", "b.main"].map(|f| env.scratch.join(f));
    for file in &files {
        wait_for(file);
    }
    kill(child.id() as i32, nix::sys::signal::Signal::SIGINT);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let pids: Vec<i32> = files.iter().map(|f| pid_in(f)).collect();
    let survivors: Vec<i32> = pids.iter().copied().filter(|&p| !wait_gone(p)).collect();
    for &pid in &survivors {
        kill(pid, nix::sys::signal::Signal::SIGKILL);
    }
    assert!(survivors.is_empty(), "processes left behind: {survivors:?}");
    let run = env.show("r1");
    assert_eq!(run["status"], "cancelled");
    assert_eq!(
        statuses(&run),
        pairs(&[("a", "cancelled"), ("b", "cancelled"), ("later", "skipped")])
    );
}

#[test]
fn gpus_are_shared_out_and_waited_for() {
    let mut env = Env::new("gpus");
    env.gpus = Some("2");
    let out = env.run("gpus", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let devices = |step: &str| {
        std::fs::read_to_string(env.scratch.join(format!("{step}.devices")))
            .unwrap()
            .trim()
            .to_string()
    };
    let mut singles = [devices("one"), devices("two")];
    singles.sort();
    assert_eq!(singles, ["0", "1"]);
    assert_eq!(devices("both"), "0,1");
    assert_eq!(devices("cpu"), "[]");
}

#[test]
fn a_step_needing_too_many_gpus_fails_before_anything_starts() {
    let mut env = Env::new("too-many-gpus");
    env.gpus = Some("2");
    // Named relative to the working directory, as a user would.
    let name = "E0602_too_many_gpus";
    std::fs::create_dir_all(env.cwd.join("tests/run")).unwrap();
    std::fs::copy(fixture(name), env.cwd.join(format!("tests/run/{name}.kfp"))).unwrap();
    let dir = format!("dir={}", env.scratch.display());
    let out = env.kfpl(&["run", &format!("tests/run/{name}.kfp"), "-p", &dir]);
    assert_eq!(out.status.code(), Some(1));
    expect_file(name, "stderr", &env.normalize(&text(&out.stderr)));
    assert!(!env.scratch.join("small.ran").exists(), "a step started");
    let list = env.kfpl(&["runs", "list", "--format", "json"]);
    assert_eq!(text(&list.stdout).trim(), "[]", "nothing was recorded");
}

/// A JSON value with times made stable: durations and timestamps nulled.
fn without_times(mut value: Value) -> Value {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if key.ends_with("_at") || key.ends_with("_s") {
                        *v = Value::Null;
                    } else {
                        walk(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    value
}

#[test]
fn runs_compare_shows_params_and_metrics_side_by_side() {
    let env = Env::new("compare");
    let file = fixture("hello_metrics");
    let file = file.to_str().unwrap();
    assert!(env.kfpl(&["run", file, "-p", "who=ada"]).status.success());
    assert!(
        env.kfpl(&["run", file, "-p", "who=grace", "--experiment", "other"])
            .status
            .success()
    );
    let out = env.kfpl(&["runs", "compare", "r1", "r2", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = without_times(serde_json::from_slice(&out.stdout).unwrap());
    expect_file(
        "compare",
        "json",
        &format!("{}\n", serde_json::to_string_pretty(&json).unwrap()),
    );
    // --last 2 names the same runs.
    let last = env.kfpl(&["runs", "compare", "--last", "2", "--format", "json"]);
    assert_eq!(text(&last.stdout), text(&out.stdout));
    // The table, and the listing by experiment.
    let table = env.kfpl(&["runs", "compare", "1", "2"]);
    expect_file("compare", "table", &env.normalize(&text(&table.stdout)));
    let list = env.kfpl(&["runs", "list", "--experiment", "other", "--format", "json"]);
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["id"], "r2");
    // An unknown run.
    let unknown = env.kfpl(&["runs", "show", "r9"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("E0608"));
}

#[test]
fn a_killed_kfpl_leaves_its_run_marked_interrupted() {
    let env = Env::new("interrupted");
    let file = fixture("interrupted");
    let dir = format!("dir={}", env.scratch.display());
    let mut child = env.spawn(&["run", file.to_str().unwrap(), "-p", &dir]);
    let pid_file = env.scratch.join("long.pid");
    wait_for(&pid_file);
    kill(child.id() as i32, nix::sys::signal::Signal::SIGKILL);
    let _ = child.wait();
    let step = pid_in(&pid_file);
    let run = env.show("r1");
    let step_gone = wait_gone(step);
    kill(step, nix::sys::signal::Signal::SIGKILL);
    assert!(step_gone, "the step's process {step} was left running");
    assert_eq!(run["status"], "interrupted");
    assert_eq!(
        statuses(&run),
        pairs(&[("long", "interrupted"), ("next", "skipped")])
    );
    assert!(
        run["message"]
            .as_str()
            .unwrap()
            .contains("stopped before the run finished")
    );
}

#[test]
fn resume_reruns_only_what_did_not_succeed() {
    let env = Env::new("resume");
    let out = env.run("resume", &[]);
    assert_eq!(out.status.code(), Some(1));
    std::fs::write(env.scratch.join("fixed"), "").unwrap();
    let out = env.run("resume", &["--resume", "r1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("train   | trained on data-v1"),
        "{}",
        text(&out.stdout)
    );
    let prepared = std::fs::read_to_string(env.scratch.join("prepare.log")).unwrap();
    assert_eq!(prepared, "prepared\n", "prepare ran again");
    let run = env.show("r2");
    assert_eq!(run["resumed_from"], "r1");
    assert_eq!(
        statuses(&run),
        pairs(&[("prepare", "reused"), ("train", "succeeded")])
    );
    assert_eq!(run["metrics"][0]["value"], 0.75);
}

/// Runs `kfpl run claims.kfp` the way an unprivileged user would: as uid
/// 65534 (`nobody`), or, with `no_userns`, as root without capabilities in a
/// user namespace where no further user namespace may be made. `None` (the
/// test is skipped, or fails under CI: see `support::require`) when this
/// machine cannot set that up (not root, no `setpriv` or `unshare`).
fn run_unprivileged(env: &Env, no_userns: bool) -> Option<Output> {
    let file = env.cwd.join("claims.kfp");
    std::fs::copy(fixture("claims"), &file).unwrap();
    let works = |mut command: Command| {
        command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let program = |words: &[&str]| {
        let mut command = Command::new(words[0]);
        command.args(&words[1..]);
        command
    };
    let command = env.command(&["run", "claims.kfp"]);
    let command = if no_userns {
        let usable = works(program(&[
            "unshare",
            "-Ur",
            "setpriv",
            "--bounding-set=-all",
            "true",
        ]));
        if !support::require("`unshare -Ur` and `setpriv` (util-linux)", usable) {
            return None;
        }
        let script = "echo 0 > /proc/sys/user/max_user_namespaces && exec setpriv --bounding-set=-all --inh-caps=-all \"$0\" \"$@\"";
        command.wrapped_in(["unshare", "-Ur", "sh", "-c", script])
    } else {
        let nobody = [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ];
        let root = env.root.to_str().unwrap();
        let usable = works(program(&["chown", "-R", "65534:65534", root]))
            && works(support::kfpl(["--version"]).wrapped_in(nobody).command());
        if !support::require(
            "root and `setpriv` (util-linux), to run kfpl as uid 65534",
            usable,
        ) {
            return None;
        }
        command.wrapped_in(nobody)
    };
    Some(command.output())
}

#[test]
fn claims_work_for_an_unprivileged_user() {
    let env = Env::new("userns");
    let training_existed = Path::new("/training").exists();
    let Some(out) = run_unprivileged(&env, false) else {
        return;
    };
    assert!(out.status.success(), "{}", text(&out.stderr));
    let count = std::fs::read_to_string(env.home.join("volumes/user-susan/count")).unwrap();
    assert_eq!(count.trim(), "1");
    if !training_existed {
        assert!(!Path::new("/training").exists());
    }
}

#[test]
fn claims_fail_before_starting_without_a_private_mount_namespace() {
    let env = Env::new("no-userns");
    let Some(out) = run_unprivileged(&env, true) else {
        return;
    };
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("E0603"), "{stderr}");
    assert!(stderr.contains("no private mount namespace"), "{stderr}");
    assert!(
        !env.home.join("volumes/user-susan/count").exists(),
        "a step ran"
    );
    assert!(!env.home.join("runs").exists(), "the run started");
}

#[test]
fn step_problems_are_reported_with_their_codes() {
    for (fixture_name, code, succeeds) in [
        ("missing_program", "E0604", false),
        ("huge_output", "E0610", false),
        ("latin1_output", "W0603", true),
        ("typed_output_bad", "E0612", false),
        ("typed_output_missing", "E0612", false),
        ("typed_outputs", "succeeded", true),
    ] {
        let env = Env::new(fixture_name);
        let out = env.run(fixture_name, &[]);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.success(), succeeds, "{fixture_name}:\n{all}");
        assert!(all.contains(code), "{code} missing from:\n{all}");
    }
}

#[test]
fn an_unusable_state_folder_is_refused() {
    let env = Env::new("state-folder");
    let not_a_dir = env.root.join("file");
    std::fs::write(&not_a_dir, "").unwrap();
    let out = env
        .command(&["run", fixture("hello_metrics").to_str().unwrap()])
        .env("KFPL_HOME", &not_a_dir)
        .output();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("E0607"), "{}", text(&out.stderr));
}

#[test]
fn resume_refuses_a_run_of_another_pipeline() {
    let env = Env::new("resume-other");
    let out = env.run("failure", &[]);
    assert_eq!(out.status.code(), Some(1));
    let out = env.run("resume", &["--resume", "r1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("E0609"), "{}", text(&out.stderr));
}
