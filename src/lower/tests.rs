//! Running compiled containers here: each test compiles a program, takes a
//! step's container, does what Argo and Kubernetes would do to it (put the
//! input values in for `{{inputs.parameters.X}}`, expand `$(VAR)` and `$$`),
//! and runs its command under `dash` and under `busybox sh` (with busybox's
//! `awk` and `tee`). kfpl's fixed paths (`/kfp/…`, `/mlpipeline-metrics.json`)
//! are moved into a temporary directory, as a container's root would be.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::argo_types::{Template, Workflow};
use super::lint;
use crate::{CompileOptions, SourceFile, compile};

fn compile_src(source: &str, params: &[(&str, &str)]) -> Workflow {
    let file = SourceFile::new("test.kfp", source);
    let options = CompileOptions {
        params: params
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        ..CompileOptions::default()
    };
    let compiled = compile(&file, &options).unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(lint(&compiled.workflow), Vec::<String>::new());
    compiled.workflow
}

fn template<'a>(workflow: &'a Workflow, name: &str) -> &'a Template {
    workflow
        .spec
        .templates
        .iter()
        .find(|t| t.name == name)
        .expect("template")
}

/// The shells the wrappers must work under.
#[derive(Debug, Clone, Copy)]
enum Shell {
    Dash,
    Busybox,
}

/// A directory whose `sh` (and for busybox `awk`, `tee`, `rm`) is the shell under test.
fn shell_bin(shell: Shell, root: &Path) -> Option<PathBuf> {
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let (program, applets): (&str, &[&str]) = match shell {
        Shell::Dash => ("/usr/bin/dash", &["sh"]),
        Shell::Busybox => (
            "/usr/bin/busybox",
            &["sh", "awk", "tee", "rm", "printf", "cat"],
        ),
    };
    let found = [program, &program.replace("/usr", "")]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    let Some(program) = found else {
        println!(
            "NOTICE: {program} is not installed; skipping the {shell:?} run (apt-get install -y busybox)"
        );
        return None;
    };
    for applet in applets {
        let link = bin.join(applet);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&program, &link).expect("symlink");
    }
    Some(bin)
}

/// Kubernetes' expansion of `command`, `args` and `env` values.
fn k8s_expand(input: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = input;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(escaped) = after.strip_prefix('$') {
            out.push('$');
            rest = escaped;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(close) = inner.find(')')
        {
            let name = &inner[..close];
            match env.get(name) {
                Some(value) => out.push_str(value),
                None => out.push_str(&format!("$({name})")),
            }
            rest = &inner[close + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Argo's substitution of the template's inputs.
fn argo_substitute(text: &str, inputs: &BTreeMap<&str, &str>) -> String {
    let mut out = text.to_string();
    for (name, value) in inputs {
        out = out.replace(&format!("{{{{inputs.parameters.{name}}}}}"), value);
    }
    assert!(!out.contains("{{inputs."), "unbound input in {text:?}");
    out
}

struct Ran {
    stdout: String,
    stderr: String,
    status: i32,
    metrics: Option<String>,
    root: PathBuf,
}

/// Runs one container (the main one, or the init container `init`) of a template.
fn run(
    template: &Template,
    init: bool,
    inputs: &[(&str, &str)],
    shell: Shell,
    case: &str,
) -> Option<Ran> {
    let root = std::env::temp_dir().join(format!(
        "kfpl-lower-{}-{case}-{shell:?}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("kfp/outputs")).expect("outputs dir");
    std::fs::create_dir_all(root.join("kfp/work")).expect("work dir");
    let bin = shell_bin(shell, &root)?;
    let container = if init {
        &template.init_containers[0]
    } else {
        template.container.as_ref().expect("container")
    };
    let given: BTreeMap<&str, &str> = inputs.iter().copied().collect();
    let relocate = |text: &str| {
        text.replace(
            "/mlpipeline-metrics.json",
            &root.join("metrics.json").display().to_string(),
        )
        .replace("/kfp/", &format!("{}/kfp/", root.display()))
    };
    let mut env = BTreeMap::new();
    for var in container.env.iter().flatten() {
        let value = argo_substitute(var.value.as_deref().unwrap_or_default(), &given);
        let value = k8s_expand(&relocate(&value), &env);
        env.insert(var.name.clone(), value);
    }
    let command: Vec<String> = container
        .command
        .iter()
        .flatten()
        .map(|arg| k8s_expand(&relocate(&argo_substitute(arg, &given)), &env))
        .collect();
    let program = if command[0] == "sh" {
        bin.join("sh")
    } else {
        PathBuf::from(&command[0])
    };
    let workdir = container
        .working_dir
        .as_deref()
        .map(relocate)
        .map_or_else(|| root.clone(), PathBuf::from);
    let output = Command::new(program)
        .args(&command[1..])
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("TMPDIR", &root)
        .envs(&env)
        .current_dir(workdir)
        .output()
        .expect("the shell runs");
    Some(Ran {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        status: output.status.code().unwrap_or(-1),
        metrics: std::fs::read_to_string(root.join("metrics.json")).ok(),
        root,
    })
}

const METRICS: &str = r#"
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
    assert_eq!(artifacts[0].path, "/mlpipeline-metrics.json");
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
    if git(&["init", "-q"]).is_none() {
        println!("NOTICE: git is not installed; skipping the clone test");
        return;
    }
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

#[test]
fn lint_reports_each_broken_guarantee() {
    let good = compile_src(METRICS, &[]);
    let mnist = std::fs::read_to_string("examples/mnist.kfp").expect("examples/mnist.kfp");
    let mnist = compile_src(&mnist, &[]);
    type Breaker = Box<dyn Fn(&mut Workflow)>;
    let cases: Vec<(&str, Breaker)> = vec![
        (
            "defined twice",
            Box::new(|w| {
                let copy = w.spec.templates[1].clone();
                w.spec.templates.push(copy);
            }),
        ),
        (
            "does not match ^[a-zA-Z0-9]",
            Box::new(|w| w.spec.templates[1].name = "bad_name".into()),
        ),
        (
            "is not a DAG template",
            Box::new(|w| w.spec.entrypoint = "nowhere".into()),
        ),
        (
            "is not another task",
            Box::new(|w| {
                if let Some(dag) = &mut w.spec.templates[0].dag {
                    dag.tasks[1].dependencies = vec!["ghost".into()];
                }
            }),
        ),
        (
            "cycle",
            Box::new(|w| {
                if let Some(dag) = &mut w.spec.templates[0].dag {
                    dag.tasks[0].dependencies = vec!["export-model".into()];
                }
            }),
        ),
        (
            "does not resolve",
            Box::new(|w| {
                if let Some(dag) = &mut w.spec.templates[0].dag {
                    dag.tasks[2].dependencies.clear();
                }
            }),
        ),
        (
            "mounted but not declared",
            Box::new(|w| {
                w.spec.volumes.pop();
            }),
        ),
        (
            "field unknown",
            Box::new(|w| {
                if let Some(c) = &mut w.spec.templates[1].container {
                    c.tty = Some(true);
                }
            }),
        ),
        (
            "does not resolve",
            Box::new(|w| {
                if let Some(c) = &mut w.spec.templates[1].container {
                    c.image = Some("x:{{inputs.parameters.nope}}".into());
                }
            }),
        ),
        (
            "`{{` in",
            Box::new(|w| {
                if let Some(a) = &mut w.spec.arguments {
                    a.parameters[0].value = Some("{{x}}".into());
                }
            }),
        ),
        (
            "do not match the inputs",
            Box::new(|w| {
                if let Some(dag) = &mut w.spec.templates[0].dag {
                    dag.tasks[1].arguments = None;
                }
            }),
        ),
        (
            "not a Kubernetes quantity",
            Box::new(|w| {
                let resources = w.spec.templates[2]
                    .container
                    .as_mut()
                    .map(|c| &mut c.resources);
                if let Some(Some(r)) = resources
                    && let Some(limits) = r.limits.as_mut()
                {
                    limits.insert(
                        "cpu".into(),
                        Quantity("{{inputs.parameters.commit}}".into()),
                    );
                }
            }),
        ),
        (
            "starts with a digit",
            Box::new(|w| {
                if let Some(dag) = &mut w.spec.templates[0].dag {
                    dag.tasks[0].name = "1st".into();
                }
            }),
        ),
    ];
    assert!(lint(&good).is_empty());
    for (expected, break_it) in cases {
        let mut broken = mnist.clone();
        break_it(&mut broken);
        let problems = lint(&broken);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "expected `{expected}` in {problems:#?}"
        );
    }
}

#[test]
fn names_clash_with_kfpl_names_get_suffixes() {
    let workflow = compile_src(
        r#"pipeline train {
  step train {
    image = "alpine"
    data = ["kfpl-outputs:/a", "kfpl-work:/b", "other:/c"]
    sync_source = "https://example.com/x.git"
    command = "true"
  }
}"#,
        &[],
    );
    assert_eq!(workflow.spec.entrypoint, "train-2");
    let volumes: Vec<&str> = workflow
        .spec
        .volumes
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(
        volumes,
        [
            "kfpl-outputs",
            "kfpl-work",
            "kfpl-outputs-2",
            "kfpl-work-2",
            "other"
        ]
    );
}

#[test]
fn lowering_errors_have_codes() {
    let file = SourceFile::new(
        "e.kfp",
        r#"pipeline e {
  param p: string = "{{x}}"
  step s {
    image = "alpine:{{tag}}"
    data = ["c:/kfp/outputs"]
    command = "echo $<p>"
  }
}"#,
    );
    let errors = compile(&file, &CompileOptions::default()).expect_err("refused");
    let codes: Vec<&str> = errors.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["E0501", "E0501", "E0502"]);
}

/// `text` as a kfp string literal's body.
fn kfp_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .replace('\t', "\\t")
        .replace("$<", "$$<")
}

mod verbatim {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any text in commands and env values, and any param value without
        /// `{{` and `$`, reaches the program unchanged, under both shells.
        #[test]
        fn any_text_reaches_the_program(
            text in "[a-z {}$()'\"\\\\\n\t`;|&<>*#%€~!]{0,30}",
            value in "[a-z {}()'\"\\\\`;|&<>*#%€~!]{0,20}".prop_filter("no {{", |v| !v.contains("{{")),
        ) {
            let source = format!(
                r#"pipeline v {{
  param p: string = "{value}"
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
                value = kfp_escape(&value),
                text = kfp_escape(&text),
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
