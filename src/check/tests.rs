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

/// `-p` bools and lists are checked and carried in their canonical text;
/// defaults too (compact JSON with sorted keys).
#[test]
fn bool_and_list_values_are_checked_and_canonical() {
    let source = "pipeline p {\n  param go: bool = True\n  param lrs: list = [0.10, {b = 1, a = \"x\"}]\n  step s {\n    image = \"alpine\"\n    command = \"echo $<go> $<lrs>\"\n  }\n}\n";
    // Python's spelling is for `-p` and outputs; in kfp, `True` is a (bad) name.
    assert_eq!(checked(source), Err(vec![Code::E0109, Code::E0302]));
    let source = source.replace("True", "true");
    let pipeline = checked(&source).expect("valid");
    let bind = |pairs: &[(&str, &str)]| {
        let overrides: Vec<(String, String)> = pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        params::bind(&pipeline, &overrides, Missing::Error)
            .map_err(|errors| errors.iter().map(|d| d.code).collect::<Vec<_>>())
    };
    let defaults = bind(&[]).expect("defaults");
    assert_eq!(defaults["go"], "true");
    assert_eq!(defaults["lrs"], r#"[0.10,{"a":"x","b":1}]"#);
    let given = bind(&[("go", "False"), ("lrs", "[ 1, {\"z\": true, \"a\": 2} ]")]).expect("given");
    assert_eq!(given["go"], "false");
    assert_eq!(given["lrs"], r#"[1,{"a":2,"z":true}]"#);
    assert_eq!(bind(&[("go", "yes")]), Err(vec![Code::E0303]));
    assert_eq!(bind(&[("lrs", "[1,")]), Err(vec![Code::E0303]));
    assert_eq!(bind(&[("lrs", "[[1]]")]), Err(vec![Code::E0303]));
}

/// v1's E0312 is gone (its code is kept, marked removed): a fixed list or
/// map let interpolates as compact JSON with sorted keys.
#[test]
fn lists_and_maps_interpolate_as_json() {
    assert!(Code::E0312.is_removed());
    let source = "pipeline p {\n  let m = {z = [1, true], a = \"x\"}\n  step s {\n    image = \"alpine\"\n    command = [\"echo\", \"$<m>\"]\n  }\n}\n";
    let pipeline = checked(source).expect("valid");
    let crate::check::ir::Command::Exec(args) = &pipeline.steps[0].command else {
        panic!("an argv")
    };
    assert_eq!(
        args[1].as_const().as_deref(),
        Some(r#"{"a":"x","z":[1,true]}"#)
    );
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

/// The v2 control blocks in the IR: nesting, kinds, each step's block, and
/// the dependencies a block's head adds to every step inside it.
#[test]
fn control_blocks_reach_the_ir() {
    use super::ir::{BlockKind, Condition, Part};
    let pipeline = checked(
        r#"pipeline demo {
  param lrs: list = [0.01, 0.1]
  param deploy: bool = true
  step flip { image = "a" command = "echo heads > $KFP_OUTPUTS/output" }
  if $<flip.output> == "heads" and not $<deploy> {
    step heads { image = "a" command = "echo heads" }
  } else if $<flip.output> == "tails" {
    step tails { image = "a" command = "echo tails" }
  }
  for lr in $<lrs> {
    parallelism = 2
    step train { image = "a" output accuracy: number command = "echo $<lr>" }
  }
  step pick { image = "a" when = $<deploy> command = "echo $<train.accuracy>" }
  repeat max 3 {
    carry guess = 0 then $<next.output>
    step next { image = "a" output: number command = "echo $<guess>" }
  } while $<next.output> < 3
  finally { step notify { image = "a" command = "echo $<workflow.name> $<workflow.status>" } }
}"#,
    )
    .expect("checks");
    let kinds: Vec<String> = pipeline
        .blocks
        .iter()
        .map(|b| match &b.kind {
            BlockKind::If { otherwise, .. } => format!("if {otherwise} {:?}", b.parent),
            BlockKind::For {
                items, parallelism, ..
            } => {
                format!("for {items:?} {parallelism:?} {:?}", b.parent)
            }
            BlockKind::Repeat { until, carries, .. } => format!(
                "repeat not={} carries={} {:?}",
                matches!(until, Condition::Not(_)),
                carries.len(),
                b.parent
            ),
            BlockKind::Finally => format!("finally {:?}", b.parent),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "if false None",
            "if true None",
            "if false Some(1)",
            "for Param(\"lrs\") Some(2) None",
            "repeat not=true carries=1 None",
            "finally None",
        ]
    );
    let step = |name: &str| pipeline.step(name).expect(name);
    assert_eq!(step("heads").block, Some(0));
    assert_eq!(step("tails").block, Some(2));
    assert_eq!(step("train").block, Some(3));
    assert!(step("pick").when.is_some());
    // Every step in an `if` depends on the steps its conditions read.
    for name in ["heads", "tails"] {
        let deps: Vec<&str> = step(name)
            .dependencies
            .iter()
            .map(|d| d.step.as_str())
            .collect();
        assert_eq!(deps, ["flip"], "{name}");
    }
    assert_eq!(pipeline.loops_between("train", None), [3]);
    assert!(pipeline.loops_between("train", Some(3)).is_empty());
    let parts = |name: &str| match &step(name).command {
        Command::Shell(t) => t.parts.clone(),
        Command::Exec(_) => Box::default(),
    };
    assert!(
        parts("train")
            .iter()
            .any(|p| matches!(p, Part::Item { var, field: None, .. } if var == "lr"))
    );
    assert!(
        parts("next")
            .iter()
            .any(|p| matches!(p, Part::Carry { name, .. } if name == "guess"))
    );
    assert!(
        parts("notify")
            .iter()
            .any(|p| matches!(p, Part::Workflow { field, .. } if field == "status"))
    );
}

/// v1 programs that use the new words as names keep their meaning.
#[test]
fn v1_names_that_are_v2_words_still_work() {
    let pipeline = checked(
        r#"pipeline p {
  param file: string = "a.txt"
  let list = ["x"]
  step if { image = "a" command = "echo $<file>" data = list }
  step for { image = "a" command = "echo $<if.output>" }
}"#,
    );
    // `data = list` is not a valid mount, but the names themselves resolve.
    match pipeline {
        Ok(p) => assert_eq!(p.steps.len(), 2),
        Err(codes) => assert!(!codes.contains(&Code::E0101), "{codes:?}"),
    }
}

/// `crate::check` takes each step's attributes out of the AST and drops
/// them once the step is checked; `check::check` reads them in place. Over
/// every compile test program (errors, loops, defaults…) both must find the
/// same diagnostics and the same IR.
#[test]
fn taking_the_attributes_out_changes_nothing() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compile");
    let mut compared = 0;
    for entry in std::fs::read_dir(folder).expect("tests/compile") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "kfp") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a program");
        let file = SourceFile::new("test.kfp", text);
        let parsed = crate::parse(&file);
        let syntax_ok = !parsed.diagnostics.iter().any(crate::Diagnostic::is_error);
        let Some(program) = parsed.program.filter(|_| syntax_ok && !parsed.partial) else {
            continue;
        };
        let borrowed = super::check(&program);
        let owned = crate::check(&file);
        let mut expected = parsed.diagnostics;
        expected.extend(borrowed.diagnostics);
        crate::diagnostics::sort(&mut expected);
        let name = path.display();
        assert_eq!(owned.pipeline, borrowed.pipeline, "{name}");
        assert_eq!(
            format!("{:?}", owned.diagnostics),
            format!("{expected:?}"),
            "{name}"
        );
        compared += 1;
    }
    assert!(compared > 20, "only {compared} programs compared");
}

/// Steps that mount one let's `data` list hold one copy of it, not one
/// each (a large program repeats `data = data` in every step).
#[test]
fn steps_that_mount_one_let_share_its_list() {
    let pipeline = checked(
        "pipeline p {\n  let data = [\"claim:/data\"]\n  step a {\n    image = \"alpine\"\n    command = \"true\"\n    data = data\n  }\n  step b {\n    image = \"alpine\"\n    command = \"true\"\n    data = data\n  }\n  step c {\n    image = \"alpine\"\n    command = \"true\"\n    data = [\"claim:/data\"]\n  }\n}\n",
    )
    .expect("no errors");
    let [a, b, c] = &pipeline.steps[..] else {
        panic!("three steps");
    };
    assert!(std::sync::Arc::ptr_eq(&a.data, &b.data));
    assert!(!std::sync::Arc::ptr_eq(&a.data, &c.data));
    let mounts = |step: &super::ir::Step| -> Vec<(String, String)> {
        step.data
            .iter()
            .map(|m| (m.claim.clone(), m.path.clone()))
            .collect()
    };
    assert_eq!(mounts(a), mounts(c));
}

/// A step declared twice is reported once, and the steps after it are
/// checked with their own attributes (the second body, which has no
/// `command`, is skipped, not handed to the next step).
#[test]
fn a_step_declared_twice_leaves_the_next_steps_bodies_in_place() {
    let program = "pipeline p {\n  step a {\n    image = \"alpine\"\n    command = \"true\"\n  }\n  step a {\n    image = \"busybox\"\n  }\n  step b {\n    image = \"alpine\"\n    command = \"true\"\n  }\n}\n";
    assert_eq!(checked(program), Err(vec![Code::E0204]));
}

/// Every step is one `ir::Step` in one Vec for the whole compile, so its
/// size is a floor on memory: 328 bytes are 247 MB for 752k steps. A new
/// field that most steps leave empty belongs in a `Box` or a boxed slice.
#[test]
#[cfg(target_pointer_width = "64")]
fn a_checked_step_stays_small() {
    let size = std::mem::size_of::<super::ir::Step>();
    assert!(size <= 328, "ir::Step is {size} bytes");
}
