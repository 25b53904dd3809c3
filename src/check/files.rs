//! The rules for `output NAME: file` (a file or a folder a step makes, handed
//! to each reader as the path of a read-only copy).
//!
//! A reader's `$<step.NAME>` is a path, so a file output may be read where a
//! path makes sense, and nowhere else:
//! - in `command` and `env`, where it becomes the path (E0342 elsewhere:
//!   `image`, `cpu`, cluster settings and their kin take no path);
//! - not as a value: a condition's operand, a loop's list (E0341);
//! - not outside its loop, where it would be a list of paths, one per
//!   iteration, nor outside its repeat, whose last pass neither target
//!   passes a file out of yet: use a `data` volume (E0340);
//! - not as a `repeat`'s carried value (E0343): neither target passes a file
//!   from one pass to the next yet.
//!
//! Counts (`gpus`, `retries`, `repeat max`) take numbers and number params
//! only, so their own rule already refuses a file.

use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;

use super::Checker;
use super::ir::{Part, Template};
use crate::syntax::ast::ParamType;

/// E0340: a file output read from outside the loop (or repeat) its step is in.
pub(super) fn read_across_loop(step: &str, output: &str, span: Span, kind: &str) -> Diagnostic {
    let label = match kind {
        "loop" => "outside the loop, this would be one file per iteration",
        _ => "outside the repeat, this would be the file of its last pass",
    };
    Diagnostic::new(
        Code::E0340,
        format!("file output `{step}.{output}` is read outside the {kind} of step `{step}`"),
    )
    .primary(span, label)
    .help(format!(
        "read it inside the {kind}, or have `{step}` write to a `data` volume and pass the folder's path as a plain output"
    ))
}

/// E0341: a file output where a value is needed (a condition, a loop's list).
pub(super) fn used_as_value(part: &Part, span: Span, place: &str) -> Diagnostic {
    let source = part.source();
    Diagnostic::new(
        Code::E0341,
        format!("{source} is a `file` output, and {place} needs a value"),
    )
    .primary(span, "a path to a file or folder, not a value")
    .help(
        "read the file in a step, and write what you need as a typed output (`output best: number`)",
    )
}

/// E0343: a carry whose NEXT is a file output.
pub(super) fn carried(name: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::E0343,
        format!("carry `{name}` would pass a `file` output from one pass to the next"),
    )
    .primary(span, "a `file` output")
    .help("kfpl does not carry files between passes: write the file to a `data` volume and carry its path as a plain output")
}

/// The attributes that may read a file output's path.
pub(super) const PATH_ATTRIBUTES: &[&str] = &["command", "env"];

impl Checker<'_> {
    /// `loop` or `repeat`: the innermost such block around step `step`
    /// that does not surround the current scope. Neither target passes a
    /// file out of one: a loop's would be a list of files, and a repeat's
    /// last pass is known only once it ends.
    pub(super) fn block_left_behind(&self, step: &str) -> Option<&'static str> {
        let producer = self.steps.get(step).and_then(|s| s.block);
        let around = self.ancestors(self.scope);
        self.ancestors(producer)
            .into_iter()
            .filter(|id| !around.contains(id))
            .find_map(|id| match self.blocks[id].source {
                super::control::Source::For(_) => Some("loop"),
                super::control::Source::Repeat(_) => Some("repeat"),
                _ => None,
            })
    }

    /// Whether `part` reads a `file` output.
    pub(super) fn is_file_output(&self, part: &Part) -> bool {
        match part {
            Part::Output { step, output, .. } => {
                self.output_type(step, output) == Some(ParamType::File)
            }
            _ => false,
        }
    }

    /// E0342 for each file output that `what` (`` `image` ``, "a cluster
    /// setting") reads.
    pub(super) fn no_path_in(&mut self, what: &str, template: &Template) {
        let found: Vec<(String, Span)> = template
            .references()
            .into_iter()
            .filter(|part| self.is_file_output(part))
            .filter_map(|part| part.span().map(|span| (part.source(), span)))
            .collect();
        for (source, span) in found {
            self.error(
                Diagnostic::new(
                    Code::E0342,
                    format!("{what} reads {source}, a `file` output"),
                )
                .primary(span, "the path of a file or folder")
                .help(format!(
                    "only {} can read a file output's path; read the file in a step and pass what you need as an output",
                    PATH_ATTRIBUTES
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                )),
            );
        }
    }
}
