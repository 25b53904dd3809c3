//! `sidecar NAME { … }` under `kfpl run`, end to end through the binary: a
//! sidecar starts before the step and serves it (here through a file in a
//! shared volume), logs to `sidecar-NAME.log`, and leaves no process
//! behind (checked by the pid it wrote); one that ignores SIGTERM is killed
//! (W0610); one that fails on its own fails the step. Each test has its own
//! `KFPL_HOME`.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;

use support::{stderr, stdout};

/// The sidecar writes its pid and a file the step waits for, then serves on.
const SERVED: &str = r#"
pipeline served {
  volume shared { size = "1Gi" keep = true }
  step client {
    image = "alpine"
    data = ["shared:/srv"]
    command = "while [ ! -f /srv/ready ]; do sleep 0.05; done; cat /srv/ready"
    sidecar server {
      image = "alpine"
      command = "echo $$ > /srv/pid; echo \"up as $ROLE\" > /srv/tmp && mv /srv/tmp /srv/ready; echo serving; sleep 600 & wait"
      env = { ROLE = "server" }
    }
  }
}
"#;

type Env = support::Project;

/// The folder of `step` in the first run.
fn step_dir(env: &Env, step: &str) -> PathBuf {
    env.run_dir().join(step)
}

/// The live processes (zombies, already dead, not counted) whose id or
/// process group is `pid`, from `/proc`.
fn left_behind(pid: i32) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp …`: the fields after the last `)`.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let own: Option<i32> = head.split_whitespace().next().and_then(|p| p.parse().ok());
        let pgrp: Option<i32> = fields.get(2).and_then(|p| p.parse().ok());
        let live = fields
            .first()
            .is_some_and(|state| *state != "Z" && *state != "X");
        if live && (own == Some(pid) || pgrp == Some(pid)) {
            out.push(stat);
        }
    }
    out
}

#[test]
fn a_sidecar_serves_the_step_and_is_gone_when_it_ends() {
    let env = Env::new("sidecars-served");
    let out = env.run(SERVED);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("up as server"), "{}", stdout(&out));
    let log = std::fs::read_to_string(step_dir(&env, "client").join("sidecar-server.log")).unwrap();
    assert_eq!(log, "serving\n");
    let volume = env
        .home
        .join("runs")
        .join("r1")
        .join("kfpl-volumes")
        .join("shared");
    let pid: i32 = std::fs::read_to_string(volume.join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let left = left_behind(pid);
    assert!(
        left.is_empty(),
        "the sidecar left processes behind: {left:?}"
    );
}

#[test]
fn a_sidecar_that_ignores_sigterm_is_killed_with_w0610() {
    let env = Env::new("sidecars-stubborn");
    let source = r#"
pipeline stubborn {
  step s {
    image = "alpine"
    command = "while [ ! -f \"$KFPL_RUN_DIR/trapped\" ]; do sleep 0.05; done"
    sidecar stubborn {
      image = "alpine"
      command = "trap '' TERM; touch \"$KFPL_RUN_DIR/trapped\"; while :; do sleep 0.05; done"
    }
  }
}
"#;
    let out = env.run(source);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("W0610"), "{}", stderr(&out));
}

#[test]
fn a_sidecar_failing_on_its_own_fails_the_step() {
    let env = Env::new("sidecars-failing");
    let source = r#"
pipeline failing {
  step s {
    image = "alpine"
    command = "while [ ! -f \"$KFPL_RUN_DIR/failed\" ]; do sleep 0.05; done; sleep 0.2"
    sidecar broken {
      image = "alpine"
      command = "echo broken >&2; touch \"$KFPL_RUN_DIR/failed\"; exit 4"
    }
  }
}
"#;
    let out = env.run(source);
    assert!(!out.status.success());
    let shown = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        shown.contains("sidecar `broken` exited with code 4"),
        "{shown}"
    );
    let log = std::fs::read_to_string(step_dir(&env, "s").join("sidecar-broken.log")).unwrap();
    assert_eq!(log, "broken\n");
}

#[test]
fn a_dry_run_shows_each_sidecar_before_its_step() {
    let env = Env::new("sidecars-dry-run");
    let file = env.root.write("p.kfp", SERVED);
    let out = support::kfpl(["run", "--dry-run", file.to_str().unwrap()])
        .current_dir(env.root.path())
        .env("KFPL_HOME", &env.home)
        .output();
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(String::from).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains("echo serving"), "{lines:?}");
    assert!(lines[1].contains("cat /srv/ready"), "{lines:?}");
}
