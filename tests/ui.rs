//! UI fixtures: `tests/ui/*.kfp` checked, rendered, and compared with the
//! `.stderr` beside each. The header line `# expect: E0201, W0201` names the
//! codes the fixture must produce (in order of position); `# args: -p x=1`
//! binds params as `kfpl compile`/`run` would. `KFPL_BLESS=1` rewrites the
//! `.stderr` files instead of comparing.

use std::fs;
use std::path::{Path, PathBuf};

use kfpl::diagnostics::render::{Format, Style, render_all};
use kfpl::params::{self, Missing};
use kfpl::{Diagnostic, SourceFile};

fn fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir("tests/ui")
        .expect("tests/ui exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "kfp"))
        .collect();
    files.sort();
    files
}

fn header<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| {
            l.strip_prefix('#')?
                .trim()
                .strip_prefix(key)?
                .strip_prefix(':')
        })
        .map(str::trim)
}

/// Everything `kfpl` reports for one fixture.
fn diagnose(path: &Path) -> (SourceFile, Vec<Diagnostic>) {
    let name = path.to_string_lossy().replace('\\', "/");
    let file = match kfpl::read_source(path, &name) {
        Ok(file) => file,
        Err(error) => return (error.file, vec![error.diagnostic]),
    };
    let checked = kfpl::check(&file);
    let mut diagnostics = checked.diagnostics;
    if let (Some(pipeline), Some(args)) = (&checked.pipeline, header(file.text(), "args")) {
        let mut overrides = Vec::new();
        for arg in args.split_whitespace().filter(|a| *a != "-p") {
            match params::parse_override(arg) {
                Ok(pair) => overrides.push(pair),
                Err(diagnostic) => diagnostics.push(diagnostic),
            }
        }
        if let Err(errors) = params::bind(pipeline, &overrides, Missing::Error) {
            diagnostics.extend(errors);
        }
    }
    (file, diagnostics)
}

#[test]
fn ui_fixtures() {
    let bless = std::env::var_os("KFPL_BLESS").is_some();
    let mut failures = Vec::new();
    let files = fixtures();
    assert!(!files.is_empty(), "no fixtures in tests/ui");
    for path in &files {
        let (file, diagnostics) = diagnose(path);
        let rendered = render_all(
            &diagnostics,
            &file,
            Format::Human,
            Style {
                color: false,
                width: 100,
            },
        );
        for d in &diagnostics {
            for label in &d.labels {
                if label.span.end as usize > file.text().len() {
                    failures.push(format!(
                        "{}: span {:?} outside the source",
                        path.display(),
                        label.span
                    ));
                }
            }
        }
        let codes: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
        let raw = fs::read(path).expect("fixture readable");
        let text = String::from_utf8_lossy(&raw);
        match header(&text, "expect") {
            Some(expect) => {
                let expected: Vec<&str> = expect
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect();
                if expected != codes {
                    failures.push(format!(
                        "{}: expected codes {expected:?}, got {codes:?}",
                        path.display()
                    ));
                }
            }
            None => failures.push(format!("{}: no `# expect:` header", path.display())),
        }
        let stderr_path = path.with_extension("stderr");
        if bless {
            fs::write(&stderr_path, &rendered).expect("write .stderr");
            continue;
        }
        match fs::read_to_string(&stderr_path) {
            Ok(expected) if expected == rendered => {}
            Ok(expected) => failures.push(format!(
                "{}: rendered output differs from {}\n--- expected\n{expected}\n--- got\n{rendered}",
                path.display(),
                stderr_path.display()
            )),
            Err(_) => failures.push(format!("{}: missing (run with KFPL_BLESS=1)", stderr_path.display())),
        }
    }
    println!("{} ui fixtures checked", files.len());
    assert!(
        failures.is_empty(),
        "{} of {} fixtures failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
