//! The comments the AST drops, as `syntax::scan` finds them (so a `#`
//! inside a string is never taken for one), each marked trailing or own-line.

/// One `# …` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Comment {
    /// Byte offset of the `#`.
    pub(super) start: usize,
    /// Byte offset of the end of the line (the `\n`, or the end of the text).
    pub(super) end: usize,
    /// The text from `#`, with trailing whitespace (and a `\r`) removed.
    pub(super) text: String,
    /// Code comes before it on its line (`image = "x"  # why`); otherwise the
    /// comment has its line to itself.
    pub(super) trailing: bool,
}

/// Every comment in `text`, in order (found by the parser's lexical pre-pass).
pub(super) fn comments(text: &str) -> Vec<Comment> {
    crate::syntax::scan::scan(text)
        .comments
        .into_iter()
        .map(|range| {
            let line_start = text[..range.start].rfind('\n').map_or(0, |n| n + 1);
            // A byte-order mark is whitespace to the grammar.
            let before = text[line_start..range.start]
                .trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
            Comment {
                start: range.start,
                end: range.end,
                text: text[range].trim_end().to_string(),
                trailing: !before.is_empty(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<(String, bool)> {
        comments(text)
            .into_iter()
            .map(|c| (c.text, c.trailing))
            .collect()
    }

    #[test]
    fn finds_own_line_and_trailing_comments() {
        let text = "# top\npipeline p { # after brace\n  name = \"#not\" # end  \r\n}\n";
        assert_eq!(
            texts(text),
            [
                ("# top".to_string(), false),
                ("# after brace".to_string(), true),
                ("# end".to_string(), true),
            ]
        );
    }

    #[test]
    fn ignores_hashes_in_strings() {
        let text = "x = \"a \\\" # b\" y = \"\"\"\n # c \"\n\"\"\" # d\n";
        assert_eq!(texts(text), [("# d".to_string(), true)]);
    }

    #[test]
    fn a_triple_string_closing_line_counts_as_code() {
        let text = "c = \"\"\"\n  x\n  \"\"\"\n  # own\n";
        assert_eq!(texts(text), [("# own".to_string(), false)]);
    }
}
