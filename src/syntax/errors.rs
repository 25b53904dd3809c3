//! Pest's errors → E0101 diagnostics in the user's words.
//!
//! Rule names become what they stand for (`word` → "a name"), and the
//! offending token is quoted, so the message reads "expected `=`, found `:`".

use pest::error::{ErrorVariant, InputLocation};

use super::grammar::Rule;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;

/// Converts a pest error over `text` into a diagnostic.
/// `error` came from parsing `text[base..]`.
pub(super) fn syntax_error(
    error: &pest::error::Error<Rule>,
    text: &str,
    base: usize,
) -> Diagnostic {
    let at = base
        + match error.location {
            InputLocation::Pos(pos) => pos,
            InputLocation::Span((start, _)) => start,
        };
    let found = token_at(text, at);
    let expected = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => describe(positives),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let found_text = if found.is_empty() {
        "end of file".to_string()
    } else {
        format!("`{found}`")
    };
    let width = found.len().max(1);
    let end = (at + width).min(text.len()).max(at);
    Diagnostic::new(
        Code::E0101,
        format!("expected {expected}, found {found_text}"),
    )
    .primary(Span::new(at, end), format!("expected {expected}"))
    .help(help_for(&error.variant, &found))
}

/// The token starting at `at` as the lexer reads it: a word or a number
/// (at most 40 characters), else its first character.
fn token_at(text: &str, at: usize) -> String {
    let rest = text.get(at..).unwrap_or("");
    let Some(token) = super::lex::lex(rest).next() else {
        return String::new();
    };
    let piece = token.text(rest);
    match token.kind {
        super::lex::Kind::Word | super::lex::Kind::Number => piece.chars().take(40).collect(),
        _ => piece.chars().next().map(String::from).unwrap_or_default(),
    }
}

fn describe(rules: &[Rule]) -> String {
    let mut words: Vec<&str> = rules.iter().map(|rule| rule_words(*rule)).collect();
    words.sort_unstable();
    words.dedup();
    match words.as_slice() {
        [] => "something else".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn rule_words(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::pipeline | Rule::pipeline_open | Rule::kw_pipeline => "`pipeline`",
        Rule::pipeline_close => "`}`",
        Rule::param | Rule::kw_param => "`param`",
        Rule::let_decl | Rule::kw_let => "`let`",
        Rule::step | Rule::kw_step => "`step`",
        Rule::metric | Rule::kw_metric => "`metric`",
        Rule::output | Rule::kw_output => "`output`",
        Rule::param_type | Rule::kw_string => "a type (`string`, `number`, `bool` or `list`)",
        Rule::output_type | Rule::kw_number | Rule::kw_bool | Rule::kw_list | Rule::kw_file => {
            "an output type (`number`, `bool`, `list` or `file`)"
        }
        Rule::metric_format | Rule::kw_raw | Rule::kw_percentage => {
            "a metric format (`raw` or `percentage`)"
        }
        Rule::attribute => "an attribute (`name = value`)",
        Rule::assign => "`=`",
        Rule::colon => "`:`",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::map_open => "`{`",
        Rule::comma => "`,`",
        Rule::word | Rule::keyword => "a name",
        Rule::value => "a value",
        Rule::number => "a number",
        Rule::string => "a string",
        Rule::list => "a list",
        Rule::map => "a map",
        Rule::map_entry | Rule::map_key => "a map entry (`KEY = value`)",
        Rule::if_block | Rule::kw_if => "`if`",
        Rule::else_clause | Rule::kw_else => "`else`",
        Rule::for_block | Rule::kw_for => "`for`",
        Rule::kw_in => "`in`",
        Rule::repeat_block | Rule::kw_repeat => "`repeat`",
        Rule::kw_max => "`max`",
        Rule::carry | Rule::kw_carry => "`carry`",
        Rule::kw_then => "`then`",
        Rule::kw_until => "`until`",
        Rule::kw_while => "`while`",
        Rule::finally_block | Rule::kw_finally => "`finally`",
        // `when` is an attribute's name: "a name" already says it.
        Rule::when_attr | Rule::kw_when => "a name",
        // `volume` and `sidecar` are contextual words: "a name" says it too.
        Rule::volume_block | Rule::kw_volume | Rule::sidecar_block | Rule::kw_sidecar => "a name",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not => "`not`",
        Rule::condition | Rule::cond_and | Rule::cond_not | Rule::comparison | Rule::operand => {
            "a condition"
        }
        Rule::compare_op => "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::reference | Rule::interpolation => "a `$<…>` reference",
        Rule::block | Rule::repeat_body => "`{`",
        _ => "a token",
    }
}

fn help_for(variant: &ErrorVariant<Rule>, found: &str) -> String {
    let ErrorVariant::ParsingError { positives, .. } = variant else {
        return "see `kfpl explain E0101` for the syntax".into();
    };
    let expects = |rule: Rule| positives.contains(&rule);
    if expects(Rule::EOI)
        && positives
            .iter()
            .any(|r| matches!(r, Rule::pipeline_open | Rule::kw_pipeline))
    {
        return "a file holds one `pipeline NAME { … }` block and nothing after it".into();
    }
    if expects(Rule::comma) {
        return "separate list and map entries with `,`".into();
    }
    if expects(Rule::lbrace) {
        return "a block's contents go inside braces: `step NAME { … }`".into();
    }
    if expects(Rule::colon) && expects(Rule::metric_format) {
        return "a metric's format follows a colon: `metric \"accuracy\": percentage`".into();
    }
    if expects(Rule::metric_format) {
        return "a metric's format is `raw` (the default) or `percentage`".into();
    }
    if expects(Rule::output_type) {
        return "an output's type is `number`, `bool`, `list` or `file`: `output accuracy: number`"
            .into();
    }
    if expects(Rule::colon) && expects(Rule::word) {
        return "an output has a name, a type, or both: `output model`, `output: list`, `output accuracy: number`".into();
    }
    if expects(Rule::colon) {
        return "declare a param with its type: `param NAME: string` or `param NAME: number = 0.5`"
            .into();
    }
    if expects(Rule::assign) || found == ":" {
        return "attributes are written `name = value`".into();
    }
    if expects(Rule::param_type) {
        return "a param is a `string`, a `number`, a `bool` or a `list`; maps can be `let`s"
            .into();
    }
    if expects(Rule::kw_until) || expects(Rule::kw_while) {
        return "a repeat ends with its condition: `repeat max 5 { … } until $<score.mse> < 0.1`"
            .into();
    }
    if expects(Rule::kw_in) {
        return "a loop is written `for NAME in LIST { … }`".into();
    }
    if expects(Rule::kw_then) {
        return "a carried value is written `carry NAME = INITIAL then NEXT`".into();
    }
    if expects(Rule::condition) || expects(Rule::operand) || expects(Rule::compare_op) {
        return "a condition compares literals and `$<…>` references with `==` `!=` `<` `<=` `>` `>=`, joined by `and`, `or`, `not` and parentheses".into();
    }
    if expects(Rule::pipeline_close) || expects(Rule::param) {
        return "a pipeline holds `param`, `let` and `step` declarations, `if`/`for`/`repeat`/`finally` blocks and `name`/`description` attributes".into();
    }
    if expects(Rule::metric) || expects(Rule::output) {
        return "a step holds `name = value` attributes, `metric \"NAME\"` and `output NAME`"
            .into();
    }
    if expects(Rule::value) {
        return "a value is a string, a number, `true`/`false`, a let's name, a list `[…]` or a map `{ KEY = value }`; separate entries with `,`".into();
    }
    "see `kfpl explain E0101` for the syntax".into()
}
