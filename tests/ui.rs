//! UI fixtures: `tests/ui/*.kfp` checked, rendered, and compared with the
//! `.stderr` beside each. The header line `# expect: E0201, W0201` names the
//! codes the fixture must produce (in order of position); `# args: -p x=1`
//! binds params as `kfpl compile`/`run` would. `KFPL_BLESS=1` rewrites the
//! `.stderr` files instead of comparing.

mod support;

use std::path::Path;

use kfpl::diagnostics::render::{Format, Style, render_all};
use kfpl::params::{self, Missing};
use kfpl::{Diagnostic, SourceFile};

use support::Header;

/// Everything `kfpl` reports for one fixture.
fn diagnose(path: &Path, header: &Header) -> (SourceFile, Vec<Diagnostic>) {
    let name = path.to_string_lossy().replace('\\', "/");
    let file = match kfpl::read_source(path, &name) {
        Ok(file) => file,
        Err(error) => return (error.file, vec![error.diagnostic]),
    };
    let checked = kfpl::check(&file);
    let mut diagnostics = checked.diagnostics;
    if let Some(pipeline) = &checked.pipeline
        && !header.args.is_empty()
    {
        let (options, refused) = support::compile_options(&header.args);
        diagnostics.extend(refused);
        if let Err(errors) = params::bind(pipeline, &options.params, Missing::Error) {
            diagnostics.extend(errors);
        }
    }
    (file, diagnostics)
}

/// Spans that point past the end of the source.
fn spans_outside(path: &Path, file: &SourceFile, diagnostics: &[Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .flat_map(|d| &d.labels)
        .filter(|label| label.span.end as usize > file.text().len())
        .map(|label| {
            format!(
                "{}: span {:?} outside the source",
                path.display(),
                label.span
            )
        })
        .collect()
}

#[test]
fn ui_fixtures() {
    let mut failures = Vec::new();
    let files = support::files_with_extension("tests/ui", "kfp");
    assert!(!files.is_empty(), "no fixtures in tests/ui");
    for path in &files {
        let raw = std::fs::read(path).expect("fixture readable");
        let header = Header::parse(&String::from_utf8_lossy(&raw));
        let (file, diagnostics) = diagnose(path, &header);
        let style = Style {
            color: false,
            width: 100,
        };
        let rendered = render_all(&diagnostics, &file, Format::Human, style);
        failures.extend(spans_outside(path, &file, &diagnostics));
        let codes: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
        match &header.expect {
            Some(expected) if *expected != codes => failures.push(format!(
                "{}: expected codes {expected:?}, got {codes:?}",
                path.display()
            )),
            Some(_) => {}
            None => failures.push(format!("{}: no `# expect:` header", path.display())),
        }
        if let Err(message) = support::check_expected(&path.with_extension("stderr"), &rendered) {
            failures.push(message);
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
