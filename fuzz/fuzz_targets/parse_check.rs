//! Any bytes in: parse and check must not panic, every diagnostic span lies
//! within the source, rendering works, and a checked program's IR is sound.

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
        for (i, step) in pipeline.steps.iter().enumerate() {
            for dep in &step.dependencies {
                let at = pipeline.step_position(&dep.step).expect("dependency exists");
                assert!(at < i, "dependencies come first in the IR");
            }
        }
    }
});
