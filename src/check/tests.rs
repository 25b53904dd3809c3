//! Checking whole programs: what `check` hands to `compile` and `run`.

use std::collections::BTreeMap;

use super::ir::{Command, Pipeline};
use super::params::{self, Missing};
use crate::{Code, SourceFile};

fn checked(source: &str) -> Result<Pipeline, Vec<Code>> {
    let checked = crate::check(&SourceFile::new("test.kfp", source));
    checked
        .pipeline
        .ok_or_else(|| checked.diagnostics.iter().map(|d| d.code).collect())
}

fn step_with(attributes: &str) -> String {
    format!(
        "pipeline p {{\n  param cores: string = \"2\"\n  param n: number = 1\n  step s {{\n    image = \"alpine\"\n    command = \"echo $<cores> $<n>\"\n    {attributes}\n  }}\n}}\n"
    )
}

/// `timeout = 90` is ninety seconds in the IR, which `compile`
/// (`activeDeadlineSeconds`) and `run` (the step's deadline) both read.
#[test]
fn a_bare_number_timeout_is_seconds() {
    for (written, seconds) in [("90", 90), ("\"90\"", 90), ("\"90s\"", 90), ("\"2m\"", 120)] {
        let pipeline = checked(&step_with(&format!("timeout = {written}"))).expect(written);
        let timeout = pipeline.steps[0].timeout.as_ref().expect("a timeout");
        assert_eq!(timeout.seconds, seconds, "{written}");
    }
    for written in ["1.5", "0", "-3", "true"] {
        let codes = checked(&step_with(&format!("timeout = {written}"))).expect_err(written);
        assert!(
            codes == [Code::E0309] || codes == [Code::E0301],
            "{written}: {codes:?}"
        );
    }
}

/// Param defaults given to resources follow the rule `-p` values follow.
#[test]
fn resources_from_param_defaults_are_checked() {
    let fine = [
        "cpu = \"$<cores>\"",
        "cpu = \"$<cores>00m\"",
        "memory = \"$<cores>Gi\"",
        "gpus = \"$<n>\"",
        "retries = \"$<n>\"",
    ];
    for attributes in fine {
        checked(&step_with(attributes)).expect(attributes);
    }
    let source = step_with("cpu = \"$<cores> cores\"\n    gpus = \"$<n>\"")
        .replace("number = 1\n", "number = 0.5\n");
    assert_eq!(checked(&source), Err(vec![Code::E0308, Code::E0310]));
}

/// `-p` values go through the same rule; a param without a value is
/// left alone (compiling makes it a required input).
#[test]
fn resources_from_command_line_values_are_checked() {
    let source = "pipeline p {\n  param cores: string\n  param mem: string = \"1Gi\"\n  step s {\n    image = \"alpine\"\n    command = \"true\"\n    cpu = \"$<cores>\"\n    memory = \"$<mem>\"\n  }\n}\n";
    let pipeline = checked(source).expect("no default is fine");
    let bind = |pairs: &[(&str, &str)]| {
        let overrides: Vec<(String, String)> = pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        params::bind(&pipeline, &overrides, Missing::Allow)
            .map_err(|errors| errors.iter().map(|d| d.code).collect::<Vec<_>>())
    };
    let expected: BTreeMap<String, String> = [("mem".to_string(), "1Gi".to_string())].into();
    assert_eq!(bind(&[]), Ok(expected));
    assert_eq!(bind(&[("cores", "two")]), Err(vec![Code::E0310]));
    assert_eq!(bind(&[("mem", "1 GB")]), Err(vec![Code::E0310]));
    assert!(bind(&[("cores", "1500m"), ("mem", "2Gi")]).is_ok());
}

/// Every example writes each output it declares to `$KFP_OUTPUTS/NAME`
/// from a shell script (an argv is not expanded, so a path there must be
/// literal, and only `$KFP_OUTPUTS` is the outputs folder everywhere).
#[test]
fn examples_write_their_declared_outputs() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "kfp") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let pipeline = checked(&text).unwrap_or_else(|c| panic!("{}: {c:?}", path.display()));
        for step in &pipeline.steps {
            for output in step.outputs.iter().skip(1) {
                let Command::Shell(script) = &step.command else {
                    panic!(
                        "{}: step `{}` declares `{}` but runs an argv",
                        path.display(),
                        step.name,
                        output.name
                    );
                };
                let script = script.shell_script().script;
                let written = [
                    format!("$KFP_OUTPUTS/{}", output.name),
                    format!("${{KFP_OUTPUTS}}/{}", output.name),
                ];
                assert!(
                    written.iter().any(|w| script.contains(w.as_str())),
                    "{}: step `{}` never writes `$KFP_OUTPUTS/{}`",
                    path.display(),
                    step.name,
                    output.name
                );
                seen += 1;
            }
        }
    }
    assert!(seen > 0, "no example declares an output");
}

/// Every diagnostic of these broken programs says how to fix it. (Two
/// cases still have no help line, because the REPL fills the gap with a
/// note of its own: an unknown step with no close name, and a string
/// attribute given a let of another type.)
#[test]
fn every_diagnostic_has_a_help_line() {
    let broken = [
        "let g = [1, 2]\n  step s { image = \"a\" command = \"x\" gpus = g }",
        "step s { image = \"a\" command = \"x\" gpus = true }",
        "step s { image = \"a\" command = 1 }",
        "step s { image = \"a\" command = [\"x\", true] }",
        "step s { image = \"a\" command = \"x\" cpu = true }",
        "step s { image = \"a\" command = \"x\" memory = 4 }",
        "step s { image = \"a\" command = \"x\" timeout = 90.5 }",
        "step s { image = \"a\" command = \"x\" timeout = [1] }",
        "step s { image = \"a\" command = \"x\" sync_source = 1 }",
        "step s { image = \"a\" command = \"x\" data = [1] }",
        "name = 1\n  step s { image = \"a\" command = \"x\" }",
        "step s { image = \"a\" command = \"x\" output output }",
    ];
    for body in broken {
        let source = format!("pipeline p {{\n  {body}\n}}\n");
        let checked = crate::check(&SourceFile::new("test.kfp", source));
        assert!(checked.pipeline.is_none(), "{body}: expected an error");
        for diagnostic in &checked.diagnostics {
            assert!(
                diagnostic.help.is_some(),
                "{body}: {} `{}` has no help line",
                diagnostic.code.as_str(),
                diagnostic.message
            );
        }
    }
}

/// Editors show a doc line on hover for every attribute the checker takes.
#[test]
fn every_attribute_has_a_doc_line() {
    for name in super::STEP_ATTRIBUTES
        .iter()
        .chain(&["name", "description"])
    {
        assert!(
            super::attribute_doc(name).is_some(),
            "`{name}` has no doc line"
        );
    }
}
