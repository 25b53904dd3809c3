//! Pest pairs → AST. One method per grammar rule, named after it.
//!
//! The grammar guarantees the shape of each pair; the `Children` cursor turns
//! a shape it did not expect into an internal error (E0901) instead of a
//! panic. Identifier rules, escapes, interpolation bodies and the `"""`
//! dedent are applied here, with diagnostics that point at the exact text.

mod control;
mod strings;

use pest::iterators::{Pair, Pairs};

use super::ast::*;
use super::grammar::Rule;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;

/// Reserved words; `tests/registry.rs` checks this list against the grammar's `keyword` rule.
pub const KEYWORDS: &[&str] = &[
    "pipeline",
    "param",
    "let",
    "step",
    "metric",
    "output",
    "string",
    "number",
    "true",
    "false",
    "raw",
    "percentage",
];

/// One child of a step block.
pub(super) enum StepChild {
    Item(StepItem),
    /// The block's `}`.
    Close(Span),
    /// An item that could not be built (its diagnostic is recorded).
    Nothing,
}

/// One child of a control block's body.
pub(super) enum BlockChild {
    Item(Item),
    Carry(Carry),
    /// The block's `}`.
    Close(Span),
    /// A child that could not be built (its diagnostic is recorded).
    Nothing,
}

/// A control block's head, read alone (`block_open`, `else_open`).
pub(super) enum BlockHead {
    If {
        keyword: Span,
        condition: Condition,
        open: Span,
    },
    For {
        keyword: Span,
        var: Ident,
        in_keyword: Span,
        list: Value,
        open: Span,
    },
    Repeat {
        keyword: Span,
        max_keyword: Span,
        max: Value,
        open: Span,
    },
    Finally {
        keyword: Span,
        open: Span,
    },
}

/// Builds the AST and collects the diagnostics found on the way.
#[derive(Default)]
pub(super) struct Converter {
    pub(super) diagnostics: Vec<Diagnostic>,
    /// Offset of the text being converted in the file (items are parsed one at a time).
    pub(super) base: usize,
}

fn span_at(pair: &Pair<'_, Rule>, base: usize) -> Span {
    let span = pair.as_span();
    Span::new(base + span.start(), base + span.end())
}

/// Walks the children of one pair in order, expecting given rules.
struct Children<'i> {
    pairs: Pairs<'i, Rule>,
    parent: Span,
    base: usize,
}

impl<'i> Children<'i> {
    fn of(pair: Pair<'i, Rule>, base: usize) -> Children<'i> {
        let parent = span_at(&pair, base);
        Children {
            pairs: pair.into_inner(),
            parent,
            base,
        }
    }

    /// The span of the next child, named punctuation with rule `rule`.
    fn punct(&mut self, rule: Rule, out: &mut Converter) -> Option<Span> {
        let span = self.optional_punct(rule);
        if span.is_none() {
            out.internal(self.parent, &format!("expected {rule:?}"));
        }
        span
    }

    /// The span of the next child when it is punctuation with rule `rule`.
    fn optional_punct(&mut self, rule: Rule) -> Option<Span> {
        match self.pairs.peek() {
            Some(pair) if pair.as_rule() == rule => {
                self.pairs.next();
                Some(span_at(&pair, self.base))
            }
            _ => None,
        }
    }

    /// The next child that is not named punctuation.
    fn next_significant(&mut self) -> Option<Pair<'i, Rule>> {
        self.skip_punctuation();
        self.pairs.next()
    }

    fn skip_punctuation(&mut self) {
        while self.pairs.peek().is_some_and(|p| {
            matches!(
                p.as_rule(),
                Rule::assign
                    | Rule::colon
                    | Rule::lbrace
                    | Rule::rbrace
                    | Rule::lbracket
                    | Rule::rbracket
                    | Rule::map_open
                    | Rule::comma
            )
        }) {
            self.pairs.next();
        }
    }

    /// The next child, which must have rule `rule`.
    fn expect(&mut self, rule: Rule, out: &mut Converter) -> Option<Pair<'i, Rule>> {
        match self.next_significant() {
            Some(pair) if pair.as_rule() == rule => Some(pair),
            other => {
                out.internal(
                    self.parent,
                    &format!("expected {rule:?}, found {:?}", other.map(|p| p.as_rule())),
                );
                None
            }
        }
    }

    /// The next child when it has rule `rule`; otherwise nothing is consumed.
    fn optional(&mut self, rule: Rule) -> Option<Pair<'i, Rule>> {
        self.skip_punctuation();
        match self.pairs.peek() {
            Some(pair) if pair.as_rule() == rule => self.pairs.next(),
            _ => None,
        }
    }

    /// The next child, whatever its rule.
    fn any(&mut self, out: &mut Converter) -> Option<Pair<'i, Rule>> {
        let next = self.next_significant();
        if next.is_none() {
            out.internal(self.parent, "expected a child");
        }
        next
    }
}

impl Converter {
    fn internal(&mut self, span: Span, what: &str) {
        self.diagnostics.push(
            Diagnostic::new(Code::E0901, format!("internal error in the parser: {what}"))
                .primary(span, "while reading this")
                .help("this is a bug in kfpl; please report it with this file"),
        );
    }

    /// `pipeline NAME {`: the keyword, the pipeline's name and the `{`.
    pub(super) fn pipeline_open(&mut self, pair: Pair<'_, Rule>) -> Option<(Span, Ident, Span)> {
        let mut children = Children::of(pair, self.base);
        let keyword = span_at(&children.expect(Rule::kw_pipeline, self)?, self.base);
        let word = children.expect(Rule::word, self)?;
        let name = self.ident(word);
        let open = children.punct(Rule::lbrace, self)?;
        Some((keyword, name, open))
    }

    /// One item of a pipeline block; `None` for its closing brace (or an internal error).
    pub(super) fn pipeline_item(&mut self, pair: Pair<'_, Rule>) -> Option<Item> {
        let child = pair.into_inner().next()?;
        match child.as_rule() {
            Rule::pipeline_close => None,
            _ => self.block_item(child),
        }
    }

    fn param(&mut self, pair: Pair<'_, Rule>) -> Option<ParamDecl> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let keyword = span_at(&children.expect(Rule::kw_param, self)?, self.base);
        let name = {
            let pair = children.expect(Rule::word, self)?;
            self.ident(pair)
        };
        let colon = children.punct(Rule::colon, self)?;
        let ty_pair = children.expect(Rule::param_type, self)?;
        let ty_span = span_at(&ty_pair, self.base);
        let ty = ParamType::from_word(ty_pair.as_str()).unwrap_or(ParamType::String);
        let assign = children.optional_punct(Rule::assign);
        let default = match children.optional(Rule::value) {
            Some(value) => Some(self.value(value)?),
            None => None,
        };
        // Pest counts the whitespace tried before a missing `= default` as part of the
        // pair; the declaration ends at its last token.
        let end = default.as_ref().map_or(ty_span, |d| d.span);
        Some(ParamDecl {
            keyword,
            colon,
            assign,
            name,
            ty,
            ty_span,
            default,
            span: Span {
                start: span.start,
                end: end.end,
            },
        })
    }

    fn let_decl(&mut self, pair: Pair<'_, Rule>) -> Option<LetDecl> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let keyword = span_at(&children.expect(Rule::kw_let, self)?, self.base);
        let name = {
            let pair = children.expect(Rule::word, self)?;
            self.ident(pair)
        };
        let assign = children.punct(Rule::assign, self)?;
        let value = {
            let pair = children.expect(Rule::value, self)?;
            self.value(pair)
        }?;
        Some(LetDecl {
            keyword,
            assign,
            name,
            value,
            span,
        })
    }

    fn step(&mut self, pair: Pair<'_, Rule>) -> Option<StepDecl> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let keyword = span_at(&children.expect(Rule::kw_step, self)?, self.base);
        let name = {
            let pair = children.expect(Rule::word, self)?;
            self.ident(pair)
        };
        let open = children.punct(Rule::lbrace, self)?;
        // Sized once (the children left are the items and the `}`): the
        // AST holds every step, and a grown `Vec` keeps up to twice its room.
        let mut items = Vec::with_capacity(children.pairs.len().saturating_sub(1));
        let mut close = None;
        for child in children.pairs {
            match self.step_child(child) {
                StepChild::Item(item) => items.push(item),
                StepChild::Close(span) => close = Some(span),
                StepChild::Nothing => {}
            }
        }
        let Some(close) = close else {
            self.internal(span, "a step without its `}`");
            return None;
        };
        Some(StepDecl {
            keyword,
            braces: Braces { open, close },
            name,
            items,
            span,
        })
    }

    /// `step NAME {` (read alone while recovering from an error in the step).
    pub(super) fn step_open(&mut self, pair: Pair<'_, Rule>) -> Option<(Span, Ident, Span)> {
        let mut children = Children::of(pair, self.base);
        let keyword = span_at(&children.expect(Rule::kw_step, self)?, self.base);
        let word = children.expect(Rule::word, self)?;
        let name = self.ident(word);
        let open = children.punct(Rule::lbrace, self)?;
        Some((keyword, name, open))
    }

    /// The entry rule `step_next`: one item of a step, or its `}`.
    pub(super) fn step_next(&mut self, pair: Pair<'_, Rule>) -> StepChild {
        match pair.into_inner().next() {
            Some(child) => self.step_child(child),
            None => StepChild::Nothing,
        }
    }

    fn step_child(&mut self, child: Pair<'_, Rule>) -> StepChild {
        let item = match child.as_rule() {
            Rule::metric => self.metric(child).map(StepItem::Metric),
            Rule::output => self.output(child).map(StepItem::Output),
            Rule::attribute => self.attribute(child).map(StepItem::Attribute),
            Rule::when_attr => self.when_attr(child).map(|w| StepItem::When(Box::new(w))),
            Rule::sidecar_block => self.named_block(child).map(StepItem::Sidecar),
            Rule::rbrace => return StepChild::Close(span_at(&child, self.base)),
            _ => None,
        };
        item.map_or(StepChild::Nothing, StepChild::Item)
    }

    fn metric(&mut self, pair: Pair<'_, Rule>) -> Option<MetricDecl> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let keyword = span_at(&children.expect(Rule::kw_metric, self)?, self.base);
        let name = {
            let pair = children.expect(Rule::string, self)?;
            self.string(pair)
        }?;
        let colon = children.optional_punct(Rule::colon);
        let format = children.optional(Rule::metric_format).map(|format| {
            let kind = if format.as_str() == "percentage" {
                MetricFormat::Percentage
            } else {
                MetricFormat::Raw
            };
            (kind, span_at(&format, self.base))
        });
        Some(MetricDecl {
            keyword,
            colon,
            name,
            format,
            span,
        })
    }

    fn output(&mut self, pair: Pair<'_, Rule>) -> Option<OutputDecl> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let keyword = span_at(&children.expect(Rule::kw_output, self)?, self.base);
        // `output: TYPE` has its colon right after the keyword.
        let implicit_colon = children.optional_punct(Rule::colon);
        let implicit = implicit_colon.is_some();
        let name = if implicit {
            Ident {
                name: "output".into(),
                span: keyword,
            }
        } else {
            let pair = children.expect(Rule::word, self)?;
            self.ident(pair)
        };
        let ty = match implicit_colon.or_else(|| children.optional_punct(Rule::colon)) {
            Some(colon) => {
                let pair = children.expect(Rule::output_type, self)?;
                let ty = ParamType::from_word(pair.as_str()).unwrap_or(ParamType::String);
                Some((colon, ty, span_at(&pair, self.base)))
            }
            None => None,
        };
        // Pest counts the whitespace tried before a missing `: TYPE` as part of the pair.
        let end = ty.map_or(name.span.end, |(_, _, span)| span.end);
        Some(OutputDecl {
            keyword,
            name,
            implicit,
            ty,
            span: Span {
                start: span.start,
                end,
            },
        })
    }

    fn attribute(&mut self, pair: Pair<'_, Rule>) -> Option<Attribute> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let name = {
            let pair = children.expect(Rule::word, self)?;
            self.ident(pair)
        };
        let assign = children.punct(Rule::assign, self)?;
        let value = {
            let pair = children.expect(Rule::value, self)?;
            self.value(pair)
        }?;
        Some(Attribute {
            assign,
            name,
            value,
            span,
        })
    }

    fn value(&mut self, pair: Pair<'_, Rule>) -> Option<Value> {
        let span = span_at(&pair, self.base);
        // A value has one child, never punctuation: no cursor is needed.
        let Some(inner) = pair.into_inner().next() else {
            self.internal(span, "expected a child");
            return None;
        };
        let kind = match inner.as_rule() {
            Rule::string => ValueKind::String(self.string(inner)?),
            Rule::number => ValueKind::Number(self.number(&inner)),
            // The grammar reads `true` and `false` as words.
            Rule::word => match inner.as_str() {
                "true" => ValueKind::Bool(true),
                "false" => ValueKind::Bool(false),
                _ => ValueKind::Ident(self.ident(inner)),
            },
            Rule::list => ValueKind::List(self.list(inner)?),
            Rule::map => ValueKind::Map(self.map(inner)?),
            Rule::reference => {
                let interp = inner.into_inner().next()?;
                let span = span_at(&interp, self.base);
                ValueKind::Ref(Box::new(self.interpolation(interp.as_str(), span)?))
            }
            other => {
                self.internal(span, &format!("unexpected value {other:?}"));
                return None;
            }
        };
        Some(Value { kind, span })
    }

    fn number(&mut self, pair: &Pair<'_, Rule>) -> Number {
        let text = pair.as_str().to_string();
        // The grammar only admits well-formed numbers; huge exponents become infinity,
        // which the checker refuses where a finite number is needed.
        let value = text.parse::<f64>().unwrap_or(f64::NAN);
        Number { value, text }
    }

    fn list(&mut self, pair: Pair<'_, Rule>) -> Option<Bracketed<Value>> {
        self.bracketed(
            pair,
            (Rule::lbracket, Rule::rbracket),
            Rule::value,
            Self::value,
        )
    }

    fn map(&mut self, pair: Pair<'_, Rule>) -> Option<Bracketed<MapEntry>> {
        self.bracketed(
            pair,
            (Rule::map_open, Rule::rbrace),
            Rule::map_entry,
            Self::map_entry,
        )
    }

    /// The elements of a list or map (rule `element`, built by `each`) and its brackets.
    fn bracketed<T>(
        &mut self,
        pair: Pair<'_, Rule>,
        (open, close): (Rule, Rule),
        element: Rule,
        mut each: impl FnMut(&mut Self, Pair<'_, Rule>) -> Option<T>,
    ) -> Option<Bracketed<T>> {
        let parent = span_at(&pair, self.base);
        let (mut open_span, mut close_span) = (None, None);
        // Sized exactly, as a step's items are: the AST keeps every list.
        let count = pair.clone().into_inner();
        let mut items = Vec::with_capacity(count.filter(|c| c.as_rule() == element).count());
        for child in pair.into_inner() {
            let rule = child.as_rule();
            if rule == open {
                open_span = Some(span_at(&child, self.base));
            } else if rule == close {
                close_span = Some(span_at(&child, self.base));
            } else if rule == element {
                items.extend(each(self, child));
            }
        }
        let (Some(open), Some(close)) = (open_span, close_span) else {
            self.internal(parent, "a list or map without its brackets");
            return None;
        };
        Some(Bracketed {
            items,
            braces: Braces { open, close },
        })
    }

    fn map_entry(&mut self, pair: Pair<'_, Rule>) -> Option<MapEntry> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let key = {
            let pair = children.expect(Rule::map_key, self)?;
            self.map_key(pair)
        }?;
        let assign = children.punct(Rule::assign, self)?;
        let value = {
            let pair = children.expect(Rule::value, self)?;
            self.value(pair)
        }?;
        Some(MapEntry {
            assign,
            key,
            value,
            span,
        })
    }

    fn map_key(&mut self, pair: Pair<'_, Rule>) -> Option<Ident> {
        let mut children = Children::of(pair, self.base);
        let inner = children.any(self)?;
        let span = span_at(&inner, self.base);
        if inner.as_rule() == Rule::word {
            return Some(Ident {
                name: inner.as_str().to_string(),
                span,
            });
        }
        let string = self.string(inner)?;
        match string.as_plain() {
            Some(name) => Some(Ident { name, span }),
            None => {
                self.diagnostics.push(
                    Diagnostic::new(Code::E0103, "a map key cannot interpolate")
                        .primary(span, "interpolation in a key")
                        .help("write the key as plain text; interpolate in the value instead"),
                );
                None
            }
        }
    }

    /// A name in identifier position: `[a-z_][a-z0-9_]*` and not a keyword.
    fn ident(&mut self, pair: Pair<'_, Rule>) -> Ident {
        let mut ident = Ident {
            name: pair.as_str().to_string(),
            span: span_at(&pair, self.base),
        };
        if KEYWORDS.contains(&ident.name.as_str()) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0106,
                    format!("`{}` is a reserved keyword", ident.name),
                )
                .primary(ident.span, "reserved")
                .help(format!("choose another name, such as `{}_1`", ident.name)),
            );
        } else if !is_identifier(&ident.name) {
            let mut fixed = snake_case(&ident.name);
            if KEYWORDS.contains(&fixed.as_str()) {
                fixed.push_str("_1");
            }
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0109,
                    format!("`{}` is not a valid identifier", ident.name),
                )
                .primary(ident.span, "not lower_snake_case")
                .help(format!(
                    "identifiers are lower-case letters, digits and `_`: write `{fixed}`"
                )),
            );
            // Go on as if the suggested name had been written, so uses of
            // `learning_rate` do not also report an unknown name.
            ident.name = fixed;
        }
        ident
    }

    /// `$<…>` (`text`, at `span`): its head and field, or a diagnostic.
    fn interpolation(&mut self, text: &str, span: Span) -> Option<Interp> {
        let body = text.get(2..).unwrap_or("");
        let Some(path) = body.strip_suffix('>') else {
            self.diagnostics.push(
                Diagnostic::new(Code::E0103, "unterminated interpolation")
                    .primary(Span::new(span.start as usize, span.start as usize + 2), "`$<` is never closed")
                    .help("close it with `>`, as in `$<learning_rate>`; write `$$<` for a literal `$<`"),
            );
            return None;
        };
        let start = span.start as usize + 2;
        let mut pieces = path.splitn(2, '.');
        let head = pieces.next().unwrap_or("");
        let field = pieces.next();
        // A field is an output's name or a map item's key (`$<item.A_a>`),
        // which follows the map-key rule; which one it is, the checker says.
        let valid = is_identifier(head) && field.is_none_or(is_field_name);
        if !valid {
            self.diagnostics.push(
                Diagnostic::new(Code::E0103, format!("malformed interpolation `$<{path}>`"))
                    .primary(span, "expected `$<name>` or `$<step.output>`")
                    .help("interpolate a param or let (`$<learning_rate>`) or a step output (`$<train.output>`); write `$$<` for a literal `$<`"),
            );
            return None;
        }
        let head = Ident {
            name: head.to_string(),
            span: Span::new(start, start + head.len()),
        };
        let field = field.map(|field| {
            let field_start = start + head.name.len() + 1;
            Ident {
                name: field.to_string(),
                span: Span::new(field_start, field_start + field.len()),
            }
        });
        Some(Interp { head, field, span })
    }
}

/// `[a-z_][a-z0-9_]*`. (Read as bytes, not chars, since it runs on every
/// name: a byte of a non-ASCII character is never one of these.)
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b == b'_' || b.is_ascii_lowercase())
        && bytes.all(|b| b == b'_' || b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A map key written bare: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `learningRate` → `learning_rate`, `MNISTData` → `mnistdata`, for the help line.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if out.ends_with(|p: char| p.is_ascii_lowercase() || p.is_ascii_digit()) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '-' {
            out.push('_');
        } else {
            out.push(c);
        }
    }
    out
}
