//! The output buffer: lines, indentation, blank lines and comments.
//!
//! The layout (`layout.rs`) walks the AST and tells the printer two things:
//! "a new line starts here, for the source text at offset N" (`line`) and
//! "write this token, which the source had at offsets A..B" (`token`). The
//! printer places every comment the AST dropped on the way, by position:
//!
//! - a comment before a new line, alone on its source line, gets a line of
//!   its own above it, at the indentation of what follows (inside a block
//!   for comments before a closing bracket);
//! - a comment after code on its source line stays at the end of the line
//!   that code ends up on, after one space (a second one in the same gap,
//!   after a lone `,`, gets a line of its own);
//! - a comment *inside* something the layout writes on one line
//!   (`param x` ⏎ `# c` ⏎ `: number`) is lifted above that line.
//!
//! Blank lines: one is kept where the source had one or more; none after an
//! opening bracket or before a closing one; the layout may ask for one.

use super::comments::Comment;

/// Indentation step.
const INDENT: &str = "  ";

/// Whether a blank line goes before a new line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Blank {
    /// Where the source had one.
    Keep,
    /// Always (around steps), unless right after an opening bracket.
    Force,
    /// Never on the line itself (closing brackets); comments before it keep theirs.
    Never,
}

pub(super) struct Printer<'a> {
    src: &'a str,
    comments: Vec<Comment>,
    /// The first comment not yet placed.
    next: usize,
    out: String,
    /// Where the current line starts in `out`, and its indentation.
    line_start: usize,
    line_indent: usize,
    /// Whether the current line has been started and not yet ended.
    line_open: bool,
    /// Source offset just past the last token or comment placed.
    last_end: usize,
    /// Nothing has been written since an opening bracket (or the start).
    at_block_start: bool,
}

impl<'a> Printer<'a> {
    pub(super) fn new(src: &'a str, comments: Vec<Comment>) -> Printer<'a> {
        Printer {
            src,
            comments,
            next: 0,
            out: String::with_capacity(src.len() + src.len() / 8),
            line_start: 0,
            line_indent: 0,
            line_open: false,
            last_end: 0,
            at_block_start: true,
        }
    }

    /// Whether any comment starts inside `start..end` of the source.
    pub(super) fn has_comment_in(&self, start: usize, end: usize) -> bool {
        let first = self.comments.partition_point(|c| c.start < start);
        self.comments.get(first).is_some_and(|c| c.start < end)
    }

    /// The current column, in characters.
    pub(super) fn column(&self) -> usize {
        let line = self.out.rfind('\n').map_or(0, |n| n + 1);
        self.out[line..].chars().count()
    }

    /// Starts a new line at `indent` for the source text at `pos`. Comments
    /// before `pos` are placed first; comments on their own line get
    /// `comment_indent`.
    pub(super) fn line(&mut self, pos: usize, indent: usize, comment_indent: usize, blank: Blank) {
        let wrote_comments = self.gap(pos, comment_indent, blank == Blank::Force);
        let force = blank == Blank::Force && !wrote_comments;
        let keep = blank != Blank::Never && (force || self.blank_in_source(pos));
        self.blank_line(keep);
        self.line_start = self.out.len();
        self.line_indent = indent;
        self.line_open = true;
        for _ in 0..indent {
            self.out.push_str(INDENT);
        }
    }

    /// Writes a token that the source had at `start..end`.
    pub(super) fn token(&mut self, start: usize, end: usize, text: &str) {
        // Comments inside what is now one line are lifted above it; above a
        // line that starts by closing a block (`} else {`), they sit inside
        // that block, where reading them again places them.
        let closes = self.out[self.line_start..]
            .trim_start()
            .starts_with(['}', ']', ')']);
        let indent = self.line_indent + usize::from(closes);
        while let Some(comment) = self.comments.get(self.next).filter(|c| c.start < start) {
            let mut lifted = INDENT.repeat(indent);
            lifted.push_str(&comment.text);
            lifted.push('\n');
            self.out.insert_str(self.line_start, &lifted);
            self.line_start += lifted.len();
            self.next += 1;
        }
        self.out.push_str(text);
        self.last_end = self.last_end.max(end);
    }

    /// Writes punctuation the layout adds (`, `, ` = `); it has no place in the source.
    pub(super) fn write(&mut self, text: &str) {
        self.out.push_str(text);
    }

    /// After an opening bracket: the next line gets no blank line before it.
    pub(super) fn open_block(&mut self) {
        self.at_block_start = true;
    }

    /// Places the comments left at the end of the file and returns the text.
    pub(super) fn finish(mut self) -> String {
        self.gap(self.src.len(), 0, false);
        self.end_line();
        self.out
    }

    /// Places the comments before `pos`: the first one stays at the end of
    /// the current line when it trailed code in the source; the rest get
    /// lines of their own. Returns whether any got its own line.
    fn gap(&mut self, pos: usize, indent: usize, force_blank: bool) -> bool {
        if let Some(comment) = self
            .comments
            .get(self.next)
            .filter(|c| c.start < pos && c.trailing && self.line_open)
        {
            self.out.push(' ');
            self.out.push_str(&comment.text);
            self.last_end = comment.end;
            self.next += 1;
        }
        self.end_line();
        let mut own_lines = false;
        while let Some(comment) = self.comments.get(self.next).filter(|c| c.start < pos) {
            let (start, end) = (comment.start, comment.end);
            let keep = (force_blank && !own_lines) || self.blank_in_source(start);
            self.blank_line(keep);
            for _ in 0..indent {
                self.out.push_str(INDENT);
            }
            self.out.push_str(&self.comments[self.next].text);
            self.out.push('\n');
            self.last_end = end;
            self.next += 1;
            own_lines = true;
        }
        own_lines
    }

    /// Ends the current line.
    fn end_line(&mut self) {
        if self.line_open {
            self.out.push('\n');
            self.line_open = false;
        }
    }

    /// Writes a blank line when asked and allowed here.
    fn blank_line(&mut self, wanted: bool) {
        if wanted && !self.at_block_start {
            self.out.push('\n');
        }
        self.at_block_start = false;
    }

    /// Whether the source has a blank line between the last thing placed and `pos`.
    fn blank_in_source(&self, pos: usize) -> bool {
        let gap = self.src.get(self.last_end..pos).unwrap_or("");
        let mut lines = gap.split('\n');
        lines.next();
        let mut inner = lines.collect::<Vec<_>>();
        inner.pop();
        inner.iter().any(|line| line.trim().is_empty())
    }
}
