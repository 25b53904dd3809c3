//! Running compiled containers here: each test compiles a program, takes a
//! step's container, does what Argo and Kubernetes would do to it (put the
//! input values in for `{{inputs.parameters.X}}`, expand `$(VAR)` and `$$`),
//! and runs its command under `dash` and under `busybox sh` (with busybox's
//! `awk` and `tee`). kfpl's fixed paths (`/kfp/…`, `/mlpipeline-metrics.json`)
//! are moved into a temporary directory, as a container's root would be.
//!
//! `containers`: the compiled programs run; `guarantees`: lint, names and
//! lowering errors.

mod containers;
mod guarantees;
mod typed_outputs;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

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

// The one rule for outside tools (a missing one fails under CI), shared with tests/.
#[path = "../../../tests/support/tools.rs"]
pub(super) mod tools;

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
        Shell::Dash => ("dash", &["sh"]),
        Shell::Busybox => (
            "busybox",
            &["sh", "awk", "tee", "rm", "printf", "cat", "base64"],
        ),
    };
    if !tools::require_tool(program) {
        return None;
    }
    let program = tools::find_on_path(program)?;
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

/// Argo's substitution of the template's inputs: each input holds its value
/// base64-encoded (the DAG task's `sprig.b64enc`), which
/// `{{=sprig.b64dec(…)}}` gives back.
fn argo_substitute(text: &str, inputs: &BTreeMap<&str, &str>) -> String {
    let mut out = text.to_string();
    for (name, value) in inputs {
        out = out.replace(&format!("{{{{inputs.parameters.{name}}}}}"), &base64(value));
        out = out.replace(
            &format!("{{{{=sprig.b64dec(inputs.parameters['{name}'])}}}}"),
            value,
        );
    }
    assert!(
        !out.contains("inputs.parameters"),
        "unbound input in {text:?}"
    );
    out
}

/// Standard base64 with padding (Go's `base64.StdEncoding`, as sprig's `b64enc`).
fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(bytes[0]) << 16 | u32::from(bytes[1]) << 8 | u32::from(bytes[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
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
