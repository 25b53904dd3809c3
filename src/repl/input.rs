//! When typed input is complete: a declaration may span lines, and the
//! REPL keeps reading while a bracket or a `"""` string is open (the
//! parser's own pre-pass decides, so the REPL and `kfpl check` agree).

use super::command;
use crate::syntax::scan;

/// Whether more lines could complete `text` (a `:` command never continues).
pub fn is_incomplete(text: &str) -> bool {
    !command::is_command(text) && scan::scan(text).incomplete
}

/// Gathers lines into complete inputs, for input that does not come from a
/// line editor (a pipe, a test transcript).
#[derive(Debug, Default)]
pub struct Lines {
    pending: String,
}

impl Lines {
    /// Nothing gathered yet.
    pub fn new() -> Lines {
        Lines::default()
    }

    /// Adds a line; returns the whole input once it is complete.
    pub fn push(&mut self, line: &str) -> Option<String> {
        if !self.pending.is_empty() {
            self.pending.push('\n');
        }
        self.pending.push_str(line);
        if is_incomplete(&self.pending) {
            None
        } else {
            Some(std::mem::take(&mut self.pending))
        }
    }

    /// Whether an input has been started and is not complete.
    pub fn is_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// What is left at the end of the input, complete or not.
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.pending);
        (!rest.trim().is_empty()).then_some(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continues_while_brackets_or_strings_are_open() {
        assert!(is_incomplete("step train {"));
        assert!(is_incomplete("step train {\n  command = \"\"\"\n  echo }"));
        assert!(!is_incomplete("step train {\n}"));
        assert!(!is_incomplete("param lr: number ="));
        assert!(!is_incomplete(":load {"));
        // A closing bracket too many is an error to report, not more to read.
        assert!(!is_incomplete("}"));
    }

    #[test]
    fn lines_gather_a_declaration() {
        let mut lines = Lines::new();
        assert_eq!(lines.push("step s {"), None);
        assert!(lines.is_pending());
        assert_eq!(lines.push("  image = \"a\""), None);
        assert_eq!(
            lines.push("}").as_deref(),
            Some("step s {\n  image = \"a\"\n}")
        );
        assert_eq!(lines.push("step t {"), None);
        assert_eq!(lines.finish().as_deref(), Some("step t {"));
    }
}
