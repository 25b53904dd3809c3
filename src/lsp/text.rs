//! Positions: LSP speaks (line, UTF-16 column); kfpl speaks byte offsets.
//!
//! A [`LineIndex`] converts between the two for one text, and
//! [`apply_change`] applies an incremental edit (a range in UTF-16
//! positions and its replacement) to a document's text.

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};

use crate::source::Span;

/// Where each line of a text starts, for converting positions.
#[derive(Debug, Clone)]
pub struct LineIndex<'t> {
    text: &'t str,
    line_starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    /// The index of `text`.
    pub fn new(text: &'t str) -> LineIndex<'t> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, line_starts }
    }

    /// The LSP position of a byte offset (clamped to the text, and down to a
    /// character boundary).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let character = utf16_len(&self.text[start..offset]);
        Position::new(line as u32, character as u32)
    }

    /// The LSP range of a span.
    pub fn range(&self, span: Span) -> Range {
        Range::new(
            self.position(span.start as usize),
            self.position(span.end as usize),
        )
    }

    /// The byte offset of an LSP position. A column past the line's end
    /// means the line's end (before its `\n`), as the protocol asks; a line
    /// past the last means the end of the text.
    pub fn offset(&self, position: Position) -> usize {
        let Some(&start) = self.line_starts.get(position.line as usize) else {
            return self.text.len();
        };
        let mut end = self
            .line_starts
            .get(position.line as usize + 1)
            .map_or(self.text.len(), |&next| next - 1);
        // A CRLF line ends before its `\r`.
        if end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        let wanted = position.character as usize;
        let mut units = 0;
        // A column inside a surrogate pair means the character's start.
        for (i, c) in self.text[start..end].char_indices() {
            units += c.len_utf16();
            if units > wanted {
                return start + i;
            }
        }
        end
    }

    /// The span of an LSP range (its ends in order).
    pub fn span(&self, range: Range) -> Span {
        let (a, b) = (self.offset(range.start), self.offset(range.end));
        Span::new(a.min(b), a.max(b))
    }

    /// How many lines the text has.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

/// How many UTF-16 code units `text` is.
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Applies one change from `didChange`: a range edit, or the whole text
/// when the change has no range.
pub fn apply_change(text: &mut String, change: TextDocumentContentChangeEvent) {
    match change.range {
        None => *text = change.text,
        Some(range) => {
            let span = LineIndex::new(text).span(range);
            text.replace_range(span.range(), &change.text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(range: ((u32, u32), (u32, u32)), text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(
                Position::new(range.0.0, range.0.1),
                Position::new(range.1.0, range.1.1),
            )),
            range_length: None,
            text: text.into(),
        }
    }

    #[test]
    fn utf16_columns_count_surrogate_pairs_as_two() {
        let text = "a😀b\né";
        let index = LineIndex::new(text);
        assert_eq!(index.position(5), Position::new(0, 3)); // after 😀 (2 units)
        assert_eq!(index.offset(Position::new(0, 3)), 5);
        assert_eq!(index.offset(Position::new(1, 1)), text.len());
        assert_eq!(index.offset(Position::new(0, 99)), 6); // line end, before \n
        assert_eq!(index.offset(Position::new(9, 0)), text.len());
        // Inside a surrogate pair: the character's start, never a panic.
        assert_eq!(index.offset(Position::new(0, 2)), 1);
        assert_eq!(index.position(2), Position::new(0, 1));
        let crlf = LineIndex::new("ab\r\ncd");
        assert_eq!(crlf.offset(Position::new(0, 9)), 2);
    }

    #[test]
    fn range_edits_apply_in_utf16() {
        let mut text = "x = \"😀 ab\"\ny".to_string();
        apply_change(&mut text, change(((0, 8), (0, 9)), "Z"));
        assert_eq!(text, "x = \"😀 Zb\"\ny");
        apply_change(&mut text, change(((0, 11), (1, 0)), ""));
        assert_eq!(text, "x = \"😀 Zb\"y");
        apply_change(&mut text, change(((5, 0), (5, 0)), "!"));
        assert_eq!(text, "x = \"😀 Zb\"y!");
    }
}
