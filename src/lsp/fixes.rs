//! Quick fixes: edits offered for `kfpl check`'s diagnostics. Each reads
//! what the checker decided (its code, its help line) and finds where to
//! edit in the AST, never by searching the text.

use super::analysis::{Analysis, Target};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{self, Item, StepItem, Value, ValueKind};
use crate::syntax::lex;

/// One quick fix: a title and the edits that make it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<(Span, String)>,
    /// Whether it is the fix to apply without asking (a spelling fix).
    pub preferred: bool,
}

/// The fixes for the diagnostics overlapping `wanted`, without repeats
/// (an output used twice gives two diagnostics and one fix).
pub fn quick_fixes(
    analysis: &Analysis,
    text: &str,
    diagnostics: &[Diagnostic],
    wanted: Span,
) -> Vec<Fix> {
    let mut fixes: Vec<Fix> = Vec::new();
    let overlapping = diagnostics.iter().filter(|d| {
        let span = d.span();
        span.start <= wanted.end && wanted.start <= span.end
    });
    for diagnostic in overlapping {
        let found = [
            did_you_mean(text, diagnostic),
            add_output(analysis, text, diagnostic),
            quote_literal(analysis, diagnostic),
        ];
        for fix in found.into_iter().flatten() {
            if !fixes.contains(&fix) {
                fixes.push(fix);
            }
        }
    }
    fixes
}

/// A diagnostic whose help says "did you mean `X`?": replace the name.
/// Offered only where the diagnostic's span is one word.
fn did_you_mean(text: &str, diagnostic: &Diagnostic) -> Option<Fix> {
    let help = diagnostic.help.as_deref()?;
    let suggestion = help.strip_prefix("did you mean `")?.strip_suffix("`?")?;
    let span = diagnostic.span();
    let word = text.get(span.range())?;
    let is_word = !word.is_empty() && word.bytes().all(lex::is_word_byte);
    is_word.then(|| Fix {
        title: format!("replace `{word}` with `{suggestion}`"),
        edits: vec![(span, suggestion.to_string())],
        preferred: true,
    })
}

/// E0202 (`$<step.name>` names an output the step does not declare):
/// declare it, `output name` on a new line just before the step's `}`.
/// Preferred unless a spelling fix is offered too.
fn add_output(analysis: &Analysis, text: &str, diagnostic: &Diagnostic) -> Option<Fix> {
    if diagnostic.code != Code::E0202 {
        return None;
    }
    let span = diagnostic.span();
    let occurrence = analysis.occurrences.iter().find(|o| o.span == span)?;
    let Target::Output(step_name, output) = &occurrence.target else {
        return None;
    };
    let step = analysis.step(step_name)?;
    let (at, new_text) = before_close(text, step, &format!("output {output}"))?;
    let spelling = diagnostic
        .help
        .as_deref()
        .is_some_and(|h| h.starts_with("did you mean"));
    Some(Fix {
        title: format!("declare `output {output}` in step `{step_name}`"),
        edits: vec![(Span::new(at, at), new_text)],
        preferred: !spelling,
    })
}

/// Where and what to insert so that `line` is a new line of `step`'s
/// block, at its items' indentation, just before its `}`.
fn before_close(text: &str, step: &ast::StepDecl, line: &str) -> Option<(usize, String)> {
    let close = step.braces.close.start as usize;
    // A repaired AST's `}` may be one the user has not typed yet.
    if text.get(close..close + 1) != Some("}") {
        return None;
    }
    let close_indent = line_indent(text, close);
    let indent = items_indent(text, step).unwrap_or_else(|| format!("{close_indent}  "));
    let close_line_start = line_start(text, close);
    if text[close_line_start..close].trim().is_empty() {
        Some((close_line_start, format!("{indent}{line}\n")))
    } else {
        Some((close, format!("\n{indent}{line}\n{close_indent}")))
    }
}

/// The indentation of the step's first item, when it starts its own line.
fn items_indent(text: &str, step: &ast::StepDecl) -> Option<String> {
    let first = step.items.first().map(|item| match item {
        StepItem::Attribute(a) => a.span.start,
        StepItem::Metric(m) => m.span.start,
        StepItem::Output(o) => o.span.start,
        StepItem::When(w) => w.span.start,
        StepItem::Sidecar(b) => b.span.start,
    })? as usize;
    let start = line_start(text, first);
    let own_line = start > step.braces.open.start as usize
        && text.get(start..first).is_some_and(|t| t.trim().is_empty());
    own_line.then(|| line_indent(text, first))
}

/// The start of the line holding byte `offset`.
fn line_start(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |n| n + 1)
}

/// The leading spaces and tabs of the line holding byte `offset`.
pub fn line_indent(text: &str, offset: usize) -> String {
    let start = line_start(text, offset);
    text[start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

/// A diagnostic whose help says to quote the value (a number or a bool
/// given where a string is expected: E0302 for a param's default, E0301
/// for an attribute): replace the literal with its text in quotes.
fn quote_literal(analysis: &Analysis, diagnostic: &Diagnostic) -> Option<Fix> {
    let help = diagnostic.help.as_deref()?;
    if !help.starts_with("quote it") {
        return None;
    }
    let span = diagnostic.span();
    let value = value_at(analysis.pipeline()?, span)?;
    let written = match &value.kind {
        ValueKind::Number(number) => number.text.clone(),
        ValueKind::Bool(b) => b.to_string(),
        _ => return None,
    };
    Some(Fix {
        title: format!("quote `{written}`"),
        edits: vec![(span, format!("\"{written}\""))],
        preferred: true,
    })
}

/// The value written exactly at `span`, wherever it is in the pipeline.
fn value_at(pipeline: &ast::Pipeline, span: Span) -> Option<&Value> {
    let mut found = None;
    ast::walk(&pipeline.items, &mut |item| {
        if found.is_some() {
            return;
        }
        found = match item {
            Item::Attribute(a) => within(&a.value, span),
            Item::Defaults(d) => d.attributes.iter().find_map(|a| within(&a.value, span)),
            Item::Volume(v) => v.attributes.iter().find_map(|a| within(&a.value, span)),
            Item::Param(p) => p.default.as_ref().and_then(|v| within(v, span)),
            Item::Let(l) => within(&l.value, span),
            Item::Step(step) => step.items.iter().find_map(|item| match item {
                StepItem::Attribute(a) => within(&a.value, span),
                StepItem::Sidecar(b) => b.attributes.iter().find_map(|a| within(&a.value, span)),
                StepItem::Metric(_) | StepItem::Output(_) | StepItem::When(_) => None,
            }),
            Item::If(_) | Item::For(_) | Item::Repeat(_) | Item::Finally(_) => {
                item.head_values().into_iter().find_map(|v| within(v, span))
            }
        };
    });
    found
}

/// `value` or the element or entry of it written exactly at `span`.
fn within(value: &Value, span: Span) -> Option<&Value> {
    if value.span == span {
        return Some(value);
    }
    match &value.kind {
        ValueKind::List(list) => list.items.iter().find_map(|v| within(v, span)),
        ValueKind::Map(map) => map.items.iter().find_map(|e| within(&e.value, span)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceFile;

    /// The fixes `kfpl check`'s diagnostics on `text` get, each applied.
    fn fixed(text: &str) -> Vec<(String, String)> {
        let diagnostics = crate::check(&SourceFile::new("t.kfp", text)).diagnostics;
        let analysis = Analysis::new(text);
        let whole = Span::new(0, text.len());
        quick_fixes(&analysis, text, &diagnostics, whole)
            .into_iter()
            .map(|fix| {
                let mut out = text.to_string();
                for (span, new_text) in fix.edits.iter().rev() {
                    out.replace_range(span.range(), new_text);
                }
                (fix.title, out)
            })
            .collect()
    }

    fn codes(text: &str) -> Vec<&'static str> {
        let diagnostics = crate::check(&SourceFile::new("t.kfp", text)).diagnostics;
        diagnostics.iter().map(|d| d.code.as_str()).collect()
    }

    #[test]
    fn an_unknown_output_is_declared_before_the_steps_brace() {
        let text = "pipeline p {\n  step prep {\n    image = \"i\"\n    command = \"c\"\n  }\n  step train {\n    image = \"i\"\n    command = \"cat $<prep.model> $<prep.model>\"\n  }\n}\n";
        assert_eq!(codes(text), ["E0202", "E0202"]);
        let fixes = fixed(text);
        assert_eq!(fixes.len(), 1, "one fix for two uses: {fixes:?}");
        let (title, after) = &fixes[0];
        assert_eq!(title, "declare `output model` in step `prep`");
        assert!(
            after.contains("    command = \"c\"\n    output model\n  }\n  step train"),
            "{after}"
        );
        assert!(codes(after).is_empty(), "{after}");
    }

    #[test]
    fn an_output_for_a_one_line_step_goes_on_a_line_of_its_own() {
        let text = "pipeline p {\n  step prep { image = \"i\" command = \"c\" }\n  step train { image = \"i\" command = \"$<prep.m>\" }\n}\n";
        let fixes = fixed(text);
        let (_, after) = &fixes[0];
        assert!(
            after.contains("command = \"c\" \n    output m\n  }\n"),
            "{after}"
        );
        assert!(codes(after).is_empty(), "{after}");
    }

    #[test]
    fn a_number_or_bool_where_a_string_goes_is_quoted() {
        let text = "pipeline p {\n  param version: string = 3\n  step s {\n    image = true\n    command = \"c $<version>\"\n    env = { A = 1.5 }\n  }\n}\n";
        assert_eq!(codes(text), ["E0302", "E0301", "E0301"]);
        let fixes = fixed(text);
        let titles: Vec<&str> = fixes.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(titles, ["quote `3`", "quote `true`", "quote `1.5`"]);
        let mut all = text.to_string();
        for (from, to) in [
            ("= 3", "= \"3\""),
            ("= true", "= \"true\""),
            ("= 1.5", "= \"1.5\""),
        ] {
            assert!(
                fixes
                    .iter()
                    .any(|(_, after)| *after == text.replacen(from, to, 1))
            );
            all = all.replacen(from, to, 1);
        }
        assert!(codes(&all).is_empty(), "{all}");
    }

    #[test]
    fn a_misspelt_output_is_respelt_first() {
        let text = "pipeline p {\n  step prep {\n    image = \"i\"\n    command = \"c\"\n    output model\n  }\n  step t {\n    image = \"i\"\n    command = \"$<prep.modle>\"\n  }\n}\n";
        let diagnostics = crate::check(&SourceFile::new("t.kfp", text)).diagnostics;
        let fixes = quick_fixes(
            &Analysis::new(text),
            text,
            &diagnostics,
            Span::new(0, text.len()),
        );
        let preferred: Vec<(&str, bool)> = fixes
            .iter()
            .map(|f| (f.title.as_str(), f.preferred))
            .collect();
        assert_eq!(
            preferred,
            [
                ("replace `modle` with `model`", true),
                ("declare `output modle` in step `prep`", false)
            ]
        );
    }
}
