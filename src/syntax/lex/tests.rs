use super::*;
use crate::syntax::grammar::{KfpParser, Rule};
use pest::Parser;
use proptest::prelude::*;

fn kinds(text: &str) -> Vec<(Kind, &str, bool)> {
    lex(text)
        .filter(|t| t.kind != Kind::Space)
        .map(|t| (t.kind, t.text(text), t.open))
        .collect()
}

/// The tokens tile the text: no gap, no overlap, nothing empty.
fn assert_lossless(text: &str) {
    let mut at = 0;
    for token in lex(text) {
        assert_eq!(
            token.span.start as usize, at,
            "gap before {token:?} in {text:?}"
        );
        assert!(
            token.span.end > token.span.start,
            "empty {token:?} in {text:?}"
        );
        at = token.span.end as usize;
    }
    assert_eq!(at, text.len(), "tokens stop short in {text:?}");
}

#[test]
fn strings_split_around_interpolations() {
    assert_eq!(
        kinds(r#"command = "echo $<train.output> \" $$<x""#),
        [
            (Kind::Word, "command", false),
            (Kind::Assign, "=", false),
            (Kind::Quote, "\"", false),
            (Kind::Text, "echo ", false),
            (Kind::Interp, "$<train.output>", false),
            (Kind::Text, " \\\" $$<x", false),
            (Kind::Quote, "\"", false),
        ]
    );
}

#[test]
fn open_strings_and_interpolations_are_marked() {
    assert_eq!(
        kinds("x = \"a $<tr"),
        [
            (Kind::Word, "x", false),
            (Kind::Assign, "=", false),
            (Kind::Quote, "\"", true),
            (Kind::Text, "a ", false),
            (Kind::Interp, "$<tr", true),
        ]
    );
    let text = "step s { command = \"\"\"\n  echo";
    let quote = lex(text).find(|t| t.kind == Kind::Quote).expect("a quote");
    assert!(quote.open && quote.is_triple_quote());
}

/// The REPL once read `"abc\` + newline as an escape that swallowed the next
/// line; the grammar ends the string at the line break.
#[test]
fn a_backslash_does_not_continue_a_plain_string() {
    assert_eq!(
        kinds("x = \"abc\\\ny = 1"),
        [
            (Kind::Word, "x", false),
            (Kind::Assign, "=", false),
            (Kind::Quote, "\"", true),
            (Kind::Text, "abc\\", false),
            (Kind::Word, "y", false),
            (Kind::Assign, "=", false),
            (Kind::Number, "1", false),
        ]
    );
}

#[test]
fn punctuation_numbers_and_comments() {
    assert_eq!(
        kinds("param lr: number = -0.01e+3 # rate\n{[(,.)]} == != <= >= < > ! \u{1}\u{2}é"),
        [
            (Kind::Word, "param", false),
            (Kind::Word, "lr", false),
            (Kind::Colon, ":", false),
            (Kind::Word, "number", false),
            (Kind::Assign, "=", false),
            (Kind::Number, "-0.01e+3", false),
            (Kind::Comment, "# rate", false),
            (Kind::LBrace, "{", false),
            (Kind::LBracket, "[", false),
            (Kind::LParen, "(", false),
            (Kind::Comma, ",", false),
            (Kind::Dot, ".", false),
            (Kind::RParen, ")", false),
            (Kind::RBracket, "]", false),
            (Kind::RBrace, "}", false),
            (Kind::Compare, "==", false),
            (Kind::Compare, "!=", false),
            (Kind::Compare, "<=", false),
            (Kind::Compare, ">=", false),
            (Kind::Compare, "<", false),
            (Kind::Compare, ">", false),
            (Kind::Unknown, "!", false),
            (Kind::Junk, "\u{1}\u{2}", false),
            (Kind::Unknown, "é", false),
        ]
    );
}

#[test]
fn triple_strings_span_lines_and_keep_backslashes() {
    let text = "\"\"\"\n  a \\\n  \"b\" $<x>\n\"\"\" y";
    assert_eq!(
        kinds(text),
        [
            (Kind::Quote, "\"\"\"", false),
            (Kind::Text, "\n  a \\\n  \"b\" ", false),
            (Kind::Interp, "$<x>", false),
            (Kind::Text, "\n", false),
            (Kind::Quote, "\"\"\"", false),
            (Kind::Word, "y", false),
        ]
    );
}

#[test]
fn odd_inputs_are_lossless() {
    for text in [
        "",
        "\"",
        "\"\"\"",
        "\"\"\"\"",
        "\"$<",
        "\"$<a\">\"",
        "\"\\",
        "\"\\é\"",
        "\u{FEFF}pipeline p {}",
        "-",
        "1.",
        "1e",
        "#",
        "$<x>",
    ] {
        assert_lossless(text);
    }
}

/// What pest's `string` rule reads at the start of `text`, if anything.
fn pest_string_len(text: &str) -> Option<usize> {
    KfpParser::parse(Rule::string, text)
        .ok()
        .and_then(|mut pairs| pairs.next())
        .map(|pair| pair.as_span().end())
}

/// Where this lexer says the string at the start of `text` ends, if it is closed.
fn lexed_string_len(text: &str) -> Option<usize> {
    let mut tokens = lex(text);
    let open = tokens.next()?;
    if open.kind != Kind::Quote || open.open {
        return None;
    }
    tokens
        .take_while(|t| t.kind.is_string_piece())
        .filter(|t| t.kind == Kind::Quote)
        .map(|t| t.span.end as usize)
        .next()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any text at all lexes, losslessly.
    #[test]
    fn any_text_is_lossless(text in "\\PC{0,40}") {
        assert_lossless(&text);
    }

    /// Wherever this lexer closes a string, pest's grammar reads the same
    /// string. (Where the lexer leaves one open, `scan` refuses the file
    /// before pest runs, so pest's reading of it never matters: `""""` is
    /// an open `"""` here, and an empty `""` and a stray `"` to pest.)
    #[test]
    fn grammar_agrees_on_strings(body in "[a\"\\\\$<>\n .é]{0,12}", triple in any::<bool>()) {
        let quote = if triple { "\"\"\"" } else { "\"" };
        let text = format!("{quote}{body}");
        if let Some(lexed) = lexed_string_len(&text) {
            prop_assert_eq!(Some(lexed), pest_string_len(&text), "{:?}", text);
        }
    }
}
