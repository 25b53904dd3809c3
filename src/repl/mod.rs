//! `kfpl repl`: build a pipeline one declaration at a time.
//!
//! This is the REPL's backend, and it never touches the terminal: a
//! [`session::Session`] answers each complete input with a [`Reply`] (the
//! text to show, rendered diagnostics included, and whether to quit), and
//! is driven by tests with transcripts. It is pure apart from `:load`,
//! `:save` and the [`hooks`] behind `:yaml` and `:run`. The pieces a line
//! editor needs are pure functions here too: when an input is complete
//! ([`input`]), highlighting ([`highlight`]) and Tab completion
//! ([`complete`]). The terminal frontend (the rustyline editor that prints
//! the replies) is the binary's: `src/cli/repl/`.

pub mod command;
pub mod complete;
pub mod highlight;
pub mod hooks;
pub mod input;
pub mod session;
mod snippet;

pub use session::{Options, Reply, Session};
