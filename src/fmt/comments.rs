//! Finds the comments the AST drops, with one linear pass over the text.
//!
//! The states are the ones of `syntax::scan` (code, comment, plain string,
//! triple string), so a `#` inside a string is never taken for a comment.
//! The formatter runs only on text that parsed, so every string is closed.

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

#[derive(Clone, Copy)]
enum State {
    Code,
    Plain,
    Triple,
}

/// Every comment in `text`, in order.
pub(super) fn comments(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut state = State::Code;
    // Whether code has been seen since the last line break.
    let mut code_on_line = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match state {
            State::Plain => match b {
                b'\\' if bytes.get(i + 1).is_some_and(|&n| n != b'\n') => i += 1,
                b'"' | b'\n' => state = State::Code,
                _ => {}
            },
            State::Triple => {
                if bytes[i..].starts_with(b"\"\"\"") {
                    state = State::Code;
                    i += 2;
                }
            }
            State::Code => match b {
                b'#' => {
                    let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                    out.push(Comment {
                        start: i,
                        end,
                        text: text[i..end].trim_end().to_string(),
                        trailing: code_on_line,
                    });
                    i = end;
                    continue;
                }
                b'\n' => code_on_line = false,
                b'"' => {
                    code_on_line = true;
                    if bytes[i..].starts_with(b"\"\"\"") {
                        state = State::Triple;
                        i += 2;
                    } else {
                        state = State::Plain;
                    }
                }
                b' ' | b'\t' | b'\r' => {}
                // A byte-order mark is whitespace to the grammar.
                0xEF if bytes[i..].starts_with("\u{FEFF}".as_bytes()) => i += 2,
                _ => code_on_line = true,
            },
        }
        i += 1;
    }
    out
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
