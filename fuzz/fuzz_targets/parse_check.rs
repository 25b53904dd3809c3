//! Any bytes in: parse, check and lower must not panic; every diagnostic
//! span lies within the source; rendering works; a checked program's IR is
//! sound; and its lowering passes kfpl's Argo lint and reads back from YAML
//! as the same `Workflow`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = kfpl::SourceFile::new("fuzz.kfp", text);
    let checked = kfpl::check(&file);
    for diagnostic in &checked.diagnostics {
        for label in &diagnostic.labels {
            assert!(label.span.start <= label.span.end);
            assert!(label.span.end as usize <= text.len(), "span outside the source");
        }
    }
    let _ = kfpl::diagnostics::render::render_all(
        &checked.diagnostics,
        &file,
        kfpl::diagnostics::render::Format::Human,
        kfpl::diagnostics::render::Style::default(),
    );
    if let Some(pipeline) = &checked.pipeline {
        assert!(!checked.diagnostics.iter().any(|d| d.is_error()));
        let values = kfpl::params::bind(pipeline, &[], kfpl::params::Missing::Allow);
        if let Ok(values) = values
            && let Ok(workflow) = kfpl::lower::lower(pipeline, &values, kfpl::lower::DEFAULT_GIT_IMAGE)
        {
            let problems = kfpl::lower::lint(&workflow);
            assert!(problems.is_empty(), "lint: {problems:?}");
            let yaml = kfpl::lower::yaml::to_yaml(&workflow).expect("serialises");
            let back: kfpl::lower::Workflow = serde_yaml::from_str(&yaml).expect("reads back");
            assert!(back == workflow, "YAML round trip changed the workflow");
        }
        for (i, step) in pipeline.steps.iter().enumerate() {
            for dep in &step.dependencies {
                let at = pipeline.step_position(&dep.step).expect("dependency exists");
                assert!(at < i, "dependencies come first in the IR");
            }
        }
    }
});
