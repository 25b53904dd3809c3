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
    let pairs = match KfpParser::parse(Rule::file, text) {
        Ok(pairs) => pairs,
        Err(error) => {
            let diagnostic = errors::syntax_error(&error, text);
            let at_end = diagnostic.span().start as usize >= text.trim_end().len();
            return Parsed {
                program: None,
                diagnostics: vec![diagnostic],
                incomplete: at_end,
            };
        }
    };
    let mut converter = convert::Converter::default();
    let program = pairs.into_iter().next().map(|pair| converter.file(pair));
    let mut diagnostics = converter.diagnostics;
    if let Some(program) = &program {
        diagnostics.extend(pipeline_count(program, text));
    }
    Parsed {
        program,
        diagnostics,
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
