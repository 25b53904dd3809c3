//! The reserved words are written in four places: the grammar's `keyword`
//! rule (the source of truth), the parser's `KEYWORDS`, the VS Code grammar
//! and the vim syntax file. This test reads the rule from grammar/kfp.pest
//! and checks the other three against it.
//!
//! The contextual words of language v2 (LANGUAGE-2.md, "Words") are names
//! outside their places, so they are not in the `keyword` rule; the editor
//! grammars must still colour each of them in its place (the grammar tests in
//! editors/ check where), and this test checks that none is forgotten.

mod support;

use std::collections::BTreeSet;
use std::fs;

fn read(path: &str) -> String {
    let path = support::root().join(path);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The string literals of the `keyword = @{ … }` rule, in order.
fn grammar_keywords() -> Vec<String> {
    let grammar = read("grammar/kfp.pest");
    let start = grammar
        .lines()
        .position(|line| {
            line.split('=')
                .next()
                .is_some_and(|name| name.trim() == "keyword")
        })
        .expect("grammar/kfp.pest has a `keyword` rule");
    // The rule runs to the line where its braces balance.
    let mut depth = 0i32;
    let mut body = String::new();
    for line in grammar.lines().skip(start) {
        let code = line.split("//").next().unwrap_or("");
        body.push_str(code);
        body.push('\n');
        depth += code.matches('{').count() as i32 - code.matches('}').count() as i32;
        if depth <= 0 && code.contains('}') {
            break;
        }
    }
    let words: Vec<String> = body
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert!(
        words.len() >= 10,
        "the keyword rule looks wrong: {words:?}\n{body}"
    );
    words
}

/// The contextual words: control words where a declaration starts, `in`
/// after `for NAME`, the repeat form's words, the condition operators' words,
/// and the type words that count only after `:` (the lexer's list).
fn contextual_words() -> Vec<&'static str> {
    use kfpl::syntax::lex;
    [
        lex::DECLARATION_WORDS,
        lex::BLOCK_HEAD_WORDS,
        lex::CONDITION_WORDS,
        lex::TYPE_WORDS_AFTER_COLON,
    ]
    .concat()
}

/// The pattern texts (`match`, `begin`, `end`) of the VS Code grammar.
fn vscode_pattern_words() -> BTreeSet<String> {
    let json: serde_json::Value =
        serde_json::from_str(&read("editors/vscode/syntaxes/kfp.tmLanguage.json"))
            .expect("the TextMate grammar is valid JSON");
    // Only the patterns count, not the descriptive "comment" fields.
    fn collect(value: &serde_json::Value, out: &mut BTreeSet<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("match" | "begin" | "end", serde_json::Value::String(s)) => {
                            out.extend(words(s).map(str::to_string))
                        }
                        _ => collect(value, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    collect(&json, &mut out);
    out
}

/// Identifier-like words in `text` (regex alternations split apart).
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

/// Fails naming the grammar's keywords that `found` (read from `place`) lacks.
fn assert_has_every_keyword(found: &BTreeSet<&str>, place: &str) {
    let missing: Vec<String> = grammar_keywords()
        .into_iter()
        .filter(|k| !found.contains(k.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "keywords missing from {place}: {missing:?}"
    );
}

#[test]
fn parser_keywords_match_the_grammar() {
    let keywords: Vec<&str> = kfpl::syntax::KEYWORDS.to_vec();
    assert_eq!(keywords, grammar_keywords());
}

#[test]
fn vscode_grammar_highlights_every_keyword() {
    let words = vscode_pattern_words();
    let found: BTreeSet<&str> = words.iter().map(String::as_str).collect();
    assert_has_every_keyword(
        &found,
        "editors/vscode/syntaxes/kfp.tmLanguage.json patterns",
    );
}

#[test]
fn vim_syntax_highlights_every_keyword() {
    let vim = read("editors/vim/syntax/kfp.vim");
    // `syn keyword GROUP word… [options]`, comment lines (`"`) aside.
    let found: BTreeSet<&str> = vim
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with("syn keyword") || line.starts_with("syntax keyword"))
        .flat_map(|line| line.split_whitespace().skip(3))
        .filter(|word| !word.contains('='))
        .collect();
    assert_has_every_keyword(&found, "`syn keyword` lines in editors/vim/syntax/kfp.vim");
}

#[test]
fn vscode_grammar_knows_every_contextual_word() {
    let found = vscode_pattern_words();
    let missing: Vec<&str> = contextual_words()
        .into_iter()
        .filter(|w| !found.contains(*w))
        .collect();
    assert!(
        missing.is_empty(),
        "contextual words missing from editors/vscode/syntaxes/kfp.tmLanguage.json patterns: {missing:?}"
    );
}

#[test]
fn vim_syntax_knows_every_contextual_word() {
    let vim = read("editors/vim/syntax/kfp.vim");
    // Contextual words are `syn keyword … contained` (given a place by a region
    // or a nextgroup) or part of a `syn match`/`syn region` pattern.
    let found: BTreeSet<&str> = vim
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with("syn ") || line.starts_with("syntax "))
        .flat_map(words)
        .collect();
    let missing: Vec<&str> = contextual_words()
        .into_iter()
        .filter(|w| !found.contains(w))
        .collect();
    assert!(
        missing.is_empty(),
        "contextual words missing from the syn lines of editors/vim/syntax/kfp.vim: {missing:?}"
    );
}
