//! The terminal side of `kfpl repl`: a rustyline editor around a
//! [`Session`], and the one place the REPL writes to the terminal.
//!
//! The session answers each input with a [`Reply`] (text, and whether to
//! quit); this module prints it. The editor's [`KfpHelper`] keeps a
//! declaration open while brackets or a `"""` string are open, colours the
//! input (off under `NO_COLOR`) and offers completions (file names after
//! `:load` and `:save`). Ctrl-C clears the input; Ctrl-D (on an empty line)
//! quits.
//!
//! When standard input is not a terminal (a pipe, a script), lines are read
//! plainly and gathered with [`input::Lines`], without prompts.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use kfpl::repl::input;
use kfpl::repl::{Options, Reply, Session};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};

use super::helper::KfpHelper;

/// How the terminal REPL starts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    /// A file to load first.
    pub(crate) file: Option<String>,
    /// Colour the prompt and the input (the session's style colours diagnostics).
    pub(crate) color: bool,
    /// Where history is kept (`None`: not kept).
    pub(crate) history: Option<PathBuf>,
    /// The session's options (base folder, rendering, hooks).
    pub(crate) options: Options,
}

/// The history file: `$KFPL_HOME/history`, `$XDG_DATA_HOME/kfpl/history`
/// or `~/.local/share/kfpl/history` (empty variables count as unset).
pub(crate) fn history_path() -> Option<PathBuf> {
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

const PROMPT: &str = "kfpl> ";

const BANNER: &str =
    "kfpl repl: enter declarations to build a pipeline; :help lists the commands, Ctrl-D quits";

/// Runs the REPL until `:quit`, Ctrl-D or the end of input.
pub(crate) fn run(settings: Settings) -> std::io::Result<()> {
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
    editor.set_helper(Some(KfpHelper::new(settings.color)));
    if let Some(path) = &settings.history {
        // No history yet is the normal first start.
        let _ = editor.load_history(path);
    }
    println!("{BANNER}");
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

/// Writes a reply as it is (it ends with its own line break); a closed
/// stdout is not worth stopping the session for.
fn print_reply(reply: &Reply) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(reply.text.as_bytes());
    let _ = stdout.flush();
}
