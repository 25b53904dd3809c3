//! kfpl: a small language for machine-learning pipelines.
//!
//! A `.kfp` file describes a pipeline (params, lets, steps with images,
//! commands, data claims, GPUs, metrics). This crate parses and checks it
//! into a typed IR ([`ir::Pipeline`]), which the later stages consume.
//! Everything is a library; the `kfpl` binary is a thin layer on it.
//!
//! ```
//! use kfpl::{SourceFile, check};
//!
//! let file = SourceFile::new("hello.kfp", r#"
//! pipeline hello {
//!   param who: string = "world"
//!   step greet {
//!     image = "alpine:3.20"
//!     command = "echo hello $<who>"
//!   }
//! }
//! "#);
//! let checked = check(&file);
//! let pipeline = checked.pipeline.expect("no errors");
//! assert_eq!(pipeline.steps[0].name, "greet");
//!
//! // Errors come back as data, with stable codes and spans.
//! let bad = SourceFile::new("bad.kfp", "pipeline p { step s { image = 1 } }");
//! let checked = check(&bad);
//! assert!(checked.pipeline.is_none());
//! let codes: Vec<&str> = checked.diagnostics.iter().map(|d| d.code.as_str()).collect();
//! assert_eq!(codes, ["E0207", "E0301"]);
//! ```

// Only the binary (src/cli/, src/main.rs) decides what reaches the
// process's stdout and stderr: the library returns text and diagnostics as
// data. `disallowed_methods` (see clippy.toml) catches writes through
// `std::io::stdout()`/`stderr()` handles, which the print lints miss. Tests
// may print (`allow-print-in-tests`).
#![deny(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::dbg_macro,
    clippy::disallowed_methods
)]

// pest's generated parser names `::alloc` when pest is built without `std` (Cargo.toml).
extern crate alloc;

pub mod check;
pub mod diagnostics;
pub mod fmt;
pub mod generate;
pub mod graph;
pub mod lower;
pub mod lsp;
pub mod repl;
pub mod run;
pub mod source;
pub mod syntax;
pub mod web;

pub use check::ir;
pub use check::{Checked, params};
pub use diagnostics::{Code, Diagnostic, Severity};
pub use lower::{CompileOptions, Compiled, compile};
pub use source::{SourceFile, Span};

use std::path::Path;

/// Parses a file into its AST (see [`syntax::parse`]).
pub fn parse(file: &SourceFile) -> syntax::Parsed {
    syntax::parse(file)
}

/// Parses and checks a file: the IR when there are no errors, and every
/// diagnostic (syntax and checking, errors and warnings) sorted by position.
pub fn check(file: &SourceFile) -> Checked {
    let parsed = syntax::parse(file);
    let mut diagnostics = parsed.diagnostics;
    let syntax_ok = !diagnostics.iter().any(Diagnostic::is_error);
    let mut pipeline = None;
    // A program with unreadable parts is not checked: a step lost to a
    // syntax error would make every use of it look unknown.
    if let Some(program) = parsed.program.filter(|_| !parsed.partial) {
        // Taken: each step's attributes are dropped once checked, and the
        // rest of the AST before the graph is sorted.
        let resolved = check::resolve_program(program);
        let checked = resolved.finish();
        // A malformed use (E0103, say) would make its param look unused.
        diagnostics.extend(
            checked
                .diagnostics
                .into_iter()
                .filter(|d| syntax_ok || !matches!(d.code, Code::W0201 | Code::W0202)),
        );
        if syntax_ok {
            pipeline = checked.pipeline;
        }
    }
    diagnostics::sort(&mut diagnostics);
    Checked {
        pipeline,
        diagnostics,
    }
}

/// A file that could not be read as a source: the diagnostic, and the text
/// it refers to (the lossy text for invalid UTF-8, else empty).
#[derive(Debug)]
pub struct ReadError {
    /// What the diagnostic points into.
    pub file: SourceFile,
    /// E0001, E0002 or E0003.
    pub diagnostic: Diagnostic,
}

/// Reads a source file for checking: E0001 when it cannot be read, E0002
/// when it is not UTF-8 (pointing at the first bad byte), E0003 when it is
/// too large. `name` is how diagnostics will name it.
pub fn read_source(path: &Path, name: &str) -> Result<SourceFile, Box<ReadError>> {
    let empty = || SourceFile::new(name, "");
    let too_large = |len: u64| {
        let diagnostic = Diagnostic::new(
            Code::E0003,
            format!(
                "`{name}` is {} MiB; kfpl reads at most {} MiB",
                len >> 20,
                SourceFile::MAX_LEN >> 20
            ),
        )
        .help("is this the right file? pipelines are small text files");
        Box::new(ReadError {
            file: empty(),
            diagnostic,
        })
    };
    let size = std::fs::metadata(path).map_or(0, |metadata| metadata.len());
    if size > SourceFile::MAX_LEN as u64 {
        return Err(too_large(size));
    }
    // Read at most one byte past the limit: `/dev/zero` or a pipe must not run forever.
    let read = std::fs::File::open(path).and_then(|file| {
        // Sized from the file's length: grown by doubling, the text (kept
        // for diagnostics to the end) would hold up to twice its room.
        let mut bytes = Vec::with_capacity(size as usize);
        std::io::Read::read_to_end(
            &mut std::io::Read::take(file, SourceFile::MAX_LEN as u64 + 1),
            &mut bytes,
        )?;
        Ok(bytes)
    });
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(error) => {
            let diagnostic = Diagnostic::new(Code::E0001, format!("cannot read `{name}`: {error}"))
                .help("check the path and that the file is readable");
            return Err(Box::new(ReadError {
                file: empty(),
                diagnostic,
            }));
        }
    };
    if bytes.len() > SourceFile::MAX_LEN {
        return Err(too_large(bytes.len() as u64));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            let bytes = error.into_bytes();
            let file = SourceFile::new(name, String::from_utf8_lossy(&bytes).into_owned());
            let (line, column) = file.line_col(valid as u32);
            let diagnostic = Diagnostic::new(
                Code::E0002,
                format!("`{name}` is not valid UTF-8 (line {line}, column {column})"),
            )
            .primary(
                Span::new(valid, valid + char::REPLACEMENT_CHARACTER.len_utf8()),
                "invalid byte here",
            )
            .help("save the file as UTF-8; binary files are not pipelines");
            Err(Box::new(ReadError { file, diagnostic }))
        }
    }
}
