//! The `kfpl` binary's conventions: exit codes, output formats, file names
//! as given, reading errors, `explain`, and the panic hook.

mod support;

use std::process::Output;

use support::{TempDir, stderr};

/// `kfpl ARGS`, with `NO_COLOR` unset: these tests see colour decided as a user would.
fn kfpl(args: &[&str]) -> Output {
    support::kfpl(args).env_remove("NO_COLOR").output()
}

#[test]
fn every_example_checks_clean() {
    let mut examples: Vec<String> = std::fs::read_dir("examples")
        .expect("examples/")
        .flatten()
        .map(|e| e.path().display().to_string())
        .filter(|p| p.ends_with(".kfp"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 3, "{examples:?}");
    let mut args = vec!["check"];
    args.extend(examples.iter().map(String::as_str));
    let output = kfpl(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "", "examples should have no warnings");
}

#[test]
fn errors_exit_1_and_name_the_file_as_given() {
    let tmp = TempDir::new("cli");
    let path = tmp.write("bad.kfp", b"pipeline p {\n  step s { image = \"x\" }\n}\n");
    let given = format!(
        "{}/../{}/bad.kfp",
        path.parent().unwrap().display(),
        path.parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
    );
    let output = kfpl(&["check", &given]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("kfpl::E0207"), "{err}");
    assert!(err.contains(&format!("{given}:2:")), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "no colour when stderr is not a terminal: {err}"
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(kfpl(&["check"]).status.code(), Some(2));
    assert_eq!(kfpl(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        kfpl(&["check", "--message-format", "xml", "x.kfp"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn json_diagnostics_are_one_object_a_line() {
    let tmp = TempDir::new("cli");
    let path = tmp.write("json.kfp", b"pipeline p {\n  step s { image = \"x\" command = \"echo $<trian.output>\" }\n  step train { image = \"x\" command = \"true\" }\n}\n");
    let output = kfpl(&["check", "--message-format", "json", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    let value: serde_json::Value = serde_json::from_str(lines[0]).expect("valid JSON");
    assert_eq!(value["code"], "kfpl::E0201");
    assert_eq!(value["severity"], "error");
    assert_eq!(value["line"], 2);
    assert_eq!(value["column"], 42);
    assert_eq!(value["help"], "did you mean `train`?");
    assert_eq!(
        value["span"]["end"].as_u64().unwrap() - value["span"]["start"].as_u64().unwrap(),
        5
    );
}

#[test]
fn short_format_and_colour_flag() {
    let tmp = TempDir::new("cli");
    let path = tmp.write(
        "short.kfp",
        b"pipeline p { step s { image = 1 command = \"x\" } }",
    );
    let output = kfpl(&["check", "--message-format", "short", path.to_str().unwrap()]);
    let err = stderr(&output);
    assert!(
        err.starts_with(&format!("{}:1:31: error[kfpl::E0301]", path.display())),
        "{err}"
    );
    let coloured = kfpl(&["check", "--color", "always", path.to_str().unwrap()]);
    assert!(stderr(&coloured).contains('\u{1b}'));
}

#[test]
fn all_files_are_checked() {
    let tmp = TempDir::new("cli");
    let good = tmp.write(
        "good.kfp",
        b"pipeline p { step s { image = \"x\" command = \"true\" } }",
    );
    let bad = tmp.write("bad2.kfp", b"pipeline p { step s { command = \"true\" } }");
    let output = kfpl(&[
        "check",
        bad.to_str().unwrap(),
        good.to_str().unwrap(),
        "missing.kfp",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("kfpl::E0207"), "{err}");
    assert!(err.contains("kfpl::E0001"), "{err}");
    assert!(err.contains("cannot read `missing.kfp`"), "{err}");
}

#[test]
fn huge_files_are_refused_before_reading() {
    let tmp = TempDir::new("cli-huge");
    let path = tmp.join("huge.kfp");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(300 << 20).expect("sparse file");
    let output = kfpl(&["check", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("kfpl::E0003"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn explain_prints_pages_and_lists_codes() {
    let output = kfpl(&["explain", "E0401"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("# E0401"));
    let output = kfpl(&["explain", "kfpl::e0201"]);
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("# E0201"));
    let list = kfpl(&["explain"]);
    assert!(String::from_utf8_lossy(&list.stdout).lines().count() >= 40);
    assert_eq!(kfpl(&["explain", "E9999"]).status.code(), Some(1));
}

#[test]
fn a_panic_is_reported_as_an_internal_error() {
    let output = support::kfpl(["check", "examples/mnist.kfp"])
        .env("KFPL_TEST_INTERNAL_PANIC", "1")
        .output();
    let err = stderr(&output);
    assert!(!output.status.success());
    assert!(err.contains("kfpl::E0901"), "{err}");
    assert!(!err.contains("panicked at"), "{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "{err}");
}

#[test]
fn bad_input_gets_a_coded_diagnostic_and_exit_1() {
    let tmp = TempDir::new("cli");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.kfp", Vec::new(), "E0108"),
        ("junk.kfp", vec![0x00, 0x01, 0x02, b'x', 0x7f], "E0110"),
        ("latin1.kfp", b"pipeline caf\xe9 {}".to_vec(), "E0002"),
        (
            "deep.kfp",
            format!("pipeline p {{ let x = {} }}", "[".repeat(20_000)).into_bytes(),
            "E0104",
        ),
        (
            "string.kfp",
            b"pipeline p { let x = \"never closed\n}".to_vec(),
            "E0102",
        ),
        (
            "interp.kfp",
            b"pipeline p { let x = \"$<oops\" }".to_vec(),
            "E0103",
        ),
        (
            "two.kfp",
            b"pipeline a {}\npipeline b {}\n".to_vec(),
            "E0107",
        ),
        (
            "longline.kfp",
            format!("pipeline p {{ let x = {} }}", "y".repeat(3 << 20)).into_bytes(),
            "E0203",
        ),
    ];
    for (name, contents, code) in cases {
        let path = tmp.write(name, &contents);
        let output = kfpl(&["check", path.to_str().unwrap()]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{name}: {err}");
        assert!(
            err.contains(&format!("kfpl::{code}")),
            "{name}: expected {code}: {}",
            &err[..err.len().min(2000)]
        );
        assert!(
            err.len() < 20_000,
            "{name}: output too long ({} bytes)",
            err.len()
        );
    }
}
