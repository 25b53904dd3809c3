//! Pest pairs → AST for control blocks (`if`/`else`, `for`, `repeat`,
//! `finally`), conditions and `when`, and the entry rules that read a block
//! again piece by piece after a syntax error (`recover`).

use pest::iterators::Pair;

use super::{BlockChild, BlockHead, Children, Converter, span_at};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::*;
use crate::syntax::grammar::Rule;

impl Converter {
    /// `{ declarations }` of a control block.
    fn block(&mut self, pair: Pair<'_, Rule>) -> Option<Block> {
        let parent = span_at(&pair, self.base);
        let (mut open, mut close) = (None, None);
        let mut items = Vec::new();
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::lbrace => open = Some(span_at(&child, self.base)),
                Rule::rbrace => close = Some(span_at(&child, self.base)),
                _ => items.extend(self.block_item(child)),
            }
        }
        let (Some(open), Some(close)) = (open, close) else {
            self.internal(parent, "a block without its braces");
            return None;
        };
        Some(Block {
            items,
            braces: Braces { open, close },
        })
    }

    /// A declaration inside a block: the rules `pipeline_item` chooses among.
    pub(super) fn block_item(&mut self, child: Pair<'_, Rule>) -> Option<Item> {
        match child.as_rule() {
            Rule::param => self.param(child).map(|p| Item::Param(Box::new(p))),
            Rule::let_decl => self.let_decl(child).map(|l| Item::Let(Box::new(l))),
            Rule::step => self.step(child).map(Item::Step),
            Rule::attribute => self.attribute(child).map(|a| Item::Attribute(Box::new(a))),
            Rule::if_block => self.if_block(child).map(|b| Item::If(Box::new(b))),
            Rule::for_block => self.for_block(child).map(|b| Item::For(Box::new(b))),
            Rule::repeat_block => self.repeat_block(child).map(|b| Item::Repeat(Box::new(b))),
            Rule::finally_block => self.finally_block(child).map(Item::Finally),
            Rule::defaults_block => self.defaults_block(child).map(Item::Defaults),
            Rule::volume_block => self.named_block(child).map(Item::Volume),
            other => {
                let span = span_at(&child, self.base);
                self.internal(span, &format!("unexpected declaration {other:?}"));
                None
            }
        }
    }

    /// The entry rule `block_open`: a control block's head up to its `{`.
    pub(in crate::syntax) fn block_open(&mut self, pair: Pair<'_, Rule>) -> Option<BlockHead> {
        let head = pair.into_inner().next()?;
        self.block_head(head)
    }

    fn block_head(&mut self, head: Pair<'_, Rule>) -> Option<BlockHead> {
        let rule = head.as_rule();
        let mut children = Children::of(head, self.base);
        let keyword = |children: &mut Children<'_>, this: &mut Self, rule| {
            Some(span_at(&children.expect(rule, this)?, this.base))
        };
        Some(match rule {
            Rule::if_head => {
                let keyword = keyword(&mut children, self, Rule::kw_if)?;
                let condition = children.expect(Rule::condition, self)?;
                let condition = self.condition(condition)?;
                let open = children.punct(Rule::lbrace, self)?;
                BlockHead::If {
                    keyword,
                    condition,
                    open,
                }
            }
            Rule::for_head => {
                let keyword = keyword(&mut children, self, Rule::kw_for)?;
                let var = children.expect(Rule::word, self)?;
                let var = self.ident(var);
                let in_keyword = span_at(&children.expect(Rule::kw_in, self)?, self.base);
                let list = children.expect(Rule::value, self)?;
                let list = self.value(list)?;
                let open = children.punct(Rule::lbrace, self)?;
                BlockHead::For {
                    keyword,
                    var,
                    in_keyword,
                    list,
                    open,
                }
            }
            Rule::repeat_head => {
                let keyword = keyword(&mut children, self, Rule::kw_repeat)?;
                let max_keyword = span_at(&children.expect(Rule::kw_max, self)?, self.base);
                let max = children.expect(Rule::value, self)?;
                let max = self.value(max)?;
                let open = children.punct(Rule::lbrace, self)?;
                BlockHead::Repeat {
                    keyword,
                    max_keyword,
                    max,
                    open,
                }
            }
            _ => {
                let keyword = keyword(&mut children, self, Rule::kw_finally)?;
                let open = children.punct(Rule::lbrace, self)?;
                BlockHead::Finally { keyword, open }
            }
        })
    }

    /// The entry rule `block_next`: one item of a block's body, or its `}`.
    pub(in crate::syntax) fn block_next(&mut self, pair: Pair<'_, Rule>) -> BlockChild {
        match pair.into_inner().next() {
            Some(child) => self.block_child(child),
            None => BlockChild::Nothing,
        }
    }

    /// A child of the entry rules `block_next` and `pipeline_batch`: an
    /// item, a carry, or the block's `}`.
    pub(in crate::syntax) fn block_child(&mut self, child: Pair<'_, Rule>) -> BlockChild {
        match child.as_rule() {
            Rule::rbrace | Rule::pipeline_close => BlockChild::Close(span_at(&child, self.base)),
            Rule::carry => self
                .carry(child)
                .map_or(BlockChild::Nothing, BlockChild::Carry),
            _ => self
                .block_item(child)
                .map_or(BlockChild::Nothing, BlockChild::Item),
        }
    }

    /// The entry rule `else_open`: `else` and the head of an `else if`
    /// (`None` when `else {`), or the `{`.
    pub(in crate::syntax) fn else_open(
        &mut self,
        pair: Pair<'_, Rule>,
    ) -> Option<(Span, Result<BlockHead, Span>)> {
        let mut children = Children::of(pair, self.base);
        let keyword = span_at(&children.expect(Rule::kw_else, self)?, self.base);
        if let Some(open) = children.optional_punct(Rule::lbrace) {
            return Some((keyword, Err(open)));
        }
        let head = children.expect(Rule::if_head, self)?;
        Some((keyword, Ok(self.block_head(head)?)))
    }

    /// The entry rule `repeat_tail`: `until`/`while` (true for `until`) and the condition.
    pub(in crate::syntax) fn repeat_tail(
        &mut self,
        pair: Pair<'_, Rule>,
    ) -> Option<(Span, bool, Condition)> {
        let mut children = Children::of(pair, self.base);
        let tail = children.any(self)?;
        let until = tail.as_rule() == Rule::kw_until;
        let keyword = span_at(&tail, self.base);
        let condition = children.expect(Rule::condition, self)?;
        Some((keyword, until, self.condition(condition)?))
    }

    pub(super) fn if_block(&mut self, pair: Pair<'_, Rule>) -> Option<IfBlock> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let keyword = span_at(&children.expect(Rule::kw_if, self)?, self.base);
        let condition = {
            let pair = children.expect(Rule::condition, self)?;
            self.condition(pair)?
        };
        let then = {
            let pair = children.expect(Rule::block, self)?;
            self.block(pair)?
        };
        let otherwise = match children.optional(Rule::else_clause) {
            Some(pair) => Some(self.else_clause(pair)?),
            None => None,
        };
        Some(IfBlock {
            keyword,
            condition,
            then,
            otherwise,
            span,
        })
    }

    fn else_clause(&mut self, pair: Pair<'_, Rule>) -> Option<Else> {
        let mut children = Children::of(pair, self.base);
        let keyword = span_at(&children.expect(Rule::kw_else, self)?, self.base);
        let inner = children.any(self)?;
        let branch = match inner.as_rule() {
            Rule::if_block => ElseBranch::If(Box::new(self.if_block(inner)?)),
            _ => ElseBranch::Block(self.block(inner)?),
        };
        Some(Else { keyword, branch })
    }

    pub(super) fn for_block(&mut self, pair: Pair<'_, Rule>) -> Option<ForBlock> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let keyword = span_at(&children.expect(Rule::kw_for, self)?, self.base);
        let var = {
            let pair = children.expect(Rule::word, self)?;
            self.ident(pair)
        };
        let in_keyword = span_at(&children.expect(Rule::kw_in, self)?, self.base);
        let list = {
            let pair = children.expect(Rule::value, self)?;
            self.value(pair)?
        };
        let body = {
            let pair = children.expect(Rule::block, self)?;
            self.block(pair)?
        };
        Some(ForBlock {
            keyword,
            var,
            in_keyword,
            list,
            body,
            span,
        })
    }

    pub(super) fn repeat_block(&mut self, pair: Pair<'_, Rule>) -> Option<RepeatBlock> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let keyword = span_at(&children.expect(Rule::kw_repeat, self)?, self.base);
        let max_keyword = span_at(&children.expect(Rule::kw_max, self)?, self.base);
        let max = {
            let pair = children.expect(Rule::value, self)?;
            self.value(pair)?
        };
        let body_pair = children.expect(Rule::repeat_body, self)?;
        let (carries, body) = self.repeat_body(body_pair)?;
        let tail = children.any(self)?;
        let tail_keyword = span_at(&tail, self.base);
        let until = tail.as_rule() == Rule::kw_until;
        let condition = {
            let pair = children.expect(Rule::condition, self)?;
            self.condition(pair)?
        };
        Some(RepeatBlock {
            keyword,
            max_keyword,
            max,
            carries,
            body,
            tail_keyword,
            until,
            condition,
            span,
        })
    }

    fn repeat_body(&mut self, pair: Pair<'_, Rule>) -> Option<(Vec<Carry>, Block)> {
        let parent = span_at(&pair, self.base);
        let (mut open, mut close) = (None, None);
        let mut carries = Vec::new();
        let mut items = Vec::new();
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::lbrace => open = Some(span_at(&child, self.base)),
                Rule::rbrace => close = Some(span_at(&child, self.base)),
                Rule::carry => carries.extend(self.carry(child)),
                _ => items.extend(self.block_item(child)),
            }
        }
        let (Some(open), Some(close)) = (open, close) else {
            self.internal(parent, "a repeat without its braces");
            return None;
        };
        let body = Block {
            items,
            braces: Braces { open, close },
        };
        Some((carries, body))
    }

    pub(super) fn carry(&mut self, pair: Pair<'_, Rule>) -> Option<Carry> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let keyword = span_at(&children.expect(Rule::kw_carry, self)?, self.base);
        let name = {
            let pair = children.expect(Rule::word, self)?;
            self.ident(pair)
        };
        let assign = children.punct(Rule::assign, self)?;
        let initial = {
            let pair = children.expect(Rule::value, self)?;
            self.value(pair)?
        };
        let then_keyword = span_at(&children.expect(Rule::kw_then, self)?, self.base);
        let next = {
            let pair = children.expect(Rule::value, self)?;
            self.value(pair)?
        };
        Some(Carry {
            keyword,
            name,
            assign,
            initial,
            then_keyword,
            next,
            span,
        })
    }

    /// `defaults { attributes }`.
    fn defaults_block(&mut self, pair: Pair<'_, Rule>) -> Option<DefaultsBlock> {
        let span = span_at(&pair, self.base);
        let (mut keyword, mut open, mut close) = (None, None, None);
        let mut attributes = Vec::new();
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::kw_defaults => keyword = Some(span_at(&child, self.base)),
                Rule::lbrace => open = Some(span_at(&child, self.base)),
                Rule::rbrace => close = Some(span_at(&child, self.base)),
                _ => attributes.extend(self.attribute(child)),
            }
        }
        let (Some(keyword), Some(open), Some(close)) = (keyword, open, close) else {
            self.internal(span, "a `defaults` block without its keyword or braces");
            return None;
        };
        Some(DefaultsBlock {
            keyword,
            attributes,
            braces: Braces { open, close },
            span,
        })
    }

    /// `volume NAME { attributes }` or `sidecar NAME { attributes }`.
    pub(super) fn named_block(&mut self, pair: Pair<'_, Rule>) -> Option<NamedBlock> {
        let span = span_at(&pair, self.base);
        let (mut keyword, mut name, mut open, mut close) = (None, None, None, None);
        let mut attributes = Vec::new();
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::kw_volume | Rule::kw_sidecar => keyword = Some(span_at(&child, self.base)),
                Rule::word => name = Some(self.ident(child)),
                Rule::lbrace => open = Some(span_at(&child, self.base)),
                Rule::rbrace => close = Some(span_at(&child, self.base)),
                _ => attributes.extend(self.attribute(child)),
            }
        }
        let (Some(keyword), Some(name), Some(open), Some(close)) = (keyword, name, open, close)
        else {
            self.internal(
                span,
                "a `volume` or `sidecar` block without its keyword, name or braces",
            );
            return None;
        };
        Some(NamedBlock {
            keyword,
            name,
            attributes,
            braces: Braces { open, close },
            span,
        })
    }

    pub(super) fn finally_block(&mut self, pair: Pair<'_, Rule>) -> Option<FinallyBlock> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let keyword = span_at(&children.expect(Rule::kw_finally, self)?, self.base);
        let body = {
            let pair = children.expect(Rule::block, self)?;
            self.block(pair)?
        };
        Some(FinallyBlock {
            keyword,
            body,
            span,
        })
    }

    /// `a or b or c`: left-associative.
    fn condition(&mut self, pair: Pair<'_, Rule>) -> Option<Condition> {
        self.chain(pair, Rule::kw_or, ConditionKind::Or, Self::cond_and)
    }

    fn cond_and(&mut self, pair: Pair<'_, Rule>) -> Option<Condition> {
        self.chain(pair, Rule::kw_and, ConditionKind::And, Self::cond_not)
    }

    /// Operands joined by `keyword`, folded to the left.
    fn chain(
        &mut self,
        pair: Pair<'_, Rule>,
        joiner: Rule,
        join: fn(Box<Condition>, Span, Box<Condition>) -> ConditionKind,
        mut operand: impl FnMut(&mut Self, Pair<'_, Rule>) -> Option<Condition>,
    ) -> Option<Condition> {
        let mut left: Option<Condition> = None;
        let mut pending = None;
        for child in pair.into_inner() {
            if child.as_rule() == joiner {
                pending = Some(span_at(&child, self.base));
                continue;
            }
            let right = operand(self, child)?;
            left = Some(match (left, pending.take()) {
                (Some(l), Some(op)) => Condition {
                    span: l.span.to(right.span),
                    kind: join(Box::new(l), op, Box::new(right)),
                },
                _ => right,
            });
        }
        left
    }

    fn cond_not(&mut self, pair: Pair<'_, Rule>) -> Option<Condition> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let first = children.any(self)?;
        if first.as_rule() == Rule::kw_not {
            let keyword = span_at(&first, self.base);
            let inner = children.expect(Rule::cond_not, self)?;
            let inner = self.cond_not(inner)?;
            return Some(Condition {
                kind: ConditionKind::Not(keyword, Box::new(inner)),
                span,
            });
        }
        self.comparison(first)
    }

    fn comparison(&mut self, pair: Pair<'_, Rule>) -> Option<Condition> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let left = children.expect(Rule::operand, self)?;
        let Some(op) = children.optional(Rule::compare_op) else {
            return self.operand(left);
        };
        let op_span = span_at(&op, self.base);
        let op = CompareOp::from_symbol(op.as_str()).unwrap_or(CompareOp::Eq);
        let left = self.operand_value(left)?;
        let right = children.expect(Rule::operand, self)?;
        let right = self.operand_value(right)?;
        Some(Condition {
            kind: ConditionKind::Compare(left, op, op_span, right),
            span,
        })
    }

    /// An operand standing alone: a value or a parenthesised condition.
    fn operand(&mut self, pair: Pair<'_, Rule>) -> Option<Condition> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        if let Some(open) = children.optional_punct(Rule::lparen) {
            let inner = children.expect(Rule::condition, self)?;
            let inner = self.condition(inner)?;
            let close = children.punct(Rule::rparen, self)?;
            return Some(Condition {
                kind: ConditionKind::Group(Braces { open, close }, Box::new(inner)),
                span,
            });
        }
        let value = children.expect(Rule::value, self)?;
        let value = self.value(value)?;
        Some(Condition {
            kind: ConditionKind::Operand(value),
            span,
        })
    }

    /// A comparison's side: a value (a parenthesised condition there is
    /// kept as the value of its lone operand when it has one, else refused).
    fn operand_value(&mut self, pair: Pair<'_, Rule>) -> Option<Value> {
        let condition = self.operand(pair)?;
        match condition.kind {
            ConditionKind::Operand(value) => Some(value),
            _ => {
                self.diagnostics.push(
                    Diagnostic::new(Code::E0101, "a comparison's side must be a value")
                        .primary(condition.span, "a condition here")
                        .help("compare values (`$<a> == 1`); join comparisons with `and` or `or`"),
                );
                None
            }
        }
    }

    pub(super) fn when_attr(&mut self, pair: Pair<'_, Rule>) -> Option<WhenAttr> {
        let span = span_at(&pair, self.base);
        let mut children = Children::of(pair, self.base);
        let keyword = span_at(&children.expect(Rule::kw_when, self)?, self.base);
        let assign = children.punct(Rule::assign, self)?;
        let condition = {
            let pair = children.expect(Rule::condition, self)?;
            self.condition(pair)?
        };
        Some(WhenAttr {
            keyword,
            assign,
            condition,
            span,
        })
    }
}
