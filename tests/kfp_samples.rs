//! The ports of Kubeflow Pipelines 1.8.22's own sample pipelines
//! (`examples/kfp-samples/*.kfp`, listed in its README.md) as tests.
//!
//! - Every port names its source in its header, checks without a warning, is
//!   in `kfpl fmt`'s layout, and compiles to a Workflow that passes `lint` and
//!   Argo's JSON schema.
//! - Each port that runs on this machine (python3, sh, coreutils; no network,
//!   no images) is run by [`RUNS`] cases, each with its own `KFPL_HOME`, and
//!   what every step did (status, outputs, stdout; iterations and passes as
//!   `runs show` names them) is compared with
//!   `tests/kfp_samples/CASE.expected`. `KFPL_BLESS=1` writes those files.
//!   The same case is compiled and run by the Argo model
//!   (../shared/tools/argo-sim), and the two runs must agree
//!   (`support::argo`), but for the cases in [`ARGO_DIFFERS`].
//!
//! The flips and random numbers of the samples are seeded by a `seed` param,
//! so each case knows which branch it takes. The comment of each case says
//! what its expected file must show: read them when blessing.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "support/argo_schema.rs"]
mod argo_schema;
mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use kfpl::lower::{Workflow, lint};
use support::{TempDir, argo, root, stderr, stdout};

const SAMPLES: &str = "examples/kfp-samples";

/// The ports, sorted.
fn ports() -> Vec<PathBuf> {
    support::files_with_extension(root().join(SAMPLES), "kfp")
}

#[test]
fn at_least_22_samples_are_ported_each_naming_its_source() {
    let ports = ports();
    assert!(ports.len() >= 22, "{} ports: {ports:?}", ports.len());
    let readme = std::fs::read_to_string(root().join(SAMPLES).join("README.md")).unwrap();
    for path in &ports {
        let text = std::fs::read_to_string(path).unwrap();
        let header: String = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            header.starts_with("# Port of kubeflow/pipelines samples/"),
            "{}: the header names the source first",
            path.display()
        );
        assert!(
            header.contains("tag 1.8.22"),
            "{}: the header names the tag read",
            path.display()
        );
        let file = path.file_name().unwrap().to_str().unwrap();
        assert!(
            readme.contains(&format!("[{file}]")),
            "README.md lists {file}"
        );
    }
}

#[test]
fn every_port_checks_without_warnings_is_formatted_and_compiles_to_a_valid_workflow() {
    let failures: Vec<String> = ports()
        .iter()
        .filter_map(|path| {
            check_and_compile(path)
                .err()
                .map(|why| format!("{}: {why}", path.display()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `kfpl check`, `kfpl fmt --check` and `kfpl compile` of one port; `Err`
/// says what went wrong.
fn check_and_compile(path: &Path) -> Result<(), String> {
    let check = support::kfpl(["check", "--message-format", "short"])
        .arg(path)
        .output();
    let diagnostics = stderr(&check);
    if !check.status.success() || diagnostics.contains("warning[") {
        return Err(format!("kfpl check:\n{diagnostics}"));
    }
    let fmt = support::kfpl(["fmt", "--check"]).arg(path).output();
    if !fmt.status.success() {
        return Err(format!(
            "not in the canonical layout (`kfpl fmt {}` rewrites it):\n{}{}",
            path.display(),
            stdout(&fmt),
            stderr(&fmt)
        ));
    }
    let compile = support::kfpl(["compile", "--message-format", "short"])
        .arg(path)
        .output();
    if !compile.status.success() {
        return Err(format!("kfpl compile:\n{}", stderr(&compile)));
    }
    let yaml = stdout(&compile);
    let schema_errors = argo_schema::errors(&yaml);
    if !schema_errors.is_empty() {
        return Err(format!("Argo schema:\n{}", schema_errors.join("\n")));
    }
    let workflow: Workflow =
        serde_yaml::from_str(&yaml).map_err(|e| format!("reads back into a Workflow: {e}"))?;
    let problems = lint(&workflow);
    if !problems.is_empty() {
        return Err(format!("lint:\n{}", problems.join("\n")));
    }
    Ok(())
}

// ---- local runs -------------------------------------------------------------------

/// One run of a port: `kfpl run examples/kfp-samples/FILE.kfp -p PARAM…`,
/// compared with `tests/kfp_samples/NAME.expected`. `{fixtures}` in a param
/// stands for the absolute path of tests/kfp_samples (where the text files
/// the "downloads" read live).
struct Case {
    name: &'static str,
    file: &'static str,
    params: &'static [&'static str],
    /// The run's status: `succeeded` or `failed`.
    status: &'static str,
}

/// What each case's expected file must show (statuses of every step; `[i]`
/// is an iteration or a pass as `runs show` names it).
const RUNS: &[Case] = &[
    // flip1=heads (forced): flip1, print1, flip2 (heads), print2, print3
    // ("condition test") all succeeded.
    case(
        "condition_heads",
        "condition",
        &["force_flip_result=heads", "seed=1"],
        "succeeded",
    ),
    // flip1=tails (forced): flip1, print1 succeeded; flip2, print2, print3 skipped.
    case(
        "condition_tails",
        "condition",
        &["force_flip_result=tails", "seed=1"],
        "succeeded",
    ),
    // flips tails, tails, tails, then flip4 heads: all 8 steps succeeded.
    case(
        "nested_condition_equal",
        "nested_condition",
        &["seed=2"],
        "succeeded",
    ),
    // flips heads, heads, tails: flip1..3 and print1..3 succeeded; flip4, print4 skipped.
    case(
        "nested_condition_differ",
        "nested_condition",
        &["seed=1"],
        "succeeded",
    ),
    // download reads shakespeare1.txt, print_file echoes it, echo_msg prints "exit!".
    case(
        "exit_handler_succeeds",
        "exit_handler",
        &["url={fixtures}/shakespeare1.txt"],
        "succeeded",
    ),
    // download fails (no such file), print_file never starts, echo_msg still
    // prints "exit!"; the run failed.
    case(
        "exit_handler_after_failure",
        "exit_handler",
        &["url={fixtures}/no-such-file.txt"],
        "failed",
    ),
    // print_task; concat_task[1] a=1 b=2 → "12", concat_task[2] → "1020", and
    // print_task_2 of each iteration echoing that; outside the loop nothing reads them.
    case("loop_static", "loop_static", &[], "succeeded"),
    // cop writes foo to /mnt/file1 in the run's claim `my_pvc`, which goes with the run.
    case("volume_ops", "volume_ops", &[], "succeeded"),
    // generate → [{"a": 1, "b": 10}, …, {"a": 4, "b": 40}]; four iterations of
    // concat_task ("110", "220", "330", "440") and print_task_2.
    case("loop_parameter", "loop_parameter", &[], "succeeded"),
    // args_generator → [1.1, 1.2, 1.3]; print_op[1..3] print 1.1, 1.2, 1.3.
    case("loop_output", "loop_output", &[], "succeeded"),
    // two iterations × print_item ({"A_a":1,"B_b":2}), print_a (1), print_b (2), then 10, 20.
    case("loop_parallelism", "loop_parallelism", &[], "succeeded"),
    // as loop_parallelism, at most 2 iterations at once.
    case(
        "parallelism_sub_dag",
        "parallelism_sub_dag",
        &["sleep_seconds=0"],
        "succeeded",
    ),
    // as loop_parallelism, over dump_loop_args' output.
    case(
        "parallelism_sub_dag_with_op_output",
        "parallelism_sub_dag_with_op_output",
        &["sleep_seconds=0"],
        "succeeded",
    ),
    // first_flip heads; passes: print_flip heads / flip_a heads, heads / heads,
    // heads / tails (3 passes); print_done "cool, it is over.".
    case(
        "recursion_three_passes",
        "recursion",
        &["seed=2"],
        "succeeded",
    ),
    // first_flip tails; one pass: print_flip tails, flip_a tails; print_done.
    case("recursion_one_pass", "recursion", &["seed=1"], "succeeded"),
    // first_flip tails, then flip_a heads in each of the 3 passes allowed: the
    // run failed (max reached, the message says so); print_done never starts.
    case(
        "recursion_bounded",
        "recursion",
        &["seed=5", "max_passes=3"],
        "failed",
    ),
    // first_train {"b": 1.29462, "w": 1.453505}; pass 1: mse 0.013502, pass 2:
    // mse 0.006519 <= 0.01, so 2 passes of train, predict, calculate_regression_metrics.
    case("train_until_good", "train_until_good", &[], "succeeded"),
    // get_prod_model "": train_from_scratch, metrics_from_scratch (0.000426),
    // upload_new_model, set_new_model_as_prod succeeded; the else branch's 4 steps skipped.
    case(
        "continue_training_from_scratch",
        "continue_training_from_prod",
        &[],
        "succeeded",
    ),
    // get_prod_model {"b": 1.0, "w": 2.0}: train_from_prod, metrics_from_prod (0.0),
    // upload_warm_model, set_warm_model_as_prod succeeded; the scratch branch's 4 skipped.
    case(
        "continue_training_from_prod_model",
        "continue_training_from_prod",
        &[r#"prod_model={"b": 1.0, "w": 2.0}"#],
        "succeeded",
    ),
    // gcs_download reads shakespeare1.txt; echo prints it.
    case(
        "sequential",
        "sequential",
        &["url={fixtures}/shakespeare1.txt"],
        "succeeded",
    ),
    // both downloads, then echo: "Text 1: …" and "Text 2: …".
    case(
        "parallel_join",
        "parallel_join",
        &[
            "url1={fixtures}/shakespeare1.txt",
            "url2={fixtures}/shakespeare2.txt",
        ],
        "succeeded",
    ),
    // echo1 "message 1", then echo2 "message 2".
    case("execution_order", "execution_order", &[], "succeeded"),
    // get_run_info prints "Current run ID is r1."
    case("use_run_id", "use_run_id", &[], "succeeded"),
    // echo prints "Hello world".
    case("hello_world", "hello_world", &[], "succeeded"),
    // training_op output 1000.
    case("resource_spec", "resource_spec", &["n=1000"], "succeeded"),
    // product_sum_1 5.0/4.5, product_sum_2 7.5/5.5, product_sum_3 27.5/10.5.
    case("multiple_outputs", "multiple_outputs", &[], "succeeded"),
    // produce_dir_with_files makes a folder of 4 files (0.txt … 3.txt, 4 bytes);
    // list_dir_files prints their names, sorted.
    case(
        "output_a_directory",
        "output_a_directory",
        &["num_files=4"],
        "succeeded",
    ),
    // preprocess: output_parameter_one 1234 and a 14-byte dataset file; train
    // reads it, prints "trained for 1234 steps on 'Output dataset'" and keeps
    // a model file of 1234 records (37144 bytes, as its record says).
    case("two_step", "two_step", &[], "succeeded"),
    // add_task 11.0, divmod_task quotient 1.0 remainder 3.0, result_task 18.0.
    case(
        "lightweight_component",
        "lightweight_component",
        &[],
        "succeeded",
    ),
    // component_a field_o 12 → component_b succeeded.
    case(
        "dsl_static_type_checking",
        "dsl_static_type_checking",
        &[],
        "succeeded",
    ),
    // component_a field_o 3 → component_b skipped.
    case(
        "dsl_static_type_checking_low",
        "dsl_static_type_checking",
        &["field_l=3"],
        "succeeded",
    ),
    // heads, 6: print_head_high; the other print and the tails branch skipped.
    case(
        "control_structures_heads_high",
        "control_structures",
        &["seed=2"],
        "succeeded",
    ),
    // heads, 2: print_head_low.
    case(
        "control_structures_heads_low",
        "control_structures",
        &["seed=9"],
        "succeeded",
    ),
    // tails, 16: print_tail_high; the heads branch skipped.
    case(
        "control_structures_tails_high",
        "control_structures",
        &["seed=5"],
        "succeeded",
    ),
    // tails, 11: print_tail_low.
    case(
        "control_structures_tails_low",
        "control_structures",
        &["seed=1"],
        "succeeded",
    ),
    // heads, 6: print_head_high; fail_op skipped; print_exit "… (Succeeded)".
    case(
        "control_structures_exit_heads",
        "control_structures_exit",
        &["seed=2"],
        "succeeded",
    ),
    // tails, 11: print_tail_low; fail_op failed; print_exit "… (Failed)"; the run failed.
    case(
        "control_structures_exit_tails",
        "control_structures_exit",
        &["seed=1"],
        "failed",
    ),
    // confusion_visualization succeeded; visual 1: confusion_matrix from the CSV
    // (tests/visuals.rs checks what `runs visuals` draws from these six).
    case(
        "confusion_matrix",
        "confusion_matrix",
        &["matrix_uri={fixtures}/confusion_matrix.csv"],
        "succeeded",
    ),
    // roc_visualization succeeded; visual 1: roc from roc.csv.
    case(
        "roc",
        "roc",
        &["roc_csv_uri={fixtures}/roc.csv"],
        "succeeded",
    ),
    // table_visualization succeeded; visual 1: table from table.csv.
    case(
        "table",
        "table",
        &["train_file_path={fixtures}/table.csv"],
        "succeeded",
    ),
    // markdown_visualization succeeded; visual 1: markdown (inline), 2: from README.md.
    case(
        "markdown",
        "markdown",
        &["readme={fixtures}/README.md"],
        "succeeded",
    ),
    // html_visualization succeeded; visual 1: web-app (inline).
    case("html", "html", &[], "succeeded"),
    // train prints "logs in logs/fit"; visual 1: tensorboard from logs/fit.
    case("tensorboard", "tensorboard", &[], "succeeded"),
    // generate_resource_request memory 500Mi, cpu 200m; training_op (its limits
    // from those outputs) output 1000.
    case(
        "runtime_resource_request",
        "runtime_resource_request",
        &["n=1000"],
        "succeeded",
    ),
    // print1 "hey, what are you up to?", print2 "train my model." (one at a time).
    case(
        "pipeline_parallelism_limits",
        "pipeline_parallelism_limits",
        &[],
        "succeeded",
    ),
    // print1 and print2 as above, each annotated hobby=football.
    case(
        "pipeline_transformers",
        "pipeline_transformers",
        &[],
        "succeeded",
    ),
    // echo prints "hello world" (the dnsConfig patch is for the cluster).
    case("dns_config", "dns_config", &[], "succeeded"),
    // get_frequent word "flies".
    case("imagepullsecrets", "imagepullsecrets", &[], "succeeded"),
    // no GPU asked; flip output and stdout the seeded flip.
    case(
        "preemptible_tpu_gpu",
        "preemptible_tpu_gpu",
        &["gpus=0", "seed=1"],
        "succeeded",
    ),
    // A first run: do_work and do_work_fresh both worked ("Working for 1
    // seconds.", "Working: 0.", "Done.") and output the `now` given.
    case(
        "caching_first_run",
        "caching",
        &["seconds=1", "now=2024-05-01T12:00:00"],
        "succeeded",
    ),
];

const fn case(
    name: &'static str,
    file: &'static str,
    params: &'static [&'static str],
    status: &'static str,
) -> Case {
    Case {
        name,
        file,
        params,
        status,
    }
}

/// The ports no case runs, and why (each is a deliberate choice, so a new
/// port must be added to one list or the other).
// (The caching sample's point is its second run: see
// `the_caching_sample_reuses_do_work_on_a_second_run`.)
const NOT_RUN: &[(&str, &str)] = &[
    (
        "retry",
        "random on purpose, as the original: about 6 % of runs fail",
    ),
    (
        "runtime_resource_request_gpu",
        "needs a GPU, as the original; tests/cluster.rs runs it with `KFPL_GPUS=1`",
    ),
    (
        "secret",
        "lists a Google Cloud Storage bucket with credentials from a cloud secret",
    ),
    (
        "sidecar",
        "its sidecar is the hashicorp/http-echo image's server, which a bare machine lacks (`kfpl run` ignores images)",
    ),
];

#[test]
fn every_port_is_run_or_says_why_not() {
    for path in ports() {
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let run = RUNS.iter().any(|c| c.file == stem);
        let excused = NOT_RUN.iter().any(|(file, _)| *file == stem);
        assert!(
            run != excused,
            "{stem}: exactly one of RUNS (a case) and NOT_RUN (a reason)"
        );
    }
}

#[test]
fn every_runnable_port_does_what_its_expected_file_says() {
    let failures: Vec<String> = RUNS
        .iter()
        .filter_map(|case| run_case(case).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n\n{}",
        failures.len(),
        RUNS.len(),
        failures.join("\n\n")
    );
}

/// Runs one case in its own state folder and compares its summary.
fn run_case(case: &Case) -> Result<(), String> {
    let dir = TempDir::new(&format!("kfp-samples-{}", case.name));
    let (cwd, home) = (dir.join("cwd"), dir.join("home"));
    for folder in [&cwd, &home] {
        std::fs::create_dir_all(folder).unwrap();
    }
    let fixtures = root().join("tests/kfp_samples");
    let file = root().join(SAMPLES).join(format!("{}.kfp", case.file));
    let mut args = vec!["run".to_string(), file.display().to_string()];
    for param in case.params {
        args.push("-p".into());
        args.push(param.replace("{fixtures}", &fixtures.display().to_string()));
    }
    let kfpl = |args: &[String]| {
        support::kfpl(args)
            .current_dir(&cwd)
            .env("KFPL_HOME", &home)
            .output()
    };
    let run = kfpl(&args);
    let show = kfpl(&["runs", "show", "r1", "--format", "json"].map(String::from));
    if !show.status.success() {
        return Err(format!(
            "{}: no run recorded\nkfpl run: {}\nkfpl runs show: {}",
            case.name,
            stderr(&run),
            stderr(&show)
        ));
    }
    let recorded: Value = serde_json::from_slice(&show.stdout)
        .map_err(|e| format!("{}: runs show --format json: {e}", case.name))?;
    let status = recorded["status"].as_str().unwrap_or("?");
    if status != case.status || run.status.success() != (case.status == "succeeded") {
        return Err(format!(
            "{}: the run {status} (exit {:?}), expected {}\n{}",
            case.name,
            run.status.code(),
            case.status,
            stderr(&run)
        ));
    }
    let summary = summary(&args[1..], &recorded, &dir);
    let expected = fixtures.join(format!("{}.expected", case.name));
    support::check_expected(&expected, &summary).map_err(|e| format!("{}: {e}", case.name))?;
    on_argo_too(case, &file, &args, &recorded, &dir)
}

/// Cases whose runs differ between the targets by design, and why.
const ARGO_DIFFERS: &[(&str, &str)] = &[(
    "use_run_id",
    "prints `$<workflow.uid>`: the run id locally (`r1`), a uid on Argo",
)];

/// The compiled workflow, run by the Argo model with the same params,
/// does what `kfpl run` did: every step's (and iteration's, and pass's)
/// status, outputs and stdout.
fn on_argo_too(
    case: &Case,
    file: &Path,
    args: &[String],
    recorded: &Value,
    dir: &TempDir,
) -> Result<(), String> {
    if !argo::simulator_can_run() || ARGO_DIFFERS.iter().any(|(name, _)| *name == case.name) {
        return Ok(());
    }
    let compiled = support::kfpl(["compile".as_ref(), file.as_os_str()]).output();
    if !compiled.status.success() {
        return Err(format!(
            "{}: kfpl compile: {}",
            case.name,
            stderr(&compiled)
        ));
    }
    let workflow = dir.write("workflow.yaml", &compiled.stdout);
    let params: Vec<(String, String)> = args
        .iter()
        .skip(2)
        .filter(|a| *a != "-p")
        .filter_map(|a| {
            a.split_once('=')
                .map(|(n, v)| (n.to_string(), v.to_string()))
        })
        .collect();
    let result = argo::simulate(&workflow, &params, &dir.join("argo"))
        .map_err(|e| format!("{}: {e}", case.name))?;
    let source = std::fs::read_to_string(file).unwrap_or_default();
    let on_argo = argo::without_helpers(argo::argo_instances(&result, &argo::step_names(&source)));
    let differ = argo::mismatches(&argo::kfpl_instances(recorded), &on_argo);
    if differ.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: kfpl run and Argo differ:\n{}",
            case.name,
            differ.join("\n")
        ))
    }
}

/// What a run did, in a form that compares: the command, the run's status
/// and message, then each step sorted by name with its status, outputs,
/// metrics, visuals (as `runs show` lists them) and stdout. The repository's path is left out and the temporary folder's is
/// `[TMP]`, so the text is the same on every machine.
fn summary(args: &[String], run: &Value, temporary: &Path) -> String {
    let text = |value: &Value| value.as_str().unwrap_or("?").to_string();
    let mut out = format!(
        "# kfpl run {}\nrun: {}\n",
        args.join(" "),
        text(&run["status"])
    );
    if let Some(message) = run["message"].as_str() {
        let _ = writeln!(out, "message: {message}");
    }
    let mut steps: Vec<&Value> = run["steps"].as_array().into_iter().flatten().collect();
    steps.sort_by_key(|step| text(&step["name"]));
    for step in steps {
        let _ = write!(out, "\n{}: {}", text(&step["name"]), text(&step["status"]));
        if let Some(code) = step["exit_code"].as_i64().filter(|&code| code != 0) {
            let _ = write!(out, " (exit {code})");
        }
        out.push('\n');
        // Values as JSON strings: one line each, and an empty one shows.
        for (output, value) in step["outputs"].as_object().into_iter().flatten() {
            let _ = writeln!(out, "  output {output} = {value}");
        }
        let metrics = run["metrics"].as_array().into_iter().flatten();
        for metric in metrics.filter(|m| m["step"] == step["name"]) {
            let _ = writeln!(
                out,
                "  metric {} = {}",
                text(&metric["name"]),
                metric["value"]
            );
        }
        let visuals = run["visuals"].as_array().into_iter().flatten();
        for visual in visuals.filter(|v| v["step"] == step["name"]) {
            let _ = writeln!(
                out,
                "  visual {} = {}",
                visual["index"],
                text(&visual["description"])
            );
        }
        let log = step["stdout_log"].as_str().map(std::fs::read_to_string);
        for line in log.and_then(Result::ok).unwrap_or_default().lines() {
            let _ = writeln!(out, "  | {line}");
        }
    }
    out.replace(&format!("{}/", root().display()), "")
        .replace(&temporary.display().to_string(), "[TMP]")
}

/// The caching sample's test 1 and 2 (and 3): run again with the same
/// `seconds`, `do_work` is `cached` with the first run's output (the time
/// it finished then), while `do_work_fresh` (no `cache = true`: KFP's
/// `max_cache_staleness = "P0D"`) works again.
#[test]
fn the_caching_sample_reuses_do_work_on_a_second_run() {
    let dir = TempDir::new("kfp-samples-caching-twice");
    let file = root().join(SAMPLES).join("caching.kfp");
    let run = || {
        let args = [
            "run".as_ref(),
            file.as_os_str(),
            "-p".as_ref(),
            "seconds=0".as_ref(),
        ];
        let out = support::kfpl(args)
            .current_dir(dir.path())
            .env("KFPL_HOME", dir.join("home"))
            .output();
        assert!(out.status.success(), "{}", stderr(&out));
        out
    };
    let show = |id: &str| -> Value {
        let out = support::kfpl(["runs", "show", id, "--format", "json"])
            .current_dir(dir.path())
            .env("KFPL_HOME", dir.join("home"))
            .output();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let step = |run: &Value, name: &str| -> Value {
        run["steps"]
            .as_array()
            .and_then(|steps| steps.iter().find(|s| s["name"] == name))
            .cloned()
            .unwrap_or_default()
    };
    run();
    let second = run();
    let printed_by = |name: &str| {
        stdout(&second)
            .lines()
            .filter(|line| line.split(" | ").next().map(str::trim) == Some(name))
            .count()
    };
    assert_eq!(printed_by("do_work"), 0, "{}", stdout(&second));
    assert!(printed_by("do_work_fresh") > 0, "{}", stdout(&second));
    let (first, again) = (show("r1"), show("r2"));
    assert_eq!(step(&first, "do_work")["status"], "succeeded");
    assert_eq!(step(&again, "do_work")["status"], "cached");
    assert_eq!(step(&again, "do_work")["cached_from"]["run"], "r1");
    assert_eq!(
        step(&again, "do_work")["outputs"]["output"],
        step(&first, "do_work")["outputs"]["output"],
        "the cached output is the first run's finishing time"
    );
    assert_eq!(step(&again, "do_work_fresh")["status"], "succeeded");
}
