//! `kfpl repl`: build a pipeline one declaration at a time.
//!
//! The backend ([`session::Session`]) is pure apart from `:load`/`:save`
//! and is driven by tests with transcripts; the terminal frontend
//! ([`frontend`]) wraps it in a rustyline editor with multi-line input
//! ([`input`]), highlighting ([`highlight`]) and Tab completion
//! ([`complete`]). `:yaml` and `:run` go through [`hooks`].

pub mod command;
pub mod complete;
pub mod frontend;
pub mod highlight;
pub mod hooks;
pub mod input;
pub mod session;
mod snippet;

pub use session::{Options, Reply, Session};
