//! Declarations as source text: cutting them out of a parsed input and
//! moving them left or right without changing what they mean.
//!
//! The session keeps every accepted declaration as the text the user wrote,
//! so `:show` and `:save` print their program back to them. To print it
//! inside `pipeline NAME { … }` each declaration is indented; to store it,
//! its own indentation is taken off. Whitespace at the start of a line is
//! insignificant everywhere except inside a `"""` string, where the common
//! indentation of the lines is removed (LANGUAGE.md). Shifting every line of
//! such a string by the same amount keeps its value, *provided* the string's
//! opening line is blank after the quotes (otherwise that first line, which
//! does not move, takes part in the common indentation). A string that does
//! not satisfy that is never moved.

use crate::source::Span;
use crate::syntax::ast;
use crate::syntax::lex;

/// How a line of a snippet begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineStart {
    /// In code (or a comment): leading whitespace means nothing.
    Code,
    /// Inside the `"""` string numbered so.
    InString(usize),
}

/// What a `"""` string allows.
#[derive(Debug, Clone, Copy)]
struct StringInfo {
    /// The opening line is blank after the quotes, so all its lines may move together.
    movable: bool,
    /// The least indentation of its non-blank lines that start inside it.
    indent: usize,
}

/// Each line's start, and the strings that span lines (read off the lexer's tokens).
fn layout(text: &str) -> (Vec<LineStart>, Vec<StringInfo>) {
    let mut starts = vec![LineStart::Code];
    let mut strings: Vec<StringInfo> = Vec::new();
    // The `"""` string being read, while its pieces go by.
    let mut inside: Option<usize> = None;
    for token in lex::lex(text) {
        if token.is_triple_quote() {
            inside = match inside {
                Some(_) => None, // its closing quote
                None => {
                    let rest = &text[token.span.end as usize..];
                    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
                    strings.push(StringInfo {
                        movable: is_blank(line),
                        indent: usize::MAX,
                    });
                    Some(strings.len() - 1)
                }
            };
            continue;
        }
        let line_breaks = token.text(text).matches('\n').count();
        let start = match (inside, token.kind) {
            (Some(id), lex::Kind::Text | lex::Kind::Interp) => LineStart::InString(id),
            _ => LineStart::Code,
        };
        starts.extend(std::iter::repeat_n(start, line_breaks));
    }
    for (line, start) in text.split('\n').zip(&starts) {
        if let LineStart::InString(id) = *start
            && !is_blank(line)
        {
            strings[id].indent = strings[id].indent.min(indentation(line));
        }
    }
    (starts, strings)
}

/// Only spaces and tabs (and a `\r` of a Windows line end).
fn is_blank(line: &str) -> bool {
    line.chars().all(|c| matches!(c, ' ' | '\t' | '\r'))
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// Indents every line that may move by `by` spaces (blank lines stay empty).
pub(crate) fn indent(text: &str, by: usize) -> String {
    let (starts, strings) = layout(text);
    let pad = " ".repeat(by);
    let lines: Vec<String> = text
        .split('\n')
        .zip(&starts)
        .map(|(line, start)| {
            let movable = match *start {
                LineStart::Code => true,
                LineStart::InString(id) => strings[id].movable,
            };
            if movable && !is_blank(line) {
                format!("{pad}{line}")
            } else {
                line.to_string()
            }
        })
        .collect();
    lines.join("\n")
}

/// Takes off the indentation common to the code lines, moving each `"""`
/// string with them when it can move that far.
pub(crate) fn dedent(text: &str) -> String {
    let (starts, strings) = layout(text);
    let by = text
        .split('\n')
        .zip(&starts)
        .filter(|(line, start)| **start == LineStart::Code && !is_blank(line))
        .map(|(line, _)| indentation(line))
        .min()
        .unwrap_or(0);
    if by == 0 {
        return text.to_string();
    }
    let lines: Vec<&str> = text
        .split('\n')
        .zip(&starts)
        .map(|(line, start)| {
            let movable = match *start {
                LineStart::Code => true,
                LineStart::InString(id) => strings[id].movable && strings[id].indent >= by,
            };
            if !movable {
                return line;
            }
            let strip = indentation(line).min(by);
            &line[strip..]
        })
        .collect();
    lines.join("\n")
}

/// What a declaration declares: the session replaces an entry with the same key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Key {
    /// `name = …` or `description = …` of the pipeline.
    Attribute(String),
    /// A param or a let (they share one set of names).
    Value(String),
    /// A step.
    Step(String),
    /// A control block (`if`, `for`, `repeat`, `finally`), by its head as
    /// written (`for lr in $<lrs>`): typing the same head again replaces it.
    Block(String),
}

/// The kind of declaration, for messages and `:show`'s grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Attribute,
    Param,
    Let,
    Step,
    /// A control block (`if`, `for`, `repeat`, `finally`).
    Block,
    /// `volume NAME { … }`.
    Volume,
}

impl Kind {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Kind::Attribute => "attribute",
            Kind::Param => "param",
            Kind::Let => "let",
            Kind::Step => "step",
            Kind::Block => "block",
            Kind::Volume => "volume",
        }
    }
}

/// One accepted declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) key: Key,
    pub(crate) kind: Kind,
    /// The declared name.
    pub(crate) name: String,
    /// Its text, comments before it included, without common indentation.
    pub(crate) text: String,
}

/// Cuts the items of `pipeline` out of `text`, each with the comments and
/// blank lines before it; `body` is the range the items lie in (after `{`
/// and before `}`), so comments after the last item go with it.
pub(crate) fn entries(text: &str, pipeline: &ast::Pipeline, body: Span) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut from = body.start as usize;
    let count = pipeline.items.len();
    for (n, item) in pipeline.items.iter().enumerate() {
        let (key, kind, name, span) = describe(item, text);
        let to = if n + 1 == count {
            (body.end as usize).max(span.end as usize)
        } else {
            span.end as usize
        };
        let chunk = text.get(from..to).unwrap_or("");
        let first = chunk.len() - chunk.trim_start().len();
        let line_start = chunk[..first].rfind('\n').map_or(0, |i| i + 1);
        let piece = chunk[line_start..].trim_end();
        out.push(Entry {
            key,
            kind,
            name,
            text: dedent(piece),
        });
        from = to;
    }
    out
}

fn describe(item: &ast::Item, source: &str) -> (Key, Kind, String, Span) {
    match item {
        ast::Item::Attribute(a) => (
            Key::Attribute(a.name.name.clone()),
            Kind::Attribute,
            a.name.name.clone(),
            a.span,
        ),
        ast::Item::Param(p) => (
            Key::Value(p.name.name.clone()),
            Kind::Param,
            p.name.name.clone(),
            p.span,
        ),
        ast::Item::Let(l) => (
            Key::Value(l.name.name.clone()),
            Kind::Let,
            l.name.name.clone(),
            l.span,
        ),
        ast::Item::Step(s) => (
            Key::Step(s.name.name.clone()),
            Kind::Step,
            s.name.name.clone(),
            s.span,
        ),
        ast::Item::Defaults(d) => (
            Key::Block("defaults".into()),
            Kind::Block,
            "defaults".into(),
            d.span,
        ),
        ast::Item::Volume(v) => (
            Key::Block(format!("volume {}", v.name.name)),
            Kind::Volume,
            v.name.name.clone(),
            v.span,
        ),
        ast::Item::If(_) | ast::Item::For(_) | ast::Item::Repeat(_) | ast::Item::Finally(_) => {
            let span = item.span();
            let head = item.blocks().first().map_or(span, |b| {
                Span::new(span.start as usize, b.braces.open.start as usize)
            });
            let head = source.get(head.range()).unwrap_or("").split_whitespace();
            let head = head.collect::<Vec<_>>().join(" ");
            (Key::Block(head.clone()), Kind::Block, head, span)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceFile;

    /// The value of every string in a one-step pipeline around `step`.
    fn strings(step: &str) -> Vec<String> {
        let file = SourceFile::new("t", format!("pipeline p {{\n{step}\n}}\n"));
        let parsed = crate::syntax::parse(&file);
        let program = parsed.program.expect("parses");
        let mut out = Vec::new();
        for item in &program.pipelines[0].items {
            if let ast::Item::Step(s) = item {
                for item in &s.items {
                    if let ast::StepItem::Attribute(a) = item
                        && let ast::ValueKind::String(lit) = &a.value.kind
                    {
                        out.push(format!(
                            "{:?}",
                            lit.parts
                                .iter()
                                .map(|p| match p {
                                    ast::StringPart::Text { text, .. } => text.clone(),
                                    ast::StringPart::Interp(i) => format!("<{}>", i.head.name),
                                })
                                .collect::<Vec<_>>()
                        ));
                    }
                }
            }
        }
        out
    }

    const CASES: &[&str] = &[
        "step s {\n  image = \"a\"\n  command = \"\"\"\n    echo a\n      echo b\n  \"\"\"\n}",
        "step s {\n  command = \"\"\"echo a\n  echo b\"\"\"\n}",
        "step s {\n  command = \"\"\"\n$<x> at the margin\n\n\t  tab and spaces\n\"\"\"\n}",
        "    step s {\n      command = \"\"\"\n        echo a\n      \"\"\"\n    }",
        "  step s {\n  command = \"\"\"\necho at column zero\n\"\"\"\n  }",
        "step s { command = \"one line\" }",
    ];

    #[test]
    fn moving_keeps_every_string_value() {
        for case in CASES {
            let before = strings(case);
            for moved in [
                indent(case, 2),
                indent(case, 7),
                dedent(case),
                dedent(&indent(case, 3)),
            ] {
                assert_eq!(strings(&moved), before, "{case:?} became {moved:?}");
            }
        }
    }

    #[test]
    fn dedent_takes_off_the_common_indentation() {
        assert_eq!(
            dedent("  step s {\n    image = \"a\"\n  }"),
            "step s {\n  image = \"a\"\n}"
        );
        // The string cannot move two columns (a line sits at column 0): it stays.
        assert_eq!(
            dedent(CASES[4]),
            "step s {\ncommand = \"\"\"\necho at column zero\n\"\"\"\n}"
        );
        assert_eq!(indent("a\n\nb", 2), "  a\n\n  b");
    }
}
