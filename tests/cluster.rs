//! Cluster settings under `kfpl run`: they apply on the cluster only, so a
//! local run says so once (W0607) and runs on; the pipeline's
//! `parallelism` is the default of `--parallelism`.

mod support;

use serde_json::Value;
use support::{TempDir, stderr};

/// `kfpl run main.kfp ARGS` in a fresh folder with its own state.
fn run(name: &str, program: &str, args: &[&str]) -> std::process::Output {
    let dir = TempDir::new(&format!("cluster-{name}"));
    dir.write("main.kfp", program);
    let mut all = vec!["run", "main.kfp"];
    all.extend_from_slice(args);
    support::kfpl(&all)
        .current_dir(dir.path())
        .env("KFPL_HOME", dir.path().join("home"))
        .output()
}

/// The W0607 diagnostics among `--message-format json` lines.
fn cluster_warnings(output: &std::process::Output) -> Vec<Value> {
    stderr(output)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["code"] == "kfpl::W0607")
        .collect()
}

#[test]
fn a_local_run_names_the_cluster_only_settings_once_and_runs_on() {
    let out = run(
        "w0607",
        r#"pipeline p {
  service_account = "pipeline-runner"
  step a {
    image = "alpine"
    command = "echo a"
    node_selector = { "cloud.google.com/gke-accelerator" = "nvidia-tesla-t4" }
    tolerations = [{ key = "nvidia.com/gpu", operator = "Exists" }]
  }
  step b {
    image = "alpine"
    command = "echo b"
    node_selector = { pool = "gpu" }
    display_name = "Step B"
  }
}
"#,
        &["--message-format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let warnings = cluster_warnings(&out);
    assert_eq!(warnings.len(), 1, "{}", stderr(&out));
    let message = warnings[0]["message"].as_str().unwrap_or_default();
    assert_eq!(
        message,
        "`node_selector`, `tolerations`, `display_name`, `service_account` apply on the cluster only; this local run ignores them",
    );
}

#[test]
fn a_pipeline_without_cluster_settings_gets_no_w0607() {
    let out = run(
        "no-w0607",
        "pipeline p {\n  parallelism = 2\n  step a {\n    image = \"alpine\"\n    command = \"echo a\"\n  }\n}\n",
        &["--message-format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(cluster_warnings(&out).is_empty(), "{}", stderr(&out));
}

/// With `parallelism = 1` and no `--parallelism`, two independent steps
/// never hold the same lock at once (each fails if the other holds it).
#[test]
fn pipeline_parallelism_is_the_default_of_the_flag() {
    let dir = TempDir::new("cluster-parallelism-lock");
    let lock = dir.path().join("lock");
    let step = |name: &str| {
        format!(
            "  step {name} {{\n    image = \"alpine\"\n    command = \"mkdir {lock} && sleep 0.5 && rmdir {lock}\"\n  }}\n",
            lock = lock.display()
        )
    };
    let program = format!(
        "pipeline p {{\n  parallelism = 1\n{}{}}}\n",
        step("a"),
        step("b")
    );
    let out = run("parallelism", &program, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
