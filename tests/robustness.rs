//! No panic on any input: property tests that mutate every fixture and
//! example, v2 programs included (delete, duplicate, insert bytes), and feed
//! the result to parse and check (and compile, when it checks), asserting
//! that nothing panics and every span lies in the source.

mod support;

use proptest::prelude::*;

fn corpus() -> Vec<String> {
    let mut texts: Vec<String> = [
        "tests/ui",
        "examples",
        "examples/kfp-samples",
        "tests/parity/v2",
        "tests/run_v2",
    ]
    .into_iter()
    .flat_map(|dir| support::files_with_extension(dir, "kfp"))
    .filter_map(|path| std::fs::read(path).ok())
    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    .collect();
    texts.sort();
    assert!(!texts.is_empty(), "no corpus");
    texts
}

/// Parses and checks `text`, asserting the invariants.
fn assert_robust(text: &str) {
    let file = kfpl::SourceFile::new("fuzz.kfp", text);
    let checked = kfpl::check(&file);
    for diagnostic in &checked.diagnostics {
        for label in &diagnostic.labels {
            assert!(
                label.span.end as usize <= text.len() && label.span.start <= label.span.end,
                "span {:?} outside source of {} bytes ({})",
                label.span,
                text.len(),
                diagnostic.message
            );
        }
    }
    if checked.pipeline.is_some() {
        assert!(!checked.diagnostics.iter().any(|d| d.is_error()));
        // A program that checks compiles (or says why), without a panic:
        // the lowering meets every mutated block shape too.
        let _ = kfpl::compile(&file, &kfpl::CompileOptions::default());
    }
    // Rendering must not panic either (it slices the source at the spans).
    let _ = kfpl::diagnostics::render::render_all(
        &checked.diagnostics,
        &file,
        kfpl::diagnostics::render::Format::Human,
        kfpl::diagnostics::render::Style::default(),
    );
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Duplicate { at: usize, len: usize },
    Insert { at: usize, bytes: Vec<u8> },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop::sample::select(vec![
        b"\"".to_vec(),
        b"\"\"\"".to_vec(),
        b"$<".to_vec(),
        b"$$<".to_vec(),
        b">".to_vec(),
        b"{".to_vec(),
        b"}".to_vec(),
        b"[".to_vec(),
        b"]".to_vec(),
        b"\\".to_vec(),
        b"\n".to_vec(),
        b"#".to_vec(),
        b"step".to_vec(),
        b"=".to_vec(),
        b",".to_vec(),
        b":".to_vec(),
        b".".to_vec(),
        vec![0xff, 0xfe],
        vec![0],
        "é€😀".as_bytes().to_vec(),
    ]);
    prop_oneof![
        (any::<prop::sample::Index>(), 1usize..40).prop_map(|(i, len)| Mutation::Delete {
            at: i.index(usize::MAX),
            len
        }),
        (any::<prop::sample::Index>(), 1usize..80).prop_map(|(i, len)| Mutation::Duplicate {
            at: i.index(usize::MAX),
            len
        }),
        (
            any::<prop::sample::Index>(),
            prop_oneof![interesting, prop::collection::vec(any::<u8>(), 1..8)]
        )
            .prop_map(|(i, bytes)| Mutation::Insert {
                at: i.index(usize::MAX),
                bytes
            }),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for mutation in mutations {
        let n = bytes.len().max(1);
        match mutation {
            Mutation::Delete { at, len } => {
                let at = at % n;
                let end = (at + len).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Mutation::Duplicate { at, len } => {
                let at = at % n;
                let end = (at + len).min(bytes.len());
                if at < end {
                    let piece = bytes[at..end].to_vec();
                    bytes.splice(end..end, piece);
                }
            }
            Mutation::Insert { at, bytes: new } => {
                let at = (at % (bytes.len() + 1)).min(bytes.len());
                bytes.splice(at..at, new.iter().copied());
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_fixtures_never_panic(
        pick in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let corpus = corpus();
        let text = &corpus[pick.index(corpus.len())];
        assert_robust(&apply(text, &mutations));
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        assert_robust(&text);
    }
}

#[test]
fn hostile_inputs_never_panic() {
    let deep = "[".repeat(20_000);
    let deep_in_program = format!(
        "pipeline p {{ let x = {}{} }}",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    let long_line = format!("pipeline p {{ let x = \"{}\" }}", "a".repeat(3 << 20));
    let long_junk = "x".repeat(3 << 20);
    let many_steps: String = (0..2000)
        .map(|i| {
            format!(
                "step s{i} {{ image = \"i\" command = \"echo $<s{}.output>\" }}\n",
                i.max(1) - 1
            )
        })
        .collect();
    let inputs = [
        String::new(),
        " \n\t ".into(),
        "\u{feff}".into(),
        "pipeline".into(),
        "pipeline p {".into(),
        "pipeline p { step s { command = \"unterminated".into(),
        "pipeline p { step s { command = \"\"\"never closed".into(),
        "pipeline p { step s { command = \"echo $<oops\" } }".into(),
        "pipeline a {} pipeline b {}".into(),
        deep,
        deep_in_program,
        long_line,
        long_junk,
        format!("pipeline p {{ {many_steps} }}"),
        "\0\u{1}\u{2}binary\u{7f}".into(),
    ];
    for input in &inputs {
        assert_robust(input);
    }
}
