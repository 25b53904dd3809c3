//! `visuals = true` end to end, through the binary: a step writes KFP UI
//! metadata to `$KFP_UI_METADATA`, `kfpl runs show` lists it, and
//! `kfpl runs visuals` draws it. The ported KFP visualization samples
//! (examples/kfp-samples) are run with their data as local files, and the
//! drawn files are read back: the table's cells, the confusion matrix's
//! cells and labels, the ROC curve's points in its SVG path, the markdown's
//! headings; `kfpl ui` shows them on the run page. Then the warnings: W0613 (metadata missing or not KFP's
//! format), W0614 (a source that cannot be drawn here) and E0355.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

// Only `get` of the web tests' HTTP client is needed here.
#[allow(dead_code)]
#[path = "web/http.rs"]
mod http;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::Value;
use support::{TempDir, root, stderr, stdout};

/// A state folder and a working folder of their own.
struct Home {
    dir: TempDir,
}

impl Home {
    fn new(name: &str) -> Home {
        let dir = TempDir::new(&format!("visuals-{name}"));
        std::fs::create_dir_all(dir.join("cwd")).unwrap();
        Home { dir }
    }

    fn kfpl(&self, args: &[&str]) -> Output {
        support::kfpl(args)
            .current_dir(self.dir.join("cwd"))
            .env("KFPL_HOME", self.dir.join("home"))
            .output()
    }

    /// `kfpl run` of a sample port with `-p` params (`{fixtures}` is tests/kfp_samples).
    fn run_sample(&self, sample: &str, params: &[&str]) -> Output {
        let file = root().join(format!("examples/kfp-samples/{sample}.kfp"));
        let fixtures = root().join("tests/kfp_samples").display().to_string();
        let mut args = vec!["run".to_string(), file.display().to_string()];
        for param in params {
            args.push("-p".into());
            args.push(param.replace("{fixtures}", &fixtures));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.kfpl(&args);
        assert!(out.status.success(), "{sample}: {}", stderr(&out));
        out
    }

    /// `kfpl run` of a program written here.
    fn run_program(&self, program: &str, extra: &[&str]) -> Output {
        let file = self.dir.write("p.kfp", program);
        let mut args = vec!["run", file.to_str().unwrap()];
        args.extend(extra);
        self.kfpl(&args)
    }

    /// `kfpl runs visuals ARGS…`: it succeeds; the files it printed.
    fn draw(&self, args: &[&str]) -> Vec<PathBuf> {
        let mut all = vec!["runs", "visuals"];
        all.extend(args);
        let out = self.kfpl(&all);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out).lines().map(PathBuf::from).collect()
    }

    fn run_dir(&self, run: &str) -> PathBuf {
        self.dir.join("home/runs").join(run)
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The JSON diagnostics a command printed with `--message-format json`.
fn diagnostics(out: &Output, code: &str) -> Vec<Value> {
    stderr(out)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|v| v["code"] == format!("kfpl::{code}"))
        .collect()
}

#[test]
fn the_table_sample_draws_every_cell_under_its_header() {
    let home = Home::new("table");
    home.run_sample("table", &["train_file_path={fixtures}/table.csv"]);
    let files = home.draw(&["r1"]);
    let table = home
        .run_dir("r1")
        .join("visuals/table_visualization/1-table.html");
    assert_eq!(
        files,
        [table.clone(), home.run_dir("r1").join("visuals/index.html")]
    );
    let html = read(&table);
    assert!(
        html.contains(
            "<thead><tr><th>Average precision </th><th>Precision</th><th>Recall</th></tr></thead>"
        ),
        "{html}"
    );
    let csv = read(&root().join("tests/kfp_samples/table.csv"));
    for line in csv.lines() {
        let cells: String = line.split(',').map(|c| format!("<td>{c}</td>")).collect();
        assert!(
            html.contains(&format!("<tr>{cells}</tr>")),
            "row {line}: {html}"
        );
    }
}

#[test]
fn the_confusion_matrix_sample_draws_each_count_in_its_labelled_cell() {
    let home = Home::new("confusion");
    home.run_sample(
        "confusion_matrix",
        &["matrix_uri={fixtures}/confusion_matrix.csv"],
    );
    home.draw(&["r1", "confusion_visualization"]);
    let svg = read(
        &home
            .run_dir("r1")
            .join("visuals/confusion_visualization/1-confusion_matrix.svg"),
    );
    assert!(svg.starts_with("<?xml"), "{svg}");
    // The labels in the metadata's order, across (predicted) and down (target).
    for axis in ["predicted", "target"] {
        let marker = format!("class=\"label {axis}\"");
        let labels: Vec<&str> = svg
            .split(&marker)
            .skip(1)
            .filter_map(|rest| rest.split('>').nth(1)?.split('<').next())
            .collect();
        assert_eq!(labels, ["rose", "lily", "iris"], "{axis}: {svg}");
    }
    let csv = read(&root().join("tests/kfp_samples/confusion_matrix.csv"));
    for line in csv.lines() {
        let [target, predicted, count] = line.split(',').collect::<Vec<_>>()[..] else {
            panic!("{line}")
        };
        let cell = format!("data-target=\"{target}\" data-predicted=\"{predicted}\"");
        let drawn = svg
            .split(&cell)
            .nth(1)
            .and_then(|rest| rest.split('>').nth(1));
        assert_eq!(
            drawn.and_then(|text| text.split('<').next()),
            Some(count),
            "cell {target}/{predicted}: {svg}"
        );
    }
}

#[test]
fn the_roc_sample_draws_every_point_in_the_curve_s_path() {
    let home = Home::new("roc");
    home.run_sample("roc", &["roc_csv_uri={fixtures}/roc.csv"]);
    home.draw(&["r1"]);
    let svg = read(
        &home
            .run_dir("r1")
            .join("visuals/roc_visualization/1-roc.svg"),
    );
    // The unit square is 300 wide from x=60 and 300 high from y=20: fpr
    // across, tpr up, in the CSV's order.
    let expected = "M60.00,320.00 L60.00,200.00 L90.00,140.00 L120.00,80.00 L180.00,50.00 L270.00,35.00 L360.00,20.00";
    assert!(
        svg.contains(&format!("class=\"curve\" d=\"{expected}\"")),
        "{svg}"
    );
    assert!(
        svg.contains(r#"class="diagonal" x1="60" y1="320" x2="360" y2="20""#),
        "{svg}"
    );
}

#[test]
fn the_markdown_sample_draws_inline_and_file_markdown_with_headings() {
    let home = Home::new("markdown");
    home.run_sample("markdown", &["readme={fixtures}/README.md"]);
    home.draw(&["r1"]);
    let folder = home.run_dir("r1").join("visuals/markdown_visualization");
    let inline = read(&folder.join("1-markdown.html"));
    assert!(inline.contains("<h1>Inline Markdown</h1>"), "{inline}");
    assert!(
        inline.contains(r#"<a href="https://www.kubeflow.org/">A link</a>"#),
        "{inline}"
    );
    let file = read(&folder.join("2-markdown.html"));
    assert!(file.contains("<h1>Kubeflow Pipelines</h1>"), "{file}");
    assert!(file.contains("<h2>Documentation</h2>"), "{file}");
    let index = read(&home.run_dir("r1").join("visuals/index.html"));
    assert!(
        index.contains("<h1>Inline Markdown</h1>") && index.contains("<h2>Documentation</h2>"),
        "{index}"
    );
}

#[test]
fn the_html_sample_keeps_the_page_as_is_and_frames_it_in_a_sandbox() {
    let home = Home::new("html");
    home.run_sample("html", &[]);
    home.draw(&["r1"]);
    let page = read(
        &home
            .run_dir("r1")
            .join("visuals/html_visualization/1-web-app.html"),
    );
    assert_eq!(page, "<h1>Hello, World!</h1>");
    let index = read(&home.run_dir("r1").join("visuals/index.html"));
    assert!(
        index.contains(r#"sandbox="" srcdoc="&lt;h1&gt;Hello, World!&lt;/h1&gt;""#),
        "{index}"
    );
}

#[test]
fn the_tensorboard_sample_says_where_the_logs_are_and_how_to_see_them() {
    let home = Home::new("tensorboard");
    home.run_sample("tensorboard", &[]);
    home.draw(&["r1"]);
    let logs = home.run_dir("r1").join("train/work/logs/fit");
    assert!(logs.join("events.out.tfevents.kfpl").is_file());
    let page = read(&home.run_dir("r1").join("visuals/train/1-tensorboard.html"));
    assert!(
        page.contains(&format!("tensorboard --logdir {}", logs.display())),
        "{page}"
    );
}

#[test]
fn runs_show_lists_each_visual_in_text_and_json() {
    let home = Home::new("show");
    home.run_sample("markdown", &["readme={fixtures}/README.md"]);
    let shown = stdout(&home.kfpl(&["runs", "show", "r1"]));
    assert!(
        shown.contains("visuals (`kfpl runs visuals r1` draws them)"),
        "{shown}"
    );
    assert!(
        shown.contains("  markdown_visualization: markdown (inline)\n"),
        "{shown}"
    );
    let readme = root().join("tests/kfp_samples/README.md");
    assert!(
        shown.contains(&format!(
            "  markdown_visualization: markdown from {}\n",
            readme.display()
        )),
        "{shown}"
    );
    let json: Value = serde_json::from_str(&stdout(
        &home.kfpl(&["runs", "show", "r1", "--format", "json"]),
    ))
    .unwrap();
    let visuals = json["visuals"].as_array().unwrap();
    assert_eq!(visuals.len(), 2, "{json}");
    assert_eq!(visuals[0]["type"], "markdown");
    assert_eq!(visuals[0]["storage"], "inline");
    assert_eq!(visuals[1]["storage"], "local");
    assert_eq!(visuals[1]["index"], 2);
    assert_eq!(visuals[1]["source"], readme.display().to_string());
}

/// A relative source is read from the step's working directory; `defaults`
/// may turn visuals on; `-o DIR` and a step name choose what is drawn where.
#[test]
fn relative_sources_defaults_a_chosen_step_and_another_folder() {
    let home = Home::new("relative");
    let out = home.run_program(
        r##"pipeline p {
  defaults { visuals = true }
  step a {
    image = "alpine"
    command = """printf 'x,<b>y</b>\n' > t.csv; echo '{"outputs": [{"type": "table", "format": "csv", "header": ["k", "v"], "source": "t.csv"}]}' > "$KFP_UI_METADATA" """
  }
  step b {
    image = "alpine"
    command = """echo '{"outputs": [{"type": "markdown", "storage": "inline", "source": "# B"}]}' > "$KFP_UI_METADATA" """
  }
}
"##,
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let elsewhere = home.dir.join("drawn");
    let files = home.draw(&["r1", "a", "-o", elsewhere.to_str().unwrap()]);
    assert_eq!(
        files,
        [
            elsewhere.join("a/1-table.html"),
            elsewhere.join("index.html")
        ]
    );
    let table = read(&files[0]);
    assert!(
        table.contains("<tr><td>x</td><td>&lt;b&gt;y&lt;/b&gt;</td></tr>"),
        "{table}"
    );
    let index = read(&files[1]);
    assert!(!index.contains("Step b"), "only the chosen step: {index}");
}

#[test]
fn metadata_that_is_missing_or_not_kfp_s_format_is_w0613_and_the_step_succeeds() {
    let home = Home::new("w0613");
    let out = home.run_program(
        r##"pipeline p {
  step not_json {
    image = "alpine"
    visuals = true
    command = "echo 'accuracy: 0.9' > $KFP_UI_METADATA"
  }
  step silent {
    image = "alpine"
    visuals = true
    command = "true"
  }
  step one_bad_item {
    image = "alpine"
    visuals = true
    command = """echo '{"outputs": [{"type": "chart", "source": "x"}, {"type": "markdown", "storage": "inline", "source": "# Kept"}]}' > $KFP_UI_METADATA"""
  }
}
"##,
        &["--message-format", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let messages: Vec<String> = diagnostics(&out, "W0613")
        .iter()
        .map(|w| w["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(messages.len(), 3, "{}", stderr(&out));
    let about = |step: &str| {
        messages
            .iter()
            .find(|m| m.contains(&format!("step `{step}`")))
            .cloned()
            .unwrap_or_default()
    };
    assert!(about("not_json").contains("is not JSON"), "{messages:?}");
    assert!(
        about("silent").contains("was never written"),
        "{messages:?}"
    );
    assert!(
        about("one_bad_item").contains("item 1 has the unknown type `chart`"),
        "{messages:?}"
    );
    let shown = stdout(&home.kfpl(&["runs", "show", "r1"]));
    assert!(
        shown.contains("  one_bad_item: markdown (inline)"),
        "{shown}"
    );
    assert!(
        shown.contains("warning[W0613]"),
        "the warnings are kept with the run: {shown}"
    );
}

#[test]
fn a_remote_source_is_w0614_listed_and_not_drawn() {
    let home = Home::new("w0614");
    let out = home.run_program(
        r##"pipeline p {
  step roc {
    image = "alpine"
    visuals = true
    command = """echo '{"outputs": [{"type": "roc", "format": "csv", "source": "gs://bucket/roc.csv"}]}' > $KFP_UI_METADATA"""
  }
}
"##,
        &["--message-format", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let warnings = diagnostics(&out, "W0614");
    assert_eq!(warnings.len(), 1, "{}", stderr(&out));
    assert!(
        warnings[0]["message"]
            .as_str()
            .unwrap()
            .contains("`gs://bucket/roc.csv` is remote"),
        "{}",
        warnings[0]
    );
    let drawn = home.kfpl(&["runs", "visuals", "r1", "--message-format", "json"]);
    assert!(drawn.status.success(), "{}", stderr(&drawn));
    assert_eq!(diagnostics(&drawn, "W0614").len(), 1, "{}", stderr(&drawn));
    assert_eq!(
        stdout(&drawn).lines().count(),
        1,
        "only the index: {}",
        stdout(&drawn)
    );
    let index = read(&home.run_dir("r1").join("visuals/index.html"));
    assert!(
        index.contains("roc from gs://bucket/roc.csv (remote)"),
        "{index}"
    );
    assert!(index.contains("Not drawn: its source"), "{index}");
}

#[test]
fn a_step_the_run_does_not_have_is_e0355() {
    let home = Home::new("e0355");
    home.run_sample("html", &[]);
    let out = home.kfpl(&["runs", "visuals", "r1", "html_visualisation"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("kfpl::E0355"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("run r1 has no step `html_visualisation`"),
        "{}",
        stderr(&out)
    );
}

/// `kfpl ui` shows a step's visuals on its run page, drawn by the same
/// renderer (the ROC path as in the file), and draws no file from outside
/// the run's folder.
#[test]
fn the_run_page_of_kfpl_ui_draws_the_step_s_visuals() {
    let home = Home::new("web");
    home.run_sample("roc", &["roc_csv_uri={fixtures}/roc.csv"]);
    let inside = home.run_program(
        r#"pipeline p {
  step roc {
    image = "alpine"
    visuals = true
    command = """printf '0,0\n0.5,1\n1,1\n' > roc.csv; echo '{"outputs": [{"type": "roc", "format": "csv", "source": "roc.csv"}]}' > $KFP_UI_METADATA"""
  }
}
"#,
        &[],
    );
    assert!(inside.status.success(), "{}", stderr(&inside));
    let mut server = support::kfpl(["ui", "--port", "0"])
        .current_dir(home.dir.join("cwd"))
        .env("KFPL_HOME", home.dir.join("home"))
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Its stdout is held open to the end: the server writes a line per request.
    let (addr, _printed) = http::listening(&mut server);
    let outside = http::get(&addr, "/runs/r1?step=roc_visualization");
    let drawn = http::get(&addr, "/runs/r2?step=roc");
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(outside.status, 200);
    assert!(
        outside.body.contains("<h3>Visuals</h3>"),
        "{}",
        outside.body
    );
    assert!(
        outside
            .body
            .contains("is not a file inside the run&#39;s folder")
            || outside
                .body
                .contains("is not a file inside the run's folder"),
        "{}",
        outside.body
    );
    assert!(
        !outside.body.contains("class=\"curve\""),
        "{}",
        outside.body
    );
    assert!(
        drawn
            .body
            .contains(r#"class="curve" d="M60.00,320.00 L210.00,20.00 L360.00,20.00""#),
        "{}",
        drawn.body
    );
}
