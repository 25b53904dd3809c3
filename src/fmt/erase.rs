//! Span erasure: two programs that differ only in layout are equal after it.
//!
//! `format` re-parses what it wrote and compares the two trees this way, so a
//! formatter bug shows up as an internal error instead of a changed program.

use crate::source::Span;
use crate::syntax::ast::*;

/// Sets every span in `program` to the empty span at 0.
pub(super) fn program(program: &mut Program) {
    program.span = Span::default();
    for pipeline in &mut program.pipelines {
        pipeline.span = Span::default();
        ident(&mut pipeline.name);
        for item in &mut pipeline.items {
            match item {
                Item::Attribute(a) => attribute(a),
                Item::Param(p) => {
                    p.span = Span::default();
                    p.ty_span = Span::default();
                    ident(&mut p.name);
                    if let Some(v) = &mut p.default {
                        value(v);
                    }
                }
                Item::Let(l) => {
                    l.span = Span::default();
                    ident(&mut l.name);
                    value(&mut l.value);
                }
                Item::Step(s) => step(s),
            }
        }
    }
}

fn step(step: &mut StepDecl) {
    step.span = Span::default();
    ident(&mut step.name);
    for item in &mut step.items {
        match item {
            StepItem::Attribute(a) => attribute(a),
            StepItem::Metric(m) => {
                m.span = Span::default();
                string(&mut m.name);
                if let Some((_, span)) = &mut m.format {
                    *span = Span::default();
                }
            }
            StepItem::Output(o) => {
                o.span = Span::default();
                ident(&mut o.name);
            }
        }
    }
}

fn attribute(attribute: &mut Attribute) {
    attribute.span = Span::default();
    ident(&mut attribute.name);
    value(&mut attribute.value);
}

fn ident(ident: &mut Ident) {
    ident.span = Span::default();
}

fn value(value: &mut Value) {
    value.span = Span::default();
    match &mut value.kind {
        ValueKind::String(s) => string(s),
        ValueKind::Number(_) | ValueKind::Bool(_) => {}
        ValueKind::Ident(i) => ident(i),
        ValueKind::List(items) => items.iter_mut().for_each(self::value),
        ValueKind::Map(entries) => {
            for entry in entries {
                entry.span = Span::default();
                ident(&mut entry.key);
                self::value(&mut entry.value);
            }
        }
    }
}

fn string(string: &mut StringLit) {
    string.span = Span::default();
    for part in &mut string.parts {
        match part {
            StringPart::Text { span, .. } => *span = Span::default(),
            StringPart::Interp(interp) => {
                interp.span = Span::default();
                ident(&mut interp.head);
                if let Some(field) = &mut interp.field {
                    ident(field);
                }
            }
        }
    }
}
