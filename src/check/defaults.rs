//! `defaults { attributes }`: every step starts from these. Merged into the
//! steps' declarations before checking (the AST in, a new AST out), so each
//! attribute is checked where a step uses it, with the defaults' spans: a
//! step's own attribute wins, and maps (`env`, `annotations`…) merge key by
//! key, the step's keys winning.

use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::syntax::ast::{self, Attribute, Item, StepItem, ValueKind};

/// The pipeline with its `defaults` merged into every step, and what is
/// wrong with the defaults themselves; `None` when it has no `defaults`.
pub(super) fn apply(pipeline: &ast::Pipeline) -> Option<(ast::Pipeline, Vec<Diagnostic>)> {
    let mut blocks = pipeline.items.iter().filter_map(|item| match item {
        Item::Defaults(block) => Some(block),
        _ => None,
    });
    let first = blocks.next()?;
    let mut problems: Vec<Diagnostic> = blocks
        .map(|again| {
            Diagnostic::new(Code::E0217, "a second `defaults` block is not allowed")
                .primary(again.keyword, "not allowed here")
                .secondary(first.keyword, "the first one")
                .help("keep one `defaults { … }` block with every default in it")
        })
        .collect();
    let defaults = usable(first, &mut problems);
    let mut merged = pipeline.clone();
    super::bodies::each_step_mut(&mut merged.items, &mut |step| merge_step(step, &defaults));
    Some((merged, problems))
}

/// The attributes a step may start from: known step attributes, each once
/// (`after` names steps, so it is given per step).
fn usable<'a>(block: &'a ast::DefaultsBlock, problems: &mut Vec<Diagnostic>) -> Vec<&'a Attribute> {
    let mut out: Vec<&Attribute> = Vec::new();
    for attribute in &block.attributes {
        let name = attribute.name.name.as_str();
        if name == "after" || name == "when" {
            problems.push(
                Diagnostic::new(
                    Code::E0217,
                    format!("`{name}` in `defaults` is not allowed"),
                )
                .primary(attribute.name.span, "not allowed here")
                .help(format!("give `{name}` to each step that needs it")),
            );
        } else if !super::STEP_ATTRIBUTES.contains(&name) {
            problems.push(
                Diagnostic::new(
                    Code::E0205,
                    format!("unknown step attribute `{name}` in `defaults`"),
                )
                .primary(attribute.name.span, "not a step attribute")
                .maybe_help(did_you_mean(name, super::STEP_ATTRIBUTES.iter().copied())),
            );
        } else if let Some(first) = out.iter().find(|a| a.name.name == name) {
            problems.push(super::attribute_twice(&attribute.name, first.name.span));
        } else {
            out.push(attribute);
        }
    }
    out
}

/// A step's own attributes, with the defaults it does not set before them.
fn merge_step(step: &mut ast::StepDecl, defaults: &[&Attribute]) {
    let mut inherited = Vec::new();
    for default in defaults {
        let own = step.items.iter_mut().find_map(|item| match item {
            StepItem::Attribute(a) if a.name.name == default.name.name => Some(a),
            _ => None,
        });
        match own {
            None => inherited.push(StepItem::Attribute((*default).clone())),
            Some(own) => merge_maps(own, default),
        }
    }
    inherited.append(&mut step.items);
    step.items = inherited;
}

/// Both maps: the default's entries the step's map lacks, then the step's.
fn merge_maps(own: &mut Attribute, default: &Attribute) {
    let (ValueKind::Map(mine), ValueKind::Map(theirs)) = (&mut own.value.kind, &default.value.kind)
    else {
        return;
    };
    let mut entries: Vec<ast::MapEntry> = theirs
        .items
        .iter()
        .filter(|entry| !mine.items.iter().any(|m| m.key.name == entry.key.name))
        .cloned()
        .collect();
    entries.append(&mut mine.items);
    mine.items = entries;
}
