//! The compiled containers run under dash and busybox: metrics, injection,
//! verbatim text, the git clone.

use super::*;

pub(super) const METRICS: &str = r#"
pipeline m {
  step train {
    image = "python:3.12"
    metric "Train-accuracy": percentage
    metric "loss"
    metric "train loss"
    metric "never"
    metric "bad"
    metric "{{x}}"
    command = """
      echo "Train-accuracy=0.5"
      echo "  Train-accuracy :  0.97  "
      echo "loss: 1e-3"
      echo "Train-accuracy-top5=0.99"
      echo "train loss = 2"
      echo "bad=high"
      echo "{{x}}: .5"
      echo "to stderr" >&2
      printf 'no newline at the end'
      exit 3
    """
  }
}
"#;

#[test]
fn metrics_wrapper_streams_keeps_the_status_and_parses_under_dash_and_busybox() {
    let workflow = compile_src(METRICS, &[]);
    let train = template(&workflow, "train");
    let artifacts = &train.outputs.as_ref().expect("outputs").artifacts;
    assert_eq!(artifacts[0].name, "mlpipeline-metrics");
    assert_eq!(
        artifacts[0].path.as_deref(),
        Some("/mlpipeline-metrics.json")
    );
    assert!(artifacts[0].optional);
    for shell in [Shell::Dash, Shell::Busybox] {
        let Some(ran) = run(train, false, &[], shell, "metrics") else {
            continue;
        };
        assert_eq!(ran.status, 3, "{shell:?}: {}", ran.stderr);
        assert_eq!(
            ran.stdout,
            "Train-accuracy=0.5\n  Train-accuracy :  0.97  \nloss: 1e-3\nTrain-accuracy-top5=0.99\ntrain loss = 2\nbad=high\n{{x}}: .5\nno newline at the end",
            "{shell:?}"
        );
        assert_eq!(
            ran.metrics.as_deref(),
            Some(
                "{\"metrics\":[{\"name\":\"Train-accuracy\",\"numberValue\":0.97,\"format\":\"PERCENTAGE\"},{\"name\":\"loss\",\"numberValue\":0.001,\"format\":\"RAW\"},{\"name\":\"train-loss\",\"numberValue\":2,\"format\":\"RAW\"},{\"name\":\"x\",\"numberValue\":0.5,\"format\":\"RAW\"}]}\n"
            ),
            "{shell:?}: {}",
            ran.stderr
        );
        assert!(
            ran.stderr.contains("to stderr"),
            "{shell:?}: {}",
            ran.stderr
        );
        assert!(
            ran.stderr
                .contains("kfpl: metric bad: `high` is not a number, ignored"),
            "{shell:?}: {}",
            ran.stderr
        );
        assert!(
            ran.stderr.contains("kfpl: metric never was not printed"),
            "{shell:?}"
        );
        assert!(
            !ran.root.join("kfpl-stdout").exists(),
            "the log copy is removed"
        );
        let json: serde_json::Value =
            serde_json::from_str(ran.metrics.as_deref().unwrap_or("")).expect("valid JSON");
        assert_eq!(json["metrics"].as_array().map(Vec::len), Some(4));
    }
}

#[test]
fn metrics_wrapper_succeeds_with_a_succeeding_list_command() {
    let workflow = compile_src(
        r#"pipeline m {
  step s {
    image = "alpine"
    metric "acc"
    command = ["sh", "-c", "echo acc=1e2; echo done > \"$KFP_OUTPUTS/output\""]
  }
}"#,
        &[],
    );
    for shell in [Shell::Dash, Shell::Busybox] {
        let Some(ran) = run(template(&workflow, "s"), false, &[], shell, "metrics-ok") else {
            continue;
        };
        assert_eq!(ran.status, 0, "{shell:?}: {}", ran.stderr);
        assert_eq!(ran.stdout, "acc=1e2\n");
        assert_eq!(
            ran.metrics.as_deref(),
            Some("{\"metrics\":[{\"name\":\"acc\",\"numberValue\":100,\"format\":\"RAW\"}]}\n")
        );
        let output = std::fs::read_to_string(ran.root.join("kfp/outputs/output"));
        assert_eq!(output.ok().as_deref(), Some("done\n"));
    }
}

#[test]
fn param_values_never_become_shell_code() {
    let source = r#"pipeline p {
  param who: string = "world"
  step s {
    image = "alpine"
    command = "echo \"$<who>\"; echo $<who>"
  }
}"#;
    for shell in [Shell::Dash, Shell::Busybox] {
        let marker =
            std::env::temp_dir().join(format!("kfpl-pwned-{}-{shell:?}", std::process::id()));
        let _ = std::fs::remove_file(&marker);
        let value = format!("$(touch {m}) `touch {m}`; touch {m}", m = marker.display());
        let workflow = compile_src(source, &[("who", &value)]);
        let s = template(&workflow, "s");
        let command = s
            .container
            .as_ref()
            .and_then(|c| c.command.clone())
            .unwrap_or_default();
        assert!(
            !command.join(" ").contains("touch"),
            "the value is not in the script"
        );
        let Some(ran) = run(s, false, &[("who", &value)], shell, "inject") else {
            continue;
        };
        assert_eq!(ran.status, 0, "{}", ran.stderr);
        assert_eq!(ran.stdout, format!("{value}\n{value}\n"));
        assert!(!marker.exists(), "{shell:?}: the param value ran as code");
    }
}

#[test]
fn double_braces_and_dollars_reach_the_container_verbatim() {
    let workflow = compile_src(
        r#"pipeline b {
  param p: string = "v"
  step shell {
    image = "alpine"
    env = { GO = "{{ .Name }}-$<p>", HOME2 = "h", ON = "on", TRICKY = "{$<p>}" }
    command = "printf '%s\n' '{{.Id}}' \"$GO\" '$(HOME2)' '$$' \"$HOME2\" \"$ON\" \"$TRICKY\" \"{{$<p>}}\""
  }
  step list {
    image = "alpine"
    command = ["printf", "%s|", "{{a}}", "x{$<p>}", "$(HOME)", "$$"]
  }
}"#,
        &[],
    );
    for shell in [Shell::Dash, Shell::Busybox] {
        let Some(ran) = run(
            template(&workflow, "shell"),
            false,
            &[("p", "v")],
            shell,
            "braces",
        ) else {
            continue;
        };
        assert_eq!(
            ran.stdout, "{{.Id}}\n{{ .Name }}-v\n$(HOME2)\n$$\nh\non\n{v}\n{{v}}\n",
            "{shell:?}: {}",
            ran.stderr
        );
        let Some(ran) = run(
            template(&workflow, "list"),
            false,
            &[("p", "v")],
            shell,
            "braces-list",
        ) else {
            continue;
        };
        assert_eq!(
            ran.stdout, "{{a}}|x{v}|$(HOME)|$$|",
            "{shell:?}: {}",
            ran.stderr
        );
    }
}

#[test]
fn a_value_that_does_not_decode_stops_the_step() {
    let mut line = String::new();
    crate::lower::text::push_decode_line(&mut line, [&crate::lower::text::Ref::Param("p".into())]);
    for shell in [Shell::Dash, Shell::Busybox] {
        let root = std::env::temp_dir().join(format!(
            "kfpl-lower-{}-undecodable-{shell:?}",
            std::process::id()
        ));
        let Some(bin) = shell_bin(shell, &root) else {
            continue;
        };
        for (encoded, status, stdout) in [("YQo=", 0, "[a\n]"), ("{{=x}}", 1, "")] {
            let output = Command::new(bin.join("sh"))
                .args(["-c", &format!("{line}printf '[%s]' \"$KFP_p\"")])
                .env_clear()
                .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
                .env("KFP_p", encoded)
                .output()
                .expect("the shell runs");
            assert_eq!(output.status.code(), Some(status), "{shell:?} {encoded}");
            assert_eq!(String::from_utf8_lossy(&output.stdout), stdout, "{shell:?}");
        }
    }
}

#[test]
fn git_init_container_checks_out_the_revision() {
    let root = std::env::temp_dir().join(format!("kfpl-lower-git-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let repo = root.join("src");
    std::fs::create_dir_all(&repo).expect("repo dir");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output();
        match out {
            Ok(out) if out.status.success() => {
                Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
            }
            _ => None,
        }
    };
    if !super::tools::require_tool("git") {
        return;
    }
    git(&["init", "-q"]).expect("git init");
    std::fs::write(repo.join("version.txt"), "first\n").expect("write");
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "first"]);
    let first = git(&["rev-parse", "HEAD"]).expect("first commit");
    std::fs::write(repo.join("version.txt"), "second\n").expect("write");
    git(&["commit", "-q", "-am", "second"]);
    let source = format!(
        r#"pipeline g {{
  param commit: string = "{first}"
  step s {{
    image = "alpine"
    sync_source = "{repo}"
    env = {{ GIT_SYNC_REV = "$<commit>" }}
    command = "cat code/src/version.txt"
  }}
  step latest {{
    image = "alpine"
    sync_source = "{repo}"
    command = "cat code/src/version.txt"
  }}
}}"#,
        repo = repo.display()
    );
    let workflow = compile_src(&source, &[]);
    for (step, inputs, expected) in [
        ("s", vec![("commit", first.as_str())], "first\n"),
        ("latest", vec![], "second\n"),
    ] {
        let t = template(&workflow, step);
        assert_eq!(
            t.container.as_ref().and_then(|c| c.working_dir.as_deref()),
            Some("/kfp/work")
        );
        let Some(cloned) = run(t, true, &inputs, Shell::Dash, &format!("git-{step}")) else {
            return;
        };
        assert_eq!(cloned.status, 0, "{}", cloned.stderr);
        let checkout = cloned.root.join("kfp/work/code/src/version.txt");
        assert_eq!(
            std::fs::read_to_string(checkout).ok().as_deref(),
            Some(expected)
        );
    }
}

mod verbatim {
    use proptest::prelude::*;

    use super::super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any text in commands and env values, and any run-time param
        /// value (`{{`, `$(…)`, `$$`, newlines and control characters
        /// included), reaches the program unchanged, under both shells.
        #[test]
        fn any_text_reaches_the_program(
            text in "[a-z {}$()'\"\\\\\n\t`;|&<>*#%€~!]{0,30}",
            value in "[a-z {}$()'\"\\\\\n\t`;|&<>*#%€~!\x07\x1b]{0,20}",
        ) {
            let source = format!(
                r#"pipeline v {{
  param p: string
  step shell {{
    image = "alpine"
    env = {{ X = "{text}" }}
    command = "printf '%s|%s' \"$X\" \"$<p>\"; cat <<'KFPL_END'\n{text}\nKFPL_END"
  }}
  step list {{
    image = "alpine"
    command = ["printf", "%s|%s|%s", "{text}", "$<p>", "x{{$<p>}}{text}"]
  }}
}}"#,
                text = crate::syntax::escape_string(&text),
            );
            let workflow = compile_src(&source, &[]);
            for shell in [Shell::Dash, Shell::Busybox] {
                let inputs = [("p", value.as_str())];
                if let Some(ran) = run(template(&workflow, "shell"), false, &inputs, shell, "prop-sh") {
                    prop_assert_eq!(ran.stdout, format!("{text}|{value}{text}\n"), "{}", ran.stderr);
                }
                if let Some(ran) = run(template(&workflow, "list"), false, &inputs, shell, "prop-list") {
                    prop_assert_eq!(ran.stdout, format!("{text}|{value}|x{{{value}}}{text}"), "{}", ran.stderr);
                }
            }
        }
    }
}
