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
pub mod scan;

pub use convert::{KEYWORDS, is_identifier};

use pest::Parser;

use crate::diagnostics::{Code, Diagnostic};
use crate::source::{SourceFile, Span};
use grammar::{KfpParser, Rule};

/// What parsing produced: the AST when the text could be parsed, and every diagnostic found.
#[derive(Debug)]
pub struct Parsed {
    /// The program, when the text was syntactically valid enough to build one.
    pub program: Option<ast::Program>,
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
        };
    }
    let mut converter = convert::Converter::default();
    let mut pipelines = Vec::new();
    let mut at = 0;
    loop {
        let head = match next(Rule::file_next, text, at) {
            Ok(pair) => pair,
            Err(parsed) => return parsed,
        };
        // Spans inside `head` are relative to where it was parsed from.
        converter.base = at;
        let start = at + leading_skip(&head);
        at += head.as_span().end();
        let Some(open) = head
            .into_inner()
            .find(|p| p.as_rule() == Rule::pipeline_open)
        else {
            break; // end of file
        };
        let name = converter.pipeline_open(open);
        let mut items = Vec::new();
        loop {
            let item = match next(Rule::pipeline_next, text, at) {
                Ok(pair) => pair,
                Err(parsed) => return parsed,
            };
            converter.base = at;
            let end = at + item.as_span().end();
            let is_close = item
                .clone()
                .into_inner()
                .any(|p| p.as_rule() == Rule::pipeline_close);
            items.extend(converter.pipeline_item(item));
            at = end;
            if is_close {
                break;
            }
        }
        if let Some(name) = name {
            pipelines.push(ast::Pipeline {
                name,
                items,
                span: Span::new(start, at),
            });
        }
    }
    let program = ast::Program {
        pipelines,
        span: Span::new(0, text.len()),
    };
    let mut diagnostics = converter.diagnostics;
    diagnostics.extend(pipeline_count(&program, text));
    Parsed {
        program: Some(program),
        diagnostics,
        incomplete: false,
    }
}

/// Parses the next item of `text` at byte `at` with an entry rule.
fn next(rule: Rule, text: &str, at: usize) -> Result<pest::iterators::Pair<'_, Rule>, Parsed> {
    let rest = text.get(at..).unwrap_or("");
    match KfpParser::parse(rule, rest) {
        Ok(mut pairs) => pairs.next().ok_or_else(|| internal_error(at)),
        Err(error) => {
            let diagnostic = errors::syntax_error(&error, text, at);
            let incomplete = diagnostic.span().start as usize >= text.trim_end().len();
            Err(Parsed {
                program: None,
                diagnostics: vec![diagnostic],
                incomplete,
            })
        }
    }
}

/// Bytes of whitespace and comments before the entry rule's first token.
fn leading_skip(pair: &pest::iterators::Pair<'_, Rule>) -> usize {
    pair.clone()
        .into_inner()
        .next()
        .map_or(0, |first| first.as_span().start())
}

fn internal_error(at: usize) -> Parsed {
    Parsed {
        program: None,
        diagnostics: vec![
            Diagnostic::new(
                Code::E0901,
                "internal error in the parser: an entry rule matched nothing",
            )
            .primary(Span::at(at), "while reading here")
            .help("this is a bug in kfpl; please report it with this file"),
        ],
        incomplete: false,
    }
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
