//! Carrying user text and values through Argo and Kubernetes unchanged.
//!
//! A [`Template`] is flattened into [`Piece`]s: literal text and references
//! to a param or an upstream output (lets are looked through). Two readers
//! rewrite strings on the way to the container, and kfpl defends against
//! both:
//! - Argo replaces every `{{…}}` in a template and has no escape for it, so
//!   literal text holding `{{` (or a `{` right before one of kfpl's own
//!   references) cannot be written as is. [`argo_text`] refuses such text;
//!   the caller then moves it into a shell word ([`sh_quote`]), where quotes
//!   split every `{{` as `{''{`, which the shell puts back together.
//! - Kubernetes expands `$(VAR)` and turns `$$` into `$` in `command`,
//!   `args` and `env` values. [`k8s_escape`] doubles each `$` that comes
//!   before `$` or `(`, which the expansion turns back into the original.

use crate::check::ir::{Part, Template};

/// A value a step reads at run time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Ref {
    /// `$<param>`.
    Param(String),
    /// `$<step.output>`.
    Output {
        /// The upstream step.
        step: String,
        /// Its output.
        output: String,
    },
}

impl Ref {
    /// The reference a part makes, if it is one (lets are not).
    pub(crate) fn from_part(part: &Part) -> Option<Ref> {
        match part {
            Part::Param { name, .. } => Some(Ref::Param(name.clone())),
            Part::Output { step, output, .. } => Some(Ref::Output {
                step: step.clone(),
                output: output.clone(),
            }),
            Part::Text(_) | Part::Let { .. } => None,
        }
    }

    /// The template input that carries the value: the param's name, or
    /// `step-output` (idents have no `-`, so the two kinds never collide).
    pub(crate) fn input_name(&self) -> String {
        match self {
            Ref::Param(name) => name.clone(),
            Ref::Output { step, output } => format!("{step}-{output}"),
        }
    }

    /// Argo's reference to the template input.
    pub(crate) fn argo(&self) -> String {
        format!("{{{{inputs.parameters.{}}}}}", self.input_name())
    }

    /// The environment variable a shell reads it from (as [`Part::env_name`]).
    pub(crate) fn env_name(&self) -> String {
        match self {
            Ref::Param(name) => format!("KFP_{name}"),
            Ref::Output { step, output } => format!("KFP_{step}__{output}"),
        }
    }
}

/// A piece of a flattened template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    /// Literal text (never empty; adjacent text is merged).
    Lit(String),
    /// A value known at run time.
    Ref(Ref),
}

/// The template as literal text and references, lets expanded.
pub(crate) fn flatten(template: &Template) -> Vec<Piece> {
    let mut pieces = Vec::new();
    flatten_into(template, &mut pieces);
    pieces
}

fn flatten_into(template: &Template, pieces: &mut Vec<Piece>) {
    for part in &template.parts {
        match part {
            Part::Text(text) => push_lit(pieces, text),
            Part::Let { value, .. } => flatten_into(value, pieces),
            Part::Param { .. } | Part::Output { .. } => {
                if let Some(r) = Ref::from_part(part) {
                    pieces.push(Piece::Ref(r));
                }
            }
        }
    }
}

/// Literal text alone.
pub(crate) fn lit(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    push_lit(&mut pieces, text);
    pieces
}

fn push_lit(pieces: &mut Vec<Piece>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Piece::Lit(last)) = pieces.last_mut() {
        last.push_str(text);
    } else {
        pieces.push(Piece::Lit(text.to_string()));
    }
}

/// Every reference in the pieces.
pub(crate) fn refs(pieces: &[Piece]) -> impl Iterator<Item = &Ref> {
    pieces.iter().filter_map(|p| match p {
        Piece::Ref(r) => Some(r),
        Piece::Lit(_) => None,
    })
}

/// The pieces as an Argo string (references as `{{inputs.parameters.X}}`),
/// or `None` when literal text would be taken for an Argo reference.
/// With `k8s`, literal text is escaped for Kubernetes' `$(VAR)` expansion
/// (for `command`, `args` and `env` values).
pub(crate) fn argo_text(pieces: &[Piece], k8s: bool) -> Option<String> {
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Lit(text) => {
                let before_ref = matches!(pieces.get(i + 1), Some(Piece::Ref(_)));
                if text.contains("{{") || (before_ref && text.ends_with('{')) {
                    return None;
                }
                if k8s {
                    out.push_str(&k8s_escape(text));
                } else {
                    out.push_str(text);
                }
            }
            Piece::Ref(r) => out.push_str(&r.argo()),
        }
    }
    Some(out)
}

/// Display text with every `{{` broken as `{ {`, for places that are only
/// shown (annotations): references become `{{inputs.parameters.X}}`.
pub(crate) fn display_text(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Lit(text) => {
                let mut previous = ' ';
                for c in text.chars() {
                    if c == '{' && previous == '{' {
                        out.push(' ');
                    }
                    out.push(c);
                    previous = c;
                }
                if matches!(pieces.get(i + 1), Some(Piece::Ref(_))) && previous == '{' {
                    out.push(' ');
                }
            }
            Piece::Ref(r) => out.push_str(&r.argo()),
        }
    }
    out
}

/// Escapes text for Kubernetes' expansion of `command`, `args` and `env`
/// values, which turns `$$` into `$` and `$(NAME)` into a variable's value:
/// each `$` before `$` or `(` is doubled, so the expansion gives the text back.
pub(crate) fn k8s_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' && matches!(chars.peek(), Some('$' | '(')) {
            out.push('$');
        }
    }
    out
}

/// A POSIX shell word for literal text: single-quoted, `'` written `'\''`,
/// and every `{{` split as `{''{` so that Argo never sees `{{`.
pub(crate) fn sh_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => out.push_str("'\\''"),
            '{' if chars.peek() == Some(&'{') => out.push_str("{''"),
            _ => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A POSIX shell word for the pieces: literal text quoted by [`sh_quote`],
/// each reference read from its variable (`"${KFP_…}"`).
pub(crate) fn sh_word(pieces: &[Piece]) -> String {
    if pieces.is_empty() {
        return "''".to_string();
    }
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Lit(text) => out.push_str(&sh_quote(text)),
            Piece::Ref(r) => {
                out.push_str("\"${");
                out.push_str(&r.env_name());
                out.push_str("}\"");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str) -> Piece {
        Piece::Ref(Ref::Param(name.into()))
    }

    #[test]
    fn argo_text_refuses_braces_that_argo_would_read() {
        let lr = param("lr");
        assert_eq!(
            argo_text(&[Piece::Lit("--lr=".into()), lr.clone()], true).as_deref(),
            Some("--lr={{inputs.parameters.lr}}")
        );
        assert_eq!(argo_text(&lit("{{.Id}}"), true), None);
        assert_eq!(argo_text(&[Piece::Lit("{".into()), lr.clone()], true), None);
        assert_eq!(
            argo_text(&[lr, Piece::Lit("}".into())], true).as_deref(),
            Some("{{inputs.parameters.lr}}}")
        );
        assert_eq!(argo_text(&lit("{ {"), true).as_deref(), Some("{ {"));
    }

    #[test]
    fn k8s_escape_survives_the_expansion() {
        assert_eq!(k8s_escape("echo $HOME"), "echo $HOME");
        assert_eq!(k8s_escape("echo $$"), "echo $$$");
        assert_eq!(k8s_escape("x=$(date)"), "x=$$(date)");
        assert_eq!(k8s_escape("$$("), "$$$$(");
        assert_eq!(k8s_escape("cost $"), "cost $");
    }

    #[test]
    fn shell_words_never_hold_double_braces() {
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(sh_quote("{{.Id}}"), "'{''{.Id}}'");
        assert_eq!(sh_quote("{{{"), "'{''{''{'");
        assert_eq!(sh_quote(""), "''");
        let word = sh_word(&[Piece::Lit("a{".into()), param("p"), Piece::Lit("{b".into())]);
        assert_eq!(word, "'a{'\"${KFP_p}\"'{b'");
        for text in [&word, &sh_quote("{{{{ '{{' }}")] {
            assert!(!text.contains("{{"), "{text}");
        }
    }

    #[test]
    fn display_text_breaks_braces() {
        assert_eq!(display_text(&lit("a {{b}} c")), "a { {b}} c");
        assert_eq!(
            display_text(&[Piece::Lit("{".into()), param("p")]),
            "{ {{inputs.parameters.p}}"
        );
    }
}
