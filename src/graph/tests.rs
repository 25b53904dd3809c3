use super::*;
use crate::SourceFile;

fn pipeline(text: &str) -> ir::Pipeline {
    let checked = crate::check(&SourceFile::new("t.kfp", text));
    checked.pipeline.expect("test pipelines check clean")
}

#[test]
fn formats_parse_by_name() {
    assert_eq!(Format::parse("DOT"), Some(Format::Dot));
    assert_eq!(Format::parse("mermaid"), Some(Format::Mermaid));
    assert_eq!(Format::parse("svg"), None);
}

#[test]
fn mermaid_ids_avoid_reserved_words() {
    let p = pipeline(
        r#"pipeline p {
  step end { image = "a" command = "x" }
  step style { image = "a" command = "echo $<end.output>" }
}"#,
    );
    let out = render(&p, Format::Mermaid);
    assert!(out.contains("  end_[\"end<br/>a\"]"), "{out}");
    assert!(out.contains("  end_ --> style_\n"), "{out}");
}

#[test]
fn ascii_long_labels_are_cut_in_the_middle() {
    let cut = ascii_shorten("abcdefghijklmnopqrstuvwxyz0123456789abcdefghij");
    assert_eq!(cut.chars().count(), 40);
    assert!(
        cut.starts_with("abcdefghijklmnopq") && cut.ends_with("456789abcdefghij"),
        "{cut}"
    );
}

fn ascii_shorten(line: &str) -> String {
    ascii::shorten_for_tests(line)
}
