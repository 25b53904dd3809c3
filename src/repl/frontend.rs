//! The terminal side of `kfpl repl`: a rustyline editor around a [`Session`].
//!
//! This is one of the few modules that touch the terminal. The editor's
//! helper does four things, each by calling a pure function of the REPL:
//! the validator keeps a declaration open while brackets or a `"""` string
//! are open ([`input::is_incomplete`]), the highlighter colours the input
//! ([`highlight::highlight`], off under `NO_COLOR`), and the completer offers
//! [`complete::complete`]'s words (file names after `:load` and `:save`).
//! History is kept in `$KFPL_HOME/history` when `KFPL_HOME` is set, else in
//! `$XDG_DATA_HOME/kfpl/history`, else `~/.local/share/kfpl/history`.
//! Ctrl-C clears the input; Ctrl-D (on an empty line) quits.
//!
//! When standard input is not a terminal (a pipe, a script), lines are read
//! plainly and gathered with [`input::Lines`], without prompts.

use std::borrow::Cow;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{CompletionType, Config, Context, Editor, Helper, Hinter};

use super::complete::{self, Completion, Names};
use super::session::{Options, Reply, Session};
use super::{highlight, input};

/// How the terminal REPL starts.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// A file to load first.
    pub file: Option<String>,
    /// Colour the prompt, the input and the diagnostics.
    pub color: bool,
    /// Where history is kept (`None`: not kept).
    pub history: Option<PathBuf>,
    /// The session's options (base folder, rendering, hooks).
    pub options: Options,
}

/// The history file: `$KFPL_HOME/history`, `$XDG_DATA_HOME/kfpl/history`
/// or `~/.local/share/kfpl/history` (empty variables count as unset).
pub fn history_path() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(home) = var("KFPL_HOME") {
        return Some(home.join("history"));
    }
    if let Some(data) = var("XDG_DATA_HOME") {
        return Some(data.join("kfpl").join("history"));
    }
    var("HOME").map(|home| home.join(".local/share/kfpl/history"))
}

/// The line editor's helper: completion, highlighting, validation.
#[derive(Helper, Hinter)]
struct KfpHelper {
    names: Names,
    color: bool,
    files: FilenameCompleter,
}

impl Completer for KfpHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let _ = ctx;
        match complete::complete(line, pos, &self.names) {
            Completion::Path => self.files.complete_path(line, pos),
            Completion::Words { start, words } => Ok((
                start,
                words
                    .into_iter()
                    .map(|w| Pair {
                        display: w.clone(),
                        replacement: w,
                    })
                    .collect(),
            )),
        }
    }
}

impl Highlighter for KfpHelper {
    fn highlight<'l>(&self, line: &'l str, pos: usize) -> Cow<'l, str> {
        let _ = pos;
        if self.color {
            Cow::Owned(highlight::highlight(line))
        } else {
            Cow::Borrowed(line)
        }
    }

    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        default: bool,
    ) -> Cow<'b, str> {
        if self.color && default {
            Cow::Owned(format!("\x1b[1;32m{prompt}\x1b[0m"))
        } else {
            Cow::Borrowed(prompt)
        }
    }

    fn highlight_char(&self, line: &str, pos: usize, kind: CmdKind) -> bool {
        let _ = (line, pos);
        self.color && kind != CmdKind::MoveCursor
    }
}

impl Validator for KfpHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if input::is_incomplete(ctx.input()) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

const PROMPT: &str = "kfpl> ";

/// Runs the REPL until `:quit`, Ctrl-D or the end of input.
pub fn run(settings: Settings) -> std::io::Result<()> {
    let mut session = Session::new(settings.options.clone());
    if !std::io::stdin().is_terminal() {
        return run_plain(&mut session, &settings);
    }
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .history_ignore_space(true)
        .build();
    let mut editor: Editor<KfpHelper, DefaultHistory> =
        Editor::with_config(config).map_err(std::io::Error::other)?;
    editor.set_helper(Some(KfpHelper {
        names: Names::default(),
        color: settings.color,
        files: FilenameCompleter::new(),
    }));
    if let Some(path) = &settings.history {
        // No history yet is the normal first start.
        let _ = editor.load_history(path);
    }
    println!(
        "kfpl repl: enter declarations to build a pipeline; :help lists the commands, Ctrl-D quits"
    );
    if let Some(file) = &settings.file {
        print_reply(&session.load(file));
    }
    loop {
        if let Some(helper) = editor.helper_mut() {
            helper.names = session.names();
        }
        match editor.readline(PROMPT) {
            Ok(text) => {
                if !text.trim().is_empty() {
                    let _ = editor.add_history_entry(text.as_str());
                    save_history(&mut editor, settings.history.as_ref());
                }
                let reply = session.eval(&text);
                print_reply(&reply);
                if reply.quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(error) => {
                save_history(&mut editor, settings.history.as_ref());
                return Err(std::io::Error::other(error));
            }
        }
    }
    save_history(&mut editor, settings.history.as_ref());
    Ok(())
}

fn save_history(editor: &mut Editor<KfpHelper, DefaultHistory>, path: Option<&PathBuf>) {
    let Some(path) = path else { return };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // Losing history is not worth interrupting the session for.
    let _ = editor.save_history(path);
}

/// Reads lines from a pipe: no prompt, no editing, no history.
fn run_plain(session: &mut Session, settings: &Settings) -> std::io::Result<()> {
    if let Some(file) = &settings.file {
        print_reply(&session.load(file));
    }
    let mut lines = input::Lines::new();
    for line in std::io::stdin().lock().lines() {
        let Some(text) = lines.push(&line?) else {
            continue;
        };
        let reply = session.eval(&text);
        print_reply(&reply);
        if reply.quit {
            return Ok(());
        }
    }
    if let Some(rest) = lines.finish() {
        print_reply(&session.eval(&rest));
    }
    Ok(())
}

fn print_reply(reply: &Reply) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(reply.text.as_bytes());
    let _ = stdout.flush();
}
