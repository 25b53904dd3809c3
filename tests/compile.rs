//! `kfpl compile`: golden files, Argo's JSON schema, lint, round trips, and
//! the binary end to end.
//!
//! Fixtures are `tests/compile/*.kfp` (expected output beside each) and every
//! `examples/*.kfp` (expected output in `tests/compile/examples/`). Header
//! lines pass arguments and state intent:
//! `# args: -p NAME=VALUE --git-image IMG` and, for programs that must not
//! compile, `# expect: E0501, E0502` (then `.stderr` holds the diagnostics
//! in the short format).
//! A compiled fixture's `.yaml` must match byte for byte, validate against
//! `../shared/schemas/argo-workflows.schema.json`, pass `lint`, read back into
//! the same `Workflow`, compile to the same bytes twice, and leave nothing
//! for a YAML 1.1 reader to mistake for a non-string.
//! `KFPL_BLESS=1 cargo test --test compile` rewrites the expected files.

#[path = "support/argo_schema.rs"]
mod argo_schema;
mod support;
#[path = "support/yaml11.rs"]
mod yaml11;

use std::path::{Path, PathBuf};
use std::process::Output;

use kfpl::diagnostics::render::{self, Format, Style};
use kfpl::lower::{Workflow, lint};
use kfpl::{CompileOptions, SourceFile, compile};

use argo_schema::assert_valid;
use support::{Header, TempDir, expect_file};

/// A fixture's options (`# args:`), which must all be accepted.
fn options(header: &Header) -> CompileOptions {
    let (options, refused) = support::compile_options(&header.args);
    assert!(refused.is_empty(), "{refused:?}");
    options
}

/// Every fixture: (source path, expected-output path without extension).
fn fixtures() -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for (dir, expected_dir) in [
        ("tests/compile", "tests/compile"),
        ("examples", "tests/compile/examples"),
    ] {
        for path in support::files_with_extension(dir, "kfp") {
            let stem = path.file_stem().expect("stem").to_owned();
            out.push((path, Path::new(expected_dir).join(stem)));
        }
    }
    out.sort();
    out
}

#[test]
fn golden_files() {
    let fixtures = fixtures();
    assert!(fixtures.len() >= 6, "{fixtures:?}");
    let mut compiled_count = 0;
    for (path, expected) in &fixtures {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).expect("fixture");
        let header = Header::parse(&text);
        let expect = header.expect.clone().unwrap_or_default();
        let options = options(&header);
        let file = SourceFile::new(name.clone(), text);
        match compile(&file, &options) {
            Ok(compiled) => {
                assert!(expect.is_empty(), "{name} compiled; expected {expect:?}");
                check_compiled(&name, &file, &options, &compiled);
                expect_file(&expected.with_extension("yaml"), &compiled.yaml);
                compiled_count += 1;
            }
            Err(diagnostics) => {
                let codes: Vec<&str> = diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(|d| d.code.as_str())
                    .collect();
                assert_eq!(codes, expect, "{name}");
                // The short form (position, code, message, help): the layout of
                // snippets is the renderer's business, tested in tests/ui.
                let rendered =
                    render::render_all(&diagnostics, &file, Format::Short, Style::default());
                expect_file(&expected.with_extension("stderr"), &rendered);
            }
        }
    }
    assert!(compiled_count >= 4);
}

/// Everything a compiled fixture must satisfy besides its golden file.
fn check_compiled(
    name: &str,
    file: &SourceFile,
    options: &CompileOptions,
    compiled: &kfpl::Compiled,
) {
    assert_eq!(lint(&compiled.workflow), Vec::<String>::new(), "{name}");
    assert_valid(name, &compiled.yaml);
    let back: Workflow = serde_yaml::from_str(&compiled.yaml).expect("reads back into Workflow");
    assert_eq!(
        back, compiled.workflow,
        "{name}: the YAML reads back differently"
    );
    let again = compile(file, options).expect("compiles twice");
    assert_eq!(again.yaml, compiled.yaml, "{name}: not deterministic");
    // `kfpl compile`'s writer (step templates written as laid out, the
    // model never whole) writes what serde's derive writes from the model.
    let (streamed, _) = kfpl::lower::compile_streamed(file, options, |workflow| {
        let mut bytes = Vec::new();
        kfpl::lower::yaml::write_streamed(workflow, &mut bytes).map(|()| bytes)
    })
    .expect("compiles streamed");
    assert_eq!(
        String::from_utf8(streamed.expect("writes")).expect("UTF-8"),
        compiled.yaml,
        "{name}: the streamed writer differs"
    );
    assert_eq!(
        yaml11::quote_yaml11(&compiled.yaml),
        compiled.yaml,
        "{name}: a plain scalar a YAML 1.1 reader would not take as a string"
    );
}

#[test]
fn expected_files_read_back_into_workflows() {
    let dirs = ["tests/compile", "tests/compile/examples"];
    let mut count = 0;
    for dir in dirs {
        for path in support::files_with_extension(dir, "yaml") {
            let text = std::fs::read_to_string(&path).expect("yaml");
            let workflow: Workflow =
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(lint(&workflow), Vec::<String>::new(), "{}", path.display());
            assert_valid(&path.display().to_string(), &text);
            count += 1;
        }
    }
    assert!(count >= 4);
}

#[test]
fn yaml11_words_stay_strings_in_the_golden() {
    let text = std::fs::read_to_string("tests/compile/every_construct.yaml").expect("golden");
    for needle in [
        "value: 'on'",
        "value: 'yes'",
        "value: 'no'",
        "optional: true",
    ] {
        assert!(
            text.contains(needle),
            "`{needle}` not in every_construct.yaml"
        );
    }
    assert!(
        text.contains(r#""default":"yes""#),
        "the KFP annotation keeps the default"
    );
}

#[test]
fn mnist_is_the_tutorials_workflow() {
    let file = kfpl::read_source(Path::new("examples/mnist.kfp"), "examples/mnist.kfp")
        .expect("examples/mnist.kfp");
    let compiled = compile(&file, &CompileOptions::default()).expect("mnist compiles");
    let spec = &compiled.workflow.spec;
    // The step templates come first, then the DAGs.
    let (steps, dags) = spec.templates.split_at(3);
    assert_eq!(spec.entrypoint, dags[0].name);
    let dag = dags[0].dag.as_ref().expect("the entrypoint is a DAG");
    let chain: Vec<(&str, Vec<&str>)> = dag
        .tasks
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.dependencies.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        chain,
        [
            ("prepare-data", vec![]),
            ("train", vec!["prepare-data"]),
            ("export-model", vec!["train"])
        ]
    );
    for template in steps {
        let container = template.container.as_ref().expect("container");
        let mounts = container.volume_mounts.as_ref().expect("mounts");
        assert!(
            mounts
                .iter()
                .any(|m| m.name == "user-susan" && m.mount_path == "/training"),
            "{}",
            template.name
        );
    }
    let claim = spec
        .volumes
        .iter()
        .find(|v| v.name == "user-susan")
        .expect("volume");
    assert_eq!(
        claim
            .persistent_volume_claim
            .as_ref()
            .map(|c| c.claim_name.as_str()),
        Some("user-susan")
    );
    let train = spec
        .templates
        .iter()
        .find(|t| t.name == "train")
        .expect("train");
    let limits = train
        .container
        .as_ref()
        .and_then(|c| c.resources.as_ref())
        .and_then(|r| r.limits.as_ref())
        .expect("limits");
    assert_eq!(limits["nvidia.com/gpu"].0, "1");
    assert!(compiled.yaml.contains("nvidia.com/gpu: '1'"));
    let git = &train.init_containers[0];
    // The revision arrives base64-encoded; the clone script decodes it.
    let revision = git
        .env
        .iter()
        .flatten()
        .find(|e| e.name == "KFP_commit")
        .expect("rev");
    assert_eq!(
        revision.value.as_deref(),
        Some("{{inputs.parameters.commit}}")
    );
    assert!(git.command.iter().flatten().any(|c| c.contains("git clone")
        && c.contains("export GIT_SYNC_REV=\"${KFP_commit}\"")));
    let artifacts = &train.outputs.as_ref().expect("outputs").artifacts;
    assert_eq!(artifacts[0].name, "mlpipeline-metrics");
    let arguments: Vec<(&str, &str)> = spec
        .arguments
        .iter()
        .flat_map(|a| &a.parameters)
        .map(|p| (p.name.as_str(), p.value.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        arguments,
        [
            ("learning_rate", "0.01"),
            ("dropout", "0.9"),
            ("model_version", "1"),
            ("commit", "f097575656f927d86d99dd64931042e1a9003cb2")
        ]
    );
    let annotations = compiled
        .workflow
        .metadata
        .annotations
        .as_ref()
        .expect("annotations");
    let kfp: serde_json::Value =
        serde_json::from_str(&annotations["pipelines.kubeflow.org/pipeline_spec"]).expect("JSON");
    assert_eq!(kfp["name"], "pipeline to run jobs");
    assert_eq!(kfp["inputs"][0]["type"], "Float");
    assert_eq!(
        kfp["inputs"][3]["default"],
        "f097575656f927d86d99dd64931042e1a9003cb2"
    );
}

// The binary, end to end.

fn kfpl(args: &[&str]) -> Output {
    support::kfpl(args).output()
}

#[test]
fn binary_prints_yaml_to_stdout_and_writes_yaml_files() {
    let output = kfpl(&["compile", "examples/mnist.kfp"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stderr.is_empty());
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let workflow: Workflow = serde_yaml::from_str(&stdout).expect("stdout is a workflow");
    assert_eq!(workflow.metadata.generate_name.as_deref(), Some("mnist-"));
    let expected = std::fs::read_to_string("tests/compile/examples/mnist.yaml").expect("golden");
    assert_eq!(stdout, expected);

    let dir = TempDir::new("yaml");
    let out = dir.join("mnist.yaml");
    let output = kfpl(&[
        "compile",
        "examples/mnist.kfp",
        "-o",
        &out.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(&out).ok().as_deref(),
        Some(expected.as_str())
    );
}

#[test]
fn binary_writes_a_kfp_package() {
    let dir = TempDir::new("package");
    for name in ["mnist.tar.gz", "mnist.tgz"] {
        let out = dir.join(name);
        let output = kfpl(&[
            "compile",
            "examples/mnist.kfp",
            "-p",
            "learning_rate=0.05",
            "-o",
            &out.display().to_string(),
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let file = std::fs::File::open(&out).expect("package written");
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let mut entries = Vec::new();
        for entry in archive.entries().expect("a tar") {
            let mut entry = entry.expect("entry");
            let path = entry.path().expect("path").display().to_string();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text).expect("UTF-8");
            entries.push((path, text));
        }
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].0, "pipeline.yaml");
        let workflow: Workflow = serde_yaml::from_str(&entries[0].1).expect("a workflow");
        let lr = workflow
            .spec
            .arguments
            .as_ref()
            .expect("arguments")
            .parameters[0]
            .clone();
        assert_eq!(
            (lr.name.as_str(), lr.value.as_deref()),
            ("learning_rate", Some("0.05"))
        );
        assert_valid(name, &entries[0].1);
    }
    let first = std::fs::read(dir.join("mnist.tar.gz")).expect("read");
    let second = std::fs::read(dir.join("mnist.tgz")).expect("read");
    assert_eq!(first, second, "packages are byte-for-byte deterministic");
}

#[test]
fn binary_param_errors_exit_with_their_codes() {
    // (arguments, exit code, diagnostic code, text): a malformed `-p` is a
    // usage error (2), a value the program refuses an error in it (1).
    let cases: [(&[&str], i32, &str, &str); 5] = [
        (
            &["-p", "learning_rate=abc"],
            1,
            "kfpl::E0303",
            "is a number",
        ),
        (
            &["-p", "learnig_rate=0.5"],
            1,
            "kfpl::E0209",
            "did you mean `learning_rate`?",
        ),
        (&["-p", "learning_rate"], 2, "kfpl::E0004", "NAME=VALUE"),
        (
            &["-p", "model_version={{x}}"],
            1,
            "kfpl::E0501",
            "Argo would read as a reference",
        ),
        (&["--git-image", ""], 1, "kfpl::E0501", "--git-image"),
    ];
    for (args, exit, code, text) in cases {
        let mut all = vec!["compile", "examples/mnist.kfp"];
        all.extend_from_slice(args);
        let output = kfpl(&all);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(exit), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}: nothing on stdout");
        assert!(stderr.contains(code), "{args:?}: {stderr}");
        assert!(stderr.contains(text), "{args:?}: {stderr}");
    }
    // A param without a default compiles to a required input (no `value`).
    let output = kfpl(&["compile", "tests/compile/E0210_param_without_value.kfp"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stdout.contains("    - name: dataset\n    - name: epochs\n"),
        "{stdout}"
    );
    let output = kfpl(&[
        "compile",
        "tests/compile/E0210_param_without_value.kfp",
        "-p",
        "dataset=s3://x",
    ]);
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn binary_reports_unwritable_output_and_usage_errors() {
    let output = kfpl(&[
        "compile",
        "examples/mnist.kfp",
        "-o",
        "/nonexistent-dir/x.yaml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("kfpl::E0503"));
    let output = kfpl(&["compile"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "a missing FILE is a usage error"
    );
    let output = kfpl(&["compile", "no/such/file.kfp"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("kfpl::E0001"));
}

#[test]
fn binary_shows_warnings_and_still_compiles() {
    let dir = TempDir::new("warn");
    let path = dir.join("warn.kfp");
    std::fs::write(
        &path,
        "pipeline w {\n  param unused: string = \"x\"\n  step s {\n    image = \"alpine\"\n    command = \"true\"\n  }\n}\n",
    )
    .expect("write");
    let output = kfpl(&["compile", &path.display().to_string()]);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stderr).contains("kfpl::W0201"));
    assert!(
        String::from_utf8_lossy(&output.stdout).starts_with("apiVersion: argoproj.io/v1alpha1\n")
    );
}

mod any_text {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever text a program holds where text may go, the workflow
        /// passes lint and the schema, reads back, and quotes YAML 1.1 words.
        #[test]
        fn any_text_compiles_to_a_valid_workflow(
            text in "([a-z {}$()'\"\\\\\n:#-]|yes|on|~|null|1_0|2001-01-01){0,12}",
            word in "(yes|No|ON|off|y|n|~|null|true|1:20|0x1f|-\\.5|[a-z]{1,3})",
        ) {
            let source = format!(
                r#"pipeline t {{
  description = "{text}"
  param p: string = "{word}"
  let l = "{text}$<p>"
  step a {{
    description = "{text}"
    image = "alpine:3.20"
    env = {{ E = "{text}", W = "{word}", L = l }}
    metric "{text}x"
    output o
    command = "echo {text} $<p> $<l>"
  }}
  step b {{
    image = "alpine:3.20"
    env = {{ W = "{word}" }}
    command = ["{text}", "{word}", "$<a.o>{text}$<l>"]
  }}
}}"#,
                text = kfpl::syntax::escape_string(&text),
                word = kfpl::syntax::escape_string(&word),
            );
            let file = SourceFile::new("t.kfp", source);
            match compile(&file, &CompileOptions::default()) {
                Ok(compiled) => check_compiled("t.kfp", &file, &CompileOptions::default(), &compiled),
                Err(errors) => {
                    let codes: Vec<&str> = errors.iter().filter(|d| d.is_error()).map(|d| d.code.as_str()).collect();
                    prop_assert!(codes.iter().all(|c| *c == "E0315"), "{:#?}", errors);
                }
            }
        }
    }
}

/// A layered DAG of `steps` steps, ten a layer, each reading outputs of the
/// layer before (the shape of benches/gen_kfp.py).
fn layered_program(steps: usize) -> String {
    let mut out = String::from(
        "pipeline layered {\n  param lr: number = 0.01\n  param commit: string = \"0123456789abcdef0123456789abcdef01234567\"\n  let data = [\"shared:/data\", \"models:/models\"]\n",
    );
    for i in 0..steps {
        out.push_str(&format!(
            "  step s{i} {{\n    image = \"python:3.12\"\n    data = data\n    output model\n"
        ));
        if i % 3 == 0 {
            out.push_str("    sync_source = \"https://github.com/example/t.git\"\n    env = { GIT_SYNC_REV = \"$<commit>\" }\n");
        }
        if i % 7 == 0 {
            out.push_str("    gpus = 1\n    retries = 2\n    timeout = \"30m\"\n    metric \"accuracy\": percentage\n");
        }
        let inputs = if i >= 10 {
            let previous = (i / 10 - 1) * 10;
            format!(
                " $<s{}.model> $<s{}.output>",
                previous + i % 10,
                previous + (i * 7 + 3) % 10
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "    command = \"train --lr $<lr>{inputs} > $KFP_OUTPUTS/model\"\n  }}\n"
        ));
    }
    out.push_str("}\n");
    out
}

#[test]
fn a_large_layered_dag_is_valid() {
    let file = SourceFile::new("layered.kfp", layered_program(300));
    let compiled = compile(&file, &CompileOptions::default()).expect("compiles");
    check_compiled("layered.kfp", &file, &CompileOptions::default(), &compiled);
    let spec = &compiled.workflow.spec;
    let entry = spec.templates.iter().find(|t| t.name == spec.entrypoint);
    let dag = entry.and_then(|t| t.dag.as_ref()).expect("dag");
    assert_eq!(dag.tasks.len(), 300);
    assert_eq!(dag.tasks[299].dependencies.len(), 2);
}

#[test]
fn binary_warns_w0501_when_the_workflow_passes_one_megabyte() {
    let dir = TempDir::new("large");
    let source = dir.join("large.kfp");
    // About 3 KB of YAML a generated step: 500 steps pass 1 MB.
    std::fs::write(&source, kfpl::generate::program(500)).expect("write source");
    let out = dir.join("large.yaml");
    let output = kfpl(&[
        "compile",
        &source.display().to_string(),
        "-o",
        &out.display().to_string(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let size = std::fs::metadata(&out).expect("written").len();
    assert!(size > kfpl::lower::SIZE_WARNING_BYTES);
    assert!(stderr.contains("W0501"), "{stderr}");
    assert!(
        stderr.contains(&format!("{:.1} MB", size as f64 / 1e6)),
        "{stderr}"
    );
    assert!(stderr.contains("1.5 MiB"), "{stderr}");
}

/// A loop over 1,000 literal items is one body template and one task with
/// the items, not 1,000 copies of the step.
#[test]
fn a_literal_loop_of_a_thousand_items_is_not_unrolled() {
    let items: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
    let source = format!(
        "pipeline wide {{\n  for x in [{}] {{\n    step work {{ image = \"alpine\" command = \"echo $<x>\" }}\n  }}\n}}\n",
        items.join(", ")
    );
    let file = SourceFile::new("wide.kfp", source);
    let compiled = compile(&file, &CompileOptions::default()).expect("compiles");
    let workflow = &compiled.workflow;
    assert_eq!(lint(workflow), Vec::<String>::new());
    assert_valid("wide.kfp", &compiled.yaml);
    let names: Vec<&str> = workflow
        .spec
        .templates
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["work", "wide", "for-1"]);
    let entry = workflow.spec.templates[1].dag.as_ref().expect("a DAG");
    assert_eq!(entry.tasks.len(), 1);
    assert_eq!(entry.tasks[0].with_items.len(), 1000);
    assert_eq!(entry.tasks[0].with_items[999], "999");
    assert_eq!(compiled.yaml.matches("echo ${KFP_x}").count(), 1);
}
