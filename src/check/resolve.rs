//! Resolving values: lets (in any order, cycles reported), idents and
//! `$<…>` interpolations, into [`Resolved`] values whose strings are IR
//! templates.
//!
//! A value reached through a let remembers the let (`via`), so a type error
//! can point both at the use and at the let's definition.

use std::sync::Arc;

use super::Checker;
use super::ir::{Part, Template};
use super::types::Json;
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::source::Span;
use crate::syntax::ast;

/// A let being resolved, or its result (`None` when it had errors).
pub(super) enum LetSlot {
    InProgress,
    Done(Option<Arc<Resolved>>),
}

/// A resolved value.
#[derive(Debug, Clone)]
pub(super) struct Resolved {
    pub(super) value: RValue,
    /// Where the value is written.
    pub(super) span: Span,
    /// The let it came through: its name and the span of its value. (Shared:
    /// every use of a let copies its resolved value, and with it this name.)
    pub(super) via: Option<(Arc<str>, Span)>,
}

/// Lists and maps are shared, as strings are: every use of a let copies the
/// let's resolved value, which copies no item.
#[derive(Debug, Clone)]
pub(super) enum RValue {
    Str(Arc<Template>),
    Number(ast::Number),
    Bool(bool),
    List(Arc<[Resolved]>),
    Map(Arc<[(ast::Ident, Resolved)]>),
}

impl Resolved {
    /// What the value is, for messages ("a list").
    pub(super) fn kind(&self) -> &'static str {
        match &self.value {
            RValue::Str(_) => "a string",
            RValue::Number(_) => "a number",
            RValue::Bool(_) => "a bool",
            RValue::List(_) => "a list",
            RValue::Map(_) => "a map",
        }
    }

    /// A string value's template, with this value's span: moved out when
    /// nothing else holds it (a let's value is shared, so copied). Any
    /// other value comes back.
    pub(super) fn into_template(self) -> Result<Template, Resolved> {
        match self.value {
            RValue::Str(template) => Ok(super::step::into_template(template, self.span)),
            value => Err(Resolved { value, ..self }),
        }
    }

    /// A type-mismatch diagnostic for this value used where `expected` is needed.
    pub(super) fn mismatch(&self, use_span: Span, what: &str, expected: &str) -> Diagnostic {
        let mut diagnostic = Diagnostic::new(
            Code::E0301,
            format!("{what} must be {expected}, found {}", self.kind()),
        )
        .primary(use_span, format!("expected {expected}"));
        if let Some((name, let_span)) = &self.via {
            diagnostic = diagnostic.secondary(
                *let_span,
                format!("`{name}` is defined here as {}", self.kind()),
            );
        }
        diagnostic
    }
}

/// The kind of an unresolved value, for messages.
/// A fixed value as JSON; `None` when it interpolates a param or an output.
pub(super) fn as_json(value: &Resolved) -> Option<Json> {
    Some(match &value.value {
        RValue::Str(template) => Json::Str(template.as_const()?),
        RValue::Number(n) => Json::Num(n.text.clone()),
        RValue::Bool(b) => Json::Bool(*b),
        RValue::List(items) => Json::List(items.iter().map(as_json).collect::<Option<_>>()?),
        RValue::Map(entries) => Json::Map(
            entries
                .iter()
                .map(|(key, value)| Some((key.name.clone(), as_json(value)?)))
                .collect::<Option<_>>()?,
        ),
    })
}

pub(super) fn kind_name(kind: &ast::ValueKind) -> &'static str {
    match kind {
        ast::ValueKind::String(_) => "a string",
        ast::ValueKind::Number(_) => "a number",
        ast::ValueKind::Bool(_) => "a bool",
        ast::ValueKind::Ident(_) => "a name",
        ast::ValueKind::List(_) => "a list",
        ast::ValueKind::Map(_) => "a map",
        ast::ValueKind::Ref(_) => "a reference",
    }
}

impl<'a> Checker<'a> {
    /// Resolves every let, so errors in unused lets are reported too.
    pub(super) fn resolve_all_lets(&mut self) {
        let names: Vec<&'a str> = self.lets.keys().copied().collect();
        for name in names {
            self.resolve_let(name, Span::DETACHED);
        }
    }

    /// The value of the let declared as `name`: a key of `lets`, as the
    /// slots are keyed by the declaration's name (a use's text may not
    /// outlive the check).
    fn resolve_let(&mut self, name: &'a str, use_span: Span) -> Option<Arc<Resolved>> {
        match self.let_slots.get(name) {
            Some(LetSlot::Done(value)) => return value.clone(),
            Some(LetSlot::InProgress) => {
                let decl = self.lets.get(name)?;
                self.error(
                    Diagnostic::new(
                        Code::E0212,
                        format!("let `{name}` refers to itself through other lets"),
                    )
                    .primary(use_span, "used here while it is being defined")
                    .secondary(decl.name.span, "defined here")
                    .help("a let's value may not depend on the let itself"),
                );
                self.let_slots.insert(name, LetSlot::Done(None));
                return None;
            }
            None => {}
        }
        let decl = *self.lets.get(name)?;
        self.let_slots.insert(name, LetSlot::InProgress);
        let resolved = self.resolve_value(&decl.value).map(|mut value| {
            if value.via.is_none() {
                value.via = Some((Arc::from(name), decl.value.span));
            }
            Arc::new(value)
        });
        if let Some(LetSlot::Done(None)) = self.let_slots.get(name) {
            return None; // a cycle through this let was already reported
        }
        self.let_slots.insert(name, LetSlot::Done(resolved.clone()));
        resolved
    }

    /// Resolves a value that stays where it is written (a let's, a block's
    /// head): its strings are copied into the result.
    pub(super) fn resolve_value(&mut self, value: &ast::Value) -> Option<Resolved> {
        self.resolve_owned(value.clone())
    }

    /// Resolves a value: idents name lets, strings become templates. Taken
    /// by value: a step's attributes are dropped once the step is checked,
    /// so their strings move into the IR instead of being copied there.
    pub(super) fn resolve_owned(&mut self, value: ast::Value) -> Option<Resolved> {
        let span = value.span;
        let resolved = match value.kind {
            ast::ValueKind::String(s) => RValue::Str(Arc::new(self.template(s)?)),
            ast::ValueKind::Number(n) => RValue::Number(n),
            ast::ValueKind::Bool(b) => RValue::Bool(b),
            // A bare `$<x>` means what `"$<x>"` means.
            ast::ValueKind::Ref(interp) => RValue::Str(Arc::new(Template {
                parts: Box::new([self.interpolation(*interp)?]),
                span,
            })),
            ast::ValueKind::Ident(ident) => {
                let target = self.lookup_let_ident(&ident)?;
                let mut resolved = (*target).clone();
                resolved.span = span;
                return Some(resolved);
            }
            ast::ValueKind::List(ast::Bracketed { items, .. }) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.extend(self.resolve_owned(item));
                }
                RValue::List(out.into())
            }
            ast::ValueKind::Map(ast::Bracketed { items: entries, .. }) => {
                let mut out = Vec::with_capacity(entries.len());
                for ast::MapEntry { key, value, .. } in entries {
                    if let Some(v) = self.resolve_owned(value) {
                        out.push((key, v));
                    }
                }
                RValue::Map(out.into())
            }
        };
        Some(Resolved {
            value: resolved,
            span,
            via: None,
        })
    }

    /// An ident used as a value: it must name a let.
    fn lookup_let_ident(&mut self, ident: &ast::Ident) -> Option<Arc<Resolved>> {
        if let Some((&name, _)) = self.lets.get_key_value(ident.name.as_str()) {
            self.used.insert(name);
            return self.resolve_let(name, ident.span);
        }
        let help = if self.params.contains_key(ident.name.as_str()) {
            Some(format!(
                "params are interpolated into strings: write `\"$<{}>\"`",
                ident.name
            ))
        } else if self.steps.contains_key(ident.name.as_str()) {
            Some(format!(
                "a step's output is written `\"$<{}.output>\"`; to order steps use `after = [{}]`",
                ident.name, ident.name
            ))
        } else {
            let lets: Vec<&str> = self.lets.keys().copied().collect();
            did_you_mean(&ident.name, lets)
                .or_else(|| Some("declare it with `let NAME = value`".into()))
        };
        self.error(
            Diagnostic::new(Code::E0203, format!("unknown let `{}`", ident.name))
                .primary(ident.span, "no let has this name")
                .maybe_help(help),
        );
        None
    }

    /// A string literal as a template: interpolations resolved.
    fn template(&mut self, literal: ast::StringLit) -> Option<Template> {
        let mut parts = Vec::with_capacity(literal.parts.len());
        let mut ok = true;
        for part in literal.parts {
            match part {
                ast::StringPart::Text { text, .. } => parts.push(Part::Text(text)),
                ast::StringPart::Interp(interp) => match self.interpolation(interp) {
                    Some(part) => parts.push(part),
                    None => ok = false,
                },
            }
        }
        ok.then_some(Template {
            parts: parts.into_boxed_slice(),
            span: literal.span,
        })
    }

    /// An interpolation read in the current scope.
    pub(super) fn reference_part(&mut self, interp: &ast::Interp) -> Option<Part> {
        self.interpolation(interp.clone())
    }

    /// An interpolation as a part; its names move into the part.
    fn interpolation(&mut self, interp: ast::Interp) -> Option<Part> {
        if let Some(scoped) = self.scoped_reference(&interp) {
            return scoped;
        }
        let ast::Interp { head, field, span } = interp;
        if let Some(field) = field {
            return self.output_reference(head, field, span);
        }
        // Marked used under the declaration's name, found by the one lookup
        // that tells a param from a let.
        if let Some((&name, _)) = self.params.get_key_value(head.name.as_str()) {
            self.used.insert(name);
            return Some(Part::Param {
                name: head.name,
                span,
            });
        }
        if let Some((&name, _)) = self.lets.get_key_value(head.name.as_str()) {
            self.used.insert(name);
            let value = self.resolve_let(name, span)?;
            let template = self.let_as_text(&value, name, span)?;
            return Some(Part::Let {
                name: head.name,
                value: template,
                span,
            });
        }
        let help = if self.steps.contains_key(head.name.as_str()) {
            Some(format!(
                "`{0}` is a step: write `$<{0}.output>` for its output",
                head.name
            ))
        } else {
            let names: Vec<&str> = self
                .params
                .keys()
                .chain(self.lets.keys())
                .copied()
                .collect();
            did_you_mean(&head.name, names).or_else(|| {
                Some("declare it with `param NAME: string` or `let NAME = value`".into())
            })
        };
        self.error(
            Diagnostic::new(Code::E0203, format!("unknown param or let `{}`", head.name))
                .primary(head.span, "not declared")
                .maybe_help(help),
        );
        None
    }

    /// A let's value as text: strings, numbers and bools as they are, lists
    /// and maps as compact JSON with keys sorted (LANGUAGE-2).
    fn let_as_text(
        &mut self,
        value: &Resolved,
        name: &str,
        use_span: Span,
    ) -> Option<Arc<Template>> {
        match &value.value {
            RValue::Str(template) => Some(template.clone()),
            RValue::Number(n) => Some(Arc::new(Template::text(n.text.clone(), value.span))),
            RValue::Bool(b) => Some(Arc::new(Template::text(b.to_string(), value.span))),
            RValue::List(_) | RValue::Map(_) => match as_json(value) {
                Some(json) => Some(Arc::new(Template::text(json.to_text(), value.span))),
                None => {
                    let mut diagnostic = Diagnostic::new(
                        Code::E0319,
                        format!(
                            "let `{name}` is {} that interpolates a value, and cannot become text",
                            value.kind()
                        ),
                    )
                    .primary(use_span, "interpolated here")
                    .help("make it a `list` param, or interpolate its items one by one");
                    if let Some((_, span)) = &value.via {
                        diagnostic =
                            diagnostic.secondary(*span, format!("`{name}` is {}", value.kind()));
                    }
                    self.error(diagnostic);
                    None
                }
            },
        }
    }

    /// E0201: no step is called `ident`; the help suggests a close name.
    /// Without one there is no help: the REPL adds its own note then
    /// (`repl_note`: names must be declared before their uses there).
    pub(super) fn unknown_step(&self, ident: &ast::Ident) -> Diagnostic {
        let steps = self.step_names();
        Diagnostic::new(Code::E0201, format!("unknown step `{}`", ident.name))
            .primary(ident.span, "no step has this name")
            .maybe_help(did_you_mean(&ident.name, steps))
    }

    fn output_reference(
        &mut self,
        head: ast::Ident,
        field: ast::Ident,
        span: Span,
    ) -> Option<Part> {
        // Whether the output exists, read without copying the step's list of
        // outputs (this runs for every reference; the list is copied only
        // for an error's suggestion).
        let has_output = (self.steps.get(head.name.as_str())).map(|s| s.has_output(&field.name));
        let Some(has_output) = has_output else {
            let mut diagnostic = self.unknown_step(&head);
            if self.params.contains_key(head.name.as_str())
                || self.lets.contains_key(head.name.as_str())
            {
                diagnostic = diagnostic.help(format!(
                    "`{0}` is not a step; write `$<{0}>` for its value",
                    head.name
                ));
            }
            self.error(diagnostic);
            return None;
        };
        if !self.check_output_access(&head, span) {
            return None;
        }
        if self.output_type(&head.name, &field.name) == Some(ast::ParamType::File)
            && let Some(kind) = self.block_left_behind(&head.name)
        {
            self.error(super::files::read_across_loop(
                &head.name,
                &field.name,
                span,
                kind,
            ));
            return None;
        }
        if !has_output {
            let outputs = (self.steps.get(head.name.as_str()))
                .map(|s| s.outputs())
                .unwrap_or_default();
            let help = did_you_mean(&field.name, outputs.iter().copied()).or_else(|| {
                Some(format!(
                    "declare it in step `{}` with `output {}`, or use `$<{}.output>`",
                    head.name, field.name, head.name
                ))
            });
            self.error(
                Diagnostic::new(
                    Code::E0202,
                    format!("step `{}` has no output `{}`", head.name, field.name),
                )
                .primary(field.span, format!("not an output of `{}`", head.name))
                .maybe_help(help),
            );
            return None;
        }
        Some(Part::Output {
            step: head.name,
            output: field.name,
            span,
        })
    }

    /// The type of the value a reference reads; `None` when only the run
    /// knows it (a loop item).
    pub(super) fn reference_type(&mut self, part: &Part) -> Option<ast::ParamType> {
        match part {
            Part::Text(_) | Part::Workflow { .. } | Part::Let { .. } => {
                Some(ast::ParamType::String)
            }
            Part::Param { name, .. } => self.param_type(name),
            Part::Output { step, output, .. } => {
                if self.read_across_loop(step) {
                    return Some(ast::ParamType::List);
                }
                self.output_type(step, output)
            }
            Part::Item { .. } => None,
            Part::Carry { name, .. } => self.carry_type(name),
        }
    }

    /// A param's declared type.
    pub(super) fn param_type(&self, name: &str) -> Option<ast::ParamType> {
        self.params.get(name).map(|p| p.ty)
    }

    /// A list param's default as JSON text.
    pub(super) fn param_default_json(&self, name: &str) -> Option<String> {
        let decl = self.params.get(name)?;
        let ast::ValueKind::List(list) = &decl.default.as_ref()?.kind else {
            return None;
        };
        super::types::list_default(&list.items)
            .ok()
            .map(|json| json.to_text())
    }

    /// Whether step `step` sits in a loop that does not surround the current
    /// scope (its outputs are then lists).
    pub(super) fn read_across_loop(&self, step: &str) -> bool {
        let producer = self.steps.get(step).and_then(|s| s.block);
        let around = self.ancestors(self.scope);
        self.ancestors(producer).into_iter().any(|id| {
            matches!(self.blocks[id].source, super::control::Source::For(_))
                && !around.contains(&id)
        })
    }

    /// The declared type of a step's output (`string` when untyped).
    pub(super) fn output_type(&self, step: &str, output: &str) -> Option<ast::ParamType> {
        let decl = self.steps.get(step)?.decl;
        let declared = decl.items.iter().find_map(|item| match item {
            ast::StepItem::Output(o) if o.name.name == output => Some(o.ty.map(|(_, ty, _)| ty)),
            _ => None,
        });
        Some(declared.flatten().unwrap_or(ast::ParamType::String))
    }

    /// The type of a carried value: that of its `then` output.
    fn carry_type(&mut self, name: &str) -> Option<ast::ParamType> {
        let around = self.ancestors(self.scope);
        let carry = around.iter().find_map(|&id| match self.blocks[id].source {
            super::control::Source::Repeat(r) => r.carries.iter().find(|c| c.name.name == name),
            _ => None,
        })?;
        match &carry.next.kind {
            ast::ValueKind::Ref(interp) => {
                let field = interp.field.as_ref()?;
                self.output_type(&interp.head.name, &field.name)
            }
            _ => None,
        }
    }

    /// The value of the let called `name`.
    pub(super) fn resolve_let_named(&mut self, name: &str) -> Option<Arc<Resolved>> {
        let (&key, _) = self.lets.get_key_value(name)?;
        self.used.insert(key);
        self.resolve_let(key, Span::DETACHED)
    }

    /// Marks a param, let, loop variable or carried value as read, under its
    /// declaration's name: a use's text (a step's attributes) may be dropped
    /// before the check ends.
    pub(super) fn mark_used(&mut self, name: &str) {
        let key = (self.params.get_key_value(name).map(|(k, _)| *k))
            .or_else(|| self.lets.get_key_value(name).map(|(k, _)| *k))
            .or_else(|| self.scoped.get_key_value(name).map(|(k, _)| *k));
        if let Some(key) = key {
            self.used.insert(key);
        }
    }

    /// A resolved value as text (lists and maps as compact JSON).
    pub(super) fn value_text(&mut self, value: &Resolved) -> Option<Template> {
        let text = self.let_as_text(value, "value", value.span)?;
        Some((*text).clone())
    }

    /// A value that must be a string with no param or output in it (lets are fine).
    pub(super) fn expect_fixed_string(&mut self, value: &Resolved, what: &str) -> Option<String> {
        let RValue::Str(template) = &value.value else {
            self.error(
                value
                    .mismatch(value.span, &format!("`{what}`"), "a string")
                    .help(format!(
                        "write `{what}` as a string in quotes, known when compiling"
                    )),
            );
            return None;
        };
        match template.as_const() {
            Some(text) => Some(text),
            None => {
                self.error(fixed_needed(value.span, what));
                None
            }
        }
    }
}

/// E0314: a value that must be known when compiling.
pub(super) fn fixed_needed(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0314,
        format!("`{what}` must be fixed when the pipeline is compiled"),
    )
    .primary(span, "depends on a param or a step output")
    .help(format!(
        "write `{what}` as literal text (lets are fine); params and outputs are only known at run time"
    ))
}
