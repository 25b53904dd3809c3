//! The untyped syntax tree: what the user wrote, in order, with spans.
//!
//! Built from pest pairs by `convert`; consumed only by `check`, which turns
//! it into the typed IR. Every node has a `span` (byte offsets into the file).

use crate::source::Span;

/// A name the user wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A whole file: normally exactly one pipeline (the checker reports otherwise).
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    /// The `pipeline` blocks, in order.
    pub pipelines: Vec<Pipeline>,
    /// The whole file.
    pub span: Span,
}

/// `pipeline NAME { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    /// The pipeline's identifier.
    pub name: Ident,
    /// Declarations and attributes, in source order.
    pub items: Vec<Item>,
    /// The whole block.
    /// `pipeline`
    pub keyword: Span,
    /// The block's `{` and `}`.
    pub braces: Braces,
    pub span: Span,
}

/// What a pipeline block holds.
///
/// (The control blocks are boxed: they are rare, and the largest (a
/// condition holds two values), so inline they would size every item of
/// every pipeline, steps included, at their 368 bytes instead of 160.
/// Attributes, params and lets are boxed too: inline they made every item,
/// a step mostly, 160 bytes where a step needs 88.)
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `name = value` (pipeline attributes: `name`, `description`).
    Attribute(Box<Attribute>),
    /// `param NAME: TYPE [= default]`.
    Param(Box<ParamDecl>),
    /// `let NAME = value`.
    Let(Box<LetDecl>),
    /// `step NAME { … }`.
    Step(StepDecl),
    /// `if CONDITION { … } [else …]`.
    If(Box<IfBlock>),
    /// `for NAME in LIST { … }`.
    For(Box<ForBlock>),
    /// `repeat max N { … } until CONDITION`.
    Repeat(Box<RepeatBlock>),
    /// `finally { … }`.
    Finally(FinallyBlock),
    /// `defaults { attributes }`.
    Defaults(DefaultsBlock),
    /// `volume NAME { attributes }`: a claim made for each run.
    Volume(NamedBlock),
}

/// `volume NAME { … }` or `sidecar NAME { … }`: a named block of attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedBlock {
    /// `volume` or `sidecar`
    pub keyword: Span,
    /// The block's identifier.
    pub name: Ident,
    pub attributes: Vec<Attribute>,
    pub braces: Braces,
    pub span: Span,
}

impl NamedBlock {
    /// The attribute called `name`, if written.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name.name == name)
    }
}

/// `defaults { NAME = value … }`: step attributes every step starts from.
#[derive(Debug, Clone, PartialEq)]
pub struct DefaultsBlock {
    /// `defaults`
    pub keyword: Span,
    pub attributes: Vec<Attribute>,
    pub braces: Braces,
    pub span: Span,
}

/// The declarations of a control block, with its braces.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Declarations, in source order.
    pub items: Vec<Item>,
    /// `{` and `}`.
    pub braces: Braces,
}

/// `if CONDITION { … } [else { … } | else if …]`.
#[derive(Debug, Clone, PartialEq)]
pub struct IfBlock {
    /// `if`
    pub keyword: Span,
    pub condition: Condition,
    pub then: Block,
    /// `else` and what follows it.
    pub otherwise: Option<Else>,
    /// From `if` to the last `}`.
    pub span: Span,
}

/// `else { … }` or `else if …`.
#[derive(Debug, Clone, PartialEq)]
pub struct Else {
    /// `else`
    pub keyword: Span,
    pub branch: ElseBranch,
}

/// What an `else` holds.
#[derive(Debug, Clone, PartialEq)]
pub enum ElseBranch {
    /// `else { … }`.
    Block(Block),
    /// `else if …`: an `else` block holding one `if`.
    If(Box<IfBlock>),
}

/// `for NAME in LIST { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForBlock {
    /// `for`
    pub keyword: Span,
    /// The loop variable.
    pub var: Ident,
    /// `in`
    pub in_keyword: Span,
    /// A list literal, a let's name, or a `$<…>` reference.
    pub list: Value,
    pub body: Block,
    pub span: Span,
}

/// `repeat max N { carry … declarations } until|while CONDITION`.
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatBlock {
    /// `repeat`
    pub keyword: Span,
    /// `max`
    pub max_keyword: Span,
    /// A number or a `$<param>`.
    pub max: Value,
    /// The `carry` lines, in source order.
    pub carries: Vec<Carry>,
    /// The other declarations.
    pub body: Block,
    /// `until` or `while`.
    pub tail_keyword: Span,
    /// Whether the tail is `until` (else `while`).
    pub until: bool,
    pub condition: Condition,
    pub span: Span,
}

/// `carry NAME = INITIAL then NEXT`.
#[derive(Debug, Clone, PartialEq)]
pub struct Carry {
    /// `carry`
    pub keyword: Span,
    pub name: Ident,
    /// `=`
    pub assign: Span,
    pub initial: Value,
    /// `then`
    pub then_keyword: Span,
    pub next: Value,
    pub span: Span,
}

/// `finally { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct FinallyBlock {
    /// `finally`
    pub keyword: Span,
    pub body: Block,
    pub span: Span,
}

/// A condition: `if`'s, `when`'s, `until`'s.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub kind: ConditionKind,
    pub span: Span,
}

/// The forms of a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionKind {
    /// `a or b` (`keyword` is `or`).
    Or(Box<Condition>, Span, Box<Condition>),
    /// `a and b`.
    And(Box<Condition>, Span, Box<Condition>),
    /// `not a` (the span is `not`'s).
    Not(Span, Box<Condition>),
    /// `a OP b`.
    Compare(Value, CompareOp, Span, Value),
    /// A lone operand (a `bool`).
    Operand(Value),
    /// `( a )`.
    Group(Braces, Box<Condition>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }

    /// The operator written `symbol`.
    pub fn from_symbol(symbol: &str) -> Option<CompareOp> {
        [
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Lt,
            CompareOp::Le,
            CompareOp::Gt,
            CompareOp::Ge,
        ]
        .into_iter()
        .find(|op| op.symbol() == symbol)
    }
}

/// `when = CONDITION` in a step.
#[derive(Debug, Clone, PartialEq)]
pub struct WhenAttr {
    /// `when`
    pub keyword: Span,
    /// `=`
    pub assign: Span,
    pub condition: Condition,
    pub span: Span,
}

/// `NAME = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// The attribute's name.
    pub name: Ident,
    /// Its value.
    pub value: Value,
    /// The whole `name = value`.
    /// `=`
    pub assign: Span,
    pub span: Span,
}

/// The types a param or an output can have (an output without a type is a `string`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `bool`.
    Bool,
    /// `list`: a JSON array of strings, numbers, bools or maps of those.
    List,
    /// `file` (v2 part 2): read so the checker can say it is not supported yet.
    File,
}

impl ParamType {
    /// The types a param may be declared with, as written after `param NAME:`.
    pub const PARAM_WORDS: &'static [&'static str] = &["string", "number", "bool", "list"];
    /// The types an output may be declared with, as written after `output [NAME]:`.
    pub const OUTPUT_WORDS: &'static [&'static str] = &["number", "bool", "list", "file"];

    /// The word the type is written as.
    pub fn word(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Number => "number",
            ParamType::Bool => "bool",
            ParamType::List => "list",
            ParamType::File => "file",
        }
    }

    /// The type a type word names.
    pub fn from_word(word: &str) -> Option<ParamType> {
        [
            ParamType::String,
            ParamType::Number,
            ParamType::Bool,
            ParamType::List,
            ParamType::File,
        ]
        .into_iter()
        .find(|ty| ty.word() == word)
    }
}

/// `param NAME: TYPE [= default]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDecl {
    /// The param's name.
    pub name: Ident,
    /// Its declared type.
    pub ty: ParamType,
    /// Where the type was written.
    pub ty_span: Span,
    /// The default, when given.
    pub default: Option<Value>,
    /// The whole declaration.
    /// `param`
    pub keyword: Span,
    /// `:`
    pub colon: Span,
    /// `=` before the default.
    pub assign: Option<Span>,
    pub span: Span,
}

/// `let NAME = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct LetDecl {
    /// The let's name.
    pub name: Ident,
    /// Its value.
    pub value: Value,
    /// The whole declaration.
    /// `let`
    pub keyword: Span,
    /// `=`
    pub assign: Span,
    pub span: Span,
}

/// `step NAME { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct StepDecl {
    /// The step's name.
    pub name: Ident,
    /// Attributes, metrics and outputs, in source order.
    pub items: Vec<StepItem>,
    /// The whole block.
    /// `step`
    pub keyword: Span,
    /// The block's `{` and `}`.
    pub braces: Braces,
    pub span: Span,
}

/// What a step block holds.
///
/// (`when` is boxed: its condition makes it the largest item (160 bytes,
/// against an attribute's 104), and a step holds one at most.)
#[derive(Debug, Clone, PartialEq)]
pub enum StepItem {
    /// `name = value`.
    Attribute(Attribute),
    /// `metric "NAME" [: format]`.
    Metric(MetricDecl),
    /// `output NAME`.
    Output(OutputDecl),
    /// `when = CONDITION`.
    When(Box<WhenAttr>),
    /// `sidecar NAME { attributes }`: a helper beside the step.
    Sidecar(NamedBlock),
}

/// How a metric is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricFormat {
    /// As it is.
    Raw,
    /// A fraction shown as a percent.
    Percentage,
}

/// `metric "NAME" [: raw | percentage]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDecl {
    /// The metric's name (a string literal).
    pub name: StringLit,
    /// The format, when written.
    pub format: Option<(MetricFormat, Span)>,
    /// The whole declaration.
    /// `metric`
    pub keyword: Span,
    /// `:` before the format.
    pub colon: Option<Span>,
    pub span: Span,
}

/// `output NAME`, `output NAME: TYPE` or `output: TYPE`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputDecl {
    /// The output's name (`output`, spanning the keyword, for `output: TYPE`).
    pub name: Ident,
    /// Whether this types the implicit `output` (`output: TYPE`, no name).
    pub implicit: bool,
    /// `:` and the type, when written.
    pub ty: Option<(Span, ParamType, Span)>,
    /// The whole declaration.
    /// `output`
    pub keyword: Span,
    pub span: Span,
}

/// A value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// What kind of value.
    pub kind: ValueKind,
    /// Where it was written.
    pub span: Span,
}

/// The kinds of values.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    /// A string of either form.
    String(StringLit),
    /// A number, with the text it was written as (kept for faithful output).
    Number(Number),
    /// `true` or `false`.
    Bool(bool),
    /// A name: a `let`, or a step inside `after`.
    Ident(Ident),
    /// `[a, b]`.
    List(Bracketed<Value>),
    /// `{ KEY = value }`.
    Map(Bracketed<MapEntry>),
    /// A bare `$<…>` (a condition's operand, a loop's list). Boxed: rare,
    /// its 72 bytes would size every value (every attribute's) instead of 48.
    Ref(Box<Interp>),
}

/// A number literal.
/// The opening and closing bracket of a block, list or map: where the
/// printer and the editor find them, without searching the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Braces {
    pub open: Span,
    pub close: Span,
}

/// A list's elements or a map's entries, with their brackets.
#[derive(Debug, Clone, PartialEq)]
pub struct Bracketed<T> {
    pub items: Vec<T>,
    pub braces: Braces,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    /// Its value.
    pub value: f64,
    /// Exactly as written, e.g. `0.01`.
    pub text: String,
}

/// `KEY = value` inside a map.
#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    /// The key (a bare word or a string, unescaped).
    pub key: Ident,
    /// The value.
    pub value: Value,
    /// The whole entry.
    /// `=`
    pub assign: Span,
    pub span: Span,
}

/// A string literal, already unescaped (and dedented, for `"""`).
#[derive(Debug, Clone, PartialEq)]
pub struct StringLit {
    /// Text and interpolations, in order; adjacent text is merged.
    pub parts: Vec<StringPart>,
    /// Whether it was written with `"""`.
    pub triple: bool,
    /// The whole literal, quotes included.
    pub span: Span,
}

impl StringLit {
    /// The text when the string has no interpolation.
    pub(crate) fn as_plain(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                StringPart::Text { text, .. } => out.push_str(text),
                StringPart::Interp(_) => return None,
            }
        }
        Some(out)
    }
}

/// A piece of a string.
#[derive(Debug, Clone, PartialEq)]
pub enum StringPart {
    /// Literal text.
    Text {
        /// The text.
        text: String,
        /// Where it came from (for dedented text, the whole source range).
        span: Span,
    },
    /// `$<name>` or `$<step.output>`.
    Interp(Interp),
}

/// `$<head>` or `$<head.field>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Interp {
    /// A param, a let or a step.
    pub head: Ident,
    /// An output of the step `head`.
    pub field: Option<Ident>,
    /// From `$<` to `>`.
    pub span: Span,
}

impl Item {
    /// The whole declaration.
    pub fn span(&self) -> Span {
        match self {
            Item::Attribute(a) => a.span,
            Item::Param(p) => p.span,
            Item::Let(l) => l.span,
            Item::Step(s) => s.span,
            Item::If(b) => b.span,
            Item::For(b) => b.span,
            Item::Repeat(b) => b.span,
            Item::Finally(b) => b.span,
            Item::Defaults(b) => b.span,
            Item::Volume(b) => b.span,
        }
    }

    /// The blocks of declarations a control block holds, in source order
    /// (an `if`'s `else` blocks too); none for other declarations.
    pub fn blocks(&self) -> Vec<&Block> {
        match self {
            Item::If(block) => block.blocks(),
            Item::For(block) => vec![&block.body],
            Item::Repeat(block) => vec![&block.body],
            Item::Finally(block) => vec![&block.body],
            Item::Attribute(_)
            | Item::Param(_)
            | Item::Let(_)
            | Item::Step(_)
            | Item::Defaults(_)
            | Item::Volume(_) => Vec::new(),
        }
    }

    /// The values a control block's head and tail read: an `if`'s
    /// conditions (its `else if`s' too), a `for`'s list, a repeat's `max`,
    /// carries and condition.
    pub fn head_values(&self) -> Vec<&Value> {
        let mut out = Vec::new();
        match self {
            Item::If(block) => {
                let mut next = Some(block);
                while let Some(block) = next {
                    block.condition.collect_values(&mut out);
                    next = match block.otherwise.as_ref().map(|e| &e.branch) {
                        Some(ElseBranch::If(nested)) => Some(nested),
                        _ => None,
                    };
                }
            }
            Item::For(block) => out.push(&block.list),
            Item::Repeat(block) => {
                out.push(&block.max);
                for carry in &block.carries {
                    out.extend([&carry.initial, &carry.next]);
                }
                block.condition.collect_values(&mut out);
            }
            _ => {}
        }
        out
    }
}

impl IfBlock {
    /// The `if` block, then the `else` blocks (an `else if`'s included).
    pub fn blocks(&self) -> Vec<&Block> {
        let mut out = vec![&self.then];
        match self.otherwise.as_ref().map(|e| &e.branch) {
            Some(ElseBranch::Block(block)) => out.push(block),
            Some(ElseBranch::If(nested)) => out.extend(nested.blocks()),
            None => {}
        }
        out
    }
}

impl Condition {
    /// The operands, left to right.
    pub fn values(&self) -> Vec<&Value> {
        let mut out = Vec::new();
        self.collect_values(&mut out);
        out
    }

    fn collect_values<'a>(&'a self, out: &mut Vec<&'a Value>) {
        match &self.kind {
            ConditionKind::Or(left, _, right) | ConditionKind::And(left, _, right) => {
                left.collect_values(out);
                right.collect_values(out);
            }
            ConditionKind::Not(_, inner) | ConditionKind::Group(_, inner) => {
                inner.collect_values(out)
            }
            ConditionKind::Compare(left, _, _, right) => out.extend([left, right]),
            ConditionKind::Operand(value) => out.push(value),
        }
    }
}

/// Calls `visit` on every declaration in `items` and in the blocks they
/// hold, depth first, in source order.
pub fn walk<'a>(items: &'a [Item], visit: &mut impl FnMut(&'a Item)) {
    for item in items {
        visit(item);
        for block in item.blocks() {
            walk(&block.items, visit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every attribute holds a value and the AST holds every step's
    /// attributes: a large, rare kind of value must stay boxed.
    #[test]
    fn a_value_stays_small() {
        assert!(size_of::<Value>() <= 56, "{} bytes", size_of::<Value>());
    }
}
