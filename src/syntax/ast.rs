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
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `name = value` (pipeline attributes: `name`, `description`).
    Attribute(Attribute),
    /// `param NAME: TYPE [= default]`.
    Param(ParamDecl),
    /// `let NAME = value`.
    Let(LetDecl),
    /// `step NAME { … }`.
    Step(StepDecl),
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
#[derive(Debug, Clone, PartialEq)]
pub enum StepItem {
    /// `name = value`.
    Attribute(Attribute),
    /// `metric "NAME" [: format]`.
    Metric(MetricDecl),
    /// `output NAME`.
    Output(OutputDecl),
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
