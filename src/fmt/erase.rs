//! Span erasure: two programs that differ only in layout are equal after it.
//!
//! `format` re-parses what it wrote and compares the two trees this way, so a
//! formatter bug shows up as an internal error instead of a changed program.
//! Every node is destructured whole (no `..`), so a span added to the AST
//! does not compile until it is erased here too.

use crate::source::Span;
use crate::syntax::ast::*;

fn erase(span: &mut Span) {
    *span = Span::default();
}

fn braces(Braces { open, close }: &mut Braces) {
    erase(open);
    erase(close);
}

/// Sets every span in `program` to the empty span at 0.
pub(super) fn program(Program { pipelines, span }: &mut Program) {
    erase(span);
    pipelines.iter_mut().for_each(pipeline);
}

fn pipeline(pipeline: &mut Pipeline) {
    let Pipeline {
        keyword,
        braces: b,
        name,
        items,
        span,
    } = pipeline;
    erase(keyword);
    braces(b);
    ident(name);
    erase(span);
    items.iter_mut().for_each(item);
}

fn item(item: &mut Item) {
    match item {
        Item::Attribute(a) => attribute(a),
        Item::Param(p) => param(p),
        Item::Let(l) => let_decl(l),
        Item::Step(s) => step(s),
        Item::If(i) => if_block(i),
        Item::For(f) => for_block(f),
        Item::Repeat(r) => repeat_block(r),
        Item::Finally(f) => finally_block(f),
        Item::Defaults(DefaultsBlock {
            keyword,
            attributes,
            braces: b,
            span,
        }) => {
            erase(keyword);
            erase(span);
            braces(b);
            attributes.iter_mut().for_each(attribute);
        }
        Item::Volume(v) => named_block(v),
    }
}

fn named_block(block: &mut NamedBlock) {
    let NamedBlock {
        keyword,
        name,
        attributes,
        braces: b,
        span,
    } = block;
    erase(keyword);
    erase(span);
    braces(b);
    ident(name);
    attributes.iter_mut().for_each(attribute);
}

fn block(Block { items, braces: b }: &mut Block) {
    braces(b);
    items.iter_mut().for_each(item);
}

fn if_block(decl: &mut IfBlock) {
    let IfBlock {
        keyword,
        condition: c,
        then,
        otherwise,
        span,
    } = decl;
    erase(keyword);
    erase(span);
    condition(c);
    block(then);
    if let Some(Else { keyword, branch }) = otherwise {
        erase(keyword);
        match branch {
            ElseBranch::Block(b) => block(b),
            ElseBranch::If(i) => if_block(i),
        }
    }
}

fn for_block(decl: &mut ForBlock) {
    let ForBlock {
        keyword,
        var,
        in_keyword,
        list,
        body,
        span,
    } = decl;
    for span in [keyword, in_keyword, span] {
        erase(span);
    }
    ident(var);
    value(list);
    block(body);
}

fn repeat_block(decl: &mut RepeatBlock) {
    let RepeatBlock {
        keyword,
        max_keyword,
        max,
        carries,
        body,
        tail_keyword,
        until: _,
        condition: c,
        span,
    } = decl;
    for span in [keyword, max_keyword, tail_keyword, span] {
        erase(span);
    }
    value(max);
    carries.iter_mut().for_each(carry);
    block(body);
    condition(c);
}

fn carry(decl: &mut Carry) {
    let Carry {
        keyword,
        name,
        assign,
        initial,
        then_keyword,
        next,
        span,
    } = decl;
    for span in [keyword, assign, then_keyword, span] {
        erase(span);
    }
    ident(name);
    value(initial);
    value(next);
}

fn finally_block(
    FinallyBlock {
        keyword,
        body,
        span,
    }: &mut FinallyBlock,
) {
    erase(keyword);
    erase(span);
    block(body);
}

fn condition(Condition { kind, span }: &mut Condition) {
    erase(span);
    match kind {
        ConditionKind::Or(left, op, right) | ConditionKind::And(left, op, right) => {
            erase(op);
            condition(left);
            condition(right);
        }
        ConditionKind::Not(keyword, inner) => {
            erase(keyword);
            condition(inner);
        }
        ConditionKind::Compare(left, _, op, right) => {
            erase(op);
            value(left);
            value(right);
        }
        ConditionKind::Operand(v) => value(v),
        ConditionKind::Group(b, inner) => {
            braces(b);
            condition(inner);
        }
    }
}

fn when_attr(decl: &mut WhenAttr) {
    let WhenAttr {
        keyword,
        assign,
        condition: c,
        span,
    } = decl;
    for span in [keyword, assign, span] {
        erase(span);
    }
    condition(c);
}

fn param(param: &mut ParamDecl) {
    let ParamDecl {
        keyword,
        colon,
        assign,
        name,
        ty: _,
        ty_span,
        default,
        span,
    } = param;
    for span in [keyword, colon, ty_span, span] {
        erase(span);
    }
    assign.iter_mut().for_each(erase);
    ident(name);
    default.iter_mut().for_each(value);
}

fn let_decl(decl: &mut LetDecl) {
    let LetDecl {
        keyword,
        assign,
        name,
        value: v,
        span,
    } = decl;
    for span in [keyword, assign, span] {
        erase(span);
    }
    ident(name);
    value(v);
}

fn step(step: &mut StepDecl) {
    let StepDecl {
        keyword,
        braces: b,
        name,
        items,
        span,
    } = step;
    erase(keyword);
    erase(span);
    braces(b);
    ident(name);
    for item in items {
        match item {
            StepItem::Attribute(a) => attribute(a),
            StepItem::Metric(m) => metric(m),
            StepItem::Output(o) => output(o),
            StepItem::When(w) => when_attr(w),
            StepItem::Sidecar(b) => named_block(b),
        }
    }
}

fn metric(metric: &mut MetricDecl) {
    let MetricDecl {
        keyword,
        colon,
        name,
        format,
        span,
    } = metric;
    erase(keyword);
    erase(span);
    colon.iter_mut().for_each(erase);
    string(name);
    if let Some((_, span)) = format {
        erase(span);
    }
}

fn output(
    OutputDecl {
        keyword,
        name,
        implicit: _,
        ty,
        span,
    }: &mut OutputDecl,
) {
    erase(keyword);
    erase(span);
    ident(name);
    if let Some((colon, _, ty_span)) = ty {
        erase(colon);
        erase(ty_span);
    }
}

fn attribute(attribute: &mut Attribute) {
    let Attribute {
        assign,
        name,
        value: v,
        span,
    } = attribute;
    erase(assign);
    erase(span);
    ident(name);
    value(v);
}

fn ident(Ident { name: _, span }: &mut Ident) {
    erase(span);
}

fn value(Value { kind, span }: &mut Value) {
    erase(span);
    match kind {
        ValueKind::String(s) => string(s),
        ValueKind::Number(_) | ValueKind::Bool(_) => {}
        ValueKind::Ident(i) => ident(i),
        ValueKind::List(Bracketed { items, braces: b }) => {
            braces(b);
            items.iter_mut().for_each(value);
        }
        ValueKind::Map(Bracketed { items, braces: b }) => {
            braces(b);
            items.iter_mut().for_each(map_entry);
        }
        ValueKind::Ref(i) => interp(i),
    }
}

fn interp(Interp { head, field, span }: &mut Interp) {
    erase(span);
    ident(head);
    field.iter_mut().for_each(ident);
}

fn map_entry(entry: &mut MapEntry) {
    let MapEntry {
        assign,
        key,
        value: v,
        span,
    } = entry;
    erase(assign);
    erase(span);
    ident(key);
    value(v);
}

fn string(
    StringLit {
        parts,
        triple: _,
        span,
    }: &mut StringLit,
) {
    erase(span);
    for part in parts {
        match part {
            StringPart::Text { text: _, span } => erase(span),
            StringPart::Interp(i) => interp(i),
        }
    }
}
