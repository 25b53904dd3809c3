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
        self.items(pipeline.braces, 0, &pipeline.items);
    }

    /// A block of declarations: a pipeline's or a control block's. Steps
    /// and blocks stand apart from their neighbours by a blank line.
    fn items(&mut self, braces: Braces, indent: usize, items: &[Item]) {
        let items: Vec<(u32, bool, &Item)> = items
            .iter()
            .map(|item| (item.span().start, stands_apart(item), item))
            .collect();
        self.block(braces, indent, &items, |this, item, indent| {
            this.item(item, indent)
        });
    }

    fn item(&mut self, item: &Item, indent: usize) {
        match item {
            Item::Attribute(a) => self.attribute(a, indent),
            Item::Param(p) => self.param(p, indent),
            Item::Let(l) => self.let_decl(l, indent),
            Item::Step(s) => self.step(s, indent),
            Item::If(i) => self.if_block(i, indent),
            Item::For(f) => self.for_block(f, indent),
            Item::Repeat(r) => self.repeat_block(r, indent),
            Item::Finally(f) => {
                self.token(f.keyword, "finally");
                self.items(f.body.braces, indent, &f.body.items);
            }
            Item::Defaults(d) => {
                self.token(d.keyword, "defaults");
                self.attributes(d.braces, indent, &d.attributes);
            }
            Item::Volume(v) => self.named_block(v, "volume", indent),
        }
    }

    /// `{ NAME = value … }`: the body of `defaults`, `volume` and `sidecar`.
    fn attributes(&mut self, braces: Braces, indent: usize, attributes: &[Attribute]) {
        let attributes: Vec<(u32, bool, &Attribute)> = attributes
            .iter()
            .map(|a| (a.span.start, false, a))
            .collect();
        self.block(braces, indent, &attributes, |this, a, indent| {
            this.attribute(a, indent)
        });
    }

    /// `volume NAME { … }` or `sidecar NAME { … }`.
    fn named_block(&mut self, block: &NamedBlock, word: &str, indent: usize) {
        self.token(block.keyword, word);
        self.printer.write(" ");
        self.verbatim(block.name.span.start, block.name.span.end);
        self.attributes(block.braces, indent, &block.attributes);
    }

    fn if_block(&mut self, block: &IfBlock, indent: usize) {
        self.token(block.keyword, "if");
        self.printer.write(" ");
        self.condition(&block.condition, indent);
        self.items(block.then.braces, indent, &block.then.items);
        if let Some(otherwise) = &block.otherwise {
            self.printer.write(" ");
            self.token(otherwise.keyword, "else");
            match &otherwise.branch {
                ElseBranch::Block(b) => self.items(b.braces, indent, &b.items),
                ElseBranch::If(nested) => {
                    self.printer.write(" ");
                    self.if_block(nested, indent);
                }
            }
        }
    }

    fn for_block(&mut self, block: &ForBlock, indent: usize) {
        self.token(block.keyword, "for");
        self.printer.write(" ");
        self.verbatim(block.var.span.start, block.var.span.end);
        self.printer.write(" ");
        self.token(block.in_keyword, "in");
        self.printer.write(" ");
        self.value(&block.list, indent, 2);
        self.items(block.body.braces, indent, &block.body.items);
    }

    fn repeat_block(&mut self, block: &RepeatBlock, indent: usize) {
        self.token(block.keyword, "repeat");
        self.printer.write(" ");
        self.token(block.max_keyword, "max");
        self.printer.write(" ");
        self.value(&block.max, indent, 2);
        // Carries first, then the declarations, each group in source order.
        let carries = block.carries.iter().map(|c| (c.span.start, false, Ok(c)));
        let items = block
            .body
            .items
            .iter()
            .map(|item| (item.span().start, stands_apart(item), Err(item)));
        let all: Vec<(u32, bool, Result<&Carry, &Item>)> = carries.chain(items).collect();
        self.block(
            block.body.braces,
            indent,
            &all,
            |this, entry, indent| match entry {
                Ok(carry) => this.carry(carry, indent),
                Err(item) => this.item(item, indent),
            },
        );
        self.printer.write(" ");
        let tail = if block.until { "until" } else { "while" };
        self.token(block.tail_keyword, tail);
        self.printer.write(" ");
        self.condition(&block.condition, indent);
    }

    fn carry(&mut self, carry: &Carry, indent: usize) {
        self.token(carry.keyword, "carry");
        self.printer.write(" ");
        self.verbatim(carry.name.span.start, carry.name.span.end);
        self.printer.write(" = ");
        self.value(&carry.initial, indent, 0);
        self.printer.write(" ");
        self.token(carry.then_keyword, "then");
        self.printer.write(" ");
        self.value(&carry.next, indent, 0);
    }

    /// A condition on one line, spaced canonically, parentheses kept.
    fn condition(&mut self, condition: &Condition, indent: usize) {
        match &condition.kind {
            ConditionKind::Or(left, op, right) | ConditionKind::And(left, op, right) => {
                let word = if matches!(condition.kind, ConditionKind::Or(..)) {
                    "or"
                } else {
                    "and"
                };
                self.condition(left, indent);
                self.printer.write(" ");
                self.token(*op, word);
                self.printer.write(" ");
                self.condition(right, indent);
            }
            ConditionKind::Not(keyword, inner) => {
                self.token(*keyword, "not");
                self.printer.write(" ");
                self.condition(inner, indent);
            }
            ConditionKind::Compare(left, op, op_span, right) => {
                self.value(left, indent, 0);
                self.printer.write(" ");
                self.token(*op_span, op.symbol());
                self.printer.write(" ");
                self.value(right, indent, 0);
            }
            ConditionKind::Operand(value) => self.value(value, indent, 0),
            ConditionKind::Group(braces, inner) => {
                self.token(braces.open, "(");
                self.condition(inner, indent);
                self.token(braces.close, ")");
            }
        }
    }

    fn when_attr(&mut self, when: &WhenAttr, indent: usize) {
        self.token(when.keyword, "when");
        self.printer.write(" = ");
        self.condition(&when.condition, indent);
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
                    StepItem::When(w) => w.span.start,
                    StepItem::Sidecar(b) => b.span.start,
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
                StepItem::When(w) => this.when_attr(w, indent),
                StepItem::Sidecar(b) => this.named_block(b, "sidecar", indent),
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
            ValueKind::String(_)
            | ValueKind::Number(_)
            | ValueKind::Ident(_)
            | ValueKind::Ref(_) => {
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
            ValueKind::String(_)
            | ValueKind::Number(_)
            | ValueKind::Ident(_)
            | ValueKind::Ref(_) => {
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

/// Steps and blocks have a blank line before and after them.
fn stands_apart(item: &Item) -> bool {
    !matches!(item, Item::Attribute(_) | Item::Param(_) | Item::Let(_))
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
