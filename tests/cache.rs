//! Step caching under `kfpl run` (`cache = true`), driven through the
//! binary: a second identical run takes the step over as `cached` with its
//! outputs and metrics, `kfpl runs why` names the run it reused or the part
//! of the key that changed, `--no-cache` runs it, a failed step is never a
//! source, a step downstream of a re-run step is cached when its inputs did
//! not change, and a cached run keeps its files when the earlier run's
//! folder is removed. W0611/W0612 are said once at the start.

mod support;

#[path = "web/http.rs"]
mod http;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::{TempDir, stderr, stdout};

/// A folder with `main.kfp` and its own state folder.
struct Project {
    dir: TempDir,
}

impl Project {
    fn new(name: &str, program: &str) -> Project {
        let dir = TempDir::new(&format!("cache-{name}"));
        dir.write("main.kfp", program);
        Project { dir }
    }

    fn home(&self) -> std::path::PathBuf {
        self.dir.path().join("home")
    }

    /// `kfpl ARGS` here, with this project's state.
    fn kfpl(&self, args: &[&str]) -> Output {
        support::kfpl(args)
            .current_dir(self.dir.path())
            .env("KFPL_HOME", self.home())
            .output()
    }

    /// `kfpl run main.kfp ARGS`, which must exit with `code`.
    fn run(&self, args: &[&str], code: i32) -> Output {
        let mut all = vec!["run", "main.kfp"];
        all.extend_from_slice(args);
        let out = self.kfpl(&all);
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        out
    }

    /// `kfpl runs why RUN STEP`'s answer.
    fn why(&self, run: &str, step: &str) -> String {
        let out = self.kfpl(&["runs", "why", run, step]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    }

    /// `kfpl runs show RUN --format json`.
    fn show(&self, run: &str) -> Value {
        let out = self.kfpl(&["runs", "show", run, "--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).expect("runs show prints JSON")
    }
}

/// A run's step record, by name.
fn step<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no step {name} in {run}"))
}

const TRAIN: &str = r#"pipeline demo {
  param lr: number = 0.1
  step train {
    image = "python:3.12"
    command = "echo training; echo model-$<lr> > $KFP_OUTPUTS/output; echo acc=0.9"
    metric "acc"
    cache = true
  }
  step report {
    image = "alpine"
    command = "echo report $<train.output>"
  }
}
"#;

#[test]
fn an_identical_second_run_reuses_the_cached_step_and_says_which_run() {
    let project = Project::new("identical", TRAIN);
    let first = project.run(&[], 0);
    assert!(stdout(&first).contains("| training"), "{}", stdout(&first));
    let second = project.run(&[], 0);
    assert!(
        !stdout(&second).contains("| training"),
        "a cached step does not run: {}",
        stdout(&second)
    );
    assert!(
        stderr(&second).contains("= train cached (reused run r1 step train)"),
        "{}",
        stderr(&second)
    );
    // Its output reaches the next step exactly as if it had run.
    assert!(
        stdout(&second).contains("| report model-0.1"),
        "{}",
        stdout(&second)
    );
    let run = project.show("r2");
    let train = step(&run, "train");
    assert_eq!(train["status"], "cached");
    assert_eq!(train["outputs"]["output"], "model-0.1");
    assert_eq!(train["cached_from"]["run"], "r1");
    assert_eq!(train["cached_from"]["step"], "train");
    let metric = run["metrics"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == "acc"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(metric["value"], 0.9, "{run}");
    assert_eq!(step(&run, "report")["status"], "succeeded");
    let why = project.why("r2", "train");
    assert!(
        why.starts_with("r2 train: cached: reused run r1 step train (key "),
        "{why}"
    );
    assert!(project.why("r2", "report").contains("not cached"));
    // `runs show` shows it as cached, never as skipped.
    let table = stdout(&project.kfpl(&["runs", "show", "r2"]));
    assert!(
        table.contains("cached: reused run r1 step train"),
        "{table}"
    );
    assert!(!table.contains("skipped"), "{table}");
}

#[test]
fn changing_one_param_reruns_the_step_and_why_names_the_param() {
    let project = Project::new("param", TRAIN);
    project.run(&[], 0);
    let changed = project.run(&["-p", "lr=0.2"], 0);
    assert!(
        stdout(&changed).contains("| training"),
        "{}",
        stdout(&changed)
    );
    assert_eq!(step(&project.show("r2"), "train")["status"], "succeeded");
    let why = project.why("r2", "train");
    assert!(why.contains("ran: the key changed since run r1"), "{why}");
    assert!(why.contains("param lr: 0.1 → 0.2"), "{why}");
    // Back to 0.1: the first run is the source again.
    project.run(&[], 0);
    assert!(
        project
            .why("r3", "train")
            .contains("reused run r1 step train")
    );
}

#[test]
fn no_cache_runs_the_step_and_records_it_for_later_runs() {
    let project = Project::new("no-cache", TRAIN);
    project.run(&[], 0);
    let forced = project.run(&["--no-cache"], 0);
    assert!(
        stdout(&forced).contains("| training"),
        "{}",
        stdout(&forced)
    );
    assert!(
        project
            .why("r2", "train")
            .contains("`--no-cache` was given")
    );
    project.run(&[], 0);
    assert!(
        project
            .why("r3", "train")
            .contains("reused run r2 step train"),
        "the latest successful run is the source"
    );
}

#[test]
fn a_failed_step_is_never_reused() {
    let project = Project::new("failed", "");
    let flag = project.dir.path().join("flag");
    project.dir.write(
        "main.kfp",
        format!(
            "pipeline p {{\n  step flaky {{\n    image = \"alpine\"\n    command = \"cat {}\"\n    cache = true\n  }}\n}}\n",
            flag.display()
        ),
    );
    project.run(&[], 1);
    std::fs::write(&flag, "now there\n").expect("flag written");
    let second = project.run(&[], 0);
    assert!(
        stdout(&second).contains("flaky | now there"),
        "{}",
        stdout(&second)
    );
    let why = project.why("r2", "flaky");
    assert!(
        why.contains("did not succeed or whose files are gone"),
        "{why}"
    );
    project.run(&[], 0);
    assert!(
        project
            .why("r3", "flaky")
            .contains("reused run r2 step flaky")
    );
}

#[test]
fn a_step_downstream_of_a_rerun_step_is_cached_unless_its_inputs_changed() {
    let project = Project::new(
        "downstream",
        r#"pipeline p {
  param n: number = 2
  step parity {
    image = "alpine"
    command = "if [ $(( $<n> % 2 )) = 0 ]; then echo even; else echo odd; fi > $KFP_OUTPUTS/output"
    cache = true
  }
  step use {
    image = "alpine"
    command = "echo got $<parity.output>"
    cache = true
  }
}
"#,
    );
    project.run(&["-p", "n=2"], 0);
    let same_parity = project.run(&["-p", "n=4"], 0);
    assert_eq!(step(&project.show("r2"), "parity")["status"], "succeeded");
    assert_eq!(step(&project.show("r2"), "use")["status"], "cached");
    assert!(stderr(&same_parity).contains("= use cached (reused run r1 step use)"));
    project.run(&["-p", "n=5"], 0);
    assert_eq!(step(&project.show("r3"), "use")["status"], "succeeded");
    let why = project.why("r3", "use");
    assert!(why.contains("output parity.output: even → odd"), "{why}");
}

#[test]
fn a_cached_run_keeps_its_files_when_the_source_folder_is_removed() {
    let project = Project::new("files", TRAIN);
    project.run(&[], 0);
    project.run(&[], 0);
    let runs = project.home().join("runs");
    std::fs::remove_dir_all(runs.join("r1")).expect("r1's folder removed");
    let log = runs.join("r2/train/stdout.log");
    let kept = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        kept.contains("training"),
        "r2's log is its own link: {kept:?}"
    );
    assert!(Path::new(&runs.join("r2/train/outputs/output")).is_file());
    // r1 can no longer be a source, and r2 never was (it did not run): the step runs.
    let third = project.run(&[], 0);
    assert!(stdout(&third).contains("| training"), "{}", stdout(&third));
}

#[test]
fn run_information_in_a_cached_step_is_w0611_and_it_always_runs() {
    let project = Project::new(
        "w0611",
        "pipeline p {\n  step tag {\n    image = \"alpine\"\n    command = \"echo $<workflow.uid>\"\n    cache = true\n  }\n}\n",
    );
    let out = project.run(&["--message-format", "json"], 0);
    let warnings: Vec<Value> = stderr(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["code"] == "kfpl::W0611")
        .collect();
    assert_eq!(warnings.len(), 1, "{}", stderr(&out));
    assert!(
        warnings[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("reads `$<workflow.uid>`"),
        "{}",
        warnings[0]
    );
    project.run(&[], 0);
    assert!(
        project
            .why("r2", "tag")
            .contains("run information workflow.uid")
    );
}

#[test]
fn a_cached_step_with_data_claims_is_w0612() {
    let project = Project::new(
        "w0612",
        "pipeline p {\n  step prep {\n    image = \"alpine\"\n    command = \"echo prep\"\n    data = [\"datasets:/data\"]\n    cache = true\n  }\n}\n",
    );
    let out = project.kfpl(&["run", "main.kfp", "--message-format", "json"]);
    // Claims need a private mount namespace; without one the run stops
    // before it starts (E0603), and so before its warnings.
    let mounts = !stderr(&out).contains("kfpl::E0603");
    if !support::require("a private mount namespace for `data` claims", mounts) {
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let w0612: Vec<Value> = stderr(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["code"] == "kfpl::W0612")
        .collect();
    assert_eq!(w0612.len(), 1, "{}", stderr(&out));
    assert!(
        w0612[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("mounts `datasets`"),
        "{}",
        w0612[0]
    );
}

#[test]
fn runs_why_names_a_missing_step() {
    let project = Project::new("missing", TRAIN);
    project.run(&[], 0);
    let out = project.kfpl(&["runs", "why", "r1", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("run r1 has no step `nope`"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("its steps: train, report"),
        "{}",
        stderr(&out)
    );
}

/// Records written before caching (schema 4) are migrated to schema 5:
/// their steps have no key, so they are "not cached" and never a source.
#[test]
fn schema_4_records_are_migrated_and_are_no_source() {
    let project = Project::new(
        "schema4",
        "pipeline p {\n  step hello {\n    image = \"alpine\"\n    command = \"echo hello\"\n    cache = true\n  }\n}\n",
    );
    std::fs::create_dir_all(project.home()).expect("state folder");
    let conn = rusqlite::Connection::open(project.home().join("kfpl.db")).expect("db");
    for version in ["schema.sql", "schema2.sql", "schema3.sql", "schema4.sql"] {
        let sql = std::fs::read_to_string(support::root().join("src/run/store").join(version))
            .expect("migration");
        conn.execute_batch(&sql).expect("migration runs");
    }
    conn.pragma_update(None, "user_version", 4)
        .expect("version");
    let old_dir = project.dir.path().join("old");
    conn.execute_batch(&format!(
        "INSERT INTO experiments (id, name, created_ms) VALUES (1, 'default', 0);
         INSERT INTO runs (seq, id, experiment_id, pipeline, pipeline_name, source_path,
           source_hash, source, params, status, started_ms, ended_ms, pid, run_dir)
         VALUES (1, 'r1', 1, 'p', 'p', 'main.kfp', '0', '', '{{}}', 'succeeded', 0, 1, 1, '{0}');
         INSERT INTO steps (run_id, name, position, image, status, step_dir, step)
         VALUES ('r1', 'hello', 0, 'alpine', 'succeeded', '{0}/hello', 'hello');",
        old_dir.display()
    ))
    .expect("old records");
    drop(conn);
    std::fs::create_dir_all(old_dir.join("hello")).expect("old folder");
    assert!(project.why("r1", "hello").contains("not cached"));
    let out = project.run(&[], 0);
    assert!(stdout(&out).contains("| hello"), "{}", stdout(&out));
    assert!(
        project
            .why("r2", "hello")
            .contains("no earlier run of this step to reuse")
    );
    let conn = rusqlite::Connection::open(project.home().join("kfpl.db")).expect("db");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("version");
    assert_eq!(version, 5);
}

/// A `git` command in `dir` that must succeed; its stdout, trimmed.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git starts");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// A step that follows a repository's default branch is cached while the
/// branch stays, and runs again once it moves: the key holds the commit.
#[test]
fn the_sync_source_commit_is_part_of_the_key() {
    if !support::require_tool("git") {
        return;
    }
    let project = Project::new(
        "sync",
        "pipeline p {\n  step show {\n    image = \"alpine\"\n    sync_source = \"repo\"\n    command = \"cat code/repo/version.txt\"\n    cache = true\n  }\n}\n",
    );
    let repo = project.dir.path().join("repo");
    std::fs::create_dir_all(&repo).expect("repo folder");
    git(&repo, &["init", "--quiet"]);
    std::fs::write(repo.join("version.txt"), "v1\n").expect("v1");
    git(&repo, &["add", "version.txt"]);
    git(&repo, &["commit", "--quiet", "-m", "first"]);
    let first = git(&repo, &["rev-parse", "HEAD"]);
    project.run(&[], 0);
    project.run(&[], 0);
    assert!(
        project
            .why("r2", "show")
            .contains("reused run r1 step show")
    );
    std::fs::write(repo.join("version.txt"), "v2\n").expect("v2");
    git(&repo, &["commit", "--quiet", "-am", "second"]);
    let second = git(&repo, &["rev-parse", "HEAD"]);
    let out = project.run(&[], 0);
    assert!(stdout(&out).contains("show | v2"), "{}", stdout(&out));
    let why = project.why("r3", "show");
    assert!(why.contains("sync_source: "), "{why}");
    assert!(why.contains(&format!("@{first} → ")), "{why}");
    assert!(why.contains(&format!("@{second}")), "{why}");
}

/// The code a command reads through a `let` is part of the command.
#[test]
fn changing_the_code_in_a_let_reruns_the_step() {
    let program = |word: &str| {
        format!(
            "pipeline p {{\n  let code = \"echo {word}\"\n  step say {{\n    image = \"alpine\"\n    command = [\"sh\", \"-c\", code]\n    cache = true\n  }}\n}}\n"
        )
    };
    let project = Project::new("let", &program("one"));
    project.run(&[], 0);
    project.dir.write("main.kfp", program("two"));
    let out = project.run(&[], 0);
    assert!(stdout(&out).contains("say | two"), "{}", stdout(&out));
    assert!(project.why("r2", "say").contains("command changed"));
}

/// A `kfpl ui` this test started, stopped through its own handle when
/// dropped (also when an assertion fails); its stdout stays open meanwhile.
struct Ui {
    child: std::process::Child,
    _stdout: std::io::BufReader<std::process::ChildStdout>,
    addr: String,
}

impl Ui {
    fn start(project: &Project) -> Ui {
        let mut child = support::kfpl(["ui", "--port", "0"])
            .current_dir(project.dir.path())
            .env("KFPL_HOME", project.home())
            .command()
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("kfpl ui starts");
        let (addr, stdout) = http::listening(&mut child);
        Ui {
            child,
            _stdout: stdout,
            addr,
        }
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `kfpl ui` shows a cached step as `cached`, with the run it came from.
#[test]
fn kfpl_ui_shows_a_cached_step_and_its_source() {
    let project = Project::new("ui", TRAIN);
    project.run(&[], 0);
    project.run(&[], 0);
    let ui = Ui::start(&project);
    let run = http::get(&ui.addr, "/runs/r2");
    assert_eq!(run.status, 200);
    let html = run.header("content-type").unwrap_or_default();
    assert!(html.starts_with("text/html"), "{html}");
    assert!(run.body.contains("st-cached"), "{}", run.body);
    let step = http::get(&ui.addr, "/runs/r2?step=train");
    assert!(step.body.contains("badge st-cached"), "{}", step.body);
    assert!(step.body.contains("Cached from"), "{}", step.body);
    assert!(step.body.contains("href=\"/runs/r1\""), "{}", step.body);
}

/// A file output keys its readers by its content, not by its place (which
/// names the run), and a cached producer's file is read from its own run.
const FILES: &str = r#"pipeline p {
  param n: number = 2
  step make {
    image = "alpine"
    output model: file
    command = "echo weights-$<n> > $KFP_OUTPUTS/model"
    cache = true
  }
  step stamp {
    image = "alpine"
    output data: file
    command = "echo fixed > $KFP_OUTPUTS/data"
  }
  step read {
    image = "alpine"
    command = "cat $<make.model> $<stamp.data>"
    cache = true
  }
}
"#;

#[test]
fn a_file_input_is_keyed_by_its_content_and_a_cached_file_is_read_from_its_own_run() {
    let project = Project::new("file-inputs", FILES);
    project.run(&[], 0);
    // `stamp` runs again and keeps its file in r2; `read` sees the same
    // content, so it is cached though the path differs.
    let second = project.run(&[], 0);
    let r2 = project.show("r2");
    assert_eq!(step(&r2, "make")["status"], "cached");
    assert_eq!(step(&r2, "stamp")["status"], "succeeded");
    assert_eq!(step(&r2, "read")["status"], "cached", "{}", stderr(&second));
    let model = step(&r2, "make")["outputs"]["model"]
        .as_str()
        .unwrap_or_default();
    assert!(model.starts_with("r2/make/outputs/model ("), "{model}");
    // A new value changes the file: `read` runs, and `why` names the file.
    let third = project.run(&["-p", "n=3"], 0);
    assert!(stdout(&third).contains("weights-3"), "{}", stdout(&third));
    let why = project.why("r3", "read");
    assert!(why.contains("make.model"), "{why}");
    // With r1 and r2 gone, r3's files are whole: its `read` ran on them.
    let runs = project.home().join("runs");
    for old in ["r1", "r2"] {
        std::fs::remove_dir_all(runs.join(old)).expect("an old run's folder removed");
    }
    let kept = std::fs::read_to_string(runs.join("r3/make/outputs/model")).unwrap_or_default();
    assert_eq!(kept, "weights-3\n");
}
