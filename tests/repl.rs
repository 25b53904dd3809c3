//! REPL tests.
//!
//! Transcripts: each `tests/repl/*.txt` is a session. Lines starting with
//! `> ` (or a lone `>`) are typed input; the lines after them are what the
//! session answered. The harness feeds the input lines one by one (a
//! declaration may span lines, as in the terminal) to a `Session` whose
//! relative paths start at the repository root, and compares the whole
//! transcript. `$TMP` in input stands for a fresh temporary folder (and
//! the folder's path is written back as `$TMP` in the output).
//! `KFPL_BLESS=1 cargo test --test repl` rewrites the transcripts.
//!
//! End-to-end: a few tests run the real `kfpl repl` in a pseudo-terminal
//! (rexpect), with HOME and KFPL_HOME pointing at temporary folders.

mod support;

use std::path::Path;

use kfpl::repl::hooks::Hooks;
use kfpl::repl::input::Lines;
use kfpl::repl::{Options, Session};

use support::{TempDir, root};

/// Stands in for the runner in transcripts (real runs print timings and
/// run ids; `tests/run.rs` covers the runner, the pty test runs it for real).
fn describe_run(file: &kfpl::SourceFile, params: &[(String, String)]) -> kfpl::repl::hooks::Answer {
    let params: Vec<String> = params.iter().map(|(n, v)| format!("{n}={v}")).collect();
    Some(Ok(format!(
        "would run `{}` ({} lines) with {}",
        file.name(),
        file.text().lines().count(),
        if params.is_empty() {
            "the defaults".to_string()
        } else {
            params.join(" ")
        }
    )))
}

/// Replays the input lines of a transcript and returns the transcript the session produces.
fn replay(transcript: &str, tmp: &Path) -> String {
    let tmp_text = tmp.display().to_string();
    let mut session = Session::new(Options {
        base_dir: root().to_path_buf(),
        hooks: Hooks {
            run: describe_run,
            ..Hooks::default()
        },
        ..Options::default()
    });
    let mut lines = Lines::new();
    let mut out = String::new();
    let inputs = transcript
        .lines()
        .filter_map(|l| l.strip_prefix("> ").or_else(|| (l == ">").then_some("")));
    for line in inputs {
        out.push_str(format!("> {line}").trim_end());
        out.push('\n');
        let Some(input) = lines.push(&line.replace("$TMP", &tmp_text)) else {
            continue;
        };
        let reply = session.eval(&input);
        let text = reply.text.replace(&tmp_text, "$TMP");
        for answer in text.lines() {
            assert!(
                !answer.starts_with("> ") && answer != ">",
                "an answer line looks like input, the transcript format cannot hold it: {answer:?}"
            );
        }
        out.push_str(&text);
        if reply.quit {
            break;
        }
    }
    if let Some(rest) = lines.finish() {
        out.push_str(&session.eval(&rest).text.replace(&tmp_text, "$TMP"));
    }
    out
}

#[test]
fn transcripts() {
    let dir = root().join("tests/repl");
    let paths = support::files_with_extension(&dir, "txt");
    assert!(
        paths.len() >= 6,
        "transcripts missing from {}",
        dir.display()
    );
    let mut failed = Vec::new();
    for path in &paths {
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("t");
        let expected = std::fs::read_to_string(path).expect("readable transcript");
        let tmp = TempDir::new(name);
        let actual = replay(&expected, tmp.path());
        if let Err(message) = support::check_expected(path, &actual) {
            failed.push(message);
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// The `:save`d tutorial checks clean with the real `kfpl check`.
#[test]
fn saved_program_checks_clean() {
    let tmp = TempDir::new("saved");
    let transcript = std::fs::read_to_string(root().join("tests/repl/tutorial_mnist.txt"))
        .expect("tutorial transcript");
    replay(&transcript, tmp.path());
    let saved = tmp.path().join("mnist.kfp");
    let output = support::kfpl(["check".as_ref(), saved.as_os_str()]).output();
    assert!(output.status.success(), "{output:?}");
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Same program as the example, up to layout.
    let example =
        kfpl::check(&kfpl::read_source(&root().join("examples/mnist.kfp"), "x").expect("example"));
    let again = kfpl::check(&kfpl::read_source(&saved, "x").expect("saved"));
    let graph = |c: &kfpl::check::Checked| {
        kfpl::graph::render(
            c.pipeline.as_ref().expect("clean"),
            kfpl::graph::Format::Dot,
        )
    };
    assert_eq!(graph(&again), graph(&example));
}

/// Pipes work too: lines are gathered the same way, without prompts.
#[test]
fn piped_input() {
    let home = TempDir::new("piped");
    let output = support::kfpl(["repl", "examples/mnist.kfp"])
        .env("KFPL_HOME", home.path())
        .stdin("step report {\n  image = \"alpine\"\n  command = \"echo $<train.output>\"\n}\n:params\n")
        .output();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(stdout.starts_with("loaded `examples/mnist.kfp`: pipeline `mnist`: 4 params, 2 lets, 3 steps\nadded step `report`\nparam "), "{stdout}");
}

mod pty {
    //! The real binary in a pseudo-terminal.

    use rexpect::session::{PtySession, spawn_command};

    use super::{TempDir, support};

    const TIMEOUT_MS: u64 = 20_000;

    /// Waits for the next prompt: keys typed while kfpl is still printing
    /// arrive before rustyline reads the terminal and may be discarded.
    fn wait_for_prompt(p: &mut PtySession) {
        p.exp_string("kfpl> ").expect("the next prompt");
    }

    fn start(name: &str, args: &[&str]) -> (PtySession, TempDir) {
        let home = TempDir::new(name);
        let command = support::kfpl(["repl"])
            .args(args)
            .env("HOME", home.path())
            .env("KFPL_HOME", home.path())
            .env("TERM", "xterm")
            .command();
        let mut session = spawn_command(command, Some(TIMEOUT_MS)).expect("start kfpl repl");
        session.exp_string("Ctrl-D quits").expect("the banner");
        (session, home)
    }

    #[test]
    fn multi_line_step_then_typo_then_quit() {
        let (mut p, home) = start("multi", &[]);
        p.exp_string("kfpl> ").expect("a prompt");
        p.send_line("param who: string = \"world\"").expect("send");
        p.exp_string("added param `who`").expect("param added");
        p.send_line("step greet {").expect("send");
        p.send_line("  image = \"alpine:3.20\"").expect("send");
        p.send_line("  command = \"echo hello $<who>\"")
            .expect("send");
        p.send_line("}").expect("send");
        p.exp_string("added step `greet`").expect("step added");
        // A typo: explained with its code, and the session goes on.
        p.send_line("step bye { image = \"alpine\" comand = \"echo bye\" }")
            .expect("send");
        p.exp_string("kfpl::E0205").expect("coded error");
        p.exp_string("did you mean `command`?").expect("suggestion");
        p.exp_string("not added").expect("rejected");
        wait_for_prompt(&mut p);
        p.send_line(":params").expect("send");
        p.exp_string("who    string  \"world\"")
            .expect("params table");
        wait_for_prompt(&mut p);
        p.send_line(":yaml").expect("send");
        p.exp_string("kind: Workflow").expect("yaml hook");
        p.exp_string("- name: greet").expect("the step's task");
        wait_for_prompt(&mut p);
        p.send_line(":quit").expect("send");
        p.exp_eof().expect("quits");
        let history = std::fs::read_to_string(home.path().join("history")).expect("history kept");
        assert!(history.contains(":params"), "{history}");
    }

    #[test]
    fn tab_completes_keywords_and_interpolations() {
        let (mut p, _home) = start("tab", &["examples/mnist.kfp"]);
        p.exp_string("loaded `examples/mnist.kfp`").expect("loaded");
        p.exp_string("kfpl> ").expect("a prompt");
        // `ste` + Tab → `step`.
        p.send("ste\t").expect("send");
        p.flush().expect("flush");
        p.exp_string("step").expect("completed keyword");
        p.send(" report {\n  image = \"alpine\"\n  command = \"echo $<tr\t")
            .expect("send");
        p.flush().expect("flush");
        p.exp_string("$<train.").expect("completed the step");
        p.send("\t").expect("send");
        p.flush().expect("flush");
        p.exp_string("$<train.output>")
            .expect("completed the output");
        p.send("\"\n}\n").expect("send");
        p.flush().expect("flush");
        p.exp_string("added step `report`").expect("step added");
        p.send_line(":graph").expect("send");
        p.exp_string("| report |").expect("graph drawn");
        wait_for_prompt(&mut p);
        p.send_control('d').expect("Ctrl-D");
        p.exp_eof().expect("quits");
    }

    #[test]
    fn ctrl_c_clears_the_input() {
        let (mut p, _home) = start("ctrlc", &[]);
        p.exp_string("kfpl> ").expect("a prompt");
        p.send("step broken {\n  image = \"x\"\n").expect("send");
        p.flush().expect("flush");
        p.send_control('c').expect("Ctrl-C");
        p.exp_string("kfpl> ").expect("a fresh prompt");
        p.send_line(":show").expect("send");
        p.exp_string("pipeline untitled {\r\n}")
            .expect("nothing was added");
        wait_for_prompt(&mut p);
        p.send_line(":q").expect("send");
        p.exp_eof().expect("quits");
    }
}

mod robustness {
    //! No input makes the session, completion or highlighting panic.

    use kfpl::repl::complete::{Names, complete};
    use kfpl::repl::highlight::{highlight, strip};
    use kfpl::repl::{Options, Session};
    use proptest::prelude::*;

    const FRAGMENTS: &[&str] = &[
        "step ",
        "param ",
        "let ",
        "pipeline ",
        "p ",
        "{",
        "}",
        "[",
        "]",
        "\"",
        "\"\"\"",
        "$<",
        ">",
        ".output",
        "=",
        ":",
        ",",
        "\n",
        "  ",
        "#",
        "image = \"a\"",
        "command = \"x\"",
        "after = [",
        "train",
        ":load ",
        ":graph ",
        ":run -p ",
        ":save ",
        ":undo",
        "ü",
        "\u{3000}",
        "\\",
        "number",
        "string",
        "0.5",
        "$$<",
    ];

    fn input() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::collection::vec(prop::sample::select(FRAGMENTS), 0..12).prop_map(|v| v.concat()),
            any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn nothing_panics(inputs in prop::collection::vec(input(), 1..6)) {
            let dir = std::env::temp_dir().join(format!("kfpl-robust-{}", std::process::id()));
            let mut session = Session::new(Options { base_dir: dir, ..Options::default() });
            session.eval("step train { image = \"a\" command = \"b\" }");
            for text in &inputs {
                // `:save` would write files; everything else is fair game.
                if !text.trim_start().starts_with(":save") && !text.trim_start().starts_with(":w") {
                    session.eval(text);
                }
                if !text.contains('\x1b') {
                    prop_assert_eq!(strip(&highlight(text)), text.clone());
                }
                let names: Names = session.names();
                for pos in 0..=text.len() {
                    let _ = complete(text, pos, &names);
                }
            }
        }
    }
}

/// Feeds `lines` one by one and returns, for each, whether it completed the
/// input (the REPL keeps reading while a bracket or a `"""` is open).
fn completes(lines: &[&str]) -> Vec<bool> {
    let mut gathered = Lines::new();
    lines
        .iter()
        .map(|line| gathered.push(line).is_some())
        .collect()
}

/// Language v2 blocks typed over several lines are read as one input, up to
/// the line that closes the last brace (`} else {` and `} until …` reopen or
/// end the form on the same line, as `kfpl fmt` writes them).
#[test]
fn v2_blocks_continue_over_lines() {
    let conditions = [
        "if $<flip.output> == \"heads\" and not ($<deploy> == false) {",
        "  step heads { image = \"alpine\" command = \"echo heads\" }",
        "} else if $<flip.output> == \"tails\" {",
        "  step tails { image = \"alpine\" command = \"echo tails\" }",
        "} else {",
        "  step other { image = \"alpine\" command = \"echo other\" }",
        "}",
    ];
    assert_eq!(
        completes(&conditions),
        [false, false, false, false, false, false, true]
    );
    let repeat = [
        "repeat max $<tries> {",
        "  carry guess = 0 then $<next.output>",
        "  step next {",
        "    image = \"alpine\"",
        "    output: number",
        "    command = \"echo $(( $<guess> + 1 )) > $KFP_OUTPUTS/output\"",
        "  }",
        "} until $<next.output> >= 3",
    ];
    assert_eq!(
        completes(&repeat),
        [false, false, false, false, false, false, false, true]
    );
    let nested = [
        "for lr in $<lrs> {",
        "  parallelism = 2",
        "  if $<lr> > 0.05 {",
        "    step train { image = \"python:3.12\" command = \"echo $<lr>\" }",
        "  }",
        "}",
        "finally {",
        "  step notify { image = \"alpine\" command = \"echo $<workflow.status>\" }",
        "}",
    ];
    assert_eq!(
        completes(&nested),
        [false, false, false, false, false, true, false, false, true]
    );
}
