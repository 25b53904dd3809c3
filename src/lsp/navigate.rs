//! Go to definition, find references and rename, over [`Analysis`]'s
//! occurrences.

use std::collections::HashMap;

use lsp_types::{Location, TextEdit, Url, WorkspaceEdit};

use super::analysis::{Analysis, Target};
use super::text::LineIndex;
use crate::check::values;
use crate::syntax::KEYWORDS;

/// Where the name under `offset` is declared.
pub fn definition(analysis: &Analysis, offset: usize) -> Option<crate::Span> {
    analysis.declaration(&analysis.at(offset)?.target)
}

/// Every occurrence of the name under `offset` (its declaration only when
/// asked for).
pub fn references(analysis: &Analysis, offset: usize, declaration: bool) -> Vec<crate::Span> {
    let Some(occurrence) = analysis.at(offset) else {
        return Vec::new();
    };
    analysis
        .of(&occurrence.target)
        .filter(|o| declaration || !o.declaration)
        .map(|o| o.span)
        .collect()
}

/// The locations of `spans` in `uri`.
pub fn locations(uri: &Url, index: &LineIndex<'_>, spans: &[crate::Span]) -> Vec<Location> {
    spans
        .iter()
        .map(|&span| Location::new(uri.clone(), index.range(span)))
        .collect()
}

/// The name under `offset` when it can be renamed (a param, let or step
/// that is declared in the file), with its span.
pub fn prepare_rename(analysis: &Analysis, offset: usize) -> Result<(crate::Span, String), String> {
    let occurrence = analysis
        .at(offset)
        .ok_or("no param, let or step here to rename")?;
    let name = match &occurrence.target {
        Target::Value(name) | Target::Step(name) => name.clone(),
        Target::Output(..) => return Err("outputs cannot be renamed yet".into()),
    };
    if analysis.declaration(&occurrence.target).is_none() {
        return Err(format!("`{name}` is not declared in this file"));
    }
    Ok((occurrence.span, name))
}

/// The edits that rename the name under `offset` to `new_name` everywhere
/// (declaration, bare uses, `$<…>` in strings, `after` lists), or why not.
pub fn rename(
    analysis: &Analysis,
    text: &str,
    offset: usize,
    new_name: &str,
) -> Result<Vec<(crate::Span, String)>, String> {
    let (_, old_name) = prepare_rename(analysis, offset)?;
    let target = analysis.at(offset).map(|o| o.target.clone()).ok_or("")?;
    valid_name(new_name)?;
    if matches!(target, Target::Step(_)) {
        valid_step_name(new_name)?;
    }
    if new_name != old_name && is_declared(analysis, new_name) {
        return Err(format!("`{new_name}` is already declared in this pipeline"));
    }
    let mut edits = Vec::new();
    // `$<step.out>`'s step part is a use of the step already; outputs keep their names.
    for occurrence in analysis.occurrences.iter().filter(|o| o.target == target) {
        let span = occurrence.span;
        // Only where the text says the old name (never inside an escape).
        if text.get(span.range()) == Some(old_name.as_str()) {
            edits.push((span, new_name.to_string()));
        }
    }
    Ok(edits)
}

/// The edits as a workspace edit on `uri`.
pub fn workspace_edit(
    uri: &Url,
    index: &LineIndex<'_>,
    edits: Vec<(crate::Span, String)>,
) -> WorkspaceEdit {
    let edits = edits
        .into_iter()
        .map(|(span, new_text)| TextEdit::new(index.range(span), new_text))
        .collect();
    WorkspaceEdit::new(HashMap::from([(uri.clone(), edits)]))
}

/// A name a param, let or step may take: an identifier that is no keyword.
fn valid_name(name: &str) -> Result<(), String> {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    if !first_ok || !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!(
            "`{name}` is not a name: use letters, digits and `_`, not starting with a digit"
        ));
    }
    if KEYWORDS.contains(&name) {
        return Err(format!("`{name}` is a keyword"));
    }
    Ok(())
}

/// A step's name becomes its Kubernetes name (E0211 checks the same rule).
fn valid_step_name(name: &str) -> Result<(), String> {
    let kubernetes = values::kubernetes_name(name);
    if values::is_dns_label(&kubernetes) {
        return Ok(());
    }
    Err(format!(
        "`{name}` would be the Kubernetes name `{kubernetes}`, which is not valid (see `kfpl explain E0211`)"
    ))
}

/// Whether a param, let or step is already called `name`.
fn is_declared(analysis: &Analysis, name: &str) -> bool {
    analysis.occurrences.iter().any(|o| {
        o.declaration && matches!(&o.target, Target::Value(n) | Target::Step(n) if n == name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "pipeline p {\n  param lr: number = 1\n  step prep {\n    image = \"i\"\n    command = \"$<lr>\"\n  }\n  step train {\n    image = \"i\"\n    command = \"$<prep.output> $<lr>\"\n    after = [prep]\n  }\n}\n";

    fn apply(text: &str, mut edits: Vec<(crate::Span, String)>) -> String {
        let mut out = text.to_string();
        edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
        for (span, new) in edits {
            out.replace_range(span.range(), &new);
        }
        out
    }

    #[test]
    fn renaming_a_step_updates_every_use() {
        let analysis = Analysis::new(TEXT);
        let at = TEXT.find("prep.output").expect("use") + 1;
        let edits = rename(&analysis, TEXT, at, "prepare").expect("renamed");
        assert_eq!(apply(TEXT, edits), TEXT.replace("prep", "prepare"));
        let at = TEXT.find("lr:").expect("decl");
        let edits = rename(&analysis, TEXT, at, "rate").expect("renamed");
        assert_eq!(apply(TEXT, edits), TEXT.replace("lr", "rate"));
    }

    #[test]
    fn invalid_or_clashing_names_are_refused_with_a_reason() {
        let analysis = Analysis::new(TEXT);
        let at = TEXT.find("lr:").expect("decl");
        let refuse = |name| rename(&analysis, TEXT, at, name).expect_err(name);
        assert!(refuse("train").contains("already declared"));
        assert!(refuse("step").contains("keyword"));
        assert!(refuse("9x").contains("not a name"));
        assert!(refuse("").contains("not a name"));
        let at_step = TEXT.find("step prep").expect("step") + 5;
        let refused = rename(&analysis, TEXT, at_step, "_prep").expect_err("k8s");
        assert!(refused.contains("E0211"), "{refused}");
    }
}
