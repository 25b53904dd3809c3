//! `kfpl run` warnings are diagnostics like `kfpl check`'s: with
//! `--message-format json` each is one JSON object a line on stderr, with
//! its stable code.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::Output;

use serde_json::Value;
use support::{TempDir, kfpl};

/// `kfpl --message-format json run main.kfp` with `program` as main.kfp,
/// in `dir` with `dir/home` as `KFPL_HOME`.
fn run_json(dir: &TempDir, program: &str) -> Output {
    dir.write("main.kfp", program);
    kfpl(["--message-format", "json", "run", "main.kfp"])
        .current_dir(dir)
        .env("KFPL_HOME", dir.join("home"))
        .output()
}

/// The stderr lines that are JSON objects.
fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(Value::is_object)
        .collect()
}

fn with_code<'v>(lines: &'v [Value], code: &str) -> Vec<&'v Value> {
    lines.iter().filter(|v| v["code"] == code).collect()
}

#[test]
fn a_metric_never_printed_is_a_json_warning_with_its_code() {
    let dir = TempDir::new("w0602");
    let out = run_json(
        &dir,
        r#"pipeline p {
  step train {
    image = "alpine"
    metric "accuracy"
    metric "loss"
    command = "echo loss=0.5"
  }
}
"#,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines = json_lines(&out);
    let warnings = with_code(&lines, "kfpl::W0602");
    assert_eq!(warnings.len(), 1, "one W0602 as JSON in:\n{stderr}");
    let warning = warnings[0];
    assert_eq!(warning["severity"], "warning");
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.contains("`accuracy`") && message.contains("`train`"),
        "names the metric and the step: {message}"
    );
    assert!(warning["help"].is_string(), "{warning}");
    assert_eq!(warning["file"], "main.kfp");
    assert!(
        !stderr.contains("warning["),
        "no hand-formatted warning lines left:\n{stderr}"
    );
}

#[test]
fn a_metric_that_is_not_a_number_is_a_json_warning_with_its_code() {
    let dir = TempDir::new("w0601");
    let out = run_json(
        &dir,
        r#"pipeline p {
  step train {
    image = "alpine"
    metric "loss"
    command = "echo loss=high; echo loss=0.5"
  }
}
"#,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines = json_lines(&out);
    assert_eq!(with_code(&lines, "kfpl::W0601").len(), 1, "{stderr}");
    assert!(with_code(&lines, "kfpl::W0602").is_empty(), "{stderr}");
}

/// A step removes the metrics table under its own run: recording its end
/// fails, the steps go on, the failure is a W0604 warning, and the run
/// fails at the end with E0611 (its record is incomplete).
#[test]
fn records_that_cannot_be_written_are_a_json_warning_with_its_code() {
    if !support::require_tool("python3") {
        return;
    }
    let dir = TempDir::new("w0604");
    let out = run_json(
        &dir,
        r#"pipeline p {
  step vandal {
    image = "python"
    metric "accuracy"
    command = ["python3", "-c", "import os, sqlite3; sqlite3.connect(os.environ['KFPL_HOME'] + '/kfpl.db', isolation_level=None).execute('DROP TABLE metrics'); print('accuracy=1')"]
  }
}
"#,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an incomplete record fails the run:\n{stderr}"
    );
    let lines = json_lines(&out);
    assert_eq!(with_code(&lines, "kfpl::E0611").len(), 1, "{stderr}");
    let warnings = with_code(&lines, "kfpl::W0604");
    assert_eq!(warnings.len(), 1, "one W0604 as JSON in:\n{stderr}");
    assert!(
        warnings[0]["message"].as_str().unwrap().contains("metrics"),
        "says what failed: {}",
        warnings[0]
    );
}

/// W0605 (Ctrl-C cannot be watched) needs signalfd to fail, which a test
/// cannot arrange from outside; its page at least must be there.
#[test]
fn run_warning_codes_are_explained() {
    for code in ["W0601", "W0602", "W0603", "W0604", "W0605"] {
        let out = kfpl(["explain", code]).output();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{code}: {text}");
        assert!(text.contains(code), "{code}: {text}");
    }
}
