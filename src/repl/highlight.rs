//! Colouring input as it is typed: keywords, strings, `$<…>`
//! interpolations, numbers, comments and `:` commands, with ANSI escapes.
//!
//! Only escapes are added, never characters, so the text keeps its width
//! (the line editor depends on it).
//!
//! The words of language v2 are contextual (LANGUAGE-2, "Words"): they are
//! coloured as keywords only in their places, so a v1 step called `list` or
//! a let called `if` keeps the colour of a name.

use super::command::is_command;
use crate::syntax::KEYWORDS;
use crate::syntax::lex::{self, Kind, Token};

const RESET: &str = "\x1b[0m";
const KEYWORD: &str = "\x1b[1;35m";
const COMMAND: &str = "\x1b[1;34m";
const INTERPOLATION: &str = "\x1b[1;36m";

use crate::syntax::lex::{CONDITION_WORDS, DECLARATION_WORDS};

/// The colour of a token that needs no context.
fn plain_colour(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Quote | Kind::Text => Some("\x1b[32m"),
        Kind::Interp => Some(INTERPOLATION),
        Kind::Number => Some("\x1b[33m"),
        Kind::Comment => Some("\x1b[90m"),
        _ => None,
    }
}

/// What ends the condition being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConditionEnd {
    /// An `if` head: its block's `{`.
    Brace,
    /// `when = …`, `} until …`, `} while …`: the line's end (or a brace, or
    /// the next `NAME =` of a one-line block).
    Line,
}

/// What the tokens read so far say about the next one.
#[derive(Debug, Default)]
struct Context<'a> {
    /// The last two tokens that are not spaces or comments, newest first,
    /// with whether each was coloured as a keyword.
    previous: [Option<(Kind, &'a str, bool)>; 2],
    /// A line break since the previous token.
    line_break: bool,
    condition: Option<ConditionEnd>,
    /// In a `carry NAME = … then …` line.
    carry: bool,
}

impl<'a> Context<'a> {
    fn previous_is(&self, back: usize, text: &str) -> bool {
        self.previous[back].is_some_and(|(_, t, _)| t == text)
    }

    fn previous_keyword(&self, back: usize, text: &str) -> bool {
        self.previous[back].is_some_and(|(_, t, keyword)| keyword && t == text)
    }

    /// Where a declaration may start.
    fn declaration_starts(&self) -> bool {
        self.line_break
            || match self.previous[0] {
                None => true,
                Some((kind, _, _)) => matches!(kind, Kind::LBrace | Kind::RBrace),
            }
    }

    /// Whether the word `word` is a keyword here; `next` is the token after it
    /// that is not a space or a comment.
    fn is_keyword(&mut self, word: &str, next: Option<(Kind, &str)>) -> bool {
        let after_colon = self.previous[0].is_some_and(|(kind, _, _)| kind == Kind::Colon);
        if after_colon && lex::TYPE_WORDS_AFTER_COLON.contains(&word) {
            return true;
        }
        let before_assign = next.is_some_and(|(kind, _)| kind == Kind::Assign);
        if before_assign {
            // `NAME =`: an attribute or a map key, and the end of a `when` condition.
            if self.condition == Some(ConditionEnd::Line) {
                self.condition = None;
            }
            return KEYWORDS.contains(&word);
        }
        if KEYWORDS.contains(&word) {
            return true;
        }
        let keyword = match word {
            "if" => self.declaration_starts() || self.previous_keyword(0, "else"),
            "carry" => {
                self.declaration_starts() && next.is_some_and(|(kind, _)| kind == Kind::Word)
            }
            _ if DECLARATION_WORDS.contains(&word) => self.declaration_starts(),
            "in" => {
                self.previous_keyword(1, "for")
                    && self.previous[0].is_some_and(|(kind, _, _)| kind == Kind::Word)
            }
            "max" => self.previous_keyword(0, "repeat"),
            "until" | "while" => self.previous[0].is_some_and(|(kind, _, _)| kind == Kind::RBrace),
            "then" => self.carry,
            _ => self.condition.is_some() && CONDITION_WORDS.contains(&word),
        };
        if keyword {
            match word {
                "if" => self.condition = Some(ConditionEnd::Brace),
                "until" | "while" => self.condition = Some(ConditionEnd::Line),
                "carry" => self.carry = true,
                _ => {}
            }
        }
        keyword
    }

    /// Notes a token that is not a word (spaces and comments included).
    fn see_other(&mut self, kind: Kind, piece: &str) {
        match kind {
            Kind::Space if piece.contains('\n') => {
                self.line_break = true;
                self.carry = false;
                if self.condition == Some(ConditionEnd::Line) {
                    self.condition = None;
                }
            }
            Kind::LBrace | Kind::RBrace => {
                self.condition = None;
                self.carry = false;
            }
            // `when = …` in a step (`let when = …` declares a let).
            Kind::Assign if self.previous_is(0, "when") && !self.previous_is(1, "let") => {
                self.condition = Some(ConditionEnd::Line);
            }
            _ => {}
        }
    }

    fn push(&mut self, kind: Kind, piece: &'a str, keyword: bool) {
        self.previous = [Some((kind, piece, keyword)), self.previous[0]];
        self.line_break = false;
    }
}

/// The colour of every token of `text`, in order.
fn colours(text: &str, tokens: &[Token]) -> Vec<Option<&'static str>> {
    let mut context = Context::default();
    let mut out = Vec::with_capacity(tokens.len());
    for (n, token) in tokens.iter().enumerate() {
        let piece = token.text(text);
        if token.kind.is_trivia() {
            context.see_other(token.kind, piece);
            out.push(plain_colour(token.kind));
            continue;
        }
        let colour = if token.kind == Kind::Word {
            let next = tokens[n + 1..]
                .iter()
                .find(|t| !t.kind.is_trivia())
                .map(|t| (t.kind, t.text(text)));
            context.is_keyword(piece, next).then_some(KEYWORD)
        } else if token.kind == Kind::Compare {
            Some(KEYWORD)
        } else {
            context.see_other(token.kind, piece);
            plain_colour(token.kind)
        };
        context.push(token.kind, piece, colour == Some(KEYWORD));
        out.push(colour);
    }
    out
}

/// Which of `tokens` (all of `text`'s, trivia included) are keywords where
/// they stand: the reserved words, and the contextual words of language v2
/// in their places. The editor server's semantic tokens read this too.
pub(crate) fn keywords_in_context(text: &str, tokens: &[Token]) -> Vec<bool> {
    colours(text, tokens)
        .into_iter()
        .zip(tokens)
        .map(|(colour, token)| colour == Some(KEYWORD) && token.kind == Kind::Word)
        .collect()
}

/// `text` with ANSI colours.
pub fn highlight(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    if is_command(text) {
        // `:name` coloured, its argument (a path, a format) as typed.
        let lead = text.len() - text.trim_start().len();
        let end = text[lead..]
            .find(char::is_whitespace)
            .map_or(text.len(), |n| lead + n);
        paint(&mut out, &text[..lead], None);
        paint(&mut out, &text[lead..end], Some(COMMAND));
        paint(&mut out, &text[end..], None);
        return out;
    }
    // Adjacent pieces of one colour (a string's quotes and text) are painted as one.
    let tokens: Vec<Token> = lex::lex(text).collect();
    let mut run: (usize, Option<&str>) = (0, None);
    for (token, colour) in tokens.iter().zip(colours(text, &tokens)) {
        let start = token.span.start as usize;
        if colour != run.1 {
            paint(&mut out, &text[run.0..start], run.1);
            run = (start, colour);
        }
    }
    paint(&mut out, &text[run.0..], run.1);
    out
}

fn paint(out: &mut String, piece: &str, colour: Option<&str>) {
    match colour {
        Some(code) if !piece.is_empty() => {
            out.push_str(code);
            out.push_str(piece);
            out.push_str(RESET);
        }
        _ => out.push_str(piece),
    }
}

/// The text without ANSI escapes (what [`highlight`] added).
pub fn strip(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_without_changing_the_text() {
        let text = "step s { command = \"echo $<train.output>\" gpus = 1 } # done";
        let coloured = highlight(text);
        assert_eq!(strip(&coloured), text);
        assert!(coloured.starts_with("\x1b[1;35mstep\x1b[0m"));
        assert!(coloured.contains("\x1b[1;36m$<train.output>\x1b[0m"));
        assert_eq!(strip(&highlight(":load x")), ":load x");
    }

    #[test]
    fn type_words_are_coloured_only_after_a_colon() {
        let coloured = highlight("param list: list = [1]");
        assert!(coloured.contains("param\x1b[0m list:"), "{coloured:?}");
        assert!(
            coloured.contains("\x1b[1;35mlist\x1b[0m = "),
            "{coloured:?}"
        );
        assert!(highlight("output: bool").contains("\x1b[1;35mbool\x1b[0m"));
        assert!(!highlight("let file = 1").contains("\x1b[1;35mfile"));
    }

    /// The pieces of `text` painted in `colour`, in order.
    fn painted(text: &str, colour: &str) -> Vec<String> {
        let coloured = highlight(text);
        assert_eq!(strip(&coloured), text);
        coloured
            .split(colour)
            .skip(1)
            .filter_map(|rest| rest.split(RESET).next())
            .map(str::to_string)
            .collect()
    }

    fn keywords(text: &str) -> Vec<String> {
        painted(text, KEYWORD)
    }

    #[test]
    fn conditions_colour_their_words_and_references() {
        assert_eq!(
            keywords("if $<flip.output> == \"heads\" and not ($<deploy> == false) {"),
            ["if", "==", "and", "not", "==", "false"]
        );
        assert_eq!(
            painted("if $<flip.output> == $<n> {", INTERPOLATION),
            ["$<flip.output>", "$<n>"]
        );
        assert_eq!(
            keywords("} else if $<a> != \"x\" or $<b> >= 3 {\n} else {"),
            ["else", "if", "!=", "or", ">=", "else"]
        );
        assert_eq!(
            keywords("step s { when = $<go> and $<n> < 2 command = \"and or\" }"),
            ["step", "and", "<"]
        );
        assert_eq!(
            keywords("step s {\n  when = not $<go>\n  after = [and]\n}"),
            ["step", "not"]
        );
    }

    #[test]
    fn loops_repeat_and_finally_colour_their_words() {
        assert_eq!(
            keywords("for lr in $<lrs> {\n  parallelism = 2\n}"),
            ["for", "in"]
        );
        assert_eq!(
            keywords("for c in configs { step s { } }"),
            ["for", "in", "step"]
        );
        assert_eq!(
            keywords("repeat max 3 {\n  carry g = 0 then $<n.output>\n} until $<n.output> >= 3"),
            ["repeat", "max", "carry", "then", "until", ">="]
        );
        assert_eq!(
            keywords("repeat max $<tries> { } while not $<x>"),
            ["repeat", "max", "while", "not"]
        );
        assert_eq!(
            keywords("finally {\n  if $<workflow.status> == \"Failed\" {"),
            ["finally", "if", "=="]
        );
    }

    #[test]
    fn v1_names_keep_the_colour_of_names() {
        // The v1 keywords (`let`, `step`, …) aside.
        let v2_keywords = |text: &str| -> Vec<String> {
            keywords(text)
                .into_iter()
                .filter(|w| !KEYWORDS.contains(&w.as_str()))
                .collect()
        };
        for text in [
            "let if = 1",
            "let carry = then",
            "let and = or",
            "let in = [for, else, finally, max, until, while, not, list, file, bool]",
            "let when = a and b",
            "env = { if = \"1\", for = \"2\", repeat = \"3\" }",
            "if = 1",
            "} while = 1",
            "data = if",
            "\"if for repeat finally and or not\"",
        ] {
            assert_eq!(v2_keywords(text), Vec::<String>::new(), "{text:?}");
        }
        assert_eq!(keywords("step list { after = [file] }"), ["step"]);
        assert_eq!(keywords("param repeat: number"), ["param", "number"]);
        assert_eq!(keywords("step else {\n}"), ["step"]);
    }
}

/// The REPL colours as string exactly what the parser reads as one: the same
/// inputs go to both.
#[cfg(test)]
mod agreement {
    use super::*;
    use crate::diagnostics::Code;
    use crate::source::SourceFile;
    use crate::syntax::ast::{Item, ValueKind};

    /// The byte ranges of `input` that [`highlight`] paints as a string
    /// (green text, with its interpolations in cyan).
    fn green(input: &str) -> Vec<(usize, usize)> {
        let coloured = highlight(input);
        let mut out = Vec::new();
        let (mut at, mut start) = (0, None);
        for piece in coloured.split('\x1b').filter(|p| !p.is_empty()) {
            let (code, text) = piece.split_once('m').unwrap_or(("", piece));
            if code == "[32" || code == "[1;36" {
                start = start.or(Some(at));
            } else if !text.is_empty()
                && let Some(s) = start.take()
            {
                out.push((s, at));
            }
            at += text.len();
        }
        out.extend(start.map(|s| (s, at)));
        out
    }

    /// Where the parser reads strings in `let x = INPUT`: the literal's span,
    /// or from an unterminated one's quote to the end of its line.
    fn parsed(input: &str) -> Vec<(usize, usize)> {
        let prefix = "pipeline p {\nlet x = ";
        let file = SourceFile::new("t.kfp", format!("{prefix}{input}\n}}\n"));
        let parsed = crate::syntax::parse(&file);
        let shift = |span: crate::source::Span| {
            let start = span.start as usize - prefix.len();
            let line_end = input[start..].find('\n').map_or(input.len(), |n| start + n);
            (start, line_end)
        };
        if let Some(d) = parsed.diagnostics.iter().find(|d| d.code == Code::E0102) {
            return vec![shift(d.span())];
        }
        let program = parsed.program.expect("parsed");
        let Some(Item::Let(decl)) = program.pipelines[0].items.first() else {
            panic!("no let in {input:?}")
        };
        let ValueKind::String(s) = &decl.value.kind else {
            panic!("not a string: {input:?}")
        };
        let start = s.span.start as usize - prefix.len();
        vec![(start, s.span.end as usize - prefix.len())]
    }

    #[test]
    fn repl_and_parser_end_strings_alike() {
        for input in [
            r#""abc""#,
            "\"abc\\\ny = 1",
            r#""a \" b""#,
            r#""a \\""#,
            "\"open",
            "\"\"\"\n  a\n  \"\"\"",
            r#""x $<a> $$<b> y""#,
            r#""\$<a>""#,
            "\"\"",
            "\"\"\"\"\"\"",
        ] {
            assert_eq!(green(input), parsed(input), "{input:?}");
        }
    }
}
