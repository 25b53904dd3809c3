//! `kfpl fmt`: the fixtures in tests/fmt (messy `NAME.kfp`, expected
//! `NAME.formatted.kfp` beside it; `KFPL_BLESS=1` rewrites the expected
//! files), stability and meaning on every `.kfp` file of the project, a
//! property test on generated programs, and the binary end to end
//! (`fmt`, `completions`, `man`).

// Helpers outside `#[test]` functions fail the test by panicking, too.
#![allow(clippy::unwrap_used)]

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use kfpl::SourceFile;
use kfpl::fmt::format;

use support::{TempDir, diff, root, stderr, stdout};

/// The `.kfp` files in `dir` and below it, sorted.
fn kfp_files_under(dir: &Path) -> Vec<PathBuf> {
    support::all_files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "kfp"))
        .collect()
}

fn source(path: &Path) -> SourceFile {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    SourceFile::new(path.display().to_string(), text)
}

fn expected_path(input: &Path) -> PathBuf {
    let stem = input.file_stem().unwrap().to_string_lossy();
    input.with_file_name(format!("{stem}.formatted.kfp"))
}

fn fixture_inputs() -> Vec<PathBuf> {
    support::files_with_extension(root().join("tests/fmt"), "kfp")
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with(".formatted.kfp"))
        .collect()
}

#[test]
fn fixtures_format_as_expected() {
    let inputs = fixture_inputs();
    assert!(inputs.len() >= 8, "fixtures missing in tests/fmt");
    let mut failures = Vec::new();
    for input in &inputs {
        let file = source(input);
        let formatted = match format(&file) {
            Ok(text) => text,
            Err(diagnostics) => {
                failures.push(format!(
                    "{}: not formatted: {diagnostics:?}",
                    input.display()
                ));
                continue;
            }
        };
        if let Err(message) = support::check_expected(&expected_path(input), &formatted) {
            failures.push(format!("{}: {message}", input.display()));
        }
        if formatted == file.text() {
            failures.push(format!(
                "{}: already formatted; a fixture should be messy",
                input.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Span digits (`12..34`) out of a Debug dump, so layouts compare equal.
fn erase_spans(debug: &str) -> String {
    let chars: Vec<char> = debug.chars().collect();
    let mut out = String::with_capacity(debug.len());
    let mut i = 0;
    while i < chars.len() {
        let digits = |from: usize| {
            chars[from..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count()
        };
        let left = digits(i);
        let starts_number = left > 0 && (i == 0 || !chars[i - 1].is_ascii_alphanumeric());
        if starts_number
            && chars.get(i + left) == Some(&'.')
            && chars.get(i + left + 1) == Some(&'.')
        {
            let right = digits(i + left + 2);
            if right > 0 {
                out.push_str("SPAN");
                i += left + 2 + right;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[test]
fn erase_spans_keeps_everything_else() {
    assert_eq!(
        erase_spans("Step { span: 12..340, value: 0.01, n: 7, s: \"a..b\" }"),
        "Step { span: SPAN, value: 0.01, n: 7, s: \"a..b\" }"
    );
}

/// Every `.kfp` in examples/ and tests/: formatting twice changes nothing,
/// and a file that checks has the same IR and the same diagnostics after.
#[test]
fn formatting_is_stable_and_keeps_the_ir() {
    let mut files = support::files_with_extension(root().join("examples"), "kfp");
    files.extend(kfp_files_under(&root().join("tests")));
    let mut formatted_count = 0;
    let mut ir_count = 0;
    let mut failures = Vec::new();
    for path in &files {
        let Ok(text) = fs::read_to_string(path) else {
            continue;
        };
        let file = SourceFile::new(path.display().to_string(), text);
        let Ok(once) = format(&file) else {
            continue;
        };
        formatted_count += 1;
        let again = SourceFile::new(file.name(), once.clone());
        match format(&again) {
            Ok(twice) if twice == once => {}
            Ok(twice) => failures.push(format!(
                "{}: not stable\n{}",
                path.display(),
                diff(&once, &twice)
            )),
            Err(d) => failures.push(format!("{}: output does not parse: {d:?}", path.display())),
        }
        let before = kfpl::check(&file);
        let after = kfpl::check(&again);
        let codes = |c: &kfpl::Checked| -> Vec<String> {
            c.diagnostics
                .iter()
                .map(|d| format!("{} {}", d.code.as_str(), d.message))
                .collect()
        };
        if codes(&before) != codes(&after) {
            failures.push(format!(
                "{}: diagnostics changed: {:?} -> {:?}",
                path.display(),
                codes(&before),
                codes(&after)
            ));
        }
        if let Some(pipeline) = &before.pipeline {
            ir_count += 1;
            let before_ir = erase_spans(&format!("{pipeline:#?}"));
            let after_ir = after
                .pipeline
                .as_ref()
                .map(|p| erase_spans(&format!("{p:#?}")))
                .unwrap_or_default();
            if before_ir != after_ir {
                failures.push(format!(
                    "{}: IR changed\n{}",
                    path.display(),
                    diff(&before_ir, &after_ir)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The shipped example plus the fixtures (messy and formatted) at least.
    assert!(
        formatted_count >= 17,
        "only {formatted_count} files formatted"
    );
    assert!(ir_count >= 13, "only {ir_count} files checked clean");
}

#[test]
fn examples_are_in_canonical_form() {
    let examples = support::files_with_extension(root().join("examples"), "kfp");
    assert!(!examples.is_empty());
    for path in examples {
        let file = source(&path);
        assert_eq!(
            kfpl::fmt::is_formatted(&file),
            Ok(true),
            "{} is not formatted: run `kfpl fmt {}`",
            path.display(),
            path.display()
        );
    }
}

#[test]
fn crlf_line_endings_become_lf() {
    let text = "pipeline p {\r\n  # note\r\n  param a: number = 1 # why\r\n\r\n\r\n  step s {\r\n    image = \"x\"\r\n    command = \"echo $<a>\"\r\n  }\r\n}\r\n";
    let formatted = format(&SourceFile::new("crlf.kfp", text)).unwrap();
    assert_eq!(
        formatted,
        "pipeline p {\n  # note\n  param a: number = 1 # why\n\n  step s {\n    image = \"x\"\n    command = \"echo $<a>\"\n  }\n}\n"
    );
}

#[test]
fn syntax_errors_are_not_formatted() {
    for text in [
        "pipeline p { step s { image = \"x\" }",
        "pipeline p { param let: number }",
        "pipeline p { let x = \"bad \\q escape\" }",
        "# only a comment\n",
        "",
    ] {
        let result = format(&SourceFile::new("bad.kfp", text));
        let diagnostics = result.expect_err(text);
        assert!(diagnostics.iter().any(|d| d.is_error()), "{text}");
    }
}

#[test]
fn check_errors_do_not_stop_formatting() {
    let text = "pipeline p {step s {command=\"echo\" after=[nowhere]}}";
    assert_eq!(
        format(&SourceFile::new("p.kfp", text)).unwrap(),
        "pipeline p {\n  step s {\n    command = \"echo\"\n    after = [nowhere]\n  }\n}\n"
    );
}

mod generated {
    //! Programs built from valid pieces with random whitespace and comments
    //! between every two tokens: formatting always succeeds (so the syntax
    //! tree and every comment survive: `format` checks both) and is stable.

    use super::*;
    use proptest::prelude::*;

    const ITEMS: &[&[&str]] = &[
        &["name", "=", "\"n\""],
        &["param", "p", ":", "number", "=", "-0.5"],
        &["param", "q", ":", "string"],
        &["let", "l", "=", "[", "\"a\"", ",", "\"b\"", ",", "]"],
        &[
            "let", "m", "=", "{", "A", "=", "\"1\"", ",", "\"k k\"", "=", "[", "1e-3", ",", "[",
            "]", "]", "}",
        ],
        &[
            "let",
            "long",
            "=",
            "[",
            "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
            ",",
            "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"",
            ",",
            "{",
            "K",
            "=",
            "\"cccccccccccccccccccccccccccc\"",
            "}",
            "]",
        ],
        &[
            "step",
            "s",
            "{",
            "image",
            "=",
            "\"x\"",
            "command",
            "=",
            "\"\"\"\n    echo # not a comment\n      two\n  \"\"\"",
            "metric",
            "\"\"\"m\"\"\"",
            ":",
            "raw",
            "output",
            "o",
            "env",
            "=",
            "{",
            "}",
            "}",
        ],
        &["step", "t", "{", "}"],
        &[
            "if", "$<p>", ">=", "1", "and", "not", "(", "$<q>", "==", "\"a\"", ")", "{", "step",
            "u", "{", "when", "=", "true", "}", "}", "else", "if", "$<q>", "!=", "\"b\"", "{", "}",
            "else", "{", "}",
        ],
        &[
            "for",
            "x",
            "in",
            "[",
            "1",
            ",",
            "2",
            "]",
            "{",
            "parallelism",
            "=",
            "2",
            "step",
            "v",
            "{",
            "}",
            "}",
        ],
        &[
            "repeat",
            "max",
            "3",
            "{",
            "carry",
            "c",
            "=",
            "0",
            "then",
            "$<w.output>",
            "step",
            "w",
            "{",
            "output",
            ":",
            "number",
            "}",
            "}",
            "until",
            "$<w.output>",
            ">",
            "2",
        ],
        &["finally", "{", "step", "z", "{", "}", "}"],
        &[
            "volume", "sv", "{", "size", "=", "\"1Gi\"", "keep", "=", "true", "}",
        ],
        &[
            "step",
            "sc",
            "{",
            "data",
            "=",
            "[",
            "\"sv:/w\"",
            "]",
            "sidecar",
            "db",
            "{",
            "image",
            "=",
            "\"r\"",
            "env",
            "=",
            "{",
            "A",
            "=",
            "\"1\"",
            "}",
            "}",
            "}",
        ],
    ];

    const SEPARATORS: &[&str] = &[
        " ",
        "\n",
        "\n\n\n",
        " # trailing\n",
        "\n# own line\n",
        "\n   # indented\n\n",
        "\t",
        "  ",
        "# tight\n",
    ];

    fn program(items: &[usize], separators: &[usize]) -> String {
        let mut tokens = vec!["pipeline", "g", "{"];
        for &item in items {
            tokens.extend_from_slice(ITEMS[item % ITEMS.len()]);
        }
        tokens.push("}");
        let mut text = String::new();
        for (i, token) in tokens.iter().enumerate() {
            let separator = separators
                .get(i % separators.len().max(1))
                .map_or(" ", |&s| SEPARATORS[s % SEPARATORS.len()]);
            text.push_str(separator);
            text.push_str(token);
        }
        text.push_str(
            separators
                .first()
                .map_or("\n", |&s| SEPARATORS[s % SEPARATORS.len()]),
        );
        text
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn formatting_generated_programs_is_stable(
            items in prop::collection::vec(0..ITEMS.len(), 0..7),
            separators in prop::collection::vec(0..SEPARATORS.len(), 1..120),
        ) {
            let text = program(&items, &separators);
            let once = format(&SourceFile::new("g.kfp", text.as_str()));
            prop_assert!(once.is_ok(), "not formatted: {:?}\n{}", once, text);
            let once = once.unwrap();
            let twice = format(&SourceFile::new("g.kfp", once.as_str()));
            prop_assert_eq!(twice.as_ref(), Ok(&once), "input:\n{}", text);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "[ -~\n\t]{0,200}") {
            let _ = format(&SourceFile::new("a.kfp", text));
        }
    }
}

// ---- the binary -------------------------------------------------------------

fn kfpl(args: &[&str], stdin: Option<&str>) -> Output {
    support::kfpl(args).stdin(stdin.unwrap_or("")).output()
}

fn messy() -> (String, String) {
    let input = root().join("tests/fmt/one_line.kfp");
    (
        fs::read_to_string(&input).unwrap(),
        fs::read_to_string(expected_path(&input)).unwrap(),
    )
}

#[test]
fn check_passes_on_the_examples() {
    let out = kfpl(&["fmt", "--check", "examples/"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

#[test]
fn check_names_the_files_that_would_change_and_changes_nothing() {
    let (input, expected) = messy();
    let dir = TempDir::new("check");
    fs::create_dir_all(dir.join("sub")).unwrap();
    fs::write(dir.join("sub/messy.kfp"), &input).unwrap();
    fs::write(dir.join("clean.kfp"), &expected).unwrap();
    fs::write(dir.join("notes.txt"), "not a pipeline").unwrap();
    let dir_arg = dir.display().to_string();

    let out = kfpl(&["fmt", "--check", &dir_arg], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("would reformat: {}\n", dir.join("sub/messy.kfp").display())
    );
    assert_eq!(
        fs::read_to_string(dir.join("sub/messy.kfp")).unwrap(),
        input
    );

    let clean = dir.join("clean.kfp").display().to_string();
    let out = kfpl(&["fmt", "--check", &clean], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

#[test]
fn rewrites_files_in_place() {
    use std::os::unix::fs::PermissionsExt;
    let (input, expected) = messy();
    let dir = TempDir::new("rewrite");
    let path = dir.join("p.kfp");
    fs::write(&path, &input).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let arg = path.display().to_string();

    let out = kfpl(&["fmt", &arg], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("reformatted: {arg}\n"));
    assert_eq!(fs::read_to_string(&path).unwrap(), expected);
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "permissions kept");
    let left: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 1, "no temporary file left behind: {left:?}");

    // Formatted already: nothing to say, nothing to do.
    let out = kfpl(&["fmt", &arg], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
    let out = kfpl(&["fmt", "--check", &arg], None);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_symbolic_link_keeps_pointing_at_the_formatted_file() {
    let (input, expected) = messy();
    let dir = TempDir::new("symlink");
    fs::write(dir.join("real.kfp"), &input).unwrap();
    std::os::unix::fs::symlink("real.kfp", dir.join("link.kfp")).unwrap();
    let out = kfpl(&["fmt", &dir.join("link.kfp").display().to_string()], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        fs::symlink_metadata(dir.join("link.kfp"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_to_string(dir.join("real.kfp")).unwrap(), expected);
}

#[test]
fn stdin_to_stdout() {
    let (input, expected) = messy();
    let out = kfpl(&["fmt", "-"], Some(&input));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);

    let out = kfpl(&["fmt", "--check", "-"], Some(&input));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "would reformat: <stdin>\n");

    let out = kfpl(&["fmt", "--check", "-"], Some(&expected));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
}

#[test]
fn stdin_cannot_be_mixed_with_paths() {
    let out = kfpl(&["fmt", "-", "examples/mnist.kfp"], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot be combined"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn syntax_errors_are_reported_and_the_file_left_alone() {
    let dir = TempDir::new("syntax");
    let path = dir.join("broken.kfp");
    let text = "pipeline p {\n  step s { image = \"x\"\n}\n";
    fs::write(&path, text).unwrap();
    let arg = path.display().to_string();
    for args in [vec!["fmt", &arg], vec!["fmt", "--check", &arg]] {
        let out = kfpl(&args, None);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stdout(&out), "");
        assert!(stderr(&out).contains("kfpl::E0111"), "{}", stderr(&out));
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
    }
    let out = kfpl(&["fmt", "-"], Some(text));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "",
        "nothing on stdout, so an editor keeps its buffer"
    );
    assert!(stderr(&out).contains("<stdin>"), "{}", stderr(&out));
}

#[test]
fn a_missing_file_is_an_error_and_the_others_are_still_formatted() {
    let (input, expected) = messy();
    let dir = TempDir::new("missing");
    let path = dir.join("p.kfp");
    fs::write(&path, &input).unwrap();
    let missing = dir.join("nope.kfp").display().to_string();
    let out = kfpl(&["fmt", &missing, &path.display().to_string()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("kfpl::E0001"), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&path).unwrap(), expected);
}

#[test]
fn an_unwritable_directory_is_reported() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let (input, _) = messy();
    let dir = TempDir::new("readonly");
    let path = dir.join("p.kfp");
    fs::write(&path, &input).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores file modes: run kfpl as `nobody` then.
    let as_root = fs::metadata("/proc/self").unwrap().uid() == 0;
    if as_root && !support::require_tool("setpriv") {
        return;
    }
    let mut command = support::kfpl(["fmt", &path.display().to_string()]);
    if as_root {
        command = command.wrapped_in([
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
        ]);
    }
    let out = command.output();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("kfpl::E0801"), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&path).unwrap(), input);
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = kfpl(&["completions", shell], None);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("kfpl"), "{shell}");
        assert!(
            text.contains("fmt"),
            "{shell}: the subcommands are completed"
        );
    }
    let out = kfpl(&["completions", "tcsh"], None);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn man_page() {
    let out = kfpl(&["man"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // clap_mangen writes two lines defining the quote string, then the title.
    let first = text
        .lines()
        .find(|l| !l.starts_with(".ie") && !l.starts_with(".el"));
    assert!(
        first.is_some_and(|l| l.starts_with(".TH kfpl 1")),
        "{}",
        &text[..text.len().min(200)]
    );
    assert!(text.contains("kfpl"));
    assert!(text.contains("fmt"));
}

#[test]
fn help_shows_an_example() {
    let out = kfpl(&["fmt", "--help"], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("kfpl fmt --check"),
        "{}",
        stdout(&out)
    );
}
