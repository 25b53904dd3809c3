//! Golden files for `kfpl graph`.
//!
//! Every `tests/graph/*.kfp` and `examples/*.kfp` is drawn in each format and
//! compared with `tests/graph/<name>.ascii`, `.dot` and `.mermaid`.
//! `KFPL_BLESS=1 cargo test --test graph` rewrites them. A few tests run the
//! real binary: the default format, `--format`, and a file with errors.
//! Graphviz's `dot` renders every `.dot` golden, so the clusters that
//! control blocks become stay valid dot (it needs `dot` on `PATH`; under CI
//! a missing `dot` fails the test).

mod support;

use std::path::{Path, PathBuf};

use kfpl::graph::{self, Format};

use support::root;

fn inputs() -> Vec<PathBuf> {
    let mut inputs = support::files_with_extension(root().join("tests/graph"), "kfp");
    inputs.extend(support::files_with_extension(
        root().join("examples"),
        "kfp",
    ));
    inputs
}

fn expected_path(input: &Path, extension: &str) -> PathBuf {
    let stem = input.file_stem().and_then(|s| s.to_str()).unwrap_or("x");
    root()
        .join("tests/graph")
        .join(format!("{stem}.{extension}"))
}

#[test]
fn golden_drawings() {
    let inputs = inputs();
    let mut stems: Vec<&str> = inputs
        .iter()
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()))
        .collect();
    stems.sort();
    let count = stems.len();
    stems.dedup();
    assert_eq!(stems.len(), count, "two inputs share a name: {stems:?}");
    assert!(inputs.iter().any(|p| p.ends_with("examples/mnist.kfp")));
    let mut failed = Vec::new();
    for input in &inputs {
        let file = kfpl::read_source(input, "x").expect("readable input");
        let checked = kfpl::check(&file);
        let Some(pipeline) = checked.pipeline else {
            panic!(
                "{} does not check clean: {:?}",
                input.display(),
                checked.diagnostics
            );
        };
        for (format, extension) in Format::ALL {
            let actual = graph::render(&pipeline, *format);
            if let Err(message) = support::check_expected(&expected_path(input, extension), &actual)
            {
                failed.push(message);
            }
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn dot_goldens_render_with_graphviz() {
    if !support::require_tool("dot") {
        return;
    }
    let goldens = support::files_with_extension(root().join("tests/graph"), "dot");
    assert!(!goldens.is_empty(), "no .dot goldens");
    for golden in goldens {
        let out = std::process::Command::new("dot")
            .arg("-Tsvg")
            .arg(&golden)
            .output()
            .expect("dot runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "dot -Tsvg {}: {}\n{stderr}",
            golden.display(),
            out.status
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
    }
}

fn kfpl(args: &[&str]) -> std::process::Output {
    support::kfpl(args).output()
}

#[test]
fn cli_default_is_ascii_and_format_picks_another() {
    let golden = |ext: &str| {
        std::fs::read_to_string(root().join("tests/graph").join(format!("mnist.{ext}")))
            .expect("golden file")
    };
    let ascii = kfpl(&["graph", "examples/mnist.kfp"]);
    assert!(ascii.status.success());
    assert_eq!(String::from_utf8_lossy(&ascii.stdout), golden("ascii"));
    for format in ["dot", "mermaid"] {
        let out = kfpl(&["graph", "examples/mnist.kfp", "--format", format]);
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout), golden(format));
    }
}

#[test]
fn cli_errors_exit_1_with_diagnostics() {
    let out = kfpl(&["graph", "tests/repl/broken.kfp", "--color", "never"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("kfpl::E0201"));
    let usage = kfpl(&["graph", "examples/mnist.kfp", "--format", "svg"]);
    assert_eq!(usage.status.code(), Some(2));
}
