//! Meta-tests on the diagnostic registry: every code has a unique name, an
//! explanation page whose heading names it, and a test that produces it.

mod support;

use std::collections::BTreeSet;
use std::fs;

use kfpl::Code;

#[test]
fn codes_are_unique_and_have_pages() {
    let mut seen = BTreeSet::new();
    for code in Code::ALL {
        assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
        assert_eq!(Code::parse(code.as_str()), Some(*code));
        let page = code.explanation();
        let heading = format!("# {}: {}", code.as_str(), code.summary());
        assert!(
            page.starts_with(&heading),
            "{}: page must start with `{heading}`",
            code.as_str()
        );
        assert!(
            !page.contains("TODO"),
            "{}: page is a placeholder",
            code.as_str()
        );
        for section in ["## What it means", "## How to fix"] {
            assert!(
                page.contains(section),
                "{}: page lacks `{section}`",
                code.as_str()
            );
        }
    }
}

/// A code is exercised by a `tests/ui/<CODE>_*.kfp` fixture whose `.stderr`
/// shows it; codes that only the command line, the compiler or the runner
/// raise are exercised by another test under `tests/`, which must name them.
#[test]
fn every_code_is_exercised_by_a_test() {
    let files = support::all_files_under("tests");
    let texts: Vec<(String, String)> = files
        .iter()
        .filter_map(|p| Some((p.display().to_string(), fs::read_to_string(p).ok()?)))
        .collect();
    let mut missing = Vec::new();
    for code in Code::ALL {
        let name = code.as_str();
        let marker = format!("kfpl::{name}");
        let in_ui = texts.iter().any(|(path, text)| {
            path.contains(&format!("ui/{name}_"))
                && path.ends_with(".stderr")
                && text.contains(&marker)
        });
        let elsewhere = texts.iter().any(|(path, text)| {
            !path.contains("/ui/") && !path.ends_with("registry.rs") && text.contains(name)
        });
        if !(in_ui || elsewhere) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "codes no test exercises: {missing:?}");
}
