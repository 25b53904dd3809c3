//! Source text and byte spans.
//!
//! Every AST and IR node carries a [`Span`]: a half-open byte range into one
//! [`SourceFile`]. Line and column are computed only when a diagnostic is
//! rendered, from the line index built once per file.

use std::fmt;
use std::sync::OnceLock;

/// Byte offsets into one source file, half-open (`start..end`). 8 bytes, `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// First byte of the range.
    pub start: u32,
    /// One past the last byte of the range.
    pub end: u32,
}

impl Span {
    /// A span for things that have no place in the source (command-line values).
    /// It is never given a primary label.
    pub(crate) const DETACHED: Span = Span {
        start: u32::MAX,
        end: u32::MAX,
    };

    /// The range `start..end` (offsets saturate at `u32::MAX - 1`; see [`SourceFile::MAX_LEN`]).
    pub fn new(start: usize, end: usize) -> Span {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX - 1);
        Span {
            start: clamp(start),
            end: clamp(end.max(start)),
        }
    }

    /// A zero-length span at `offset`.
    pub fn at(offset: usize) -> Span {
        Span::new(offset, offset)
    }

    /// Whether this span points nowhere.
    pub(crate) fn is_detached(self) -> bool {
        self == Span::DETACHED
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The range as `usize` offsets.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the span is empty.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_detached() {
            write!(f, "detached")
        } else {
            write!(f, "{}..{}", self.start, self.end)
        }
    }
}

/// One source text with the name it is reported under and a line index.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: String,
    text: String,
    /// Made when a position is first asked for: a file with nothing to
    /// report never needs it (for 100,000 steps it is 8 MB, alive with the
    /// whole AST at the compile's peak, and a pass over the text).
    line_starts: OnceLock<Vec<u32>>,
}

impl SourceFile {
    /// Larger inputs are refused before parsing, so every offset fits a `u32`.
    pub(crate) const MAX_LEN: usize = 256 * 1024 * 1024;

    /// A source named `name` (a path as given on the command line, or `<repl>`).
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
            line_starts: OnceLock::new(),
        }
    }

    /// The byte offset where each line starts.
    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let breaks = self.text.bytes().enumerate().filter(|&(_, b)| b == b'\n');
            std::iter::once(0)
                .chain(breaks.map(|(i, _)| i as u32 + 1))
                .collect()
        })
    }

    /// The name diagnostics show for this file.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text a span covers (empty for detached or out-of-range spans).
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = offset.min(self.text.len() as u32);
        let line_starts = self.line_starts();
        let line = line_starts.partition_point(|&s| s <= offset) - 1;
        let start = line_starts[line] as usize;
        let column = self
            .text
            .get(start..offset as usize)
            .map_or(0, |s| s.chars().count());
        (line + 1, column + 1)
    }
}
