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
//!
//! Values known only at run time (params, outputs) cannot be escaped when
//! compiling, so they travel base64-encoded: the DAG task encodes each one
//! in an expression tag ([`Ref::task_argument`]), evaluated once where the
//! value first enters the workflow, so no later substitution pass and no
//! `$(VAR)` expansion can read it (base64 has no `{`, `$` or control
//! character). The container decodes it ([`push_decode_line`]); a field Argo
//! must fill itself (an image, a quantity) decodes it there
//! ([`Ref::argo_decoded`]).

use std::collections::BTreeSet;

use crate::check::ir::{Part, Template};

/// The expr function (sprig v3.2.2, in Argo v3.3's expression env) that
/// encodes a value for its way to the container.
pub(crate) const ENCODE: &str = "sprig.b64enc";
/// Its inverse, for fields Argo fills itself.
pub(crate) const DECODE: &str = "sprig.b64dec";

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
    /// `$<x>` or `$<x.field>`: the item of the loop around the reader.
    Item {
        /// The loop variable.
        var: String,
        /// A field of a map item.
        field: Option<String>,
    },
    /// `$<name>` of a `carry` in the repeat around the reader.
    Carry(String),
    /// `$<workflow.name|uid|pod_name|status>`: known to Argo everywhere, so
    /// never a template input.
    Workflow(String),
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
            Part::Item { var, field, .. } => Some(Ref::Item {
                var: var.clone(),
                field: field.clone(),
            }),
            Part::Carry { name, .. } => Some(Ref::Carry(name.clone())),
            Part::Workflow { field, .. } => Some(Ref::Workflow(field.clone())),
            Part::Text(_) | Part::Let { .. } => None,
        }
    }

    /// Whether `part` makes this reference ([`Ref::from_part`]), compared
    /// in place: a script's variable finds its value among those already
    /// built, not built again.
    pub(crate) fn is_from_part(&self, part: &Part) -> bool {
        match (self, part) {
            (Ref::Param(name), Part::Param { name: other, .. })
            | (Ref::Carry(name), Part::Carry { name: other, .. })
            | (Ref::Workflow(name), Part::Workflow { field: other, .. }) => name == other,
            (
                Ref::Output { step, output },
                Part::Output {
                    step: s, output: o, ..
                },
            ) => step == s && output == o,
            (
                Ref::Item { var, field },
                Part::Item {
                    var: v, field: f, ..
                },
            ) => var == v && field == f,
            _ => false,
        }
    }

    /// Whether a template receives the value as an input (run information
    /// is read where it is used).
    pub(crate) fn is_input(&self) -> bool {
        !matches!(self, Ref::Workflow(_))
    }

    /// The template input that carries the value: the param's name,
    /// `step-output`, `var--item[-field]` or `name--carry` (idents have no
    /// `-`, so no two kinds ever collide).
    pub(crate) fn input_name(&self) -> String {
        let [a, b, c] = self.input_name_parts();
        // Pushed into a string sized once: `concat` cost twice as much.
        let mut name = String::with_capacity(a.len() + b.len() + c.len());
        self.push_input_name(&mut name);
        name
    }

    /// Appends [`Ref::input_name`] to `out` (a task's arguments are
    /// written through one reused buffer: no allocation a name).
    pub(crate) fn push_input_name(&self, out: &mut String) {
        for part in self.input_name_parts() {
            out.push_str(part);
        }
    }

    /// [`Ref::input_name`] in its parts, so that a text holding it is
    /// sized once (`concat`), not grown piece by piece.
    fn input_name_parts(&self) -> [&str; 3] {
        match self {
            Ref::Param(name) => [name, "", ""],
            Ref::Output { step, output } => [step, "-", output],
            Ref::Item { var, field: None } => [var, "--item", ""],
            Ref::Item {
                var,
                field: Some(field),
            } => [var, "--item-", field],
            Ref::Carry(name) => [name, "--carry", ""],
            Ref::Workflow(field) => ["workflow--", field, ""],
        }
    }

    /// Argo's own name for run information, as an expression (`pod.name`
    /// exists only in a pod's template).
    fn run_information(field: &str) -> String {
        let mut expression = String::new();
        Ref::push_run_information(&mut expression, field);
        expression
    }

    /// Appends [`Ref::run_information`] to `out`.
    fn push_run_information(out: &mut String, field: &str) {
        match field {
            "pod_name" => out.push_str("pod.name"),
            other => {
                out.push_str("workflow.");
                out.push_str(other);
            }
        }
    }

    /// The value base64-encoded, for an env value that the container
    /// decodes ([`push_decode_line`]): the template input, or run information
    /// encoded in place.
    pub(crate) fn argo(&self) -> String {
        match self {
            Ref::Workflow(field) => Ref::encode(&Ref::run_information(field)),
            _ => {
                let [a, b, c] = self.input_name_parts();
                const OPEN: &str = "{{inputs.parameters.";
                // Pushed into a string sized once: `concat` cost twice as much.
                let mut text = String::with_capacity(OPEN.len() + a.len() + b.len() + c.len() + 2);
                for part in [OPEN, a, b, c, "}}"] {
                    text.push_str(part);
                }
                text
            }
        }
    }

    /// The value itself, decoded by Argo, for a field Argo fills (image,
    /// quantities, counts, annotations).
    pub(crate) fn argo_decoded(&self) -> String {
        match self {
            Ref::Workflow(field) => ["{{", &Ref::run_information(field), "}}"].concat(),
            _ => ["{{=", &self.decoded_input(), "}}"].concat(),
        }
    }

    /// The expression for the value's text where it needs no input: a
    /// param or run information (both global to the workflow).
    pub(crate) fn global_source(&self) -> Option<String> {
        let mut source = String::new();
        self.push_global_source(&mut source).then_some(source)
    }

    /// Appends [`Ref::global_source`] to `out`; whether there is one.
    pub(crate) fn push_global_source(&self, out: &mut String) -> bool {
        match self {
            Ref::Param(name) => push_all(out, ["workflow.parameters['", name, "']"]),
            Ref::Workflow(field) => Ref::push_run_information(out, field),
            _ => return false,
        }
        true
    }

    /// The expression for an output of the task `task` in the same DAG.
    pub(crate) fn task_output(task: &str, output: &str) -> String {
        let mut expression = String::new();
        Ref::push_task_output(&mut expression, task, output);
        expression
    }

    /// Appends [`Ref::task_output`] to `out`.
    pub(crate) fn push_task_output(out: &mut String, task: &str, output: &str) {
        push_all(
            out,
            ["tasks['", task, "'].outputs.parameters['", output, "']"],
        );
    }

    /// The expression for the value held (encoded) by this DAG's input.
    pub(crate) fn decoded_input(&self) -> String {
        let mut expression = String::new();
        self.push_decoded_input(&mut expression);
        expression
    }

    /// Appends [`Ref::decoded_input`] to `out`.
    pub(crate) fn push_decoded_input(&self, out: &mut String) {
        let [a, b, c] = self.input_name_parts();
        push_all(out, [DECODE, "(inputs.parameters['", a, b, c, "'])"]);
    }

    /// An expression tag encoding the value of `source` (an expression).
    pub(crate) fn encode(source: &str) -> String {
        let mut tag = String::with_capacity(source.len() + ENCODE.len() + 6);
        Ref::push_encoded(&mut tag, |out| out.push_str(source));
        tag
    }

    /// Appends [`Ref::encode`] of the expression `write_source` appends, so
    /// that the source is written in place, not built apart first.
    pub(crate) fn push_encoded(out: &mut String, write_source: impl FnOnce(&mut String)) {
        push_all(out, ["{{=", ENCODE, "("]);
        write_source(out);
        out.push_str(")}}");
    }

    /// The environment variable a shell reads it from (as [`Part::push_env_name`]).
    pub(crate) fn env_name(&self) -> String {
        let (head, tail) = self.env_name_parts();
        // Sized once: pushing the parts into an empty name grew it twice.
        let mut name = String::with_capacity(4 + head.len() + tail.map_or(0, |t| 2 + t.len()));
        self.push_env_name(&mut name);
        name
    }

    /// Appends [`Ref::env_name`] to `out` (the wrapper writes many names
    /// into one line: no allocation a name).
    pub(crate) fn push_env_name(&self, out: &mut String) {
        let (head, tail) = self.env_name_parts();
        out.push_str("KFP_");
        out.push_str(head);
        if let Some(tail) = tail {
            out.push_str("__");
            out.push_str(tail);
        }
    }

    /// `KFP_{head}` or `KFP_{head}__{tail}`: the one rule for the name.
    fn env_name_parts(&self) -> (&str, Option<&str>) {
        match self {
            Ref::Param(name) | Ref::Carry(name) => (name, None),
            Ref::Output { step, output } => (step, Some(output)),
            Ref::Item { var, field } => (var, field.as_deref()),
            Ref::Workflow(field) => ("workflow", Some(field)),
        }
    }

    /// Whether `name` is this value's own variable ([`Ref::env_name`]),
    /// compared in place.
    pub(crate) fn is_env_name(&self, name: &str) -> bool {
        let (head, tail) = self.env_name_parts();
        // The length first: most names compared are another value's, and
        // told apart without comparing bytes.
        if name.len() != "KFP_".len() + head.len() + tail.map_or(0, |t| "__".len() + t.len()) {
            return false;
        }
        let Some(rest) = name.strip_prefix("KFP_") else {
            return false;
        };
        let Some(rest) = rest.strip_prefix(head) else {
            return false;
        };
        match tail {
            None => rest.is_empty(),
            Some(tail) => rest.strip_prefix("__") == Some(tail),
        }
    }
}

/// Appends each part to `out`, in order.
fn push_all<const N: usize>(out: &mut String, parts: [&str; N]) {
    out.reserve(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        out.push_str(part);
    }
}

/// Standard base64 with padding (what `sprig.b64dec` and `base64 -d` read).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
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
            _ => {
                if let Some(r) = Ref::from_part(part) {
                    pieces.push(Piece::Ref(r));
                }
            }
        }
    }
}

/// Adds every reference in the template (lets looked through) to `found`:
/// what `refs(&flatten(template))` gives, without copying its text.
pub(crate) fn collect_refs(template: &Template, found: &mut BTreeSet<Ref>) {
    for part in &template.parts {
        match part {
            Part::Let { value, .. } => collect_refs(value, found),
            _ => found.extend(Ref::from_part(part)),
        }
    }
}

/// Literal text alone.
pub(crate) fn lit(text: &str) -> Vec<Piece> {
    match text.is_empty() {
        true => Vec::new(),
        false => vec![Piece::Lit(text.to_string())],
    }
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

/// The pieces as an Argo string, or `None` when Argo cannot carry them as
/// they are: literal text it would take for a reference, or, with `k8s`
/// (a `command`, `args` or `env` value, where literal text is escaped for
/// Kubernetes' `$(VAR)` expansion), any reference, whose value only the
/// container can decode. Without `k8s`, a reference is decoded by Argo
/// ([`Ref::argo_decoded`]).
pub(crate) fn argo_text(pieces: &[Piece], k8s: bool) -> Option<String> {
    let mut out = String::with_capacity(escaped_len_hint(lits_len(pieces)));
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Lit(text) => {
                let before_ref = matches!(pieces.get(i + 1), Some(Piece::Ref(_)));
                push_argo_lit(&mut out, text, before_ref, k8s)?;
            }
            Piece::Ref(_) if k8s => return None,
            Piece::Ref(r) => out.push_str(&r.argo_decoded()),
        }
    }
    Some(out)
}

/// [`argo_text`] of literal text alone (a step's script, a template that
/// is text: not copied into a piece first).
pub(crate) fn argo_lit_text(text: &str, k8s: bool) -> Option<String> {
    let mut out = String::with_capacity(escaped_len_hint(text.len()));
    push_argo_lit(&mut out, text, false, k8s)?;
    Some(out)
}

/// The template's text when it is literal text alone (lets looked through):
/// [`flatten`] would give it as one piece, or none when it is empty.
pub(crate) fn plain_text(template: &Template) -> Option<&str> {
    match &*template.parts {
        [] => Some(""),
        [Part::Text(text)] => Some(text),
        [Part::Let { value, .. }] => plain_text(value),
        _ => None,
    }
}

/// Appends literal text as [`argo_text`] writes it, or `None` when Argo
/// would take part of it for a reference (`before_ref`: a reference follows).
fn push_argo_lit(out: &mut String, text: &str, before_ref: bool, k8s: bool) -> Option<()> {
    if text.contains("{{") || (before_ref && text.ends_with('{')) {
        return None;
    }
    match k8s {
        true => push_k8s_escaped(out, text),
        false => out.push_str(text),
    }
    Some(())
}

/// The length of the literal text in the pieces.
fn lits_len(pieces: &[Piece]) -> usize {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Lit(text) => text.len(),
            Piece::Ref(_) => 0,
        })
        .sum()
}

/// Room for `len` bytes of text once escaped for Kubernetes: a few `$`
/// doubled without growing the string again.
fn escaped_len_hint(len: usize) -> usize {
    len + 16
}

/// Appends the shell line that decodes each value's variable in place (the
/// container's half of the encoding; `base64 -d` is in coreutils and
/// busybox): one loop, so a value costs its name, not a line. The names are
/// kfpl's own (`KFP_` and an identifier), so `eval` sees no user text. A `.`
/// is appended inside `$(…)` and taken off after, so trailing newlines stay;
/// a value that does not decode stops the step. `KFP_VALUE` (upper case: no
/// param or let makes it) is a plain shell variable, not exported.
pub(crate) fn push_decode_line<'a>(out: &mut String, values: impl IntoIterator<Item = &'a Ref>) {
    let mut values = values.into_iter();
    let Some(first) = values.next() else {
        return;
    };
    // Pushed, not formatted: one line a step, and `format!` costs more.
    out.push_str("for KFP_VALUE in ");
    first.push_env_name(out);
    for value in values {
        out.push(' ');
        value.push_env_name(out);
    }
    out.push_str(
        "; do eval \"$KFP_VALUE=\\$(printf %s \\\"\\$$KFP_VALUE\\\" | base64 -d && echo .) || exit; $KFP_VALUE=\\${$KFP_VALUE%.}\"; done\n",
    );
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
            Piece::Ref(r) => out.push_str(&r.argo_decoded()),
        }
    }
    out
}

/// Escapes text for Kubernetes' expansion of `command`, `args` and `env`
/// values, which turns `$$` into `$` and `$(NAME)` into a variable's value:
/// each `$` before `$` or `(` is doubled, so the expansion gives the text back.
pub(crate) fn k8s_escape(text: &str) -> String {
    let mut out = String::with_capacity(escaped_len_hint(text.len()));
    push_k8s_escaped(&mut out, text);
    out
}

/// Appends [`k8s_escape`]`(text)` to `out` (a command's script is escaped
/// into the argument itself, not copied twice).
pub(crate) fn push_k8s_escaped(out: &mut String, text: &str) {
    // Copied a run at a time: only a `$` before `$` or `(` needs a second
    // one (ASCII bytes, so every cut is at a character boundary).
    let bytes = text.as_bytes();
    let (mut start, mut from) = (0, 0);
    while let Some(dollar) = next_dollar(bytes, from) {
        if matches!(bytes.get(dollar + 1), Some(b'$' | b'(')) {
            out.push_str(&text[start..=dollar]);
            out.push('$');
            start = dollar + 1;
        }
        from = dollar + 1;
    }
    out.push_str(&text[start..]);
}

/// Where the first `$` at or after `from` is. Eight bytes are tested at a
/// time (SWAR, exact for "some byte is `$`"): scripts are a few hundred
/// bytes with a `$` every few dozen, where `str::match_indices` spent most
/// of its time setting up each search.
fn next_dollar(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let rest = bytes.get(from..)?;
    let mut skipped = 0;
    for chunk in rest.chunks_exact(8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let zero_at_dollar = u64::from_ne_bytes(word) ^ (ONES * u64::from(b'$'));
        if zero_at_dollar.wrapping_sub(ONES) & !zero_at_dollar & HIGH != 0 {
            break;
        }
        skipped += 8;
    }
    let found = rest[skipped..].iter().position(|&b| b == b'$')?;
    Some(from + skipped + found)
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
                r.push_env_name(&mut out);
                out.push_str("}\"");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::names::kubernetes_name;

    fn param(name: &str) -> Piece {
        Piece::Ref(Ref::Param(name.into()))
    }

    #[test]
    fn argo_text_refuses_braces_that_argo_would_read() {
        let lr = param("lr");
        assert_eq!(
            argo_text(&[Piece::Lit("--lr=".into()), lr.clone()], false).as_deref(),
            Some("--lr={{=sprig.b64dec(inputs.parameters['lr'])}}")
        );
        // Only the container can decode a value for a program.
        assert_eq!(
            argo_text(&[Piece::Lit("--lr=".into()), lr.clone()], true),
            None
        );
        assert_eq!(argo_text(&lit("$(x)"), true).as_deref(), Some("$$(x)"));
        assert_eq!(argo_text(&lit("{{.Id}}"), true), None);
        assert_eq!(argo_text(&[Piece::Lit("{".into()), lr.clone()], true), None);
        assert_eq!(
            argo_text(&[lr, Piece::Lit("}".into())], false).as_deref(),
            Some("{{=sprig.b64dec(inputs.parameters['lr'])}}}")
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
            "{ {{=sprig.b64dec(inputs.parameters['p'])}}"
        );
    }

    #[test]
    fn a_part_is_found_among_the_references_it_makes() {
        use crate::source::Span;
        let span = Span::default();
        let parts = [
            Part::Param {
                name: "x".into(),
                span,
            },
            Part::Carry {
                name: "x".into(),
                span,
            },
            Part::Workflow {
                field: "x".into(),
                span,
            },
            Part::Output {
                step: "s".into(),
                output: "x".into(),
                span,
            },
            Part::Output {
                step: "s".into(),
                output: "y".into(),
                span,
            },
            Part::Item {
                var: "x".into(),
                field: None,
                span,
            },
            Part::Item {
                var: "x".into(),
                field: Some("f".into()),
                span,
            },
        ];
        let refs: Vec<Ref> = parts.iter().filter_map(Ref::from_part).collect();
        for (i, part) in parts.iter().enumerate() {
            for (j, r) in refs.iter().enumerate() {
                assert_eq!(r.is_from_part(part), i == j, "{r:?} and part {i}");
            }
        }
        assert!(!refs[0].is_from_part(&Part::Text("x".into())));
    }

    #[test]
    fn values_are_encoded_where_they_enter() {
        let output = Ref::Output {
            step: "prepare_data".into(),
            output: "in".into(),
        };
        let cases = [
            (
                Ref::Param("retries".into()),
                "{{=sprig.b64enc(workflow.parameters['retries'])}}",
            ),
            (
                output.clone(),
                "{{=sprig.b64enc(tasks['prepare-data'].outputs.parameters['in'])}}",
            ),
        ];
        for (r, argument) in cases {
            let source = match &r {
                Ref::Output { step, output } => Ref::task_output(&kubernetes_name(step), output),
                other => other.global_source().expect("a param"),
            };
            assert_eq!(Ref::encode(&source), argument);
        }
        assert_eq!(
            output.argo_decoded(),
            "{{=sprig.b64dec(inputs.parameters['prepare_data-in'])}}"
        );
    }
}
