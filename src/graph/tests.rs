use super::*;
use crate::check::ir::{BlockKind, CompareOp, Items, ParamType};
use test_ir::*;

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
fn a_step_shows_its_volumes_and_sidecars() {
    let p = pipeline(
        r#"pipeline p {
  volume scratch { size = "1Gi" }
  step a {
    image = "alpine"
    data = ["scratch:/w", "claim:/c"]
    command = "x"
    sidecar db { image = "redis:7" command = "redis-server" }
  }
}"#,
    );
    let out = render(&p, Format::Mermaid);
    assert!(
        out.contains("a<br/>alpine<br/>volume scratch at /w<br/>sidecar db (redis:7)"),
        "{out}"
    );
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

/// flip, then `if flip == heads { heads } else { if flip == tails { tails } }`,
/// a step with `when`, `for lr in [0.1,0.2] { train }` (parallelism 2),
/// `repeat max 3 until next >= 3 { next }` and `finally { notify }`.
fn with_blocks() -> ir::Pipeline {
    let mut p = pipeline(
        r#"pipeline demo {
  param deploy: string = "yes"
  step flip { image = "python:3.12" command = "x" }
  step heads { image = "alpine" command = "echo $<flip.output>" }
  step tails { image = "alpine" command = "echo tails" after = [flip] }
  step maybe { image = "alpine" command = "echo" }
  step train { image = "python:3.12" command = "echo" }
  step next { image = "alpine" command = "echo $<train.output>" }
  step notify { image = "alpine" command = "echo" }
}"#,
    );
    let heads = output_is("flip", "heads");
    let then = add_block(
        &mut p,
        BlockKind::If {
            condition: heads.clone(),
            otherwise: false,
        },
        None,
    );
    let otherwise = add_block(
        &mut p,
        BlockKind::If {
            condition: heads,
            otherwise: true,
        },
        None,
    );
    let tails = add_block(
        &mut p,
        BlockKind::If {
            condition: output_is("flip", "tails"),
            otherwise: false,
        },
        Some(otherwise),
    );
    let each = add_block(
        &mut p,
        BlockKind::For {
            var: "lr".into(),
            items: Items::Fixed("[0.1,0.2]".into()),
            parallelism: Some(2),
        },
        None,
    );
    let until = compare(
        output("next", "output", ParamType::Number),
        CompareOp::Ge,
        literal("3", ParamType::Number),
    );
    let repeat = add_block(
        &mut p,
        BlockKind::Repeat {
            max: Count::Fixed(3),
            carries: Vec::new(),
            until,
        },
        None,
    );
    let finally = add_block(&mut p, BlockKind::Finally, None);
    put(&mut p, "heads", then);
    put(&mut p, "tails", tails);
    put(&mut p, "train", each);
    put(&mut p, "next", repeat);
    put(&mut p, "notify", finally);
    let maybe = p.step_position("maybe").expect("maybe");
    p.steps[maybe].when = Some(Box::new(compare(
        param("deploy", ParamType::String),
        CompareOp::Eq,
        literal("yes", ParamType::String),
    )));
    p
}

#[test]
fn dot_draws_blocks_as_nested_clusters() {
    let out = render(&with_blocks(), Format::Dot);
    let expected = r#"digraph "demo" {
  rankdir=TB;
  node [shape=box, fontname="monospace"];
  // solid: uses an output ($<step.output>); dashed: explicit `after`
  "flip" [label="flip\npython:3.12"];
  subgraph cluster_0 {
    label="if $<flip.output> == \"heads\"";
    labeljust=l;
    fontname="monospace";
    "heads" [label="heads\nalpine"];
  }
  subgraph cluster_1 {
    label="else";
    labeljust=l;
    fontname="monospace";
    subgraph cluster_2 {
      label="if $<flip.output> == \"tails\"";
      labeljust=l;
      fontname="monospace";
      "tails" [label="tails\nalpine"];
    }
  }
  "maybe" [label="maybe\nalpine\nwhen $<deploy> == \"yes\""];
  subgraph cluster_3 {
    label="for lr in [0.1,0.2], parallelism 2";
    labeljust=l;
    fontname="monospace";
    "train" [label="train\npython:3.12"];
  }
  subgraph cluster_4 {
    label="repeat max 3 until $<next.output> >= 3";
    labeljust=l;
    fontname="monospace";
    "next" [label="next\nalpine"];
  }
  subgraph cluster_5 {
    label="finally";
    labeljust=l;
    fontname="monospace";
    "notify" [label="notify\nalpine"];
  }
  "flip" -> "heads";
  "flip" -> "tails" [style=dashed, label="after"];
  "train" -> "next";
}
"#;
    assert_eq!(out, expected);
}

#[test]
fn mermaid_draws_blocks_as_nested_subgraphs() {
    let out = render(&with_blocks(), Format::Mermaid);
    let expected = r#"flowchart TD
  %% solid: uses an output ($<step.output>); dotted: explicit `after`
  flip["flip<br/>python:3.12"]
  subgraph block0["if $#lt;flip.output#gt; == #quot;heads#quot;"]
    heads["heads<br/>alpine"]
  end
  subgraph block1["else"]
    subgraph block2["if $#lt;flip.output#gt; == #quot;tails#quot;"]
      tails["tails<br/>alpine"]
    end
  end
  maybe["maybe<br/>alpine<br/>when $#lt;deploy#gt; == #quot;yes#quot;"]
  subgraph block3["for lr in [0.1,0.2], parallelism 2"]
    train["train<br/>python:3.12"]
  end
  subgraph block4["repeat max 3 until $#lt;next.output#gt; #gt;= 3"]
    next["next<br/>alpine"]
  end
  subgraph block5["finally"]
    notify["notify<br/>alpine"]
  end
  flip --> heads
  flip -. after .-> tails
  train --> next
"#;
    assert_eq!(out, expected);
}

#[test]
fn mermaid_block_ids_avoid_step_ids() {
    let mut p = pipeline(
        r#"pipeline p {
  step block0 { image = "a" command = "x" }
  step b { image = "a" command = "x" }
}"#,
    );
    let finally = add_block(&mut p, BlockKind::Finally, None);
    put(&mut p, "b", finally);
    let out = render(&p, Format::Mermaid);
    assert!(
        out.contains("  subgraph block0_[\"finally\"]\n    b["),
        "{out}"
    );
}

#[test]
fn ascii_tags_boxes_and_lists_the_blocks() {
    let out = render(&with_blocks(), Format::Ascii);
    for tag in [
        "| [1] if |",
        "| [3] if |",
        "| [4] for lr  |",
        "| [5] repeat |",
        "| [6] finally |",
        "| when $<deploy> == \"yes\" |",
    ] {
        assert!(out.contains(tag), "no {tag} in\n{out}");
    }
    let tree = r#"
blocks (a step's box names the innermost one):
  flip
  [1] if $<flip.output> == "heads"
      heads
  [2] else
      [3] if $<flip.output> == "tails"
          tails
  maybe
  [4] for lr in [0.1,0.2], parallelism 2
      train
  [5] repeat max 3 until $<next.output> >= 3
      next
  [6] finally
      notify
"#;
    assert!(out.ends_with(tree), "{out}");
    assert!(
        out.contains("  :  runs after the step above (`after`)\n"),
        "{out}"
    );
}

#[test]
fn without_blocks_nothing_about_blocks_is_drawn() {
    let p = pipeline(
        r#"pipeline p {
  step a { image = "a" command = "x" }
  step b { image = "a" command = "echo $<a.output>" }
}"#,
    );
    assert!(!render(&p, Format::Ascii).contains("blocks"));
    assert!(!render(&p, Format::Dot).contains("subgraph"));
    assert!(!render(&p, Format::Mermaid).contains("subgraph"));
}
