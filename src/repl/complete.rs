//! Tab completion, as a pure function of the text, the cursor and the
//! names declared so far.
//!
//! What is offered depends on where the cursor is: `:` commands at the
//! start, `$<` interpolations inside strings (`$<tr` → `$<train.`, then
//! `$<train.` → `$<train.output>`), attribute names inside a `step` block,
//! `param`/`let`/`step` and the pipeline's attributes outside one, `string`
//! or `number` after a param's `:`, `raw` or `percentage` after a metric's,
//! step names inside `after = [ … ]`, and lets where a value goes.

use super::command::{COMMANDS, is_command};
use crate::check::STEP_ATTRIBUTES;
use crate::graph::Format;
use crate::syntax::ast::ParamType;
use crate::syntax::lex::{self, Kind, Token};

/// The names a session has declared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// Params, in declaration order.
    pub params: Vec<String>,
    /// Lets, in declaration order.
    pub lets: Vec<String>,
    /// Steps with their outputs (`output` first).
    pub steps: Vec<(String, Vec<String>)>,
}

/// What Tab may put at the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// Replace the text from byte `start` to the cursor with one of `words`.
    Words {
        /// Where the replaced text starts.
        start: usize,
        /// The candidates, sorted.
        words: Vec<String>,
    },
    /// A file name (after `:load` or `:save`): the frontend completes paths.
    Path,
}

/// The completions for `text` with the cursor at byte `pos`.
pub fn complete(text: &str, pos: usize, names: &Names) -> Completion {
    let pos = floor_boundary(text, pos);
    let before = &text[..pos];
    if is_command(before) {
        return command(before, pos);
    }
    let tokens: Vec<Token> = lex::lex(before).collect();
    let Some(last) = tokens.last().copied() else {
        return words(pos, "", statement_words(&[], names, true));
    };
    let start = last.span.start as usize;
    match last.kind {
        Kind::Interp if last.open => {
            let body = &before[start + 2..];
            filtered(start + 2, body, interpolations(body, names))
        }
        Kind::Quote | Kind::Text | Kind::Interp | Kind::Comment | Kind::Number => none(pos),
        Kind::Word => {
            let prefix = &before[start..];
            let context = &tokens[..tokens.len() - 1];
            filtered(start, prefix, candidates(before, context, names))
        }
        _ => filtered(pos, "", candidates(before, &tokens, names)),
    }
}

/// A `:` command: its name, or its argument.
fn command(before: &str, pos: usize) -> Completion {
    let lead = before.len() - before.trim_start().len();
    let name_end = before[lead..]
        .find(char::is_whitespace)
        .map_or(before.len(), |n| lead + n);
    if name_end == before.len() {
        let words = COMMANDS.iter().map(|c| format!(":{}", c.name)).collect();
        return filtered(lead, &before[lead..], words);
    }
    command_argument(before, (lead, name_end), pos)
}

fn floor_boundary(text: &str, pos: usize) -> usize {
    let mut pos = pos.min(text.len());
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

fn none(pos: usize) -> Completion {
    Completion::Words {
        start: pos,
        words: Vec::new(),
    }
}

fn words(start: usize, prefix: &str, words: Vec<String>) -> Completion {
    filtered(start, prefix, words)
}

fn filtered(start: usize, prefix: &str, words: Vec<String>) -> Completion {
    let mut words: Vec<String> = words
        .into_iter()
        .filter(|w| w.starts_with(prefix))
        .collect();
    words.sort();
    words.dedup();
    Completion::Words { start, words }
}

/// After `:load ` or `:save `, a path; after `:graph `, a format.
fn command_argument(before: &str, (start, end): (usize, usize), pos: usize) -> Completion {
    let name = before[start..end].trim_start_matches(':');
    match name {
        "load" | "l" | "save" | "w" => Completion::Path,
        "graph" | "g" => {
            let word_start = before
                .char_indices()
                .rev()
                .find(|(_, c)| c.is_whitespace())
                .map_or(pos, |(i, c)| i + c.len_utf8())
                .max(end);
            let formats = Format::ALL.iter().map(|(_, n)| n.to_string()).collect();
            filtered(word_start, &before[word_start..], formats)
        }
        _ => none(pos),
    }
}

/// Inside `$<`: values (`name>`), steps (`name.`), or a step's outputs (`step.output>`).
fn interpolations(body: &str, names: &Names) -> Vec<String> {
    if let Some((head, _)) = body.split_once('.') {
        return names
            .steps
            .iter()
            .filter(|(step, _)| step == head)
            .flat_map(|(step, outputs)| outputs.iter().map(move |o| format!("{step}.{o}>")))
            .collect();
    }
    let values = names
        .params
        .iter()
        .chain(&names.lets)
        .map(|n| format!("{n}>"));
    let steps = names.steps.iter().map(|(s, _)| format!("{s}."));
    values.chain(steps).collect()
}

/// What opened a bracket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Pipeline,
    Step,
    Map,
    After,
    List,
}

/// The candidates for a word after the tokens in `context`.
fn candidates(text: &str, context: &[Token], names: &Names) -> Vec<String> {
    let significant: Vec<&Token> = context.iter().filter(|t| !t.kind.is_trivia()).collect();
    let word = |t: Option<&&Token>| t.map_or("", |t| t.text(text));
    let mut stack: Vec<Open> = Vec::new();
    for (n, token) in significant.iter().enumerate() {
        let back = |k: usize| word(n.checked_sub(k).and_then(|i| significant.get(i)));
        match word(Some(token)) {
            "{" => stack.push(match (back(2), back(1)) {
                ("step", _) => Open::Step,
                ("pipeline", _) => Open::Pipeline,
                _ => Open::Map,
            }),
            "[" => stack.push(if (back(2), back(1)) == ("after", "=") {
                Open::After
            } else {
                Open::List
            }),
            "}" | "]" => {
                stack.pop();
            }
            _ => {}
        }
    }
    let previous = significant.last();
    let before_previous = significant
        .len()
        .checked_sub(2)
        .and_then(|i| significant.get(i));
    let lets = || {
        let mut out = names.lets.clone();
        out.extend(["true".to_string(), "false".to_string()]);
        out
    };
    let steps = || {
        names
            .steps
            .iter()
            .map(|(s, _)| s.clone())
            .collect::<Vec<_>>()
    };
    match word(previous) {
        ":" if before_previous.is_some_and(|t| t.kind == Kind::Quote) => {
            vec!["raw".into(), "percentage".into()]
        }
        ":" if word(before_previous) == "output"
            || significant
                .len()
                .checked_sub(3)
                .is_some_and(|i| word(significant.get(i)) == "output") =>
        {
            type_words(ParamType::OUTPUT_WORDS)
        }
        ":" => type_words(ParamType::PARAM_WORDS),
        "step" => steps(),
        "param" => names.params.clone(),
        "let" => names.lets.clone(),
        "metric" | "output" | "pipeline" => Vec::new(),
        "=" | "[" | "," => match stack.last() {
            Some(Open::After) => steps(),
            Some(Open::Map) if word(previous) == "," => Vec::new(),
            _ if word(before_previous) == "after" => Vec::new(),
            _ => lets(),
        },
        _ => statement_words(&stack, names, significant.is_empty()),
    }
}

/// Words that start a declaration where the cursor is.
/// `bool`, `list` and `file` are words only after `:` (LANGUAGE-2, "Words").
fn type_words(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_string()).collect()
}

fn statement_words(stack: &[Open], names: &Names, at_start: bool) -> Vec<String> {
    let _ = names;
    match stack.last() {
        Some(Open::Step) => STEP_ATTRIBUTES
            .iter()
            .chain(&["metric", "output"])
            .map(|w| w.to_string())
            .collect(),
        Some(Open::Map | Open::After | Open::List) => Vec::new(),
        Some(Open::Pipeline) | None => {
            let mut out: Vec<String> = ["param", "let", "step", "name", "description"]
                .iter()
                .map(|w| w.to_string())
                .collect();
            if at_start {
                out.push("pipeline".into());
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            params: vec!["learning_rate".into()],
            lets: vec!["data".into()],
            steps: vec![
                ("prepare_data".into(), vec!["output".into()]),
                ("train".into(), vec!["output".into(), "model".into()]),
            ],
        }
    }

    fn words_at_end(text: &str) -> Vec<String> {
        match complete(text, text.len(), &names()) {
            Completion::Words { words, start } => words
                .into_iter()
                .map(|w| format!("{}{w}", &text[..start]))
                .collect(),
            Completion::Path => vec!["<path>".into()],
        }
    }

    #[test]
    fn keywords_and_commands() {
        assert_eq!(words_at_end("ste"), ["step"]);
        assert_eq!(words_at_end("pa"), ["param"]);
        assert_eq!(words_at_end(":he"), [":help"]);
        assert_eq!(words_at_end(":load ex"), ["<path>"]);
        assert_eq!(words_at_end(":graph m"), [":graph mermaid"]);
        assert_eq!(words_at_end("param lr: n"), ["param lr: number"]);
        assert_eq!(words_at_end("param go: b"), ["param go: bool"]);
        assert_eq!(words_at_end("param lrs: l"), ["param lrs: list"]);
        assert_eq!(
            words_at_end("step s { output: l"),
            ["step s { output: list"]
        );
        assert_eq!(
            words_at_end("step s { output acc: n"),
            ["step s { output acc: number"]
        );
        assert_eq!(
            words_at_end("step s { output acc: f"),
            ["step s { output acc: file"]
        );
        assert_eq!(
            words_at_end("step s { metric \"acc\": p"),
            ["step s { metric \"acc\": percentage"]
        );
    }

    #[test]
    fn interpolations_complete_in_two_steps() {
        assert_eq!(
            words_at_end("step s { command = \"echo $<tr"),
            ["step s { command = \"echo $<train."]
        );
        assert_eq!(
            words_at_end("step s { command = \"echo $<train."),
            [
                "step s { command = \"echo $<train.model>",
                "step s { command = \"echo $<train.output>"
            ]
        );
        assert_eq!(words_at_end("x = \"$<lea"), ["x = \"$<learning_rate>"]);
        assert!(words_at_end("x = \"plain te").is_empty());
    }

    #[test]
    fn attributes_inside_steps_and_names_in_after() {
        assert_eq!(words_at_end("step s {\n  im"), ["step s {\n  image"]);
        assert_eq!(
            words_at_end("step s {\n  image = \"a\"\n  me"),
            [
                "step s {\n  image = \"a\"\n  memory",
                "step s {\n  image = \"a\"\n  metric"
            ]
        );
        assert_eq!(
            words_at_end("step s { after = [pr"),
            ["step s { after = [prepare_data"]
        );
        assert_eq!(words_at_end("step s { data = da"), ["step s { data = data"]);
        assert!(words_at_end("step s { env = { A = \"x\", B").is_empty());
        assert_eq!(words_at_end("step s { } st"), ["step s { } step"]);
    }
}
