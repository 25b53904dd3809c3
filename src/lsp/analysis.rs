//! What the editor features read: the file's AST (repaired when a lexical
//! error stopped the parser) and every declaration and use of a name.
//!
//! Diagnostics never come from here: they are `kfpl::check`'s on the real
//! text. This is for navigation, completion and the outline, which must
//! keep working while the user types an unclosed string or half a step.

use crate::source::{SourceFile, Span};
use crate::syntax::ast::{self, Item, StepItem, StringPart, Value, ValueKind};
use crate::syntax::lex::{self, Kind};

/// What a name refers to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// A param or a let (they share one namespace).
    Value(String),
    /// A step.
    Step(String),
    /// An output of a step: `(step, output)`.
    Output(String, String),
}

/// One occurrence of a name: its declaration or a use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub target: Target,
    /// The name as written.
    pub span: Span,
    /// Whether this is the declaration.
    pub declaration: bool,
}

/// The AST and its names.
#[derive(Debug)]
pub struct Analysis {
    /// The (possibly partial, possibly repaired) program; `None` only when
    /// even the repaired text could not be read.
    pub program: Option<ast::Program>,
    /// Declarations and uses, in source order.
    pub occurrences: Vec<Occurrence>,
}

impl Analysis {
    /// Analyses `text`.
    pub fn new(text: &str) -> Analysis {
        let program = tool_program(text);
        let mut occurrences = Vec::new();
        if let Some(program) = &program {
            for pipeline in &program.pipelines {
                collect_pipeline(pipeline, &mut occurrences);
            }
        }
        occurrences.sort_by_key(|o| o.span.start);
        Analysis {
            program,
            occurrences,
        }
    }

    /// The pipeline the features work on (the file's first).
    pub fn pipeline(&self) -> Option<&ast::Pipeline> {
        self.program.as_ref()?.pipelines.first()
    }

    /// The occurrence under byte `offset` (its end counts: the cursor
    /// just after a name is on it).
    pub fn at(&self, offset: usize) -> Option<&Occurrence> {
        let offset = offset as u32;
        self.occurrences
            .iter()
            .find(|o| o.span.start <= offset && offset <= o.span.end)
    }

    /// Every occurrence of `target`, declaration first.
    pub fn of<'a>(&'a self, target: &'a Target) -> impl Iterator<Item = &'a Occurrence> + 'a {
        let declarations = self
            .occurrences
            .iter()
            .filter(move |o| o.declaration && &o.target == target);
        let uses = self
            .occurrences
            .iter()
            .filter(move |o| !o.declaration && &o.target == target);
        declarations.chain(uses)
    }

    /// Where `target` is declared: an output without an `output` line (the
    /// implicit `output`) is declared by its step.
    pub fn declaration(&self, target: &Target) -> Option<Span> {
        let declared = |t: &Target| {
            self.occurrences
                .iter()
                .find(|o| o.declaration && &o.target == t)
                .map(|o| o.span)
        };
        declared(target).or_else(|| match target {
            Target::Output(step, _) => declared(&Target::Step(step.clone())),
            _ => None,
        })
    }

    /// The step declaration named `name`.
    pub fn step(&self, name: &str) -> Option<&ast::StepDecl> {
        self.pipeline()?.items.iter().find_map(|item| match item {
            Item::Step(step) if step.name.name == name => Some(step),
            _ => None,
        })
    }

    /// The param declaration named `name`.
    pub fn param(&self, name: &str) -> Option<&ast::ParamDecl> {
        self.pipeline()?.items.iter().find_map(|item| match item {
            Item::Param(param) if param.name.name == name => Some(&**param),
            _ => None,
        })
    }

    /// The let declaration named `name`.
    pub fn let_decl(&self, name: &str) -> Option<&ast::LetDecl> {
        self.pipeline()?.items.iter().find_map(|item| match item {
            Item::Let(decl) if decl.name.name == name => Some(&**decl),
            _ => None,
        })
    }
}

/// The outputs a step has: `output` always, then those it declares.
pub fn outputs(step: &ast::StepDecl) -> Vec<String> {
    let mut out = vec!["output".to_string()];
    for item in &step.items {
        if let StepItem::Output(decl) = item
            && !out.contains(&decl.name.name)
        {
            out.push(decl.name.name.clone());
        }
    }
    out
}

fn collect_pipeline(pipeline: &ast::Pipeline, out: &mut Vec<Occurrence>) {
    let declare = |target, span| Occurrence {
        target,
        span,
        declaration: true,
    };
    ast::walk(&pipeline.items, &mut |item| {
        for value in item.head_values() {
            collect_value(value, false, out);
        }
        match item {
            Item::Attribute(attribute) => collect_value(&attribute.value, false, out),
            Item::Volume(ast::NamedBlock { attributes, .. })
            | Item::Defaults(ast::DefaultsBlock { attributes, .. }) => {
                for attribute in attributes {
                    collect_value(&attribute.value, false, out);
                }
            }
            Item::Param(param) => {
                out.push(declare(
                    Target::Value(param.name.name.clone()),
                    param.name.span,
                ));
                if let Some(default) = &param.default {
                    collect_value(default, false, out);
                }
            }
            Item::Let(decl) => {
                out.push(declare(
                    Target::Value(decl.name.name.clone()),
                    decl.name.span,
                ));
                collect_value(&decl.value, false, out);
            }
            Item::Step(step) => {
                out.push(declare(
                    Target::Step(step.name.name.clone()),
                    step.name.span,
                ));
                collect_step(step, out);
            }
            Item::For(block) => out.push(declare(
                Target::Value(block.var.name.clone()),
                block.var.span,
            )),
            Item::Repeat(block) => {
                for carry in &block.carries {
                    out.push(declare(
                        Target::Value(carry.name.name.clone()),
                        carry.name.span,
                    ));
                }
            }
            Item::If(_) | Item::Finally(_) => {}
        }
    });
}

fn collect_step(step: &ast::StepDecl, out: &mut Vec<Occurrence>) {
    for item in &step.items {
        match item {
            StepItem::Attribute(attribute) => {
                let after = attribute.name.name == "after";
                collect_value(&attribute.value, after, out);
            }
            StepItem::Output(decl) => out.push(Occurrence {
                target: Target::Output(step.name.name.clone(), decl.name.name.clone()),
                span: decl.name.span,
                declaration: true,
            }),
            StepItem::When(when) => {
                for value in when.condition.values() {
                    collect_value(value, false, out);
                }
            }
            StepItem::Sidecar(sidecar) => {
                for attribute in &sidecar.attributes {
                    collect_value(&attribute.value, false, out);
                }
            }
            StepItem::Metric(_) => {}
        }
    }
}

/// Uses inside a value; a bare name is a step inside `after`, else a let.
fn collect_value(value: &Value, in_after: bool, out: &mut Vec<Occurrence>) {
    let uses = |target, span| Occurrence {
        target,
        span,
        declaration: false,
    };
    match &value.kind {
        ValueKind::Ident(ident) => {
            let target = if in_after {
                Target::Step(ident.name.clone())
            } else {
                Target::Value(ident.name.clone())
            };
            out.push(uses(target, ident.span));
        }
        ValueKind::String(string) => {
            for part in &string.parts {
                if let StringPart::Interp(interp) = part {
                    collect_interp(interp, out);
                }
            }
        }
        ValueKind::Ref(interp) => collect_interp(interp, out),
        ValueKind::List(list) => {
            for item in &list.items {
                collect_value(item, in_after, out);
            }
        }
        ValueKind::Map(map) => {
            for entry in &map.items {
                collect_value(&entry.value, false, out);
            }
        }
        ValueKind::Number(_) | ValueKind::Bool(_) => {}
    }
}

/// A `$<name>` or `$<step.output>` use.
fn collect_interp(interp: &ast::Interp, out: &mut Vec<Occurrence>) {
    let uses = |target, span| Occurrence {
        target,
        span,
        declaration: false,
    };
    let head = &interp.head.name;
    match &interp.field {
        None => out.push(uses(Target::Value(head.clone()), interp.head.span)),
        Some(field) => {
            out.push(uses(Target::Step(head.clone()), interp.head.span));
            let output = Target::Output(head.clone(), field.name.clone());
            out.push(uses(output, field.span));
        }
    }
}

/// The program the tools read. When a lexical error (an unclosed string or
/// bracket) stopped the parser, the text is repaired first: each unclosed
/// string is closed where it opens, unmatched closers are blanked and
/// missing closers appended. Earlier offsets do not move, so the AST's
/// spans still point into the real text.
fn tool_program(text: &str) -> Option<ast::Program> {
    let parse = |text: &str| crate::syntax::parse(&SourceFile::new("<lsp>", text)).program;
    parse(text).or_else(|| parse(&balance_brackets(&close_strings(text))))
}

/// `text` with each unclosed string made an empty one, the same length.
fn close_strings(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for token in lex::lex(text) {
        if token.kind != Kind::Quote || !token.open {
            continue;
        }
        let start = token.span.start as usize;
        let end = lex::line_end(text, start);
        // `"…` becomes `""  …  `; a quote at a line's end becomes a space.
        for byte in &mut bytes[start..end] {
            *byte = b' ';
        }
        if end >= start + 2 {
            bytes[start] = b'"';
            bytes[start + 1] = b'"';
        }
    }
    // Only ASCII bytes replaced whole characters' bytes: still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
}

/// `text` with unmatched closing brackets blanked and the missing closers
/// supplied: before a `step`, `param` or `let` that starts a line inside
/// another block (half a step was typed above it), in the blank space
/// before that word; the rest at the end.
fn balance_brackets(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let mut open: Vec<u8> = Vec::new();
    let mut space_before: Option<Span> = None;
    for token in lex::lex(text) {
        let start = token.span.start as usize;
        match token.kind {
            Kind::Space => {
                space_before = Some(token.span).filter(|s| text[s.range()].contains('\n'));
                continue;
            }
            Kind::LBrace => open.push(b'}'),
            Kind::LBracket => open.push(b']'),
            Kind::LParen => open.push(b')'),
            Kind::RBrace | Kind::RBracket | Kind::RParen => {
                if open.last() == Some(&text.as_bytes()[start]) {
                    open.pop();
                } else {
                    bytes[start] = b' ';
                }
            }
            Kind::Word if open.len() > 1 && PIPELINE_HEADS.contains(&token.text(text)) => {
                if let Some(space) = space_before {
                    // Closers in the blank space, innermost first: offsets do not move.
                    for slot in space.range() {
                        if open.len() <= 1 {
                            break;
                        }
                        bytes[slot] = open.pop().unwrap_or(b' ');
                    }
                }
            }
            _ => {}
        }
        space_before = None;
    }
    while let Some(closer) = open.pop() {
        bytes.extend_from_slice(b"\n");
        bytes.push(closer);
    }
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
}

/// Words that start a declaration in a pipeline, never inside a step.
const PIPELINE_HEADS: &[&str] = &["param", "let", "step"];

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "pipeline p {\n  param lr: number = 1\n  let d = \"x\"\n  step a {\n    image = d\n    command = \"$<lr>\"\n    output model\n  }\n  step b {\n    image = \"i\"\n    command = \"$<a.model> $<a.output>\"\n    after = [a]\n  }\n}\n";

    fn uses(analysis: &Analysis, target: &Target) -> Vec<String> {
        analysis
            .of(target)
            .map(|o| {
                format!(
                    "{}{}",
                    if o.declaration { "decl " } else { "" },
                    o.span.start
                )
            })
            .collect()
    }

    #[test]
    fn declarations_and_uses_of_each_kind() {
        let analysis = Analysis::new(TEXT);
        let a = Target::Step("a".into());
        assert_eq!(uses(&analysis, &a).len(), 4); // decl, two $<a.…>, after
        assert_eq!(uses(&analysis, &Target::Value("d".into())).len(), 2);
        assert_eq!(uses(&analysis, &Target::Value("lr".into())).len(), 2);
        let implicit = Target::Output("a".into(), "output".into());
        assert_eq!(analysis.declaration(&implicit), analysis.declaration(&a));
    }

    #[test]
    fn an_unclosed_string_or_half_a_step_keeps_the_rest() {
        let broken = TEXT.replace("image = \"i\"", "image = \"i");
        let analysis = Analysis::new(&broken);
        assert!(analysis.step("a").is_some());
        assert!(analysis.step("b").is_some());
        let half = format!("{}  step c {{\n    image = \n", &TEXT[..TEXT.len() - 2]);
        let analysis = Analysis::new(&half);
        assert!(analysis.step("a").is_some() && analysis.param("lr").is_some());
        let above = TEXT.replacen("  step b {", "  step c {\n    image = \"x\n\n  step b {", 1);
        let analysis = Analysis::new(&above);
        assert!(analysis.step("b").is_some() && analysis.step("c").is_some());
    }
}
