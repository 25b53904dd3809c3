//! Tab completion, as a pure function of the text, the cursor and the
//! names declared so far.
//!
//! What is offered depends on where the cursor is: `:` commands at the
//! start, `$<` interpolations inside strings (`$<tr` → `$<train.`, then
//! `$<train.` → `$<train.output>`), attribute names inside a `step` block,
//! `param`/`let`/`step` and the pipeline's attributes outside one, `string`
//! or `number` after a param's `:`, `raw` or `percentage` after a metric's,
//! step names inside `after = [ … ]`, and lets where a value goes.
//!
//! Language v2 (LANGUAGE-2, "Words"): `if`, `for`, `repeat` and `finally`
//! where a declaration starts, `else` after an `if` block's `}`, `until` or
//! `while` after a `repeat` block's `}`, `in` after `for NAME`, `max` after
//! `repeat`, `carry` in a repeat block and `then` after its value,
//! `parallelism` in a `for` block, `when` in a step, `and`/`or`/`not` in a
//! condition, `$<…>` references outside strings, loop variables, and
//! `$<workflow.name|uid|pod_name|status>`.

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
            let scope = Scope::read(before, &tokens);
            filtered(start + 2, body, interpolations(body, names, &scope))
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

use crate::check::ir::WORKFLOW_FIELDS;

/// Inside `$<`: values (`name>`, loop variables included), steps (`name.`),
/// a step's outputs (`step.output>`) or run information (`workflow.status>`).
fn interpolations(body: &str, names: &Names, scope: &Scope) -> Vec<String> {
    if let Some((head, _)) = body.split_once('.') {
        if head == "workflow" {
            return WORKFLOW_FIELDS
                .iter()
                .map(|f| format!("workflow.{f}>"))
                .collect();
        }
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
        .chain(&scope.loop_variables)
        .map(|n| format!("{n}>"));
    let steps = names.steps.iter().map(|(s, _)| format!("{s}."));
    values
        .chain(steps)
        .chain(["workflow.".to_string()])
        .collect()
}

/// A block of language v2: what its braces hold is declarations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    If,
    Else,
    For,
    Repeat,
    Finally,
}

impl Block {
    /// The block a word opens where a declaration starts.
    fn opened_by(word: &str) -> Option<Block> {
        Some(match word {
            "if" => Block::If,
            "else" => Block::Else,
            "for" => Block::For,
            "repeat" => Block::Repeat,
            "finally" => Block::Finally,
            _ => return None,
        })
    }
}

/// What opened a bracket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Pipeline,
    Step,
    Map,
    After,
    List,
    Block(Block),
    /// `volume NAME {` or `sidecar NAME {`: these attributes.
    Named(&'static [&'static str]),
}

impl Open {
    /// Whether the bracket holds declarations (where the v2 words start blocks).
    fn holds_declarations(open: Option<&Open>) -> bool {
        matches!(open, None | Some(Open::Pipeline | Open::Block(_)))
    }
}

/// The brackets open before the cursor, read from the significant tokens.
#[derive(Debug, Default)]
struct Scope {
    stack: Vec<Open>,
    /// The last bracket closed, when the previous token is its `}`.
    closed: Option<Open>,
    /// The variables of the `for` blocks around the cursor.
    loop_variables: Vec<String>,
}

/// Words after which a name is declared, never a block word.
const DECLARING: &[&str] = &[
    "step", "param", "let", "output", "metric", "pipeline", "carry", "volume", "sidecar",
];

impl Scope {
    fn read(text: &str, tokens: &[Token]) -> Scope {
        let significant: Vec<&Token> = tokens.iter().filter(|t| !t.kind.is_trivia()).collect();
        let word = |i: Option<usize>| {
            i.and_then(|i| significant.get(i))
                .map_or("", |t| t.text(text))
        };
        let mut scope = Scope::default();
        let mut pending: Option<(Block, Option<String>)> = None;
        let mut loops: Vec<Option<String>> = Vec::new();
        for (n, token) in significant.iter().enumerate() {
            let back = |k: usize| word(n.checked_sub(k));
            let this = token.text(text);
            scope.closed = None;
            match token.kind {
                Kind::LBrace => {
                    let open = match (back(2), back(1)) {
                        ("step", _) => Open::Step,
                        ("pipeline", _) => Open::Pipeline,
                        (_, "=") => Open::Map,
                        ("volume", _) => Open::Named(crate::check::volumes::ATTRIBUTES),
                        ("sidecar", _) => Open::Named(crate::check::sidecars::ATTRIBUTES),
                        _ => match pending.take() {
                            Some((block, variable)) => {
                                loops.push(variable);
                                Open::Block(block)
                            }
                            None => Open::Map,
                        },
                    };
                    if !matches!(open, Open::Block(_)) {
                        loops.push(None);
                    }
                    scope.stack.push(open);
                }
                Kind::LBracket => {
                    loops.push(None);
                    scope.stack.push(if (back(2), back(1)) == ("after", "=") {
                        Open::After
                    } else {
                        Open::List
                    });
                }
                Kind::RBrace | Kind::RBracket => {
                    loops.pop();
                    scope.closed = scope.stack.pop();
                }
                Kind::Word
                    if Open::holds_declarations(scope.stack.last())
                        && !DECLARING.contains(&back(1))
                        && !matches!(back(1), "=" | ":") =>
                {
                    if let Some(block) = Block::opened_by(this) {
                        // `else if` opens an `if` block.
                        pending = Some((block, None));
                    } else if let Some((Block::For, variable @ None)) = &mut pending
                        && back(1) == "for"
                    {
                        *variable = Some(this.to_string());
                    }
                }
                _ => {}
            }
        }
        scope.loop_variables = loops.into_iter().flatten().collect();
        scope
    }
}

/// The candidates for a word after the tokens in `context`.
fn candidates(text: &str, context: &[Token], names: &Names) -> Vec<String> {
    let significant: Vec<&Token> = context.iter().filter(|t| !t.kind.is_trivia()).collect();
    let word = |t: Option<&&Token>| t.map_or("", |t| t.text(text));
    let scope = Scope::read(text, context);
    let stack = &scope.stack;
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
    if let Some(words) = block_form_words(text, context, &scope) {
        return words;
    }
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
        _ => statement_words(stack, names, significant.is_empty()),
    }
}

/// The words of a v2 form the cursor is in the middle of: `else` after an
/// `if` block, `until`/`while` after a repeat block, `in` after `for NAME`,
/// `max` after `repeat`, `then` after a carried value, and the operators of a
/// condition. `None` where no such form is open.
fn block_form_words(text: &str, context: &[Token], scope: &Scope) -> Option<Vec<String>> {
    let significant: Vec<&Token> = context.iter().filter(|t| !t.kind.is_trivia()).collect();
    let back = |k: usize| {
        significant
            .len()
            .checked_sub(k)
            .and_then(|i| significant.get(i))
            .map_or("", |t| t.text(text))
    };
    let strings = |words: &[&str]| words.iter().map(|w| w.to_string()).collect();
    // The word `k` tokens back starts a declaration (it follows no word that
    // declares a name, and no `=`, `:`, `,` or `[`).
    let declaration_word = |k: usize, word: &str| {
        Open::holds_declarations(scope.stack.last())
            && back(k) == word
            && !DECLARING.contains(&back(k + 1))
            && !matches!(back(k + 1), "=" | ":" | "," | "[")
    };
    let after_name = significant.last().is_some_and(|t| t.kind == Kind::Word);
    match scope.closed {
        Some(Open::Block(Block::If)) => {
            let mut out = statement_words(&scope.stack, &Names::default(), false);
            out.push("else".into());
            return Some(out);
        }
        Some(Open::Block(Block::Repeat)) => return Some(strings(&["until", "while"])),
        _ => {}
    }
    if declaration_word(2, "for") && after_name {
        return Some(strings(&["in"]));
    }
    if declaration_word(1, "repeat") {
        return Some(strings(&["max"]));
    }
    if let Some(after_operand) = condition(text, context) {
        return Some(if after_operand {
            strings(&["and", "or"])
        } else {
            strings(&["not", "true", "false"])
        });
    }
    if scope.stack.last() == Some(&Open::Block(Block::Repeat)) && carry_needs_then(text, context) {
        return Some(strings(&["then"]));
    }
    None
}

/// Whether the cursor is in a condition (an `if` head, `when = …`, or a
/// repeat's `until`/`while` tail), and if so whether an operand ends just
/// before it (`Some(true)`: `and`/`or` may follow).
fn condition(text: &str, context: &[Token]) -> Option<bool> {
    let significant: Vec<usize> = (0..context.len())
        .filter(|&n| !context[n].kind.is_trivia())
        .collect();
    let after_operand = significant
        .last()
        .is_some_and(|&n| ends_operand(text, context, n));
    let breaks_line = |trivia: &[Token]| {
        trivia
            .iter()
            .rev()
            .take_while(|t| t.kind.is_trivia())
            .any(|t| t.text(text).contains('\n'))
    };
    // A line break after the last token counts too (`when = $<a>⏎  im`).
    let mut line_crossed = breaks_line(context);
    for (k, &n) in significant.iter().enumerate().rev() {
        let token = context[n];
        let previous = k.checked_sub(1).map(|k| context[significant[k]]);
        let broken_before = breaks_line(&context[..n]);
        let opens = match (token.kind, token.text(text)) {
            (Kind::LBrace | Kind::RBrace, _) => return None,
            (Kind::Word, "if") => Some(
                broken_before
                    || previous.is_none_or(|t| {
                        matches!(t.kind, Kind::LBrace | Kind::RBrace) || t.text(text) == "else"
                    }),
            ),
            (Kind::Word, "until" | "while") => {
                Some(!line_crossed && previous.is_some_and(|t| t.kind == Kind::RBrace))
            }
            // `when = …` in a step (`let when = …` declares a let).
            (Kind::Assign, _) => {
                let before_when = k.checked_sub(2).map(|k| context[significant[k]]);
                Some(
                    !line_crossed
                        && previous.is_some_and(|t| t.text(text) == "when")
                        && before_when.is_none_or(|t| t.text(text) != "let"),
                )
            }
            _ => None,
        };
        if let Some(opens) = opens {
            return opens.then_some(after_operand);
        }
        line_crossed |= broken_before;
    }
    None
}

/// Whether token `n` can end an operand of a condition, so that `and` or
/// `or` may follow: a literal, a `)`, or a closed `$<…>` (one token).
fn ends_operand(text: &str, context: &[Token], n: usize) -> bool {
    let token = context[n];
    match token.kind {
        Kind::Number | Kind::Quote | Kind::RParen => true,
        Kind::Interp => !token.open,
        Kind::Word => matches!(token.text(text), "true" | "false"),
        _ => false,
    }
}

/// Whether the cursor follows `carry NAME = VALUE` (without `then` yet) on
/// the line of its `carry`.
fn carry_needs_then(text: &str, context: &[Token]) -> bool {
    let line_start = context
        .iter()
        .rposition(|t| t.kind == Kind::Space && t.text(text).contains('\n'))
        .map_or(0, |n| n + 1);
    let line: Vec<&str> = context[line_start..]
        .iter()
        .filter(|t| !t.kind.is_trivia())
        .map(|t| t.text(text))
        .collect();
    let Some(carry) = line.iter().rposition(|w| *w == "carry") else {
        return false;
    };
    let rest = &line[carry..];
    rest.len() >= 4 && rest[2] == "=" && !rest.contains(&"then") && rest.last() != Some(&"=")
}

/// Words that start a declaration where the cursor is.
/// `bool`, `list` and `file` are words only after `:` (LANGUAGE-2, "Words").
fn type_words(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_string()).collect()
}

fn statement_words(stack: &[Open], names: &Names, at_start: bool) -> Vec<String> {
    let _ = names;
    let strings = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    // The blocks every declaration list may hold (`finally` only at the top).
    let blocks = ["if", "for", "repeat"];
    match stack.last() {
        Some(Open::Named(attributes)) => strings(attributes),
        Some(Open::Step) => STEP_ATTRIBUTES
            .iter()
            .chain(&["metric", "output", "sidecar"])
            .map(|w| w.to_string())
            .collect(),
        Some(Open::Map | Open::After | Open::List) => Vec::new(),
        Some(Open::Block(block)) => {
            let mut out = strings(&["step"]);
            out.extend(strings(&blocks));
            match block {
                Block::For => out.push("parallelism".into()),
                Block::Repeat => out.push("carry".into()),
                Block::If | Block::Else | Block::Finally => {}
            }
            out
        }
        Some(Open::Pipeline) | None => {
            let mut out = strings(&[
                "param",
                "let",
                "step",
                "name",
                "description",
                "finally",
                "defaults",
                "volume",
            ]);
            out.extend(strings(&blocks));
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
                "step s {\n  image = \"a\"\n  memory_request",
                "step s {\n  image = \"a\"\n  metric"
            ]
        );
        assert_eq!(
            words_at_end("step s { after = [pr"),
            ["step s { after = [prepare_data"]
        );
        assert_eq!(words_at_end("step s { data = da"), ["step s { data = data"]);
        assert!(words_at_end("step s { env = { A = \"x\", B").is_empty());
        // A brace inside a string opens nothing.
        assert_eq!(
            words_at_end("step s { command = \"{\" im"),
            ["step s { command = \"{\" image"]
        );
        assert_eq!(words_at_end("step s { } st"), ["step s { } step"]);
    }

    /// The candidates only, for tests that do not care about the text before.
    fn candidates_at_end(text: &str) -> Vec<String> {
        match complete(text, text.len(), &names()) {
            Completion::Words { words, .. } => words,
            Completion::Path => vec!["<path>".into()],
        }
    }

    #[test]
    fn block_words_where_a_declaration_starts() {
        assert_eq!(words_at_end("i"), ["if"]);
        assert_eq!(words_at_end("fo"), ["for"]);
        assert_eq!(words_at_end("rep"), ["repeat"]);
        assert_eq!(words_at_end("fin"), ["finally"]);
        assert_eq!(
            words_at_end("pipeline p {\n  vol"),
            ["pipeline p {\n  volume"]
        );
        let in_volume = "pipeline p {\n  volume scratch {\n    acc";
        assert_eq!(words_at_end(in_volume), [format!("{in_volume}ess_mode")]);
        let in_step = "pipeline p {\n  step s {\n    side";
        assert_eq!(words_at_end(in_step), [format!("{in_step}car")]);
        let in_sidecar = "pipeline p {\n  step s {\n    sidecar db {\n    im";
        assert_eq!(words_at_end(in_sidecar), [format!("{in_sidecar}age")]);
        assert_eq!(words_at_end("step s { } fi"), ["step s { } finally"]);
        assert_eq!(
            words_at_end("pipeline p {\n  re"),
            ["pipeline p {\n  repeat"]
        );
        // Not where a name or a value goes.
        assert!(words_at_end("step i").is_empty());
        assert!(words_at_end("step s { after = [fo").is_empty());
        assert!(words_at_end("step s {\n  rep").is_empty());
        // Inside blocks: steps and nested blocks, with each block's own words.
        assert_eq!(
            words_at_end("for lr in $<lrs> {\n  p"),
            ["for lr in $<lrs> {\n  parallelism"]
        );
        assert_eq!(
            words_at_end("repeat max 3 {\n  c"),
            ["repeat max 3 {\n  carry"]
        );
        assert!(words_at_end("if $<a> == 1 {\n  c").is_empty());
        // Blocks nest, but `finally` is the pipeline's own.
        assert_eq!(
            words_at_end("if $<a> == 1 {\n  f"),
            ["if $<a> == 1 {\n  for"]
        );
        assert_eq!(
            words_at_end("if $<a> == 1 {\n  st"),
            ["if $<a> == 1 {\n  step"]
        );
        assert_eq!(words_at_end("finally {\n  i"), ["finally {\n  if"]);
    }

    #[test]
    fn the_words_inside_block_forms() {
        assert_eq!(words_at_end("for lr i"), ["for lr in"]);
        assert_eq!(words_at_end("repeat m"), ["repeat max"]);
        assert_eq!(
            words_at_end("if $<a> == 1 {\n} e"),
            ["if $<a> == 1 {\n} else"]
        );
        assert_eq!(
            candidates_at_end("repeat max 3 {\n  step s { }\n} "),
            ["until", "while"]
        );
        assert_eq!(
            words_at_end("repeat max 3 {\n  carry g = 0 t"),
            ["repeat max 3 {\n  carry g = 0 then"]
        );
        assert_eq!(
            words_at_end("repeat max 3 {\n  carry g = $<s.output> t"),
            ["repeat max 3 {\n  carry g = $<s.output> then"]
        );
        // The names of v1 programs are left alone.
        assert!(!words_at_end("param for i").contains(&"param for in".to_string()));
        assert!(words_at_end("step repeat { image = \"x\" } m").is_empty());
    }

    #[test]
    fn condition_words_and_references() {
        assert_eq!(words_at_end("if $<a> == 1 a"), ["if $<a> == 1 and"]);
        assert_eq!(words_at_end("if $<a> o"), ["if $<a> or"]);
        assert_eq!(words_at_end("if n"), ["if not"]);
        assert_eq!(words_at_end("if $<a> == 1 and n"), ["if $<a> == 1 and not"]);
        assert_eq!(
            words_at_end("step s {\n  when = $<a> == \"x\" o"),
            ["step s {\n  when = $<a> == \"x\" or"]
        );
        assert_eq!(
            words_at_end("repeat max 3 {\n} until $<a> > 1 a"),
            ["repeat max 3 {\n} until $<a> > 1 and"]
        );
        // A comparison's `>` is not the end of an operand.
        assert_eq!(candidates_at_end("if $<a> > "), ["false", "not", "true"]);
        // After the condition's line, a step's attributes again.
        assert_eq!(
            words_at_end("step s {\n  when = $<a>\n  im"),
            ["step s {\n  when = $<a>\n  image"]
        );
        assert_eq!(words_at_end("step s {\n  whe"), ["step s {\n  when"]);
        assert!(!words_at_end("let when = 1 o").contains(&"let when = 1 or".to_string()));
        // References outside strings complete as interpolations do.
        assert_eq!(words_at_end("if $<tr"), ["if $<train."]);
        assert_eq!(words_at_end("if $<train.m"), ["if $<train.model>"]);
        assert_eq!(
            words_at_end("for x in $<lea"),
            ["for x in $<learning_rate>"]
        );
    }

    #[test]
    fn run_information_and_loop_variables() {
        assert_eq!(
            candidates_at_end("step s { command = \"echo $<workflow."),
            [
                "workflow.name>",
                "workflow.pod_name>",
                "workflow.status>",
                "workflow.uid>"
            ]
        );
        assert_eq!(
            words_at_end("finally {\n  if $<wor"),
            ["finally {\n  if $<workflow."]
        );
        assert_eq!(
            words_at_end("for lr in [1, 2] {\n  step s { command = \"echo $<l"),
            [
                "for lr in [1, 2] {\n  step s { command = \"echo $<learning_rate>",
                "for lr in [1, 2] {\n  step s { command = \"echo $<lr>"
            ]
        );
        // Outside the loop, its variable is gone.
        assert_eq!(
            words_at_end("for lr in [1, 2] {\n}\nstep s { command = \"echo $<l"),
            ["for lr in [1, 2] {\n}\nstep s { command = \"echo $<learning_rate>"]
        );
    }
}
