//! Parity: `kfpl run` and the compiled workflow on Argo mean the same.
//!
//! Each case is a program (every example that runs without the network, and
//! the programs in tests/parity/) with param values. It runs twice:
//!
//! - under `kfpl run`, in a fresh `KFPL_HOME` (claims are its `volumes/`);
//! - compiled by `kfpl compile` (params left to submission, as the KFP form
//!   does), then executed by ../shared/tools/argo-sim, a model of Argo
//!   v3.3.8 and Kubernetes, with the same values as workflow parameters and
//!   a `--claims` folder standing for the PVCs.
//!
//! Both runs are reduced to the same [`Summary`]: the run's status, each
//! step's status and attempts, every output of a step that succeeded, every
//! metric and every file and folder in the claims. The two must be equal,
//! and equal to `tests/parity/CASE.expected` (`KFPL_BLESS=1` rewrites it),
//! so a change that moves both sides together is seen too.
//!
//! Hostile values (`$$`, `$(…)`, `{{…}}`, quotes, newlines, unicode,
//! empty) are compared like any other: every case must agree.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use serde_json::Value;
use support::argo::{
    self, SIMULATOR, Summary, argo_phase, kubernetes_name, lower, mismatches, quoted, render,
    simulator_can_run,
};
use support::{TempDir, check_expected, files_with_extension, kfpl, root, text};

/// Examples that cannot run on a machine without the network, and why.
/// Every other example in `examples/` is compared.
const EXAMPLES_NOT_RUN: &[(&str, &str)] = &[
    (
        "every_attribute.kfp",
        "fetches with wget from example.com and clones its sync_source over https",
    ),
    (
        "mnist.kfp",
        "downloads its data with curl and clones its code from code.aliyun.com",
    ),
];

/// Values that no shell, Argo or Kubernetes should read as anything but
/// text, each run through `tests/parity/values.kfp` as the param `v`.
const HOSTILE_VALUES: &[(&str, &str)] = &[
    ("quotes", "it's \"quoted\" \\ back\\slash"),
    ("command-substitution", "$(echo pwned) `echo pwned`"),
    ("double-dollar", "cost $$5 and $$HOME"),
    ("kubernetes-variable", "$(KFP_OUTPUTS) and $(HOME)"),
    ("argo-tag", "{{workflow.name}} {{inputs.parameters.v}}"),
    ("newlines", "one\ntwo\n\nthree\n"),
    ("unicode", "héllo ✓ 日本語 \u{2028} <&>"),
    ("empty", ""),
    ("spaces-and-globs", "  * ? [a] ~ #not-a-comment  "),
];

/// How many cases run at once: most of a case is waiting on processes.
const WORKERS: usize = 3;

/// One program with its param values.
struct Case {
    name: String,
    program: PathBuf,
    params: Vec<(String, String)>,
    /// More arguments for `kfpl run` only (Argo has no counterpart).
    run_args: Vec<&'static str>,
}

/// Programs also run under `kfpl run --parallelism 1`: what runs after a
/// failure must not depend on how many steps run at once (the number of
/// CPUs, by default), since on Argo every ready task starts.
const ALSO_ONE_AT_A_TIME: &[&str] = &["example-fanout", "fail_fast", "branches"];

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for program in files_with_extension(root().join("examples"), "kfp") {
        let file = file_name(&program);
        if EXAMPLES_NOT_RUN.iter().any(|(name, _)| *name == file) {
            continue;
        }
        let stem = file.trim_end_matches(".kfp");
        cases.push(Case {
            name: format!("example-{stem}"),
            program,
            params: Vec::new(),
            run_args: Vec::new(),
        });
    }
    for program in files_with_extension(root().join("tests/parity"), "kfp") {
        let stem = file_name(&program).trim_end_matches(".kfp").to_string();
        cases.push(Case {
            name: stem,
            program,
            params: Vec::new(),
            run_args: Vec::new(),
        });
    }
    for name in ALSO_ONE_AT_A_TIME {
        let program = cases
            .iter()
            .find(|c| c.name == *name)
            .map(|c| c.program.clone())
            .unwrap_or_else(|| panic!("ALSO_ONE_AT_A_TIME names {name}, which is no case"));
        cases.push(Case {
            name: format!("{name}-one-at-a-time"),
            program,
            params: Vec::new(),
            run_args: vec!["--parallelism", "1"],
        });
    }
    for (name, value) in HOSTILE_VALUES {
        cases.push(Case {
            name: format!("values-{name}"),
            program: root().join("tests/parity/values.kfp"),
            params: vec![("v".to_string(), (*value).to_string())],
            run_args: Vec::new(),
        });
    }
    cases
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn kfpl_run_and_the_compiled_workflow_on_argo_agree() {
    if !simulator_can_run() {
        return;
    }
    let simulator = root().join(SIMULATOR);
    assert!(
        simulator.is_file(),
        "the Argo simulator must be at {} (a clone with shared/ beside it)",
        simulator.display()
    );
    every_example_is_compared_or_excused();
    let cases = cases();
    let results = run_all(&cases, &simulator);
    let mut failures = Vec::new();
    for (case, (ours, argo)) in cases.iter().zip(results) {
        let mismatches = mismatches(&ours, &argo);
        if !mismatches.is_empty() {
            failures.push(format!(
                "{}: kfpl run and Argo differ:\n{}",
                case.name,
                mismatches.join("\n")
            ));
        }
        let expected = root().join(format!("tests/parity/{}.expected", case.name));
        if let Err(message) = check_expected(&expected, &render(&ours)) {
            failures.push(message);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A new example is either compared or named in [`EXAMPLES_NOT_RUN`].
fn every_example_is_compared_or_excused() {
    let examples: Vec<String> = files_with_extension(root().join("examples"), "kfp")
        .iter()
        .map(|p| file_name(p))
        .collect();
    for (name, _) in EXAMPLES_NOT_RUN {
        assert!(
            examples.iter().any(|e| e == name),
            "EXAMPLES_NOT_RUN names {name}, which is not in examples/"
        );
    }
}

/// Runs every case on both sides, [`WORKERS`] cases at a time; the
/// summaries in the cases' order.
fn run_all(cases: &[Case], simulator: &Path) -> Vec<(Summary, Summary)> {
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<(Summary, Summary)>>> =
        Mutex::new((0..cases.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().unwrap();
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some(case) = cases.get(index) else {
                        return;
                    };
                    let dir = TempDir::new(&format!("parity-{}", case.name));
                    let pair = (run_kfpl(case, &dir), run_argo(case, &dir, simulator));
                    results.lock().unwrap()[index] = Some(pair);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every case ran"))
        .collect()
}

fn param_args(case: &Case) -> Vec<String> {
    case.params
        .iter()
        .flat_map(|(name, value)| ["-p".to_string(), format!("{name}={value}")])
        .collect()
}

// ---- kfpl run -----------------------------------------------------------------

fn run_kfpl(case: &Case, dir: &TempDir) -> Summary {
    let home = dir.join("kfpl-home");
    let out = kfpl(["run".as_ref(), case.program.as_os_str()])
        .args(param_args(case))
        .args(&case.run_args)
        .env("KFPL_HOME", &home)
        .output();
    let show = kfpl(["runs", "show", "r1", "--format", "json"])
        .env("KFPL_HOME", &home)
        .output();
    assert!(
        show.status.success(),
        "{}: kfpl run recorded no run:\n{}{}",
        case.name,
        text(&out.stderr),
        text(&show.stderr)
    );
    let run: Value = serde_json::from_slice(&show.stdout).unwrap();
    let mut summary = Summary::new();
    summary.insert("run".into(), lower(run["status"].as_str().unwrap_or("?")));
    for step in run["steps"].as_array().into_iter().flatten() {
        let name = kubernetes_name(step["name"].as_str().unwrap_or("?"));
        let status = match step["status"].as_str().unwrap_or("?") {
            "skipped" => "not run".to_string(),
            other => format!("{other} attempts={}", step["attempts"]),
        };
        if status.starts_with("succeeded") {
            for (output, value) in step["outputs"].as_object().into_iter().flatten() {
                let value = value.as_str().unwrap_or("?");
                summary.insert(format!("step {name} output {output}"), quoted(value));
            }
        }
        summary.insert(format!("step {name}"), status);
    }
    for metric in run["metrics"].as_array().into_iter().flatten() {
        if let Some(value) = metric["value"].as_f64() {
            let step = kubernetes_name(metric["step"].as_str().unwrap_or("?"));
            let name = metric["name"].as_str().unwrap_or("?");
            summary.insert(format!("step {step} metric {name}"), value.to_string());
        }
    }
    claims(&home.join("volumes"), &mut summary);
    summary
}

// ---- the compiled workflow on the Argo model -------------------------------------

fn run_argo(case: &Case, dir: &TempDir, simulator: &Path) -> Summary {
    let workflow = dir.join("workflow.yaml");
    let compiled = kfpl(["compile".as_ref(), case.program.as_os_str()])
        .arg("-o")
        .arg(&workflow)
        .output();
    assert!(
        compiled.status.success(),
        "{}: kfpl compile failed:\n{}",
        case.name,
        text(&compiled.stderr)
    );
    let claims_dir = dir.join("argo-claims");
    let result = dir.join("argo-result.json");
    let out = Command::new("python3")
        .arg(simulator)
        .arg(&workflow)
        .args(param_args(case))
        .arg("--claims")
        .arg(&claims_dir)
        .arg("--artifacts")
        .arg(dir.join("argo-artifacts"))
        .arg("--out")
        .arg(&result)
        .output()
        .expect("python3 starts");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}: the simulator refused the workflow or broke ({}):\n{}",
        case.name,
        out.status,
        text(&out.stderr)
    );
    let bytes = std::fs::read(&result)
        .unwrap_or_else(|e| panic!("{}: no {}: {e}", case.name, result.display()));
    let result: Value = serde_json::from_slice(&bytes).unwrap();
    let mut summary = Summary::new();
    summary.insert("run".into(), argo_phase(&result["workflow"]["phase"]));
    for step in steps_of(&case.program) {
        let task = &result["tasks"][&step];
        summary.insert(format!("step {step}"), argo_task_status(task));
        if task["status"] == "Succeeded" {
            let parameters = &task["outputs"]["parameters"];
            for (output, value) in parameters.as_object().into_iter().flatten() {
                let value = value.as_str().unwrap_or("?");
                summary.insert(format!("step {step} output {output}"), quoted(value));
            }
        }
        argo_metrics(&step, task, &mut summary);
    }
    claims(&claims_dir, &mut summary);
    summary
}

/// The Kubernetes names of the program's steps, from the compiled workflow's
/// point of view: a task Argo never created is a step that did not run.
fn steps_of(program: &Path) -> Vec<String> {
    let source = kfpl::SourceFile::new("program", std::fs::read_to_string(program).unwrap());
    let checked = kfpl::check(&source);
    let pipeline = checked.pipeline.expect("a program that checks");
    pipeline
        .steps
        .iter()
        .map(|s| kubernetes_name(&s.name))
        .collect()
}

fn argo_task_status(task: &Value) -> String {
    // A task Argo never created is absent, or present with no status.
    match task["status"].as_str().unwrap_or("Omitted") {
        "Omitted" | "Skipped" => "not run".into(),
        _ => format!(
            "{} attempts={}",
            argo_phase(&task["status"]),
            task["attempts"].as_array().map_or(0, Vec::len)
        ),
    }
}

/// The metrics the wrapper wrote to `/mlpipeline-metrics.json`, the artifact
/// the KFP UI reads.
fn argo_metrics(step: &str, task: &Value, summary: &mut Summary) {
    let content = &task["outputs"]["artifacts"]["mlpipeline-metrics"]["content"];
    let Some(content) = content.as_str() else {
        return;
    };
    let metrics: Value = serde_json::from_str(content)
        .unwrap_or_else(|e| panic!("step {step}: metrics that are not JSON ({e}): {content}"));
    for metric in metrics["metrics"].as_array().into_iter().flatten() {
        let name = metric["name"].as_str().unwrap_or("?");
        let value = metric["numberValue"]
            .as_f64()
            .map_or_else(|| metric["numberValue"].to_string(), |v| v.to_string());
        summary.insert(format!("step {step} metric {name}"), value);
    }
}

// ---- shared -------------------------------------------------------------------

/// Every file and folder under `dir`: a file's text when short, else its
/// size and hash.
fn claims(dir: &Path, summary: &mut Summary) {
    if !dir.is_dir() {
        return;
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(dir).unwrap().display().to_string();
            if path.is_dir() {
                summary.insert(format!("claim {relative}/"), "folder".into());
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                summary.insert(format!("claim {relative}"), describe(&bytes));
            }
        }
    }
}

fn describe(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if text.len() <= 120 => quoted(text),
        _ => format!("{} bytes, fnv1a {:016x}", bytes.len(), fnv1a(bytes)),
    }
}

/// A hash that stays the same across Rust versions (the expected files hold it).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A clone that fails is not retried by `kfpl run` (as on Argo, where it is
/// an Error), and the message says why.
#[test]
fn a_failed_clone_is_reported_and_not_retried() {
    let home = TempDir::new("parity-clone");
    let program = root().join("tests/parity/clone_fails.kfp");
    let out = kfpl(["run".as_ref(), program.as_os_str()])
        .env("KFPL_HOME", home.path())
        .output();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("E0606"), "{stderr}");
    assert!(stderr.contains("not retried"), "{stderr}");
    assert!(!stderr.contains("trying again"), "{stderr}");
    let log = std::fs::read_to_string(home.join("runs/r1/fetch/stderr.log")).unwrap();
    assert_eq!(log.matches("cannot clone").count(), 1, "{log}");
}

// ---- the one size limit ---------------------------------------------------------

/// The largest value, counted as Argo quotes it (docs/run.md, `kfpl explain E0317`).
const MAX_VALUE_BYTES: usize = 32 * 1024;

/// A value at the limit runs on both sides, even one whose every character
/// Go's JSON writes as six bytes; one past it is refused by `kfpl check`
/// (a default), `kfpl compile` and `kfpl run` (`-p`) and, as an output, by
/// `kfpl run`; and twice the limit really fails on Argo (the pod cannot
/// exec with such an `ARGO_TEMPLATE`), which the old 100 KiB let through.
#[test]
fn one_value_size_limit_holds_on_argo_and_in_kfpl() {
    if !simulator_can_run() {
        return;
    }
    let simulator = root().join(SIMULATOR);
    let dir = TempDir::new("parity-size");
    let program = dir.write("size.kfp", SIZE_PROGRAM);
    let at_limit = "<".repeat(MAX_VALUE_BYTES / 6);
    let case = |name: &str, value: &str| Case {
        name: name.to_string(),
        program: program.clone(),
        params: vec![("v".to_string(), value.to_string())],
        run_args: Vec::new(),
    };
    let fits = case("at-the-limit", &at_limit);
    let work = TempDir::new("parity-size-at-limit");
    let (ours, argo) = (run_kfpl(&fits, &work), run_argo(&fits, &work, &simulator));
    assert_eq!(ours.get("run").map(String::as_str), Some("succeeded"));
    assert!(
        mismatches(&ours, &argo).is_empty(),
        "{:?}",
        mismatches(&ours, &argo)
    );

    let over = format!("v={}", "a".repeat(MAX_VALUE_BYTES + 1));
    for command in [
        &["run", "-p", &over][..],
        &["compile", "-p", &over, "-o", "/dev/null"],
    ] {
        let out = kfpl(command)
            .arg(&program)
            .env("KFPL_HOME", dir.join("home"))
            .output();
        let stderr = text(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains("E0317"),
            "{command:?}: {stderr}"
        );
    }
    let big_default =
        SIZE_PROGRAM.replace("\"x\"", &format!("\"{}\"", "a".repeat(MAX_VALUE_BYTES + 1)));
    let out = kfpl([
        "check".as_ref(),
        dir.write("default.kfp", big_default).as_os_str(),
    ])
    .output();
    assert!(text(&out.stderr).contains("E0317"), "{}", text(&out.stderr));

    let big_output = format!("v=big:{}", MAX_VALUE_BYTES + 1);
    let out = kfpl(["run".as_ref(), program.as_os_str()])
        .args(["-p", &big_output])
        .env("KFPL_HOME", dir.join("home-output"))
        .output();
    assert!(text(&out.stderr).contains("E0610"), "{}", text(&out.stderr));

    let twice = case("twice-the-limit", &"a".repeat(2 * MAX_VALUE_BYTES));
    let argo = run_argo(&twice, &TempDir::new("parity-size-twice"), &simulator);
    assert_eq!(
        argo.get("step emit").map(String::as_str),
        Some("failed attempts=1")
    );
}

/// Passes `v` through an output; `v=big:N` makes `emit` write N bytes instead.
const SIZE_PROGRAM: &str = r#"pipeline size {
  param v: string = "x"
  step emit {
    image = "alpine"
    output v
    command = """
      case "$<v>" in
        big:*) head -c "$(echo "$<v>" | cut -d: -f2)" /dev/zero | tr '\0' a > "$KFP_OUTPUTS/v" ;;
        *) printf '%s' "$<v>" > "$KFP_OUTPUTS/v" ;;
      esac
    """
  }
  step relay {
    image = "alpine"
    output v
    command = "printf '%s' \"$<emit.v>\" > \"$KFP_OUTPUTS/v\""
  }
}
"#;

// ---- language v2 on the Argo model --------------------------------------------

/// The hostile value `if_hostile.kfp` compares with, and one that would
/// turn a pasted condition true.
const HOSTILE_SIDE: &str = "it's \"q\" || true) '}} {{x}}";
const INJECTED_SIDE: &str = "' || 'a' == 'a";

/// A v2 case: its name, its program and its param values.
type V2Case = (&'static str, &'static str, Vec<(String, String)>);

/// Language-v2 cases (tests/parity/v2/PROGRAM.kfp), each with param values.
/// Until `kfpl run` runs blocks, only the Argo side runs; its summary
/// names every iteration (`train[0]`, Argo's item index) and pass
/// (`next#2`) and must equal `tests/parity/v2/CASE.expected`.
fn v2_cases() -> Vec<V2Case> {
    let side = |v: &str| vec![("side".to_string(), v.to_string())];
    vec![
        ("if", "if", Vec::new()),
        ("if-tails", "if", side("tails")),
        (
            "if-no-deploy",
            "if",
            vec![("deploy".into(), "False".into())],
        ),
        ("if-hostile-equal", "if_hostile", side(HOSTILE_SIDE)),
        ("if-hostile-injected", "if_hostile", side(INJECTED_SIDE)),
        ("else-if-heads", "else_if", Vec::new()),
        ("else-if-tails", "else_if", side("tails")),
        ("else-if-other", "else_if", side("edge")),
        ("for", "for", Vec::new()),
        ("repeat", "repeat", Vec::new()),
        ("repeat-exhausted", "repeat_exhausted", Vec::new()),
        (
            "repeat-param",
            "repeat_param",
            vec![("tries".into(), "3".into())],
        ),
        (
            "repeat-param-exhausted",
            "repeat_param",
            vec![("tries".into(), "2".into())],
        ),
        ("finally", "finally", Vec::new()),
        ("nested", "nested", Vec::new()),
        ("nested-loops", "nested_loops", Vec::new()),
        ("defaults", "defaults", Vec::new()),
        ("volumes", "volumes", Vec::new()),
        ("sidecars", "sidecars", Vec::new()),
        ("sidecar-fails", "sidecar_fails", Vec::new()),
        ("nested-repeat", "nested_repeat", Vec::new()),
        ("visuals", "visuals", Vec::new()),
        ("cache", "cache", Vec::new()),
        ("file-passing", "file-passing", Vec::new()),
        ("file-loop", "file-loop", Vec::new()),
        ("file-missing", "file-missing", Vec::new()),
        ("file-blocks", "file-blocks", Vec::new()),
    ]
}

/// The workflow `kfpl compile` makes of a v2 program.
fn v2_workflow(program: &str) -> String {
    let path = root().join(format!("tests/parity/v2/{program}.kfp"));
    let out = kfpl(["compile".as_ref(), path.as_os_str()]).output();
    assert!(
        out.status.success(),
        "{program}: kfpl compile failed:\n{}",
        text(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn v2_blocks_on_argo_record_each_iteration_and_pass() {
    if !simulator_can_run() {
        return;
    }
    let mut failures = Vec::new();
    for (name, program, params) in v2_cases() {
        let dir = TempDir::new(&format!("parity-v2-{name}"));
        let workflow = dir.write("workflow.yaml", v2_workflow(program));
        let result =
            argo::simulate(&workflow, &params, &dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        let source = std::fs::read_to_string(root().join(format!("tests/parity/v2/{program}.kfp")));
        let summary = argo::argo_instances(&result, &argo::step_names(&source.unwrap()));
        let expected = root().join(format!("tests/parity/v2/{name}.expected"));
        if let Err(message) = check_expected(&expected, &render(&summary)) {
            failures.push(message);
        }
        // kfpl's helper pods (a repeat out of passes) exist only on Argo.
        let argo = argo::without_helpers(summary);
        let ours = v2_kfpl_summary(program, &params, &dir);
        let differ = mismatches(&ours, &argo);
        if !differ.is_empty() {
            failures.push(format!(
                "{name}: kfpl run and Argo differ:\n{}",
                differ.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The same v2 case under `kfpl run`, as [`argo::kfpl_instances`] reduces it.
fn v2_kfpl_summary(program: &str, params: &[(String, String)], dir: &TempDir) -> Summary {
    let home = dir.join("kfpl-home");
    let path = root().join(format!("tests/parity/v2/{program}.kfp"));
    let out = kfpl(["run".as_ref(), path.as_os_str()])
        .args(
            params
                .iter()
                .flat_map(|(n, v)| ["-p".to_string(), format!("{n}={v}")]),
        )
        .env("KFPL_HOME", &home)
        .output();
    let show = kfpl(["runs", "show", "r1", "--format", "json"])
        .env("KFPL_HOME", &home)
        .output();
    assert!(
        show.status.success(),
        "{program}: kfpl run recorded no run:\n{}{}",
        text(&out.stderr),
        text(&show.stderr)
    );
    argo::kfpl_instances(&serde_json::from_slice(&show.stdout).unwrap())
}

// ---- visuals: the UI metadata on both targets -------------------------------------

/// `tests/parity/v2/visuals.kfp` under the Argo model with an artifact
/// repository (`--artifacts DIR`) and under `kfpl run`: each step's UI
/// metadata is the same bytes on both (Argo's `mlpipeline-ui-metadata`
/// artifact, kfpl's `<step>/ui/mlpipeline-ui-metadata.json`), and a step
/// that wrote none has none on either.
#[test]
fn visuals_metadata_is_kept_the_same_on_argo_and_by_kfpl_run() {
    if !simulator_can_run() {
        return;
    }
    let dir = TempDir::new("parity-visuals");
    let workflow = dir.write("workflow.yaml", v2_workflow("visuals"));
    let repository = dir.join("argo-artifacts");
    let result_path = dir.join("result.json");
    let simulated = Command::new("python3")
        .arg(root().join(SIMULATOR))
        .arg(&workflow)
        .arg("--claims")
        .arg(dir.join("claims"))
        .arg("--artifacts")
        .arg(&repository)
        .arg("--out")
        .arg(&result_path)
        .output()
        .unwrap();
    assert_eq!(
        simulated.status.code(),
        Some(0),
        "{}",
        text(&simulated.stderr)
    );
    let result: Value = serde_json::from_slice(&std::fs::read(&result_path).unwrap()).unwrap();
    let home = dir.join("kfpl-home");
    let path = root().join("tests/parity/v2/visuals.kfp");
    let ran = kfpl(["run".as_ref(), path.as_os_str()])
        .env("KFPL_HOME", &home)
        .output();
    assert!(ran.status.success(), "{}", text(&ran.stderr));
    for step in ["report", "silent"] {
        let artifact = &result["tasks"][step]["outputs"]["artifacts"]["mlpipeline-ui-metadata"];
        let ours = std::fs::read_to_string(
            home.join(format!("runs/r1/{step}/ui/mlpipeline-ui-metadata.json")),
        )
        .ok();
        assert_eq!(
            artifact["content"].as_str(),
            ours.as_deref(),
            "{step}: {}",
            result["tasks"][step]
        );
        if let Some(key) = artifact["key"].as_str() {
            assert!(
                repository.join(key).is_file(),
                "{step}: {key} is in the repository"
            );
        }
    }
    let report = &result["tasks"]["report"]["outputs"]["artifacts"]["mlpipeline-ui-metadata"];
    let metadata: Value =
        serde_json::from_str(report["content"].as_str().unwrap_or("null")).unwrap();
    assert_eq!(
        metadata["outputs"][0]["source"], "# Run's \"report\"",
        "{metadata}"
    );
}
