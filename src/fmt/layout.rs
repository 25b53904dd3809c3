//! The canonical layout: one method per AST node, writing through the printer.
//!
//! Every token is written from the source text it came from (names, numbers,
//! string literals verbatim), so formatting cannot change a value.

use super::MAX_WIDTH;
use super::printer::{Blank, Printer};
use crate::source::Span;
use crate::syntax::ast::*;

pub(super) struct Layout<'a> {
    pub(super) src: &'a str,
    pub(super) printer: Printer<'a>,
}

impl Layout<'_> {
    fn slice(&self, start: u32, end: u32) -> &str {
        self.src.get(start as usize..end as usize).unwrap_or("")
    }

    fn token_at(&mut self, start: u32, end: u32, text: &str) {
        self.printer.token(start as usize, end as usize, text);
    }

    /// Writes `text` for the token at `span` (a keyword, as the parser found it).
    fn token(&mut self, span: Span, text: &str) {
        self.token_at(span.start, span.end, text);
    }

    /// Writes the source text a span covers, as one token.
    fn verbatim(&mut self, start: u32, end: u32) {
        let text = self.slice(start, end).to_string();
        self.token_at(start, end, &text);
    }

    pub(super) fn program(&mut self, program: &Program) {
        for (i, pipeline) in program.pipelines.iter().enumerate() {
            let blank = if i == 0 { Blank::Keep } else { Blank::Force };
            self.printer.line(pipeline.span.start as usize, 0, 0, blank);
            self.pipeline(pipeline);
        }
    }

    fn pipeline(&mut self, pipeline: &Pipeline) {
        self.token(pipeline.keyword, "pipeline");
        self.printer.write(" ");
        self.verbatim(pipeline.name.span.start, pipeline.name.span.end);
        let items: Vec<(u32, bool, &Item)> = pipeline
            .items
            .iter()
            .map(|item| {
                let (start, step) = match item {
                    Item::Attribute(a) => (a.span.start, false),
                    Item::Param(p) => (p.span.start, false),
                    Item::Let(l) => (l.span.start, false),
                    Item::Step(s) => (s.span.start, true),
                };
                (start, step, item)
            })
            .collect();
        self.block(
            pipeline.braces,
            0,
            &items,
            |this, item, indent| match item {
                Item::Attribute(a) => this.attribute(a, indent),
                Item::Param(p) => this.param(p, indent),
                Item::Let(l) => this.let_decl(l, indent),
                Item::Step(s) => this.step(s, indent),
            },
        );
    }

    /// `{` items `}` for a pipeline or a step.
    fn block<T>(
        &mut self,
        braces: Braces,
        indent: usize,
        items: &[(u32, bool, T)],
        mut each: impl FnMut(&mut Self, &T, usize),
    ) {
        let (open, close) = (braces.open.range(), braces.close.range());
        self.printer.write(" ");
        if items.is_empty() && !self.printer.has_comment_in(open.end, close.start) {
            self.printer.token(open.start, close.end, "{}");
            return;
        }
        self.printer.token(open.start, open.end, "{");
        self.printer.open_block();
        let mut previous_step = false;
        for (i, (start, step, item)) in items.iter().enumerate() {
            let blank = if i > 0 && (*step || previous_step) {
                Blank::Force
            } else {
                Blank::Keep
            };
            self.printer
                .line(*start as usize, indent + 1, indent + 1, blank);
            each(self, item, indent + 1);
            previous_step = *step;
        }
        self.printer
            .line(close.start, indent, indent + 1, Blank::Never);
        self.printer.token(close.start, close.end, "}");
    }

    fn attribute(&mut self, attribute: &Attribute, indent: usize) {
        self.verbatim(attribute.name.span.start, attribute.name.span.end);
        self.printer.write(" = ");
        self.value(&attribute.value, indent, 0);
    }

    fn param(&mut self, param: &ParamDecl, indent: usize) {
        self.token(param.keyword, "param");
        self.printer.write(" ");
        self.verbatim(param.name.span.start, param.name.span.end);
        self.printer.write(": ");
        let ty = crate::check::type_word(param.ty);
        self.token_at(param.ty_span.start, param.ty_span.end, ty);
        if let Some(default) = &param.default {
            self.printer.write(" = ");
            self.value(default, indent, 0);
        }
    }

    fn let_decl(&mut self, decl: &LetDecl, indent: usize) {
        self.token(decl.keyword, "let");
        self.printer.write(" ");
        self.verbatim(decl.name.span.start, decl.name.span.end);
        self.printer.write(" = ");
        self.value(&decl.value, indent, 0);
    }

    fn step(&mut self, step: &StepDecl, indent: usize) {
        self.token(step.keyword, "step");
        self.printer.write(" ");
        self.verbatim(step.name.span.start, step.name.span.end);
        let items: Vec<(u32, bool, &StepItem)> = step
            .items
            .iter()
            .map(|item| {
                let start = match item {
                    StepItem::Attribute(a) => a.span.start,
                    StepItem::Metric(m) => m.span.start,
                    StepItem::Output(o) => o.span.start,
                };
                (start, false, item)
            })
            .collect();
        self.block(
            step.braces,
            indent,
            &items,
            |this, item, indent| match item {
                StepItem::Attribute(a) => this.attribute(a, indent),
                StepItem::Metric(m) => this.metric(m),
                StepItem::Output(o) => this.output(o),
            },
        );
    }

    fn metric(&mut self, metric: &MetricDecl) {
        self.token(metric.keyword, "metric");
        self.printer.write(" ");
        self.verbatim(metric.name.span.start, metric.name.span.end);
        if let Some((format, span)) = metric.format {
            self.printer.write(": ");
            let format = match format {
                MetricFormat::Raw => "raw",
                MetricFormat::Percentage => "percentage",
            };
            self.token_at(span.start, span.end, format);
        }
    }

    fn output(&mut self, output: &OutputDecl) {
        self.token(output.keyword, "output");
        if !output.implicit {
            self.printer.write(" ");
            self.verbatim(output.name.span.start, output.name.span.end);
        }
        if let Some((_, ty, span)) = output.ty {
            self.printer.write(": ");
            self.token_at(span.start, span.end, ty.word());
        }
    }

    /// Writes a value that starts at the current column; `suffix` is the
    /// width of what follows it on its line (a `,` in a list).
    fn value(&mut self, value: &Value, indent: usize, suffix: usize) {
        let (start, end) = (value.span.start, value.span.end);
        match &value.kind {
            ValueKind::String(_) | ValueKind::Number(_) | ValueKind::Ident(_) => {
                self.verbatim(start, end);
            }
            ValueKind::Bool(b) => self.token_at(start, end, if *b { "true" } else { "false" }),
            ValueKind::List(list) => {
                if let Some(flat) = self.flat_fits(value, suffix) {
                    self.token_at(start, end, &flat);
                    return;
                }
                self.broken(list, indent, ("[", "]"), |this, item, indent| {
                    this.value(item, indent, 1);
                });
            }
            ValueKind::Map(map) => {
                if let Some(flat) = self.flat_fits(value, suffix) {
                    self.token_at(start, end, &flat);
                    return;
                }
                self.broken(map, indent, ("{", "}"), |this, entry, indent| {
                    this.verbatim(entry.key.span.start, entry.key.span.end);
                    this.printer.write(" = ");
                    this.value(&entry.value, indent, 1);
                });
            }
        }
    }

    /// A list or map one element a line, each followed by a comma.
    fn broken<T: Spanned>(
        &mut self,
        bracketed: &Bracketed<T>,
        indent: usize,
        (open, close): (&str, &str),
        mut each: impl FnMut(&mut Self, &T, usize),
    ) {
        self.token(bracketed.braces.open, open);
        self.printer.open_block();
        for item in &bracketed.items {
            self.printer
                .line(item.start() as usize, indent + 1, indent + 1, Blank::Keep);
            each(self, item, indent + 1);
            self.printer.write(",");
        }
        let close_at = bracketed.braces.close;
        self.printer
            .line(close_at.start as usize, indent, indent + 1, Blank::Never);
        self.token(close_at, close);
    }

    /// The one-line form of a list or map, when it has no comments, no
    /// multi-line string, and fits on the current line.
    fn flat_fits(&self, value: &Value, suffix: usize) -> Option<String> {
        let flat = self.flat(value)?;
        let width = self.printer.column() + flat.chars().count() + suffix;
        (width <= MAX_WIDTH).then_some(flat)
    }

    /// The one-line form of a value, if it has one.
    fn flat(&self, value: &Value) -> Option<String> {
        let (start, end) = (value.span.start, value.span.end);
        match &value.kind {
            ValueKind::String(_) | ValueKind::Number(_) | ValueKind::Ident(_) => {
                let text = self.slice(start, end);
                (!text.contains('\n')).then(|| text.to_string())
            }
            ValueKind::Bool(b) => Some(b.to_string()),
            ValueKind::List(list) => {
                if self.printer.has_comment_in(start as usize, end as usize) {
                    return None;
                }
                let items = list
                    .items
                    .iter()
                    .map(|item| self.flat(item))
                    .collect::<Option<Vec<_>>>()?;
                Some(format!("[{}]", items.join(", ")))
            }
            ValueKind::Map(map) => {
                if self.printer.has_comment_in(start as usize, end as usize) {
                    return None;
                }
                if map.items.is_empty() {
                    return Some("{}".to_string());
                }
                let entries = map
                    .items
                    .iter()
                    .map(|entry| {
                        let key = self.slice(entry.key.span.start, entry.key.span.end);
                        Some(format!("{key} = {}", self.flat(&entry.value)?))
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(format!("{{ {} }}", entries.join(", ")))
            }
        }
    }
}

/// Something with a source start: list elements and map entries.
pub(super) trait Spanned {
    fn start(&self) -> u32;
}

impl Spanned for Value {
    fn start(&self) -> u32 {
        self.span.start
    }
}

impl Spanned for MapEntry {
    fn start(&self) -> u32 {
        self.span.start
    }
}
