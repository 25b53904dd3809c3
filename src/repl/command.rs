//! The REPL's `:` commands: one table with names, aliases, arguments and a
//! line of help each, and a parser from input text to [`Command`].

use crate::diagnostics::did_you_mean;
use crate::graph::Format;

/// A parsed `:` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `:help`: list the commands.
    Help,
    /// `:load FILE`: replace the session with a file's pipeline.
    Load(String),
    /// `:show`: print the program so far.
    Show,
    /// `:check`: every diagnostic of the program so far, warnings included.
    Check,
    /// `:yaml`: the compiled Argo workflow.
    Yaml,
    /// `:graph [ascii|dot|mermaid]`: the step graph.
    Graph(Format),
    /// `:params`: the params with their types and defaults.
    Params,
    /// `:run [-p NAME=VALUE]...`: run the pipeline locally.
    Run(Vec<String>),
    /// `:undo`: take back the last change.
    Undo,
    /// `:reset`: start again from an empty pipeline.
    Reset,
    /// `:save [FILE]`: write the program to a file (the last one loaded or saved by default).
    Save(Option<String>),
    /// `:quit`: leave.
    Quit,
}

/// One row of the command table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Info {
    /// The name, without the colon.
    pub name: &'static str,
    /// Other names it answers to.
    pub aliases: &'static [&'static str],
    /// How its arguments are written, for `:help`.
    pub args: &'static str,
    /// What it does, in one line.
    pub help: &'static str,
}

/// Every command, in the order `:help` lists them.
pub(crate) const COMMANDS: &[Info] = &[
    Info {
        name: "help",
        aliases: &["h", "?"],
        args: "",
        help: "list the commands",
    },
    Info {
        name: "load",
        aliases: &["l"],
        args: "FILE",
        help: "replace the session with the pipeline in FILE",
    },
    Info {
        name: "show",
        aliases: &["s"],
        args: "",
        help: "print the program so far",
    },
    Info {
        name: "check",
        aliases: &["c"],
        args: "",
        help: "check the program so far, warnings included",
    },
    Info {
        name: "yaml",
        aliases: &["y"],
        args: "",
        help: "print the compiled Argo workflow",
    },
    Info {
        name: "graph",
        aliases: &["g"],
        args: "[ascii|dot|mermaid]",
        help: "draw the step graph",
    },
    Info {
        name: "params",
        aliases: &["p"],
        args: "",
        help: "list the params with their types and defaults",
    },
    Info {
        name: "run",
        aliases: &["r"],
        args: "[-p NAME=VALUE]...",
        help: "run the pipeline on this machine",
    },
    Info {
        name: "undo",
        aliases: &["u"],
        args: "",
        help: "take back the last change",
    },
    Info {
        name: "reset",
        aliases: &[],
        args: "",
        help: "start again from an empty pipeline",
    },
    Info {
        name: "save",
        aliases: &["w"],
        args: "[FILE]",
        help: "write the program to FILE (default: the last file loaded or saved)",
    },
    Info {
        name: "quit",
        aliases: &["q", "exit"],
        args: "",
        help: "leave (Ctrl-D does too)",
    },
];

/// Whether the input is a command rather than a declaration.
pub(crate) fn is_command(input: &str) -> bool {
    input.trim_start().starts_with(':')
}

/// Parses `:name args`; the error is a message and a help line.
pub fn parse(input: &str) -> Result<Command, (String, String)> {
    let text = input.trim().trim_start_matches(':');
    let (word, rest) = text
        .split_once(char::is_whitespace)
        .map_or((text, ""), |(w, r)| (w, r.trim()));
    let Some(info) = COMMANDS
        .iter()
        .find(|c| c.name == word || c.aliases.contains(&word))
    else {
        let names: Vec<String> = COMMANDS.iter().map(|c| format!(":{}", c.name)).collect();
        let help = did_you_mean(&format!(":{word}"), names.iter().map(String::as_str))
            .unwrap_or_else(|| "`:help` lists the commands".into());
        return Err((format!("unknown command `:{word}`"), help));
    };
    let no_args = |command: Command| {
        if rest.is_empty() {
            Ok(command)
        } else {
            Err((
                format!("`:{}` takes no arguments", info.name),
                format!("write just `:{}`", info.name),
            ))
        }
    };
    match info.name {
        "help" => Ok(Command::Help),
        "load" => path(rest).map(Command::Load).ok_or_else(|| {
            (
                "`:load` needs a file".into(),
                "write `:load examples/mnist.kfp`".into(),
            )
        }),
        "show" => no_args(Command::Show),
        "check" => no_args(Command::Check),
        "yaml" => no_args(Command::Yaml),
        "graph" => graph(rest),
        "params" => no_args(Command::Params),
        "run" => run(rest),
        "undo" => no_args(Command::Undo),
        "reset" => no_args(Command::Reset),
        "save" => Ok(Command::Save(path(rest))),
        _ => no_args(Command::Quit),
    }
}

/// A file name: the rest of the line, without surrounding quotes.
fn path(rest: &str) -> Option<String> {
    let trimmed = rest.trim();
    let unquoted = trimmed
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .or_else(|| {
            trimmed
                .strip_prefix('\'')
                .and_then(|t| t.strip_suffix('\''))
        })
        .unwrap_or(trimmed);
    (!unquoted.is_empty()).then(|| unquoted.to_string())
}

fn graph(rest: &str) -> Result<Command, (String, String)> {
    let name = rest
        .trim_start_matches("--format")
        .trim_start_matches('=')
        .trim();
    if name.is_empty() {
        return Ok(Command::Graph(Format::Ascii));
    }
    Format::parse(name).map(Command::Graph).ok_or_else(|| {
        (
            format!("`{name}` is not a graph format"),
            "write `:graph`, `:graph dot` or `:graph mermaid`".into(),
        )
    })
}

/// `-p NAME=VALUE`, `-pNAME=VALUE` and `--param NAME=VALUE`, values may be quoted.
fn run(rest: &str) -> Result<Command, (String, String)> {
    let words = split_words(rest).ok_or_else(|| {
        (
            "a quote is never closed".to_string(),
            "close the quote, as in `:run -p msg=\"hello world\"`".to_string(),
        )
    })?;
    let mut params = Vec::new();
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        let value = if word == "-p" || word == "--param" {
            words.next()
        } else if let Some(v) = word.strip_prefix("--param=") {
            Some(v.to_string())
        } else if let Some(v) = word.strip_prefix("-p") {
            Some(v.to_string())
        } else {
            return Err((
                format!("`:run` does not take `{word}`"),
                "write `:run` or `:run -p NAME=VALUE`".into(),
            ));
        };
        match value {
            Some(v) if !v.is_empty() => params.push(v),
            _ => {
                return Err((
                    "`-p` needs `NAME=VALUE`".into(),
                    "write `:run -p learning_rate=0.05`".into(),
                ));
            }
        }
    }
    Ok(Command::Run(params))
}

/// Splits on whitespace, keeping `"…"` and `'…'` together; `None` when a quote is open.
fn split_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// The `:help` text.
pub(crate) fn help_text() -> String {
    let rows: Vec<(String, &str)> = COMMANDS
        .iter()
        .map(|c| {
            let mut usage = format!(":{}", c.name);
            if !c.args.is_empty() {
                usage.push(' ');
                usage.push_str(c.args);
            }
            (usage, c.help)
        })
        .collect();
    let width = rows.iter().map(|(u, _)| u.len()).max().unwrap_or(0);
    let mut out = String::from(
        "Type `param`, `let` and `step` declarations (or `name = \"…\"`) to build a pipeline;\n\
         each is checked when complete. A pasted `pipeline NAME { … }` adds all it holds.\n\n",
    );
    for (usage, help) in rows {
        out.push_str(&format!("  {usage:width$}  {help}\n"));
    }
    out.push_str(
        "\nTab completes; Ctrl-C clears the input; Ctrl-D quits. Commands may be shortened: :q, :h, :s.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases() {
        assert_eq!(parse(":q"), Ok(Command::Quit));
        assert_eq!(parse("  :help  "), Ok(Command::Help));
        assert_eq!(parse(":graph dot"), Ok(Command::Graph(Format::Dot)));
        assert_eq!(
            parse(":graph --format=mermaid"),
            Ok(Command::Graph(Format::Mermaid))
        );
        assert_eq!(
            parse(":load \"my file.kfp\""),
            Ok(Command::Load("my file.kfp".into()))
        );
        assert_eq!(parse(":save"), Ok(Command::Save(None)));
    }

    #[test]
    fn run_params() {
        assert_eq!(
            parse(":run -p lr=0.1 -pmsg=\"a b\" --param x=1"),
            Ok(Command::Run(vec![
                "lr=0.1".into(),
                "msg=a b".into(),
                "x=1".into()
            ]))
        );
        assert!(parse(":run lr=0.1").is_err());
        assert!(parse(":run -p").is_err());
    }

    #[test]
    fn mistakes_are_explained() {
        let (message, help) = parse(":shwo").expect_err("unknown");
        assert_eq!(message, "unknown command `:shwo`");
        assert_eq!(help, "did you mean `:show`?");
        assert!(parse(":show all").is_err());
        assert!(parse(":load").is_err());
    }
}
