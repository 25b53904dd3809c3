//! `kfpl run` on language v2 part 1, end to end through the binary:
//! conditions (`if`/`else`/`when`), `for` loops, `repeat`, `finally` and
//! run information. Inputs are `tests/run_v2/*.kfp`; each test has its own
//! `KFPL_HOME`, and the steps leave files in a scratch folder (`-p dir=…`)
//! that say what each branch, iteration and pass did. Records are read back
//! with `kfpl runs show --format json`. Waits are bounded polls on files,
//! never timing assertions.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use support::{TempDir, root, text};

/// A working directory, a state folder and a scratch folder for one test.
struct Env {
    _root: TempDir,
    cwd: PathBuf,
    home: PathBuf,
    scratch: PathBuf,
}

impl Env {
    fn new(name: &str) -> Env {
        let root = TempDir::new(&format!("run-v2-{name}"));
        let cwd = root.join("cwd");
        let home = root.join("home");
        let scratch = root.join("scratch");
        for dir in [&cwd, &home, &scratch] {
            std::fs::create_dir_all(dir).unwrap();
        }
        Env {
            _root: root,
            cwd,
            home,
            scratch,
        }
    }

    fn args(&self, name: &str, params: &[&str]) -> Vec<String> {
        let file = root().join("tests/run_v2").join(format!("{name}.kfp"));
        let mut args = vec!["run".to_string(), file.display().to_string()];
        args.extend(["-p".to_string(), format!("dir={}", self.scratch.display())]);
        for param in params {
            args.extend(["-p".to_string(), (*param).to_string()]);
        }
        args
    }

    fn command(&self, args: &[String]) -> support::Kfpl {
        support::kfpl(args)
            .current_dir(&self.cwd)
            .env("KFPL_HOME", &self.home)
    }

    /// `kfpl run tests/run_v2/NAME.kfp -p dir=SCRATCH -p PARAM…`
    fn run(&self, name: &str, params: &[&str]) -> Output {
        self.command(&self.args(name, params)).output()
    }

    fn spawn(&self, name: &str, params: &[&str]) -> Child {
        self.command(&self.args(name, params))
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn kfpl(&self, args: &[&str]) -> Output {
        support::kfpl(args)
            .current_dir(&self.cwd)
            .env("KFPL_HOME", &self.home)
            .output()
    }

    /// `kfpl runs show RUN --format json`
    fn show(&self, run: &str) -> Value {
        let out = self.kfpl(&["runs", "show", run, "--format", "json"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The scratch files that exist, sorted.
    fn touched(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.scratch)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn scratch_text(&self, name: &str) -> String {
        std::fs::read_to_string(self.scratch.join(name)).unwrap_or_default()
    }

    /// A scratch file's lines, sorted (iterations may run in any order).
    fn sorted_lines(&self, name: &str) -> Vec<String> {
        let mut lines: Vec<String> = self.scratch_text(name).lines().map(String::from).collect();
        lines.sort();
        lines
    }
}

/// `(record name, status)` of every step record, in order.
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

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
        .collect()
}

/// The record called `name`.
fn record<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no record `{name}` in {run:#}"))
}

fn skipped(run: &Value) -> usize {
    statuses(run).iter().filter(|(_, s)| s == "skipped").count()
}

fn succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn failed(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn a_true_condition_runs_its_branch_and_skips_the_others() {
    let env = Env::new("heads");
    succeeded(&env.run("conditions", &[]));
    let run = env.show("r1");
    assert_eq!(run["status"], "succeeded");
    assert_eq!(
        statuses(&run),
        pairs(&[
            ("flip", "succeeded"),
            ("heads", "succeeded"),
            ("never", "skipped"),
            ("tails", "skipped"),
            ("other", "skipped"),
            ("maybe", "skipped"),
            ("last", "succeeded"),
        ])
    );
    assert_eq!(skipped(&run), 4);
    assert_eq!(env.touched(), ["heads", "last"]);
    assert_eq!(
        record(&run, "never")["message"],
        "its condition `$<deploy> == false` is false"
    );
    assert_eq!(
        record(&run, "tails")["message"],
        "its condition `$<flip.output> == \"heads\" and $<deploy>` is true"
    );
    assert_eq!(
        record(&run, "maybe")["message"],
        "its `when` (`not $<deploy>`) is false"
    );
}

#[test]
fn else_if_and_when_choose_by_value_and_an_after_on_skipped_steps_still_runs() {
    let env = Env::new("tails");
    succeeded(&env.run("conditions", &["coin=tails"]));
    let run = env.show("r1");
    assert_eq!(
        statuses(&run),
        pairs(&[
            ("flip", "succeeded"),
            ("heads", "skipped"),
            ("never", "skipped"),
            ("tails", "succeeded"),
            ("other", "skipped"),
            ("maybe", "skipped"),
            ("last", "succeeded"),
        ])
    );
    assert_eq!(env.touched(), ["last", "tails"]);

    let env = Env::new("edge");
    succeeded(&env.run("conditions", &["coin=edge", "deploy=false"]));
    let run = env.show("r1");
    assert_eq!(skipped(&run), 3, "{:?}", statuses(&run));
    assert_eq!(env.touched(), ["last", "maybe", "other"]);
    // The human view says skipped too, never succeeded.
    let shown = env.kfpl(&["runs", "show", "r1"]);
    let table = text(&shown.stdout);
    let heads = table.lines().find(|l| l.starts_with("heads ")).unwrap();
    assert!(heads.contains("skipped"), "{table}");
}

#[test]
fn a_hostile_value_in_a_condition_is_compared_as_data() {
    for hostile in [
        "x\" || \"a\" == \"a",
        "x' || 'a' == 'a",
        "heads) || (true",
        "\") or (\"1\" == \"1",
    ] {
        let env = Env::new("hostile");
        succeeded(&env.run("hostile", &[&format!("coin={hostile}")]));
        let run = env.show("r1");
        assert_eq!(
            statuses(&run),
            pairs(&[
                ("flip", "succeeded"),
                ("heads", "skipped"),
                ("same", "succeeded"),
                ("differs", "succeeded"),
            ]),
            "{hostile}"
        );
        assert_eq!(env.touched(), ["differs", "same"], "{hostile}");
    }
}

#[test]
fn loops_run_one_instance_an_item_named_by_index_and_item() {
    let env = Env::new("loops");
    succeeded(&env.run("loops", &[]));
    let run = env.show("r1");
    assert_eq!(run["status"], "succeeded");
    assert_eq!(
        statuses(&run),
        pairs(&[
            ("prepare", "succeeded"),
            ("train[0] lr=0.1", "succeeded"),
            ("train[1] lr=0.2", "succeeded"),
            ("evaluate[0] lr=0.1", "succeeded"),
            ("evaluate[1] lr=0.2", "succeeded"),
            ("show[0] c={\"lr\":\"0.1\",\"name\":\"a\"}", "succeeded"),
            ("show[1] c={\"lr\":\"0.2\",\"name\":\"b\"}", "succeeded"),
            ("shard[0] s=s1", "succeeded"),
            ("shard[1] s=s2", "succeeded"),
            ("shard[2] s=s3", "succeeded"),
            ("pick", "succeeded"),
        ])
    );
    let train1 = record(&run, "train[1] lr=0.2");
    assert_eq!(train1["step"], "train");
    assert_eq!(train1["iteration"], 1);
    assert_eq!(train1["outputs"]["accuracy"], "0.2");
    // Each iteration reads its own item and its own upstream output.
    assert_eq!(env.sorted_lines("train.log"), ["lr=0.1", "lr=0.2"]);
    assert_eq!(env.sorted_lines("evaluate.log"), ["0.1:0.1", "0.2:0.2"]);
    assert_eq!(env.sorted_lines("show.log"), ["a=0.1", "b=0.2"]);
    assert_eq!(
        env.sorted_lines("shard.log"),
        [
            "s1 sweep-r1-shard-0",
            "s2 sweep-r1-shard-1",
            "s3 sweep-r1-shard-2"
        ]
    );
    // Outside the loop: a JSON list of strings, in item order.
    assert_eq!(env.scratch_text("pick"), r#"["0.1","0.2"]"#);
    // `parallelism = 1`: an iteration runs only after the one before ended.
    let time = |name: &str, field: &str| record(&run, name)[field].as_str().unwrap().to_string();
    assert!(time("train[1] lr=0.2", "started_at") >= time("evaluate[0] lr=0.1", "ended_at"));

    // The run table names iterations too.
    let out = env.kfpl(&["runs", "show", "r1"]);
    assert!(
        text(&out.stdout).contains("train[1] lr=0.2"),
        "{}",
        text(&out.stdout)
    );
    // So does `runs compare`, beside a second run.
    succeeded(&env.run("loops", &["lrs=[0.5]"]));
    let out = env.kfpl(&["runs", "compare", "r1", "r2"]);
    succeeded(&out);
    let table = text(&out.stdout);
    assert!(table.contains("metric train[1] lr=0.2.acc"), "{table}");
    assert!(table.contains("metric train[0] lr=0.5.acc"), "{table}");
    let second = env.show("r2");
    assert!(statuses(&second).contains(&("train[0] lr=0.5".into(), "succeeded".into())));
    assert_eq!(env.scratch_text("pick"), r#"["0.5"]"#);
}

#[test]
fn an_empty_list_runs_no_iteration_and_is_not_a_failure() {
    let env = Env::new("empty");
    succeeded(&env.run("loops", &["lrs=[]"]));
    let run = env.show("r1");
    assert!(!statuses(&run).iter().any(|(n, _)| n.starts_with("train")));
    assert_eq!(env.scratch_text("pick"), "[]");
}

#[test]
fn a_failed_iteration_fails_the_loop_but_the_others_run() {
    let env = Env::new("bad-item");
    failed(&env.run("loops", &[r#"lrs=[0.1, "bad", 0.3]"#]));
    let run = env.show("r1");
    assert_eq!(run["status"], "failed");
    let status = |name: &str| record(&run, name)["status"].as_str().unwrap().to_string();
    assert_eq!(status("train[0] lr=0.1"), "succeeded");
    assert_eq!(status("train[1] lr=bad"), "failed");
    assert_eq!(status("train[2] lr=0.3"), "succeeded");
    assert_eq!(status("evaluate[1] lr=bad"), "skipped");
    assert_eq!(status("evaluate[2] lr=0.3"), "succeeded");
    assert_eq!(status("pick"), "skipped");
    assert_eq!(
        record(&run, "pick")["message"],
        "it depends on `train[1] lr=bad`, which failed"
    );
}

#[test]
fn a_missing_field_of_a_run_time_item_fails_that_iteration_naming_its_index() {
    let env = Env::new("fields");
    failed(&env.run("fields", &[]));
    let run = env.show("r1");
    let greet1 = record(&run, "greet[1] item={\"other\":\"b\"}");
    assert_eq!(greet1["status"], "failed");
    assert_eq!(
        greet1["message"],
        "item 1 of `for item` has no field `name`: {\"other\":\"b\"}"
    );
    assert_eq!(env.sorted_lines("greet.log"), ["a", "c"]);
}

#[test]
fn blocks_nest_in_any_order() {
    let env = Env::new("nested");
    succeeded(&env.run("nested", &[]));
    let run = env.show("r1");
    let names = |prefix: &str, status: &str| -> Vec<String> {
        statuses(&run)
            .into_iter()
            .filter(|(n, s)| n.starts_with(prefix) && s == status)
            .map(|(n, _)| n)
            .collect()
    };
    assert_eq!(
        names("two", "succeeded"),
        ["two[1][0] a=2 b=x", "two[1][1] a=2 b=y"]
    );
    assert_eq!(
        names("two", "skipped"),
        ["two[0][0] a=1 b=x", "two[0][1] a=1 b=y"]
    );
    assert_eq!(
        names("odd", "skipped"),
        ["odd[0][1] a=1 b=y", "odd[1][1] a=2 b=y"]
    );
    assert_eq!(
        names("work", "succeeded"),
        [
            "work#1[0] k=1",
            "work#1[1] k=2",
            "work#2[0] k=1",
            "work#2[1] k=2"
        ]
    );
    assert_eq!(names("inc", "succeeded"), ["inc#1", "inc#2"]);
    assert_eq!(names("yay", "succeeded"), ["yay"]);
    assert_eq!(names("nay", "skipped"), ["nay"]);
    // Outside two loops: a list of lists, in item order.
    assert_eq!(env.scratch_text("all"), r#"[["1","1"],["2","2"]]"#);
    assert_eq!(env.sorted_lines("work"), ["0-1", "0-2", "1-1", "1-2"]);
    assert_eq!(env.sorted_lines("odd"), ["odd 1 x", "odd 2 x"]);
    assert_eq!(env.scratch_text("yay"), "yay nest-r1-yay\n");
}

#[test]
fn a_repeat_runs_passes_until_its_condition_holds_with_carried_values() {
    let env = Env::new("repeat");
    succeeded(&env.run("repeat", &[]));
    let run = env.show("r1");
    assert_eq!(
        statuses(&run),
        pairs(&[
            ("next#1", "succeeded"),
            ("next#2", "succeeded"),
            ("next#3", "succeeded"),
            ("after", "succeeded"),
        ])
    );
    assert_eq!(record(&run, "next#2")["pass"], 2);
    assert_eq!(record(&run, "next#3")["outputs"]["output"], "3");
    assert_eq!(env.sorted_lines("passes"), ["pass 0", "pass 1", "pass 2"]);
    assert_eq!(
        env.scratch_text("after"),
        "3",
        "readers outside see the last pass"
    );
}

#[test]
fn a_repeat_that_reaches_its_limit_fails_the_run_saying_so() {
    let env = Env::new("repeat-max");
    let out = env.run("repeat", &["tries=2"]);
    failed(&out);
    assert!(
        text(&out.stdout).contains(
            "why: the repeat reached its limit of 2 passes and `until $<next.output> >= 3` never held"
        ),
        "{}",
        text(&out.stdout)
    );
    let run = env.show("r1");
    assert_eq!(run["status"], "failed");
    assert_eq!(
        run["message"],
        "the repeat reached its limit of 2 passes and `until $<next.output> >= 3` never held"
    );
    assert_eq!(
        statuses(&run),
        pairs(&[
            ("next#1", "succeeded"),
            ("next#2", "succeeded"),
            ("after", "skipped"),
        ])
    );
}

#[test]
fn finally_runs_after_success_and_failure_and_reads_run_information() {
    let env = Env::new("finally-ok");
    succeeded(&env.run("finally", &[]));
    assert_eq!(
        env.scratch_text("notify"),
        "cleanup-r1 r1 Succeeded cleanup-r1-notify\n"
    );
    let run = env.show("r1");
    assert_eq!(
        statuses(&run),
        pairs(&[
            ("work", "succeeded"),
            ("later", "succeeded"),
            ("notify", "succeeded"),
            ("close", "succeeded"),
        ])
    );

    let env = Env::new("finally-failed");
    failed(&env.run("finally", &["code=3"]));
    assert_eq!(
        env.scratch_text("notify"),
        "cleanup-r1 r1 Failed cleanup-r1-notify\n"
    );
    let run = env.show("r1");
    assert_eq!(record(&run, "later")["status"], "skipped");
    assert_eq!(record(&run, "notify")["status"], "succeeded");
    assert_eq!(run["message"], "step `work` failed");
}

#[test]
fn a_failing_finally_step_fails_the_run() {
    let env = Env::new("finally-fails");
    failed(&env.run("finally", &["final=4"]));
    let run = env.show("r1");
    assert_eq!(run["status"], "failed");
    assert_eq!(record(&run, "close")["status"], "failed");
    assert_eq!(record(&run, "close")["exit_code"], 4);
}

#[test]
fn ctrl_c_stops_the_steps_then_runs_finally() {
    let env = Env::new("finally-sigint");
    let child = env.spawn("finally", &["sleep=60"]);
    wait_for(&env.scratch.join("started"));
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
    let out = child.wait_with_output().unwrap();
    failed(&out);
    assert_eq!(
        env.scratch_text("notify"),
        "cleanup-r1 r1 Failed cleanup-r1-notify\n"
    );
    let run = env.show("r1");
    assert_eq!(run["status"], "cancelled");
    assert_eq!(
        statuses(&run),
        pairs(&[
            ("work", "cancelled"),
            ("later", "skipped"),
            ("notify", "succeeded"),
            ("close", "succeeded"),
        ])
    );
}

#[test]
fn a_second_ctrl_c_stops_the_finally_steps_too() {
    let env = Env::new("finally-twice");
    let child = env.spawn("finally", &["sleep=60", "linger=60"]);
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    wait_for(&env.scratch.join("started"));
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
    wait_for(&env.scratch.join("closing"));
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
    let out = child.wait_with_output().unwrap();
    failed(&out);
    let run = env.show("r1");
    assert_eq!(run["status"], "cancelled");
    assert_eq!(
        statuses(&run),
        pairs(&[
            ("work", "cancelled"),
            ("later", "skipped"),
            ("notify", "succeeded"),
            ("close", "cancelled"),
        ])
    );
}

/// Waits (bounded) until `path` exists.
fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn resume_reuses_the_iterations_of_the_same_item() {
    let env = Env::new("resume");
    failed(&env.run("loops", &[r#"lrs=[0.1, "bad", 0.3]"#]));
    let mut args = env.args("loops", &["lrs=[0.1, 0.2, 0.3]"]);
    args.extend(["--resume".to_string(), "r1".to_string()]);
    succeeded(&env.command(&args).output());
    let run = env.show("r2");
    let status = |name: &str| record(&run, name)["status"].as_str().unwrap().to_string();
    assert_eq!(status("prepare"), "reused");
    assert_eq!(status("train[0] lr=0.1"), "reused");
    assert_eq!(status("train[1] lr=0.2"), "succeeded", "a new item runs");
    assert_eq!(status("train[2] lr=0.3"), "reused");
    assert_eq!(status("pick"), "succeeded");
    assert_eq!(env.scratch_text("pick"), r#"["0.1","0.2","0.3"]"#);
}

#[test]
fn loop_iterations_share_the_gpus() {
    let env = Env::new("gpus");
    let file = env.cwd.join("gpus.kfp");
    std::fs::write(
        &file,
        r#"pipeline gpus {
  for i in [1, 2, 3, 4] {
    step train { image = "alpine" gpus = 1 command = "echo $CUDA_VISIBLE_DEVICES" }
  }
}
"#,
    )
    .unwrap();
    let out = support::kfpl(["run", "gpus.kfp"])
        .current_dir(&env.cwd)
        .env("KFPL_HOME", &env.home)
        .env("KFPL_GPUS", "2")
        .output();
    succeeded(&out);
    let run = env.show("r1");
    let gpus: Vec<String> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["gpus"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(gpus.len(), 4);
    assert!(gpus.iter().all(|g| g == "0" || g == "1"), "{gpus:?}");
}

/// Records written before steps ran more than once (schema 3) are
/// migrated: each row's `step` is its name.
#[test]
fn schema_3_records_are_migrated() {
    let env = Env::new("schema3");
    let conn = rusqlite::Connection::open(env.home.join("kfpl.db")).unwrap();
    for version in ["schema.sql", "schema2.sql", "schema3.sql"] {
        let sql = std::fs::read_to_string(root().join("src/run/store").join(version)).unwrap();
        conn.execute_batch(&sql).unwrap();
    }
    conn.pragma_update(None, "user_version", 3).unwrap();
    conn.execute_batch(
        "INSERT INTO experiments (id, name, created_ms) VALUES (1, 'default', 0);
         INSERT INTO runs (seq, id, experiment_id, pipeline, pipeline_name, source_path,
           source_hash, source, params, status, started_ms, ended_ms, pid, run_dir)
         VALUES (1, 'r1', 1, 'p', 'p', 'p.kfp', '0', '', '{}', 'succeeded', 0, 1, 1, '/nowhere');
         INSERT INTO steps (run_id, name, position, image, status, step_dir)
         VALUES ('r1', 'hello', 0, 'alpine', 'succeeded', '/nowhere/hello');",
    )
    .unwrap();
    drop(conn);
    let run = env.show("r1");
    assert_eq!(record(&run, "hello")["step"], "hello");
    assert!(record(&run, "hello").get("iteration").is_none());
    let conn = rusqlite::Connection::open(env.home.join("kfpl.db")).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, 5, "migrated to the newest schema");
}
