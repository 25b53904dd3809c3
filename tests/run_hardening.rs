//! `kfpl run` against steps that misbehave and machines that fail under it
//! (issue 11): processes that escape the step's process group, outputs that
//! are FIFOs or links, a full disk, a lost `kfpl.db`, a read-only state
//! folder, and the ported-sample bug of an output never written.
//!
//! "kfpl does not hang" is checked with a generous bound (30 s) used only as
//! a failure guard: a run that passes it is never measured.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Kfpl, TempDir, text};

/// Where a run that hangs is stopped and the test failed.
const GUARD: Duration = Duration::from_secs(30);

/// A working folder with `main.kfp` and its own state folder (`home/`).
struct Case {
    dir: TempDir,
    home: PathBuf,
}

impl Case {
    fn new(name: &str, program: &str) -> Case {
        let dir = TempDir::new(&format!("harden-{name}"));
        dir.write("main.kfp", program);
        let home = dir.join("home");
        Case { dir, home }
    }

    fn kfpl(&self, args: &[&str]) -> Kfpl {
        support::kfpl(args)
            .current_dir(&self.dir)
            .env("KFPL_HOME", &self.home)
    }

    /// `kfpl run main.kfp ARGS`, stopped and failed after [`GUARD`].
    fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["run", "main.kfp"];
        all.extend_from_slice(args);
        bounded(&self.dir, self.kfpl(&all))
    }

    /// `kfpl runs show RUN --format json`.
    fn show_json(&self, run: &str) -> Value {
        let out = self
            .kfpl(&["runs", "show", run, "--format", "json"])
            .output();
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// Runs `command` to its end, its output going to files in `dir` (a pipe
/// could fill and stall it); kills it and fails the test after [`GUARD`].
fn bounded(dir: &Path, command: Kfpl) -> Output {
    bounded_with(dir, command, |_| {})
}

/// [`bounded`], calling `meanwhile` with kfpl's pid once it has started.
fn bounded_with(dir: &Path, command: Kfpl, meanwhile: impl FnOnce(u32)) -> Output {
    let (out_path, err_path) = (dir.join("kfpl.stdout"), dir.join("kfpl.stderr"));
    let mut child = command
        .command()
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    meanwhile(child.id());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "kfpl did not end within {GUARD:?}; stderr so far:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    }
}

fn stderr(out: &Output) -> String {
    text(&out.stderr)
}

/// Whether process `pid` is gone (or a zombie waiting to be reaped).
fn process_gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

// ---- processes that escape the step ---------------------------------------------

/// `setsid` leaves the step's process group while keeping its stdout open:
/// the timeout still ends the step, and the escaped process with it.
#[test]
fn a_setsid_child_does_not_outlive_the_timeout() {
    if !support::require_tool("setsid") {
        return;
    }
    let case = Case::new(
        "setsid-timeout",
        r#"pipeline p {
  step escaped {
    image = "alpine"
    timeout = "2s"
    command = "setsid sleep infinity & echo $! > pid; sleep 100"
  }
}
"#,
    );
    let out = case.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("kfpl::E0605"), "{}", stderr(&out));
    let pid = std::fs::read_to_string(case.home.join("runs/r1/escaped/work/pid")).unwrap();
    assert!(
        process_gone(pid.trim()),
        "the escaped `sleep` ({pid}) is still running"
    );
}

/// A step whose main process ends while an escaped child holds its pipes
/// succeeds at once, and the child is stopped.
#[test]
fn a_setsid_child_does_not_hold_a_finished_step() {
    if !support::require_tool("setsid") {
        return;
    }
    let case = Case::new(
        "setsid-done",
        r#"pipeline p {
  step escaped {
    image = "alpine"
    command = "setsid sleep infinity & echo $! > pid; echo done"
  }
}
"#,
    );
    let out = case.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        text(&out.stdout).contains("escaped | done"),
        "{}",
        text(&out.stdout)
    );
    let pid = std::fs::read_to_string(case.home.join("runs/r1/escaped/work/pid")).unwrap();
    assert!(
        process_gone(pid.trim()),
        "the escaped `sleep` ({pid}) is still running"
    );
}

/// An escaped child that also cleared its environment cannot be found by
/// the step's tag: kfpl still stops waiting on the pipes it holds.
#[test]
fn an_untagged_escaped_child_does_not_hold_the_step() {
    if !support::require_tool("setsid") {
        return;
    }
    let case = Case::new(
        "untagged",
        r#"pipeline p {
  step hidden {
    image = "alpine"
    command = "env -i setsid sleep 120 & echo $! > pid; echo done"
  }
}
"#,
    );
    let out = case.run(&[]);
    let pid = std::fs::read_to_string(case.home.join("runs/r1/hidden/work/pid")).unwrap();
    // Not ours to leave behind: kfpl documents that it cannot find it.
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid.trim().parse().unwrap()),
        nix::sys::signal::Signal::SIGKILL,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        text(&out.stdout).contains("hidden | done"),
        "{}",
        text(&out.stdout)
    );
}

/// Ctrl-C (SIGINT to kfpl) while an escaped child holds the step's pipes:
/// the run is cancelled and ends, and the child is stopped.
#[test]
fn a_setsid_child_does_not_hold_a_cancelled_step() {
    if !support::require_tool("setsid") {
        return;
    }
    let case = Case::new(
        "setsid-sigint",
        r#"pipeline p {
  step escaped {
    image = "alpine"
    command = "setsid sleep infinity & echo $! > pid.tmp; mv pid.tmp pid; sleep 100"
  }
}
"#,
    );
    let pid_file = case.home.join("runs/r1/escaped/work/pid");
    let out = bounded_with(&case.dir, case.kfpl(&["run", "main.kfp"]), |kfpl| {
        let start = Instant::now();
        while !pid_file.exists() && start.elapsed() < GUARD {
            std::thread::sleep(Duration::from_millis(20));
        }
        let kfpl = nix::unistd::Pid::from_raw(kfpl as i32);
        nix::sys::signal::kill(kfpl, nix::sys::signal::Signal::SIGINT).unwrap();
    });
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        text(&out.stdout).contains("run r1 cancelled"),
        "{}",
        text(&out.stdout)
    );
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(
        process_gone(pid.trim()),
        "the escaped `sleep` ({pid}) is still running"
    );
}

/// A step that replaces its own `stderr.log` with a FIFO: kfpl's own lines
/// for that log (the retry note) must not wait forever for a reader.
#[test]
fn a_log_replaced_by_a_fifo_does_not_hang_kfpl() {
    if !support::require_tool("mkfifo") {
        return;
    }
    let case = Case::new(
        "log-fifo",
        r#"pipeline p {
  step sly {
    image = "alpine"
    retries = 1
    command = "rm ../stderr.log; mkfifo ../stderr.log; exit 1"
  }
}
"#,
    );
    let out = case.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("exited with code 1"),
        "{}",
        stderr(&out)
    );
}

// ---- outputs ----------------------------------------------------------------------

/// An output that is a FIFO would block the read forever: it is refused.
#[test]
fn an_output_that_is_a_fifo_is_refused() {
    if !support::require_tool("mkfifo") {
        return;
    }
    let case = Case::new(
        "fifo",
        r#"pipeline p {
  step make {
    image = "alpine"
    output model
    command = "mkfifo $KFP_OUTPUTS/model"
  }
}
"#,
    );
    let out = case.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("kfpl::E0610"), "{err}");
    assert!(
        err.contains("output `model` is a FIFO, not a regular file"),
        "{err}"
    );
}

/// A symbolic link out of the outputs folder is not followed.
#[test]
fn an_output_that_is_a_symbolic_link_is_refused() {
    let case = Case::new(
        "symlink",
        r#"pipeline p {
  step make {
    image = "alpine"
    output model
    command = "ln -s /etc/hostname $KFP_OUTPUTS/model"
  }
}
"#,
    );
    let out = case.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("kfpl::E0610"), "{err}");
    assert!(err.contains("is a symbolic link"), "{err}");
}

/// The ported-sample bug (examples/fanout.kfp's `pick_best` wrote the wrong
/// path): a declared output never written is W0606, in `kfpl run` and in
/// `kfpl runs show`; the implicit `output` is not worth one.
#[test]
fn a_declared_output_never_written_is_w0606_in_run_and_show() {
    let case = Case::new(
        "w0606",
        r#"pipeline p {
  step pick_best {
    image = "alpine"
    output best
    command = "echo r2 > best"
  }
}
"#,
    );
    let out = case.run(&["--message-format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let warnings: Vec<Value> = stderr(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["code"] == "kfpl::W0606")
        .collect();
    assert_eq!(warnings.len(), 1, "{}", stderr(&out));
    assert!(
        warnings[0]["message"]
            .as_str()
            .unwrap()
            .contains("output `best` of step `pick_best` was declared but never written"),
        "{}",
        warnings[0]
    );
    let shown = case.kfpl(&["runs", "show", "r1"]).output();
    let shown = text(&shown.stdout);
    assert!(
        shown.contains("warning[W0606]: output `best` of step `pick_best`"),
        "{shown}"
    );
    let json = case.show_json("r1");
    assert_eq!(json["warnings"][0]["code"], "W0606", "{json}");
    assert_eq!(json["warnings"][0]["step"], "pick_best", "{json}");
}

// ---- metrics ----------------------------------------------------------------------

/// A metric printed only as `inf`: W0602 says what was printed.
#[test]
fn a_metric_printed_only_as_inf_says_so() {
    let case = Case::new(
        "w0602-inf",
        r#"pipeline p {
  step train {
    image = "alpine"
    metric "accuracy"
    command = "echo accuracy=inf"
  }
}
"#,
    );
    let out = case.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("kfpl::W0602"), "{err}");
    assert!(
        err.contains(
            "metric `accuracy` of step `train` was printed only as `inf`, never as a finite number"
        ),
        "{err}"
    );
    assert!(!err.contains("never printed"), "{err}");
}

/// A percentage too large for `× 100` is shown in scientific notation, not `inf%`.
#[test]
fn a_huge_percentage_is_not_inf() {
    let case = Case::new(
        "huge-percentage",
        r#"pipeline p {
  step train {
    image = "alpine"
    metric "accuracy": percentage
    command = "echo accuracy=1.5e308"
  }
}
"#,
    );
    let out = case.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        text(&out.stdout).contains("accuracy=1.5e310%"),
        "{}",
        text(&out.stdout)
    );
    let shown = case.kfpl(&["runs", "show", "r1"]).output();
    let shown = text(&shown.stdout);
    assert!(shown.contains("accuracy=1.5e310%"), "{shown}");
    assert!(!shown.contains("inf%"), "{shown}");
}

// ---- the records --------------------------------------------------------------------

/// Losing `kfpl.db` must not reuse `r1`: the old folder (its logs and
/// outputs) belongs to the old run.
#[test]
fn a_lost_database_does_not_reuse_run_folders() {
    let case = Case::new(
        "lost-db",
        r#"pipeline p {
  step pick {
    image = "alpine"
    output best
    command = "echo first run; echo old > $KFP_OUTPUTS/best"
  }
}
"#,
    );
    let out = case.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for file in ["kfpl.db", "kfpl.db-wal", "kfpl.db-shm"] {
        let _ = std::fs::remove_file(case.home.join(file));
    }
    case.dir.write(
        "main.kfp",
        r#"pipeline p {
  step pick {
    image = "alpine"
    output best
    command = "echo second run"
  }
}
"#,
    );
    let out = case.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        text(&out.stdout).contains("run r2 succeeded"),
        "{}",
        text(&out.stdout)
    );
    let old_log = std::fs::read_to_string(case.home.join("runs/r1/pick/stdout.log")).unwrap();
    assert_eq!(old_log, "first run\n", "the old run's log is untouched");
    let json = case.show_json("r2");
    assert_eq!(json["steps"][0]["outputs"]["best"], "", "{json}");
    assert!(
        json["run_dir"].as_str().unwrap().ends_with("/runs/r2"),
        "{json}"
    );
}

/// A state folder that cannot be written can still be listed and shown.
#[test]
fn a_read_only_state_folder_can_be_listed() {
    let case = Case::new(
        "read-only",
        r#"pipeline p {
  step hello {
    image = "alpine"
    command = "echo hi"
  }
}
"#,
    );
    let out = case.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let as_root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap();
    if as_root && !support::require_tool("setpriv") {
        return;
    }
    // Everyone may read and enter; no one but root may write.
    for path in [case.dir.path(), &case.home] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(
        case.home.join("kfpl.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::fs::set_permissions(&case.home, std::fs::Permissions::from_mode(0o555)).unwrap();
    let as_reader = |args: &[&str]| {
        let command = case.kfpl(args);
        if as_root {
            // Root ignores file modes: read as `nobody`.
            command.wrapped_in([
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--",
            ])
        } else {
            command
        }
        .output()
    };
    let list = as_reader(&["runs", "list"]);
    let show = as_reader(&["runs", "show", "r1"]);
    std::fs::set_permissions(&case.home, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(list.status.success(), "{}", stderr(&list));
    assert!(text(&list.stdout).contains("r1"), "{}", text(&list.stdout));
    assert!(show.status.success(), "{}", stderr(&show));
    assert!(
        text(&show.stdout).contains("hello"),
        "{}",
        text(&show.stdout)
    );
}

/// E0607's help fits the cause: a file that is not a database is not a
/// permission problem.
#[test]
fn a_damaged_database_gets_its_own_help() {
    let case = Case::new(
        "damaged-db",
        r#"pipeline p {
  step hello {
    image = "alpine"
    command = "echo hi"
  }
}
"#,
    );
    std::fs::create_dir_all(&case.home).unwrap();
    std::fs::write(case.home.join("kfpl.db"), vec![b'x'; 4096]).unwrap();
    for args in [&["run", "main.kfp"][..], &["runs", "list"][..]] {
        let out = case.kfpl(args).output();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("kfpl::E0607"), "{args:?}: {err}");
        assert!(
            err.contains("is damaged or is not a kfpl database"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("is writable"), "{args:?}: {err}");
    }
}

/// A database from a newer kfpl: the help says so.
#[test]
fn a_newer_database_gets_its_own_help() {
    let case = Case::new(
        "newer-db",
        r#"pipeline p {
  step hello {
    image = "alpine"
    command = "echo hi"
  }
}
"#,
    );
    std::fs::create_dir_all(&case.home).unwrap();
    let conn = rusqlite::Connection::open(case.home.join("kfpl.db")).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    for args in [&["run", "main.kfp"][..], &["runs", "list"][..]] {
        let out = case.kfpl(args).output();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("kfpl::E0607"), "{args:?}: {err}");
        assert!(err.contains("written by a newer kfpl"), "{args:?}: {err}");
    }
}

/// A record that cannot be written: the run's own record says it failed
/// (exit 1, E0611 in its message) when the end could still be written.
#[test]
fn a_lost_step_record_fails_the_recorded_run() {
    if !support::require_tool("python3") {
        return;
    }
    let case = Case::new(
        "lost-record",
        r#"pipeline p {
  step vandal {
    image = "python"
    metric "accuracy"
    command = ["python3", "-c", "import os, sqlite3; sqlite3.connect(os.environ['KFPL_HOME'] + '/kfpl.db', isolation_level=None).execute('DROP TABLE metrics'); print('accuracy=1')"]
  }
}
"#,
    );
    let out = case.run(&[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the end of step `vandal` was not recorded"),
        "{err}"
    );
    assert!(err.contains("kfpl::E0611"), "{err}");
    // `kfpl runs show` needs the dropped table: read the run's row itself.
    let conn = rusqlite::Connection::open(case.home.join("kfpl.db")).unwrap();
    let (status, exit, message): (String, i64, String) = conn
        .query_row(
            "SELECT status, exit_code, message FROM runs WHERE id = 'r1'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    assert_eq!((status.as_str(), exit), ("succeeded", 1), "{message}");
    assert!(message.contains("E0611"), "{message}");
}

/// Unmounts when dropped (before the folder under it is removed).
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// A full disk: the log is cut and the record stays `running`. That is a
/// failed run: exit 1, what was lost said on stderr (not stdout).
#[test]
fn a_full_disk_fails_the_run_and_says_what_was_lost() {
    let case = Case::new(
        "full-disk",
        r#"pipeline p {
  step spew {
    image = "alpine"
    command = "head -c 3000000 /dev/zero | tr '\\0' 'x' | fold -w 100"
  }
}
"#,
    );
    std::fs::create_dir_all(&case.home).unwrap();
    let is_root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap();
    let mounted = is_root
        && std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&case.home)
            .status()
            .is_ok_and(|s| s.success());
    if !support::require("root to mount a tmpfs", mounted) {
        return;
    }
    let _mount = Mounted(case.home.clone());
    let out = case.run(&[]);
    let (out_text, err) = (text(&out.stdout), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("kfpl::W0604"), "{err}");
    assert!(err.contains("the log of step `spew` is cut"), "{err}");
    assert!(err.contains("kfpl::E0611"), "{err}");
    assert!(
        err.contains("the record of run `r1` is incomplete"),
        "{err}"
    );
    assert!(
        out_text.contains("but its record is incomplete"),
        "{out_text}"
    );
    for code in ["W0604", "E0611"] {
        assert!(
            !out_text.contains(code),
            "{code} belongs on stderr:\n{out_text}"
        );
    }
}

// ---- the command line -----------------------------------------------------------------

/// `-p NAME` without `=` is a usage error: exit 2 (CLI.md), still with E0004.
#[test]
fn a_param_without_equals_is_a_usage_error() {
    let case = Case::new(
        "p-usage",
        r#"pipeline p {
  param n: number = 1
  step hello {
    image = "alpine"
    command = "echo $<n>"
  }
}
"#,
    );
    let out = case.kfpl(&["run", "main.kfp", "-p", "n"]).output();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("kfpl::E0004"), "{}", stderr(&out));
    assert!(!case.home.join("kfpl.db").exists(), "nothing ran");
}

// ---- retries ---------------------------------------------------------------------------

/// Argo v3.3 keeps retrying a task that is already running when another
/// task fails for good: failFast stops new tasks, and the DAG stays
/// `Running` (so its retry nodes get new attempts) while any node is
/// unfulfilled. kfpl does the same: `flaky` fails its first attempt after
/// `broken` has failed, and its retry still runs.
#[test]
fn a_running_step_keeps_its_retries_after_another_fails() {
    let case = Case::new(
        "retries",
        r#"pipeline p {
  step broken {
    image = "alpine"
    command = "touch ../../broken-ran; exit 3"
  }
  step flaky {
    image = "alpine"
    retries = 1
    command = "if [ -e tried ]; then echo second; else touch tried; while [ ! -e ../../broken-ran ]; do sleep 0.05; done; sleep 1; exit 1; fi"
  }
}
"#,
    );
    let out = case.run(&["--parallelism", "2"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json = case.show_json("r1");
    let flaky = &json["steps"][1];
    assert_eq!(flaky["name"], "flaky", "{json}");
    assert_eq!(flaky["attempts"], 2, "{json}");
    assert_eq!(flaky["status"], "succeeded", "{json}");
    assert_eq!(json["steps"][0]["status"], "failed", "{json}");
}
