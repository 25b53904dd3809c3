//! Hover, completion and formatting.

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionTextEdit, Hover, HoverContents, InsertTextFormat,
    InsertTextMode, MarkupContent, MarkupKind, Range, TextEdit,
};

use super::analysis::{Analysis, Target, outputs};
use super::fixes;
use super::text::LineIndex;
use crate::diagnostics::{Code, Diagnostic};
use crate::repl::complete::{self, Completion, Names};
use crate::source::{SourceFile, Span};
use crate::syntax::ast::{self, Item, StepItem};
use crate::syntax::lex;

/// The doc line of an attribute (the checker keeps them with its attribute list).
pub fn attribute_doc(name: &str) -> Option<&'static str> {
    crate::check::attribute_doc(name)
}

/// What to show for the cursor at `offset`: a name's declaration, an
/// attribute's doc line, a code's explain page (a code written in the text,
/// or the code of a diagnostic at the cursor).
pub fn hover(
    analysis: &Analysis,
    text: &str,
    offset: usize,
    diagnostics: &[Diagnostic],
) -> Option<(String, Span)> {
    if let Some(occurrence) = analysis.at(offset) {
        let markdown = match &occurrence.target {
            Target::Value(name) => value_hover(analysis, text, name),
            Target::Step(name) => analysis.step(name).map(|step| step_hover(text, step)),
            Target::Output(step, output) => output_hover(analysis, text, step, output),
        };
        if let Some(markdown) = markdown {
            return Some((markdown, occurrence.span));
        }
    }
    let word = word_at(text, offset);
    let word_text = &text[word.range()];
    if let Some(code) = Code::parse(word_text) {
        return Some((code.explanation().to_string(), word));
    }
    if let Some(doc) = attribute_doc(word_text).filter(|_| is_attribute_name(analysis, word)) {
        return Some((format!("`{word_text}`: {doc}"), word));
    }
    let diagnostic = diagnostics.iter().find(|d| {
        let span = d.span();
        span.start as usize <= offset && offset <= span.end as usize && !span.is_empty()
    })?;
    let code = diagnostic.code;
    let markdown = format!(
        "**{}** {}\n\n{}",
        code.as_str(),
        code.summary(),
        code.explanation()
    );
    Some((markdown, diagnostic.span()))
}

/// The hover as LSP's type.
pub fn to_hover(index: &LineIndex<'_>, (markdown, span): (String, Span)) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: markdown,
        }),
        range: Some(index.range(span)),
    }
}

fn value_hover(analysis: &Analysis, text: &str, name: &str) -> Option<String> {
    if let Some(param) = analysis.param(name) {
        let ty = slice(text, param.ty_span);
        let default = param
            .default
            .as_ref()
            .map(|v| format!(" = {}", slice(text, v.span)))
            .unwrap_or_default();
        let description = comment_above(text, param.span.start as usize);
        let mut out = format!("```kfp\nparam {name}: {ty}{default}\n```");
        if param.default.is_none() {
            out.push_str("\n\nno default: give it with `-p NAME=VALUE`");
        }
        if !description.is_empty() {
            out.push_str(&format!("\n\n{description}"));
        }
        return Some(out);
    }
    let decl = analysis.let_decl(name)?;
    let value = slice(text, decl.value.span);
    let description = comment_above(text, decl.span.start as usize);
    let mut out = format!("```kfp\nlet {name} = {value}\n```");
    if !description.is_empty() {
        out.push_str(&format!("\n\n{description}"));
    }
    Some(out)
}

fn step_hover(text: &str, step: &ast::StepDecl) -> String {
    let attribute = |name: &str| {
        step.items.iter().find_map(|item| match item {
            StepItem::Attribute(a) if a.name.name == name => Some(slice(text, a.value.span)),
            _ => None,
        })
    };
    let mut out = format!("```kfp\nstep {}\n```\n", step.name.name);
    out.push_str(&format!(
        "- image: `{}`\n",
        attribute("image").unwrap_or("?")
    ));
    out.push_str(&format!("- gpus: {}\n", attribute("gpus").unwrap_or("0")));
    let outputs = outputs(step);
    out.push_str(&format!("- outputs: {}", outputs.join(", ")));
    out
}

fn output_hover(analysis: &Analysis, text: &str, step: &str, output: &str) -> Option<String> {
    let decl = analysis.step(step)?;
    let known = outputs(decl).iter().any(|o| o == output);
    let what = if known {
        format!("output `{output}` of step `{step}`")
    } else {
        format!("step `{step}` has no output `{output}`")
    };
    Some(format!("{what}\n\n{}", step_hover(text, decl)))
}

/// The text of a span; a repaired AST's span may reach past the real text.
fn slice(text: &str, span: Span) -> &str {
    text.get(span.range()).unwrap_or("…")
}

/// The comment lines right above a declaration, without their `#`.
fn comment_above(text: &str, start: usize) -> String {
    let line_start = text
        .get(..start)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |n| n + 1);
    let before = &text[..line_start];
    let mut lines: Vec<&str> = before
        .lines()
        .rev()
        .map(str::trim)
        .take_while(|line| line.starts_with('#'))
        .map(|line| line.trim_start_matches('#').trim())
        .collect();
    lines.reverse();
    lines.join("\n")
}

/// The word (`[A-Za-z0-9_]+`) around `offset`.
fn word_at(text: &str, offset: usize) -> Span {
    let bytes = text.as_bytes();
    let offset = offset.min(bytes.len());
    let start = bytes[..offset]
        .iter()
        .rposition(|&b| !lex::is_word_byte(b))
        .map_or(0, |n| n + 1);
    let end = bytes[offset..]
        .iter()
        .position(|&b| !lex::is_word_byte(b))
        .map_or(bytes.len(), |n| offset + n);
    Span::new(start, end)
}

/// Whether `word` is the name of an attribute (`NAME = …`) in the AST.
fn is_attribute_name(analysis: &Analysis, word: Span) -> bool {
    let Some(pipeline) = analysis.pipeline() else {
        return false;
    };
    pipeline.items.iter().any(|item| match item {
        Item::Attribute(a) => a.name.span == word,
        Item::Step(step) => step.items.iter().any(|item| match item {
            StepItem::Attribute(a) => a.name.span == word,
            _ => false,
        }),
        _ => false,
    })
}

/// The names declared in the file, for completion.
fn names(analysis: &Analysis) -> Names {
    let mut names = Names::default();
    let Some(pipeline) = analysis.pipeline() else {
        return names;
    };
    ast::walk(&pipeline.items, &mut |item| match item {
        Item::Param(p) => names.params.push(p.name.name.clone()),
        Item::Let(l) => names.lets.push(l.name.name.clone()),
        Item::Step(s) => names.steps.push((s.name.name.clone(), outputs(s))),
        Item::For(f) => names.lets.push(f.var.name.clone()),
        Item::Repeat(r) => names
            .lets
            .extend(r.carries.iter().map(|c| c.name.name.clone())),
        Item::Attribute(_)
        | Item::If(_)
        | Item::Finally(_)
        | Item::Defaults(_)
        | Item::Volume(_) => {}
    });
    names
}

/// Completion at `offset`: the REPL's completion logic (keywords and
/// attributes valid at the cursor, names after `$<`, outputs after
/// `$<step.`, `raw`/`percentage`) with the file's names. Where `step` may
/// start a declaration and the client takes snippets, `step` is a snippet
/// of a whole step.
pub fn completion(
    analysis: &Analysis,
    text: &str,
    offset: usize,
    snippets: bool,
) -> Vec<CompletionItem> {
    let names = names(analysis);
    let Completion::Words { start, words } = complete::complete(text, offset, &names) else {
        return Vec::new();
    };
    let index = LineIndex::new(text);
    let range = index.range(Span::new(start, offset.max(start)));
    words
        .into_iter()
        .map(|word| {
            if snippets && word == "step" {
                return step_snippet(range, &fixes::line_indent(text, start));
            }
            let kind = completion_kind(&word, &names);
            let detail = attribute_doc(word.trim_end_matches(['>', '.'])).map(str::to_string);
            CompletionItem {
                label: word.clone(),
                kind: Some(kind),
                detail,
                text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(range, word))),
                ..CompletionItem::default()
            }
        })
        .collect()
}

/// A new step with its two required attributes, as a snippet: its lines
/// carry the cursor line's `indent` themselves (inserted as is, so the
/// client does not indent them again).
fn step_snippet(range: Range, indent: &str) -> CompletionItem {
    let snippet = format!(
        "step ${{1:name}} {{\n{indent}  image = \"${{2:python:3.12}}\"\n{indent}  command = \"${{3}}\"\n{indent}}}"
    );
    CompletionItem {
        label: "step".into(),
        kind: Some(CompletionItemKind::SNIPPET),
        detail: Some("a new step with its image and command".into()),
        insert_text_format: Some(InsertTextFormat::SNIPPET),
        insert_text_mode: Some(InsertTextMode::AS_IS),
        text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(range, snippet))),
        ..CompletionItem::default()
    }
}

fn completion_kind(word: &str, names: &Names) -> CompletionItemKind {
    let bare = word.trim_end_matches(['>', '.']);
    if crate::syntax::KEYWORDS.contains(&bare) {
        CompletionItemKind::KEYWORD
    } else if names.steps.iter().any(|(s, _)| s == bare) || word.contains('.') {
        CompletionItemKind::FUNCTION
    } else if names.params.iter().chain(&names.lets).any(|n| n == bare) {
        CompletionItemKind::VARIABLE
    } else if attribute_doc(bare).is_some() {
        CompletionItemKind::PROPERTY
    } else {
        CompletionItemKind::ENUM_MEMBER
    }
}

/// The whole file formatted by `kfpl fmt`, as one edit; `None` when it is
/// formatted already; an error when it cannot be formatted (syntax errors).
pub fn formatting(text: &str) -> Result<Option<TextEdit>, String> {
    let file = SourceFile::new("<lsp>", text);
    match crate::fmt::format(&file) {
        Ok(formatted) if formatted == text => Ok(None),
        Ok(formatted) => {
            let index = LineIndex::new(text);
            let whole = index.range(Span::new(0, text.len()));
            Ok(Some(TextEdit::new(whole, formatted)))
        }
        Err(diagnostics) => Err(format!(
            "cannot format a file with errors: {}",
            diagnostics.first().map_or(String::new(), |d| format!(
                "{} {}",
                d.code.as_str(),
                d.message
            ))
        )),
    }
}

/// Inlay hints: the type after each use of a param (`$<lr>: number`),
/// as (the offset after the name, the label).
pub fn inlay_hints(analysis: &Analysis, text: &str, wanted: Span) -> Vec<(usize, String)> {
    analysis
        .occurrences
        .iter()
        .filter(|o| !o.declaration && wanted.start <= o.span.start && o.span.end <= wanted.end)
        .filter_map(|o| {
            let Target::Value(name) = &o.target else {
                return None;
            };
            let param = analysis.param(name)?;
            let ty = text.get(param.ty_span.range())?;
            Some((o.span.end as usize, format!(": {ty}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_attribute_has_a_doc_line() {
        for attribute in crate::check::STEP_ATTRIBUTES {
            assert!(attribute_doc(attribute).is_some(), "{attribute}");
        }
    }

    #[test]
    fn the_comment_above_a_param_is_its_description() {
        let text = "pipeline p {\n  # How fast it learns.\n  # Small is safe.\n  param lr: number = 0.1\n}\n";
        let analysis = Analysis::new(text);
        let at = text.find("lr:").expect("decl");
        let (markdown, _) = hover(&analysis, text, at, &[]).expect("hover");
        assert!(markdown.contains("param lr: number = 0.1"), "{markdown}");
        assert!(
            markdown.contains("How fast it learns.\nSmall is safe."),
            "{markdown}"
        );
    }

    #[test]
    fn step_is_a_snippet_only_for_a_client_that_takes_snippets() {
        let text = "pipeline p {\n  param lr: number = 1\n  st";
        let analysis = Analysis::new(text);
        let step = |snippets| {
            completion(&analysis, text, text.len(), snippets)
                .into_iter()
                .find(|item| item.label == "step")
                .expect("`step` is offered")
        };
        let snippet = step(true);
        assert_eq!(snippet.insert_text_format, Some(InsertTextFormat::SNIPPET));
        let Some(CompletionTextEdit::Edit(edit)) = snippet.text_edit else {
            panic!("a text edit")
        };
        assert!(
            edit.new_text
                .starts_with("step ${1:name} {\n    image = \"${2:python:3.12}\"\n"),
            "{}",
            edit.new_text
        );
        assert!(edit.new_text.ends_with("\n  }"), "{}", edit.new_text);
        let keyword = step(false);
        assert_eq!(keyword.insert_text_format, None);
        assert_eq!(keyword.kind, Some(CompletionItemKind::KEYWORD));
    }
}
