//! Reading a file a few items at a time, and going on after a syntax error.
//!
//! Pest parses a few declarations at a time through the grammar's entry
//! rules (`file_next`, `pipeline_batch`, and after an error `pipeline_next`
//! and `step_open`/`step_next`, one at a time), so memory stays
//! proportional to a few items and a syntax error loses only the item it is
//! in. After an error the reader skips to the next *declaration head* at
//! the depth of the item that failed, as the lexer's tokens show it:
//! - in a pipeline: `param`, `let`, `step`, a control block's word, `NAME =`,
//!   or the block's `}`;
//! - in a control block: the same, and `carry`;
//! - in a step: `metric`, `output`, `NAME =`, or the block's `}`;
//! - at the top: `pipeline`.
//!
//! A step with an error is read again item by item, so its other items (and
//! its name, for an outline) survive; so is a control block (`if`, `for`,
//! `repeat`, `finally`): its head, each item of its body, nested blocks, and
//! its `else` or `until` tail, through the entry rules `block_open`,
//! `block_next`, `else_open` and `repeat_tail`. Brackets are balanced before this runs
//! (`scan`), so every block has the `}` that the skipping stops at.

use pest::Parser;
use pest::iterators::Pair;

use super::convert::{BlockChild, BlockHead, Converter, StepChild};
use super::errors;
use super::grammar::{KfpParser, Rule};
use super::lex::{self, Kind};
use super::{Parsed, ast};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;

/// Words that start a declaration in a pipeline block.
const PIPELINE_HEADS: &[&str] = &[
    "param", "let", "step", "if", "for", "repeat", "finally", "volume",
];
/// Words that start a declaration in a control block's body.
const BLOCK_HEADS: &[&str] = &[
    "param", "let", "step", "if", "for", "repeat", "finally", "carry", "volume",
];
/// Words that start a declaration in a step block.
const STEP_HEADS: &[&str] = &["metric", "output", "sidecar"];

/// Parses `text` (already through `scan`) into pipelines, reporting every
/// syntax error and keeping whatever could be read.
pub(super) fn read(text: &str) -> Parsed {
    let mut reader = Reader {
        text,
        converter: Converter::default(),
        errors: Vec::new(),
        block_error: None,
    };
    let pipelines = reader.file();
    let incomplete = reader
        .errors
        .iter()
        .any(|d| d.span().start as usize >= text.trim_end().len());
    let partial = !reader.errors.is_empty();
    let mut diagnostics = reader.errors;
    diagnostics.extend(reader.converter.diagnostics);
    Parsed {
        program: Some(ast::Program {
            pipelines,
            span: Span::new(0, text.len()),
        }),
        diagnostics,
        incomplete,
        partial,
    }
}

struct Reader<'t> {
    text: &'t str,
    converter: Converter,
    /// Syntax errors, one an item that failed.
    errors: Vec<Diagnostic>,
    /// While a control block that failed as a whole is read again: where
    /// the whole block's error is. Reading item by item meets the same
    /// mistake first; that report is dropped (see `step_again`).
    block_error: Option<usize>,
}

/// What an entry rule read at an offset.
type Read<'t> = Result<(Pair<'t, Rule>, usize), usize>;

impl<'t> Reader<'t> {
    /// Parses the next item at byte `at` with an entry rule: the pair and the
    /// offset after it, or (the error recorded) the offset of the error.
    fn next(&mut self, rule: Rule, at: usize) -> Read<'t> {
        let rest = self.text.get(at..).unwrap_or("");
        match KfpParser::parse(rule, rest) {
            Ok(mut pairs) => match pairs.next() {
                Some(pair) => {
                    self.converter.base = at;
                    let end = at + pair.as_span().end();
                    Ok((pair, end))
                }
                None => {
                    self.errors.push(internal_error(at));
                    Err(at)
                }
            },
            Err(error) => {
                let diagnostic = errors::syntax_error(&error, self.text, at);
                let error_at = diagnostic.span().start as usize;
                self.errors.push(diagnostic);
                Err(error_at)
            }
        }
    }

    fn file(&mut self) -> Vec<ast::Pipeline> {
        let mut pipelines = Vec::new();
        let mut at = 0;
        loop {
            let (head, end) = match self.next(Rule::file_next, at) {
                Ok(read) => read,
                Err(error) => match resume(self.text, at, error, &["pipeline"], false) {
                    Some(next) => {
                        at = next;
                        continue;
                    }
                    None => break,
                },
            };
            let start = at + leading_skip(&head);
            at = end;
            let Some(open) = head
                .into_inner()
                .find(|p| p.as_rule() == Rule::pipeline_open)
            else {
                break; // end of file
            };
            let opened = self.converter.pipeline_open(open);
            let (items, close) = self.pipeline_items(&mut at);
            if let Some((keyword, name, open)) = opened {
                pipelines.push(ast::Pipeline {
                    keyword,
                    braces: ast::Braces { open, close },
                    name,
                    items,
                    span: Span::new(start, at),
                });
            }
        }
        pipelines
    }

    /// A pipeline's items up to its `}`; `at` ends after it.
    fn pipeline_items(&mut self, at: &mut usize) -> (Vec<ast::Item>, Span) {
        let mut items = Vec::new();
        loop {
            let item_start = *at;
            if let Some((batch, end)) = self.batch(item_start) {
                *at = end;
                for child in batch.into_inner() {
                    match self.converter.block_child(child) {
                        BlockChild::Item(item) => items.push(item),
                        BlockChild::Close(close) => return (items, close),
                        // A pipeline holds no carry (the grammar says so).
                        BlockChild::Carry(_) | BlockChild::Nothing => {}
                    }
                }
                continue;
            }
            // The next item has a syntax error: read alone, it is reported.
            let (item, end) = match self.next(Rule::pipeline_next, item_start) {
                Ok(read) => read,
                Err(error) => {
                    if let Some((item, end)) = self.item_again(item_start) {
                        items.push(item);
                        *at = end;
                        continue;
                    }
                    match resume(self.text, item_start, error, PIPELINE_HEADS, true) {
                        Some(next) => *at = next,
                        None => return (items, end_of(self.text)),
                    }
                    continue;
                }
            };
            *at = end;
            if let Some(close) = item
                .clone()
                .into_inner()
                .find(|p| p.as_rule() == Rule::pipeline_close)
            {
                let span = close.as_span();
                let base = self.converter.base;
                return (items, Span::new(base + span.start(), base + span.end()));
            }
            items.extend(self.converter.pipeline_item(item));
        }
    }

    /// A step that failed as a whole, read again item by item: the step and
    /// the offset after its `}`, or `None` when its head itself is broken
    /// (or the item is not a step).
    fn step_again(&mut self, at: usize) -> Option<(ast::StepDecl, usize)> {
        // The error is already recorded; a broken head is left to the caller.
        let (open, mut end) = self.head(at, &["step"], Rule::step_open)?;
        let (keyword, name, open_brace) = self.converter.step_open(open)?;
        // The whole-step error stays: pest reached furthest there, so it says
        // best what was expected. Reading item by item finds the same mistake
        // first, with less context; that report is dropped, and reading
        // resumes after the furthest of the two.
        let whole = self.errors.last().map_or(at, |d| d.span().start as usize);
        let mut first_mistake = true;
        let mut items = Vec::new();
        let close = loop {
            let item_start = end;
            match self.next(Rule::step_next, item_start) {
                Ok((pair, after)) => {
                    end = after;
                    match self.converter.step_next(pair) {
                        StepChild::Item(item) => items.push(item),
                        StepChild::Close(span) => break span,
                        StepChild::Nothing => {}
                    }
                }
                Err(mut error) => {
                    if std::mem::take(&mut first_mistake) {
                        self.errors.pop();
                        error = error.max(whole);
                    }
                    match resume(self.text, item_start, error, STEP_HEADS, true) {
                        Some(next) => end = next,
                        None => break end_of(self.text),
                    }
                }
            }
        };
        let step = ast::StepDecl {
            keyword,
            braces: ast::Braces {
                open: open_brace,
                close,
            },
            name,
            items,
            span: Span::new(keyword.start as usize, end),
        };
        Some((step, end))
    }
}

impl<'t> Reader<'t> {
    /// The next items of a pipeline block, or its `}`, read with the entry
    /// rule `pipeline_batch`: the pair and the offset after it. `None`, and
    /// nothing recorded, when the first item has a syntax error.
    fn batch(&mut self, at: usize) -> Option<(Pair<'t, Rule>, usize)> {
        let rest = self.text.get(at..)?;
        let pair = KfpParser::parse(Rule::pipeline_batch, rest).ok()?.next()?;
        self.converter.base = at;
        let end = at + pair.as_span().end();
        Some((pair, end))
    }

    /// The head of an item that failed as a whole, read alone with the
    /// entry rule `rule` when the item starts with one of `words`: the pair
    /// and the offset after it (the converter is set to read it).
    fn head(&mut self, at: usize, words: &[&str], rule: Rule) -> Option<(Pair<'t, Rule>, usize)> {
        let first = lex::lex(&self.text[at..]).find(|t| !t.kind.is_trivia())?;
        if first.kind != Kind::Word || !words.contains(&first.text(&self.text[at..])) {
            return None;
        }
        let pair = KfpParser::parse(rule, &self.text[at..]).ok()?.next()?;
        let end = at + pair.as_span().end();
        self.converter.base = at;
        Some((pair, end))
    }

    /// A step or a control block that failed as a whole, read again piece
    /// by piece; `None` when the item is neither or its head is broken.
    fn item_again(&mut self, at: usize) -> Option<(ast::Item, usize)> {
        if let Some((step, end)) = self.step_again(at) {
            return Some((ast::Item::Step(step), end));
        }
        self.block_again(at)
    }

    /// A control block that failed as a whole, read again piece by piece:
    /// its head, each item of its body (nested blocks too), and its `else`
    /// or `until`, so one mistake loses only the item it is in. `None` when
    /// its head itself is broken (or the item is not a block).
    fn block_again(&mut self, at: usize) -> Option<(ast::Item, usize)> {
        let heads = ["if", "for", "repeat", "finally"];
        let (pair, mut end) = self.head(at, &heads, Rule::block_open)?;
        let head = self.converter.block_open(pair)?;
        self.block_error = Some(self.errors.last().map_or(at, |d| d.span().start as usize));
        let item = match head {
            BlockHead::If {
                keyword,
                condition,
                open,
            } => ast::Item::If(Box::new(self.if_rest(keyword, condition, open, &mut end))),
            BlockHead::For {
                keyword,
                var,
                in_keyword,
                list,
                open,
            } => {
                let (items, _, close) = self.body(&mut end);
                ast::Item::For(Box::new(ast::ForBlock {
                    keyword,
                    var,
                    in_keyword,
                    list,
                    body: block(items, open, close),
                    span: Span::new(keyword.start as usize, end),
                }))
            }
            BlockHead::Repeat {
                keyword,
                max_keyword,
                max,
                open,
            } => {
                let (items, carries, close) = self.body(&mut end);
                let (tail_keyword, until, condition) = self.repeat_tail(&mut end);
                ast::Item::Repeat(Box::new(ast::RepeatBlock {
                    keyword,
                    max_keyword,
                    max,
                    carries,
                    body: block(items, open, close),
                    tail_keyword,
                    until,
                    condition,
                    span: Span::new(keyword.start as usize, end),
                }))
            }
            BlockHead::Finally { keyword, open } => {
                let (items, _, close) = self.body(&mut end);
                ast::Item::Finally(ast::FinallyBlock {
                    keyword,
                    body: block(items, open, close),
                    span: Span::new(keyword.start as usize, end),
                })
            }
        };
        self.block_error = None;
        Some((item, end))
    }

    /// An `if` block from its `{`: the body, then any `else` or `else if`.
    fn if_rest(
        &mut self,
        keyword: Span,
        condition: ast::Condition,
        open: Span,
        end: &mut usize,
    ) -> ast::IfBlock {
        let (items, _, close) = self.body(end);
        let then = block(items, open, close);
        let follows_else = lex::lex(&self.text[*end..])
            .find(|t| !t.kind.is_trivia())
            .is_some_and(|t| t.kind == Kind::Word && t.text(&self.text[*end..]) == "else");
        let mut otherwise = None;
        if follows_else && let Ok((pair, after)) = self.next(Rule::else_open, *end) {
            *end = after;
            otherwise = match self.converter.else_open(pair) {
                Some((else_keyword, Err(open))) => {
                    let (items, _, close) = self.body(end);
                    Some(ast::Else {
                        keyword: else_keyword,
                        branch: ast::ElseBranch::Block(block(items, open, close)),
                    })
                }
                Some((
                    else_keyword,
                    Ok(BlockHead::If {
                        keyword,
                        condition,
                        open,
                    }),
                )) => Some(ast::Else {
                    keyword: else_keyword,
                    branch: ast::ElseBranch::If(Box::new(
                        self.if_rest(keyword, condition, open, end),
                    )),
                }),
                _ => None,
            };
        }
        ast::IfBlock {
            keyword,
            condition,
            then,
            otherwise,
            span: Span::new(keyword.start as usize, *end),
        }
    }

    /// A repeat's `until`/`while` tail; a missing one (reported) reads as `until true`.
    fn repeat_tail(&mut self, end: &mut usize) -> (Span, bool, ast::Condition) {
        if let Ok((pair, after)) = self.next(Rule::repeat_tail, *end)
            && let Some(tail) = self.converter.repeat_tail(pair)
        {
            *end = after;
            return tail;
        }
        let at = Span::at(*end);
        let placeholder = ast::Condition {
            kind: ast::ConditionKind::Operand(ast::Value {
                kind: ast::ValueKind::Bool(true),
                span: at,
            }),
            span: at,
        };
        (at, true, placeholder)
    }

    /// A control block's body from after its `{`: its items, carries and `}`.
    fn body(&mut self, at: &mut usize) -> (Vec<ast::Item>, Vec<ast::Carry>, Span) {
        let mut items = Vec::new();
        let mut carries = Vec::new();
        loop {
            let item_start = *at;
            match self.next(Rule::block_next, item_start) {
                Ok((pair, after)) => {
                    *at = after;
                    match self.converter.block_next(pair) {
                        BlockChild::Item(item) => items.push(item),
                        BlockChild::Carry(carry) => carries.push(carry),
                        BlockChild::Close(close) => return (items, carries, close),
                        BlockChild::Nothing => {}
                    }
                }
                Err(mut error) => {
                    if let Some(whole) = self.block_error.take() {
                        self.errors.pop();
                        error = error.max(whole);
                    }
                    if let Some((item, end)) = self.item_again(item_start) {
                        items.push(item);
                        *at = end;
                        continue;
                    }
                    match resume(self.text, item_start, error, BLOCK_HEADS, true) {
                        Some(next) => *at = next,
                        None => return (items, carries, end_of(self.text)),
                    }
                }
            }
        }
    }
}

/// A block of declarations with its braces.
fn block(items: Vec<ast::Item>, open: Span, close: Span) -> ast::Block {
    ast::Block {
        items,
        braces: ast::Braces { open, close },
    }
}

/// Where reading resumes after a syntax error at `error` in the item that
/// starts at `from`: the first declaration head after the error at the
/// item's depth (a word of `heads`, `NAME =` when `attributes`, or the `}`
/// that closes the enclosing block), or `None` at the end of the text.
fn resume(
    text: &str,
    from: usize,
    error: usize,
    heads: &[&str],
    attributes: bool,
) -> Option<usize> {
    let rest = &text[from..];
    let mut depth = 0usize;
    let mut tokens = lex::lex(rest).filter(|t| !t.kind.is_trivia()).peekable();
    while let Some(token) = tokens.next() {
        let at = from + token.span.start as usize;
        if at == from {
            continue; // the failed item's own first token: resuming there would not move
        }
        let candidate = depth == 0 && at >= error;
        match token.kind {
            Kind::RBrace | Kind::RBracket | Kind::RParen if depth == 0 => {
                // The enclosing block's `}` (or a stray closer: stop there too).
                return Some(at);
            }
            Kind::RBrace | Kind::RBracket | Kind::RParen => depth -= 1,
            Kind::LBrace | Kind::LBracket | Kind::LParen => depth += 1,
            Kind::Word if candidate => {
                let word = token.text(rest);
                let assigns = tokens.peek().is_some_and(|t| t.kind == Kind::Assign);
                if heads.contains(&word) || attributes && assigns {
                    return Some(at);
                }
            }
            _ => {}
        }
    }
    None
}

/// An empty span at the end of the text: where an unclosed block stops.
fn end_of(text: &str) -> Span {
    Span::at(text.len())
}

/// Bytes of whitespace and comments before the entry rule's first token.
fn leading_skip(pair: &Pair<'_, Rule>) -> usize {
    pair.clone()
        .into_inner()
        .next()
        .map_or(0, |first| first.as_span().start())
}

fn internal_error(at: usize) -> Diagnostic {
    Diagnostic::new(
        Code::E0901,
        "internal error in the parser: an entry rule matched nothing",
    )
    .primary(Span::at(at), "while reading here")
    .help("this is a bug in kfpl; please report it with this file")
}
