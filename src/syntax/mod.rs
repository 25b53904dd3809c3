//! Syntax: text → AST (`ast::Program`) plus diagnostics (E01xx).
//!
//! Three passes, each linear: the lexical pre-pass (`scan`) refuses input
//! the grammar cannot handle safely, pest parses, and `convert` builds the
//! AST. The result is an AST whenever the text was parseable, even when some
//! diagnostics (a bad escape, a reserved word) were found on the way.

pub mod ast;
mod convert;
mod errors;
mod grammar;
pub mod lex;
mod recover;
pub(crate) mod scan;

pub use convert::KEYWORDS;

use crate::diagnostics::{Code, Diagnostic};
use crate::source::{SourceFile, Span};

/// What parsing produced: the AST when the text could be parsed, and every diagnostic found.
#[derive(Debug)]
pub struct Parsed {
    /// The program: everything that could be read, even around syntax
    /// errors (`partial`). `None` only when a lexical error (an unterminated
    /// string, an unbalanced bracket) stopped parsing before it began.
    pub program: Option<ast::Program>,
    /// Syntax errors made parts of the file unreadable: the program lacks
    /// them, so it is for tools (an outline, completion), not for checking.
    pub partial: bool,
    /// Errors and warnings, unsorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Whether more input could complete the text (the REPL keeps reading).
    pub incomplete: bool,
}

/// `text` as the body of a `"…"` literal that reads back as `text`:
/// backslash, quote, newline and tab escaped, `$<` written `$$<`.
pub fn escape_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'<') => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out
}

/// Parses one file.
pub fn parse(file: &SourceFile) -> Parsed {
    let text = file.text();
    let scan = scan::scan(text);
    if !scan.diagnostics.is_empty() {
        return Parsed {
            program: None,
            diagnostics: scan.diagnostics,
            incomplete: scan.incomplete,
            partial: true,
        };
    }
    let mut parsed = recover::read(text);
    if let Some(program) = &parsed.program {
        parsed.diagnostics.extend(pipeline_count(program, text));
    }
    parsed
}

fn pipeline_count(program: &ast::Program, text: &str) -> Option<Diagnostic> {
    match program.pipelines.as_slice() {
        [] => {
            let end = text.len();
            Some(
                Diagnostic::new(Code::E0108, "no `pipeline` block")
                    .primary(
                        Span::new(0, end.min(1)).to(Span::at(0)),
                        "the file has no pipeline",
                    )
                    .help("write `pipeline NAME { … }`; see examples/mnist.kfp"),
            )
        }
        [_] => None,
        [first, second, ..] => Some(
            Diagnostic::new(Code::E0107, "more than one `pipeline` block")
                .primary(second.name.span, "a second pipeline")
                .secondary(first.name.span, "the first pipeline")
                .help("a file holds one pipeline; move the other into a file of its own"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::ast::{StringPart, ValueKind};
    use crate::source::SourceFile;

    /// The value of `let x = <literal>` as text, interpolations shown as `{name}`.
    fn string_value(literal: &str) -> String {
        let file = SourceFile::new("t.kfp", format!("pipeline p {{\n  let x = {literal}\n}}\n"));
        let parsed = super::parse(&file);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let program = parsed.program.expect("parsed");
        let super::ast::Item::Let(decl) = &program.pipelines[0].items[0] else {
            panic!("not a let")
        };
        let ValueKind::String(s) = &decl.value.kind else {
            panic!("not a string")
        };
        s.parts
            .iter()
            .map(|p| match p {
                StringPart::Text { text, .. } => text.clone(),
                StringPart::Interp(i) => match &i.field {
                    Some(f) => format!("{{{}.{}}}", i.head.name, f.name),
                    None => format!("{{{}}}", i.head.name),
                },
            })
            .collect()
    }

    #[test]
    fn escapes_and_interpolation() {
        assert_eq!(
            string_value(r#""a\tb \"q\" \$<x> $$<y> $HOME $<lr> $<s.output>""#),
            "a\tb \"q\" $<x> $<y> $HOME {lr} {s.output}"
        );
    }

    #[test]
    fn escaped_strings_read_back_unchanged() {
        for text in [
            "plain",
            "say \"hi\"\tback\\slash\n",
            "$<x> $$<y> $$$<z> $HOME $",
            "",
        ] {
            let literal = format!("\"{}\"", super::escape_string(text));
            let read: String = string_value(&literal);
            assert_eq!(read, text, "{literal}");
        }
    }

    #[test]
    fn triple_strings_are_dedented() {
        let literal =
            "\"\"\"\n      say \"hi\" to $<who> \\\n        more $$<lit>\n\n      back\n    \"\"\"";
        assert_eq!(
            string_value(literal),
            "say \"hi\" to {who} \\\n  more $<lit>\n\nback"
        );
        assert_eq!(string_value("\"\"\"one line\"\"\""), "one line");
        assert_eq!(string_value("\"\"\"\n  a\n  b\n\"\"\""), "a\nb");
        assert_eq!(string_value("\"\"\"\r\n  a\r\n  b\r\n  \"\"\""), "a\nb");
        assert_eq!(string_value("\"\"\"\"\"\""), "");
    }

    #[test]
    fn interpolation_spans_point_at_names() {
        let text = "pipeline p { let x = \"go $<train.model>\" }";
        let parsed = super::parse(&SourceFile::new("t.kfp", text));
        let program = parsed.program.expect("parsed");
        let super::ast::Item::Let(decl) = &program.pipelines[0].items[0] else {
            panic!("not a let")
        };
        let ValueKind::String(s) = &decl.value.kind else {
            panic!("not a string")
        };
        let StringPart::Interp(interp) = &s.parts[1] else {
            panic!("no interpolation")
        };
        assert_eq!(&text[interp.span.range()], "$<train.model>");
        assert_eq!(&text[interp.head.span.range()], "train");
        assert_eq!(
            &text[interp.field.as_ref().expect("field").span.range()],
            "model"
        );
    }
}

#[cfg(test)]
mod recovery_tests {
    use super::ast::{Item, StepItem};
    use crate::source::SourceFile;

    /// Items are read in batches (`pipeline_batch`); a mistake past the
    /// first batch, or two in one, is reported where it is and loses only
    /// its own item's broken part, exactly as when read one at a time.
    #[test]
    fn mistakes_in_later_batches_are_reported_where_they_are() {
        let mut text = String::from("pipeline p {\n");
        for i in 0..40 {
            let image = if matches!(i, 20 | 21 | 37) {
                "image \"x\""
            } else {
                "image = \"x\""
            };
            text.push_str(&format!(
                "  step s{i} {{ {image} command = \"c\" }}\n  let l{i} = {i}\n"
            ));
        }
        text.push_str("}\n");
        let parsed = super::parse(&SourceFile::new("t.kfp", text.as_str()));
        let errors: Vec<(&str, &str)> = parsed
            .diagnostics
            .iter()
            .map(|d| {
                let at = d.span().start as usize;
                let line = text[..at].lines().count();
                (d.code.as_str(), text.lines().nth(line - 1).unwrap_or(""))
            })
            .collect();
        let broken = |i: usize| format!("  step s{i} {{ image \"x\" command = \"c\" }}");
        assert_eq!(
            errors,
            [20, 21, 37]
                .map(|i| ("E0101", broken(i)))
                .iter()
                .map(|(c, l)| (*c, l.as_str()))
                .collect::<Vec<_>>(),
            "{:#?}",
            parsed.diagnostics
        );
        let program = parsed.program.expect("a partial program");
        let items = &program.pipelines[0].items;
        assert_eq!(items.len(), 80);
        for (i, pair) in items.chunks(2).enumerate() {
            let [Item::Step(step), Item::Let(l)] = pair else {
                panic!("item {i}: {pair:#?}")
            };
            assert_eq!(
                (step.name.name.clone(), l.name.name.clone()),
                (format!("s{i}"), format!("l{i}"))
            );
            let kept = if matches!(i, 20 | 21 | 37) { 1 } else { 2 };
            assert_eq!(step.items.len(), kept, "step s{i}");
            assert!(
                matches!(step.items.last(), Some(StepItem::Attribute(a)) if a.name.name == "command")
            );
        }
    }

    /// After an error the parser reads on: every step survives, and a broken
    /// step keeps the items around its mistake.
    #[test]
    fn a_partial_program_keeps_what_could_be_read() {
        let text = "pipeline p {\n  step a { image = \"x\" command = = \"y\" output o }\n  let = 3 # `let` read as an attribute: E0106\n  step b { image \"x\" }\n  param n: number = 1\n}\n";
        let parsed = super::parse(&SourceFile::new("t.kfp", text));
        let errors: Vec<&str> = parsed.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(
            errors,
            ["E0101", "E0101", "E0106"],
            "{:#?}",
            parsed.diagnostics
        );
        assert!(parsed.partial);
        let program = parsed.program.expect("a partial program");
        let items = &program.pipelines[0].items;
        let names: Vec<&str> = items
            .iter()
            .map(|item| match item {
                Item::Step(s) => s.name.name.as_str(),
                Item::Param(p) => p.name.name.as_str(),
                Item::Let(l) => l.name.name.as_str(),
                Item::Attribute(a) => a.name.name.as_str(),
                _ => "block",
            })
            .collect();
        assert_eq!(names, ["a", "let", "b", "n"]);
        let Item::Step(a) = &items[0] else {
            panic!("not a step")
        };
        let kept: Vec<&str> = a
            .items
            .iter()
            .map(|item| match item {
                StepItem::Attribute(x) => x.name.name.as_str(),
                StepItem::Output(o) => o.name.name.as_str(),
                StepItem::Metric(_) => "metric",
                StepItem::When(_) => "when",
                StepItem::Sidecar(_) => "sidecar",
            })
            .collect();
        assert_eq!(kept, ["image", "o"]);
        assert_eq!(&text[a.braces.close.range()], "}");
    }

    /// A control block with mistakes is read again piece by piece: each
    /// broken item is reported, and the block keeps everything else.
    #[test]
    fn a_block_with_errors_keeps_its_other_items() {
        let text = "pipeline p {\n  if $<d> {\n    step a { image = }\n    for x in [1] { step b { c d } }\n    step c { image = \"x\" }\n  } else {\n    step e { = }\n  }\n  step f { image = \"x\" }\n}\n";
        let parsed = super::parse(&SourceFile::new("t.kfp", text));
        let errors: Vec<&str> = parsed.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(
            errors,
            ["E0101", "E0101", "E0101"],
            "{:#?}",
            parsed.diagnostics
        );
        let program = parsed.program.expect("a partial program");
        let items = &program.pipelines[0].items;
        assert_eq!(items.len(), 2, "{items:#?}");
        let Item::If(block) = &items[0] else {
            panic!("not an if: {:#?}", items[0])
        };
        let kinds: Vec<&str> = block
            .then
            .items
            .iter()
            .map(|item| match item {
                Item::Step(s) => s.name.name.as_str(),
                Item::For(_) => "for",
                _ => "?",
            })
            .collect();
        assert_eq!(kinds, ["a", "for", "c"]);
        assert!(matches!(
            block.otherwise.as_ref().map(|e| &e.branch),
            Some(crate::syntax::ast::ElseBranch::Block(b)) if b.items.len() == 1
        ));
    }

    /// Every token the printer needs has its own span.
    #[test]
    fn keywords_braces_and_assignments_have_spans() {
        let text = "pipeline p {\n  param n: number = 1\n  step s { env = { A = \"1\" } data = [\"c:/d\"] }\n}";
        let parsed = super::parse(&SourceFile::new("t.kfp", text));
        let program = parsed.program.expect("parsed");
        let pipeline = &program.pipelines[0];
        let at = |span: crate::source::Span| &text[span.range()];
        assert_eq!(at(pipeline.keyword), "pipeline");
        assert_eq!(
            (at(pipeline.braces.open), at(pipeline.braces.close)),
            ("{", "}")
        );
        let Item::Param(n) = &pipeline.items[0] else {
            panic!("param")
        };
        assert_eq!((at(n.keyword), at(n.colon)), ("param", ":"));
        assert_eq!(n.assign.map(at), Some("="));
        let Item::Step(s) = &pipeline.items[1] else {
            panic!("step")
        };
        assert_eq!(at(s.keyword), "step");
        assert_eq!(
            s.braces.close.start as usize,
            text.rfind("] }").expect("end") + 2
        );
        let StepItem::Attribute(env) = &s.items[0] else {
            panic!("env")
        };
        assert_eq!(at(env.assign), "=");
        let super::ast::ValueKind::Map(map) = &env.value.kind else {
            panic!("map")
        };
        assert_eq!((at(map.braces.open), at(map.braces.close)), ("{", "}"));
        assert_eq!(at(map.items[0].assign), "=");
        let StepItem::Attribute(data) = &s.items[1] else {
            panic!("data")
        };
        let super::ast::ValueKind::List(list) = &data.value.kind else {
            panic!("list")
        };
        assert_eq!((at(list.braces.open), at(list.braces.close)), ("[", "]"));
    }

    /// `volume` and `sidecar` are words only where a declaration starts: a
    /// v1 program with a param, a let, a step or an attribute of that name
    /// means what it meant.
    #[test]
    fn volume_and_sidecar_stay_names_in_v1_programs() {
        let text = "pipeline p {\n  param volume: string = \"v\"\n  let sidecar = \"s\"\n  volume = \"x\"\n  step volume {\n    sidecar = \"y\"\n    image = \"alpine\"\n    command = \"echo $<volume> $<sidecar>\"\n  }\n  step sidecar { image = \"alpine\" command = \"true\" }\n}";
        let parsed = super::parse(&SourceFile::new("t.kfp", text));
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let program = parsed.program.expect("parsed");
        let kinds: Vec<String> = program.pipelines[0]
            .items
            .iter()
            .map(|item| match item {
                Item::Param(p) => format!("param {}", p.name.name),
                Item::Let(l) => format!("let {}", l.name.name),
                Item::Attribute(a) => format!("attribute {}", a.name.name),
                Item::Step(s) => format!("step {} {}", s.name.name, s.items.len()),
                _ => "other".into(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "param volume",
                "let sidecar",
                "attribute volume",
                "step volume 3",
                "step sidecar 2"
            ]
        );
    }

    #[test]
    fn volume_and_sidecar_blocks_are_read() {
        let text = "pipeline p {\n  volume scratch { size = \"1Gi\" keep = true }\n  step s {\n    image = \"alpine\"\n    sidecar db { image = \"redis\" command = \"redis-server\" }\n    command = \"true\"\n  }\n}";
        let parsed = super::parse(&SourceFile::new("t.kfp", text));
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let program = parsed.program.expect("parsed");
        let Item::Volume(volume) = &program.pipelines[0].items[0] else {
            panic!("volume")
        };
        assert_eq!(volume.name.name, "scratch");
        assert_eq!(volume.attributes.len(), 2);
        assert_eq!(&text[volume.keyword.range()], "volume");
        let Item::Step(step) = &program.pipelines[0].items[1] else {
            panic!("step")
        };
        let StepItem::Sidecar(db) = &step.items[1] else {
            panic!("sidecar")
        };
        assert_eq!((db.name.name.as_str(), db.attributes.len()), ("db", 2));
    }

    /// A broken volume or sidecar block is reported, and what follows it read.
    #[test]
    fn a_broken_volume_or_sidecar_block_is_reported_and_the_rest_read() {
        let text = "pipeline p {\n  volume scratch { size = }\n  step s {\n    sidecar db { image \"redis\" }\n    image = \"alpine\"\n    command = \"true\"\n  }\n  step t { image = \"alpine\" command = \"true\" }\n}";
        let parsed = super::parse(&SourceFile::new("t.kfp", text));
        assert_eq!(parsed.diagnostics.len(), 2, "{:?}", parsed.diagnostics);
        let program = parsed.program.expect("parsed");
        let steps: Vec<(&str, usize)> = program.pipelines[0]
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Step(s) => Some((s.name.name.as_str(), s.items.len())),
                _ => None,
            })
            .collect();
        assert_eq!(steps, [("s", 2), ("t", 2)]);
    }
}

/// The AST holds every item of the file, so the size of its most common
/// nodes is the parser's memory: a rare, large variant is boxed rather than
/// sizing every node (see `ast::Item` and `ast::StepItem`).
#[cfg(all(test, target_pointer_width = "64"))]
mod node_sizes {
    use super::ast::{Attribute, Item, StepItem};

    #[test]
    fn a_step_item_is_no_larger_than_an_attribute() {
        assert_eq!(size_of::<StepItem>(), size_of::<Attribute>());
    }

    #[test]
    fn a_pipeline_item_stays_small() {
        assert!(size_of::<Item>() <= 160, "{} bytes", size_of::<Item>());
    }
}
