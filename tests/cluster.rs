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

/// A step whose resource values read `size`'s outputs (written by `writes`).
fn reads_sizes(writes: &str) -> String {
    format!(
        r#"pipeline sized {{
  step size {{
    image = "alpine"
    output cpu
    output memory
    output gpus: number
    output pool
    command = "{writes}"
  }}
  step work {{
    image = "alpine"
    cpu = "$<size.cpu>"
    memory = "2Gi"
    memory_request = "$<size.memory>"
    gpus = "$<size.gpus>"
    node_selector = {{ pool = "$<size.pool>" }}
    command = "echo visible=$CUDA_VISIBLE_DEVICES"
  }}
  step after_work {{
    image = "alpine"
    command = "echo after $<work.output>"
  }}
}}
"#
    )
}

/// `printf` lines writing each of `size`'s outputs.
fn writes(cpu: &str, memory: &str, gpus: &str, pool: &str) -> String {
    [
        ("cpu", cpu),
        ("memory", memory),
        ("gpus", gpus),
        ("pool", pool),
    ]
    .iter()
    .map(|(name, value)| format!("printf '%s' '{value}' > $KFP_OUTPUTS/{name}"))
    .collect::<Vec<_>>()
    .join("; ")
}

#[test]
fn resource_values_from_outputs_are_used_once_checked() {
    let dir = TempDir::new("cluster-output-resources");
    dir.write(
        "main.kfp",
        reads_sizes(&writes("500m", "1Gi", "2", "gpu-pool")),
    );
    let out = support::kfpl(["run", "main.kfp"])
        .current_dir(dir.path())
        .env("KFPL_HOME", dir.path().join("home"))
        .env("KFPL_GPUS", "2")
        .output();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The step got as many GPUs as the output said.
    assert!(
        support::stdout(&out).contains("visible=0,1"),
        "{}",
        support::stdout(&out)
    );
}

#[test]
fn a_bad_value_from_an_output_fails_its_step_before_it_starts() {
    let cases = [
        (
            writes("lots", "1Gi", "0", "gpu-pool"),
            "`cpu` is `lots`, not a Kubernetes quantity",
        ),
        (
            writes("1", "4Gi", "0", "gpu-pool"),
            "`memory_request` is `4Gi`, more than its `memory` `2Gi`",
        ),
        (
            writes("1", "1Gi", "0", "not a label!"),
            "`node_selector` is `not a label!`, not a Kubernetes label value",
        ),
        (
            writes("1", "1Gi", "1.5", "gpu-pool"),
            "`gpus` is `1.5`, not a whole number",
        ),
    ];
    for (i, (writes, message)) in cases.iter().enumerate() {
        let out = run(&format!("bad-output-{i}"), &reads_sizes(writes), &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(message), "{message}: {err}");
        assert!(err.contains("kfpl::E0358"), "{err}");
        // The step never started, and what reads it was skipped.
        let shown = support::stdout(&out);
        assert!(!shown.contains("visible="), "{shown}");
        assert!(!shown.contains("after "), "{shown}");
    }
}

#[test]
fn gpus_from_an_output_beyond_the_machine_fail_the_step() {
    let dir = TempDir::new("cluster-output-gpus");
    dir.write(
        "main.kfp",
        reads_sizes(&writes("1", "1Gi", "3", "gpu-pool")),
    );
    let out = support::kfpl(["run", "main.kfp"])
        .current_dir(dir.path())
        .env("KFPL_HOME", dir.path().join("home"))
        .env("KFPL_GPUS", "2")
        .output();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("kfpl::E0602"), "{err}");
    assert!(
        err.contains("`gpus` is 3 (from `size.gpus`), but this machine has 2"),
        "{err}"
    );
}

/// On Argo, a value from an output enters the pod patch JSON-escaped: one
/// holding quotes cannot end its string (the patch stays JSON and the
/// workflow runs on the Argo model).
#[test]
fn an_output_in_the_pod_patch_cannot_break_out_of_its_string() {
    let dir = TempDir::new("cluster-output-patch");
    let hostile = r#"1\",\"hostNetwork\":true,\"x\":\""#;
    let program = reads_sizes(&writes(hostile, "1Gi", "0", "p\\\"q"));
    dir.write("main.kfp", &program);
    let compiled = support::kfpl(["compile", "main.kfp", "-o", "main.yaml"])
        .current_dir(dir.path())
        .output();
    assert_eq!(compiled.status.code(), Some(0), "{}", stderr(&compiled));
    let yaml = std::fs::read_to_string(dir.path().join("main.yaml")).unwrap_or_default();
    assert!(
        yaml.contains("toJson(sprig.b64dec(inputs.parameters[''size-cpu'']))[1:len("),
        "{yaml}"
    );
    if !support::argo::simulator_can_run() {
        return;
    }
    let result = support::argo::simulate(&dir.path().join("main.yaml"), &[], dir.path());
    let result = result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(result["workflow"]["phase"], "Succeeded", "{result}");
}

/// E0357: annotations over 256 KiB would keep the pod from being made.
#[test]
fn annotations_past_the_kubernetes_limit_are_refused() {
    let dir = TempDir::new("cluster-annotation-size");
    let big = "x".repeat(200 * 1024);
    let program = format!(
        "pipeline p {{\n  defaults {{ annotations = {{ \"example.com/a\" = \"{big}\" }} }}\n  step s {{\n    image = \"alpine\"\n    command = \"echo\"\n    display_name = \"{big}\"\n  }}\n}}\n"
    );
    dir.write("main.kfp", &program);
    let out = support::kfpl(["check", "main.kfp"])
        .current_dir(dir.path())
        .output();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("kfpl::E0357"), "{err}");
    assert!(
        err.contains("the annotations of step `s` take 409613 bytes, more than the 262144"),
        "{err}"
    );
}

/// `runs show` (and its `--format json`) shows each step's display name,
/// annotations and labels, `defaults` merged in, as recorded by the run.
#[test]
fn runs_show_shows_the_recorded_pod_metadata() {
    let dir = TempDir::new("cluster-runs-show");
    dir.write(
        "main.kfp",
        r#"pipeline meta {
  defaults { labels = { tier = "gold" } }
  step train {
    image = "alpine"
    display_name = "Train the model"
    annotations = { "example.com/team" = "vision" }
    command = "echo train"
  }
  step plain {
    image = "alpine"
    command = "echo plain"
  }
}
"#,
    );
    let kfpl = |args: &[&str]| {
        support::kfpl(args)
            .current_dir(dir.path())
            .env("KFPL_HOME", dir.path().join("home"))
            .output()
    };
    let out = kfpl(&["run", "main.kfp"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = support::stdout(&kfpl(&["runs", "show", "r1"]));
    assert!(
        shown.contains(
            "settings\n  train: display name \"Train the model\", annotations example.com/team=vision, labels tier=gold\n  plain: labels tier=gold\n"
        ),
        "{shown}"
    );
    let json = support::stdout(&kfpl(&["runs", "show", "r1", "--format", "json"]));
    let json: Value = serde_json::from_str(&json).unwrap_or_default();
    let train = &json["steps"][0];
    assert_eq!(train["name"], "train", "{json}");
    assert_eq!(train["settings"]["display_name"], "Train the model");
    assert_eq!(
        train["settings"]["annotations"]["example.com/team"],
        "vision"
    );
    assert_eq!(train["settings"]["labels"]["tier"], "gold");
    assert_eq!(json["steps"][1]["settings"]["labels"]["tier"], "gold");
}

/// The port of KFP's runtime_resource_request_gpu sample: `gpus` from an
/// output gets that many GPUs, and with none on the machine the step fails
/// before it starts (E0602) as the original fails without a GPU.
#[test]
fn the_runtime_gpu_request_sample_gets_its_gpu_from_an_output() {
    let sample = support::root().join("examples/kfp-samples/runtime_resource_request_gpu.kfp");
    for (gpus, code) in [("1", Some(0)), ("0", Some(1))] {
        let dir = TempDir::new(&format!("cluster-gpu-sample-{gpus}"));
        let out = support::kfpl(["run".as_ref(), sample.as_os_str()])
            .current_dir(dir.path())
            .env("KFPL_HOME", dir.path().join("home"))
            .env("KFPL_GPUS", gpus)
            .output();
        let (shown, err) = (support::stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), code, "KFPL_GPUS={gpus}: {err}");
        if gpus == "1" {
            assert!(shown.contains("The gpus status is: True"), "{shown}");
        } else {
            assert!(err.contains("kfpl::E0602"), "{err}");
        }
    }
}
