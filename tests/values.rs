//! Run-time values reach the program byte for byte, under `kfpl run` and
//! under the compiled workflow on Argo v3.3 (the simulator in
//! `../shared/tools/argo-sim`, which models Argo's substitution passes and
//! kubelet's `$(VAR)`/`$$` expansion).
//!
//! One pipeline reads hostile values (quotes, `$(HOME)`, `$$`,
//! `$(KFP_OUTPUTS)`, `{{workflow.name}}`, `{{inputs.parameters.…}}`,
//! newlines, unicode, empty, control characters) as params and as an
//! upstream step's outputs, in a string command, a list command and env
//! values, and writes what it received into a claim. The same files must
//! come out of `kfpl run`, of the simulator, and equal the values, when the
//! values are set at submission (`argo submit -p`), at compile time
//! (`kfpl compile -p`) and as defaults in the source.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{TempDir, kfpl, require, require_tool, root, stderr, stdout};

/// Each value with the name of its param (`p_NAME`) and output (`o_NAME`).
/// No value starts or ends with white space: Argo trims an output file's
/// white space and `kfpl run` one newline, which is another matter.
const VALUES: &[(&str, &str)] = &[
    ("quotes", "a\"b'c\\d`e"),
    ("home", "$(HOME)"),
    ("dollars", "$$ $$$ $"),
    ("outputs", "$(KFP_OUTPUTS)/x"),
    ("wfname", "{{workflow.name}}"),
    ("input", "{{inputs.parameters.p_home}}"),
    ("expr", "{{=sprig.upper('x')}}"),
    ("newlines", "l1\nl2\n\nl4"),
    ("unicode", "ünï €𝄞"),
    ("empty", ""),
    ("bell", "bell\x07 esc\x1b del\x7f"),
    ("tab", "a\tb"),
];

/// The values Argo itself refuses in a param at compile time (kfpl's E0501:
/// `{{` in a param's value); at submission they are carried.
fn compile_time(value: &str) -> bool {
    !value.contains("{{")
}

/// The pipeline: `first` reads every param in a string command and writes
/// each to an output; `list` reads params and outputs as argv; `env` reads
/// them through env values and a string command.
fn program(values: &[(&str, &str)], defaults: bool) -> String {
    let mut params = String::new();
    let mut first = String::new();
    let mut outputs = String::new();
    let mut argv = Vec::new();
    let mut env = Vec::new();
    let mut env_script = String::new();
    for (name, value) in values {
        if defaults {
            let value = kfpl::syntax::escape_string(value);
            params.push_str(&format!("  param p_{name}: string = \"{value}\"\n"));
        } else {
            params.push_str(&format!("  param p_{name}: string\n"));
        }
        first.push_str(&format!(
            "printf '%s' \"$<p_{name}>\" > /values/shell-{name}; \
             printf '%s' \"$<p_{name}>\" > \"$KFP_OUTPUTS/o_{name}\"\n"
        ));
        outputs.push_str(&format!("    output o_{name}\n"));
        argv.push(format!("\"$<p_{name}>\", \"$<first.o_{name}>\""));
        env.push(format!(
            "E_{name} = \"$<p_{name}>\", F_{name} = \"[$<first.o_{name}>]\""
        ));
        env_script.push_str(&format!(
            "printf '%s' \"$E_{name}\" > /values/env-{name}; \
             printf '%s' \"$F_{name}\" > /values/envout-{name}; \
             printf '%s' \"$<first.o_{name}>\" > /values/shellout-{name}\n"
        ));
    }
    let names: Vec<&str> = values.iter().map(|(n, _)| *n).collect();
    let list_script = format!(
        "for n in {}; do printf '%s' \\\"$1\\\" > /values/list-$n; printf '%s' \\\"$2\\\" > /values/listout-$n; shift 2; done",
        names.join(" ")
    );
    format!(
        r#"pipeline values {{
{params}
  step first {{
    image = "alpine"
    data = ["values:/values"]
    command = """
{first}    """
{outputs}  }}
  step list {{
    image = "alpine"
    data = ["values:/values"]
    command = ["sh", "-c", "{list_script}", "sh", {argv}]
  }}
  step env {{
    image = "alpine"
    data = ["values:/values"]
    env = {{ {env} }}
    command = """
{env_script}    """
  }}
}}
"#,
        argv = argv.join(", "),
        env = env.join(", "),
    )
}

/// The files each step must write: every value, as it is.
fn expected(values: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for (name, value) in values {
        for kind in ["shell", "list", "listout", "env", "shellout"] {
            files.insert(format!("{kind}-{name}"), value.as_bytes().to_vec());
        }
        files.insert(format!("envout-{name}"), format!("[{value}]").into_bytes());
    }
    files
}

/// Every file of a folder, by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("an entry").path();
        let name = path
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        out.insert(name, std::fs::read(&path).expect("readable"));
    }
    out
}

fn params(values: &[(&str, &str)]) -> Vec<String> {
    values
        .iter()
        .flat_map(|(n, v)| ["-p".to_string(), format!("p_{n}={v}")])
        .collect()
}

/// `kfpl run` with `-p` for each value (none when `values` is empty).
fn run_locally(dir: &TempDir, source: &Path, values: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    let home = dir.join("home");
    let out = kfpl(["run".as_ref(), source.as_os_str()])
        .args(params(values))
        .env("KFPL_HOME", &home)
        .current_dir(dir)
        .output();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    files(&home.join("volumes/values"))
}

/// `kfpl compile` (with `compile_values` as `-p`), then the simulator (with
/// `submit_values` as `-p`).
fn run_on_argo(
    dir: &TempDir,
    source: &Path,
    compile_values: &[(&str, &str)],
    submit_values: &[(&str, &str)],
) -> BTreeMap<String, Vec<u8>> {
    let yaml = dir.join("values.yaml");
    let out = kfpl([
        "compile".as_ref(),
        source.as_os_str(),
        "-o".as_ref(),
        yaml.as_os_str(),
    ])
    .args(params(compile_values))
    .output();
    assert!(out.status.success(), "{}", stderr(&out));
    let claims = dir.join("claims");
    let result = dir.join("result.json");
    let out = Command::new("python3")
        .arg(simulator())
        .arg(&yaml)
        .args(params(submit_values))
        .arg("--claims")
        .arg(&claims)
        .arg("--out")
        .arg(&result)
        .output()
        .expect("python3 runs");
    let report = std::fs::read_to_string(&result).unwrap_or_default();
    assert!(
        out.status.success(),
        "the workflow failed on the simulator:\n{}\n{report}",
        stderr(&out)
    );
    files(&claims.join("values"))
}

fn simulator() -> PathBuf {
    root().join("../shared/tools/argo-sim/argo_sim.py")
}

/// Whether the simulator can run here (it needs bwrap, python3 and PyYAML).
fn simulator_available() -> bool {
    if !require_tool("bwrap") || !require_tool("python3") {
        return false;
    }
    let pyyaml = Command::new("python3")
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    require("PyYAML for python3", pyyaml)
        && require(
            "the Argo simulator in ../shared/tools/argo-sim",
            simulator().exists(),
        )
}

fn assert_same(
    what: &str,
    values: &[(&str, &str)],
    local: &BTreeMap<String, Vec<u8>>,
    argo: &BTreeMap<String, Vec<u8>>,
) {
    let wanted = expected(values);
    for (file, bytes) in &wanted {
        let show = |found: Option<&Vec<u8>>| found.map(|b| String::from_utf8_lossy(b).into_owned());
        let want = Some(String::from_utf8_lossy(bytes).into_owned());
        assert_eq!(show(local.get(file)), want, "{what}: {file} under kfpl run");
        assert_eq!(show(argo.get(file)), want, "{what}: {file} on Argo");
    }
    assert_eq!(local, argo, "{what}: the same files");
}

fn control(value: &str) -> bool {
    value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// Each value set at submission (`argo submit -p`, KFP's run form) reaches
/// the program as under `kfpl run -p`.
fn check_submission(what: &str, values: &[(&str, &str)]) {
    let dir = TempDir::new("values-submit");
    let source = dir.write("values.kfp", program(values, false));
    let local = run_locally(&dir, &source, values);
    let argo = run_on_argo(&dir, &source, &[], values);
    assert_same(what, values, &local, &argo);
}

#[test]
fn dollars_and_braces_given_at_submission_reach_the_program_unchanged() {
    if !simulator_available() {
        return;
    }
    let values: Vec<(&str, &str)> = VALUES
        .iter()
        .copied()
        .filter(|(_, v)| !control(v))
        .collect();
    check_submission("argo submit -p", &values);
}

#[test]
fn control_characters_given_at_submission_reach_the_program_unchanged() {
    if !simulator_available() {
        return;
    }
    let values: Vec<(&str, &str)> = VALUES.iter().copied().filter(|(_, v)| control(v)).collect();
    assert!(!values.is_empty());
    check_submission("argo submit -p with control characters", &values);
}

#[test]
fn values_given_at_compile_time_and_as_defaults_reach_the_program_unchanged() {
    if !simulator_available() {
        return;
    }
    let values: Vec<(&str, &str)> = VALUES
        .iter()
        .copied()
        .filter(|(_, v)| compile_time(v))
        .collect();
    let dir = TempDir::new("values-compile");
    let source = dir.write("values.kfp", program(&values, false));
    let local = run_locally(&dir, &source, &values);
    let argo = run_on_argo(&dir, &source, &values, &[]);
    assert_same("kfpl compile -p", &values, &local, &argo);

    let dir = TempDir::new("values-defaults");
    let source = dir.write("values.kfp", program(&values, true));
    let local = run_locally(&dir, &source, &[]);
    let argo = run_on_argo(&dir, &source, &[], &[]);
    assert_same("defaults", &values, &local, &argo);
}

/// Fields Argo fills itself read the value decoded (`sprig.b64dec`): a
/// `retries` param set at submission is the number of retries.
#[test]
fn fields_argo_fills_read_the_decoded_value() {
    if !simulator_available() {
        return;
    }
    let dir = TempDir::new("values-fields");
    let source = dir.write(
        "fields.kfp",
        r#"pipeline fields {
  param n: number = 0
  param c: string = "100m"
  step s {
    image = "alpine"
    cpu = "$<c>"
    retries = "$<n>"
    data = ["values:/values"]
    command = "echo x >> /values/attempts; exit 1"
  }
}
"#,
    );
    let yaml = dir.join("fields.yaml");
    let out = kfpl([
        "compile".as_ref(),
        source.as_os_str(),
        "-o".as_ref(),
        yaml.as_os_str(),
    ])
    .output();
    assert!(out.status.success(), "{}", stderr(&out));
    let claims = dir.join("claims");
    let out = Command::new("python3")
        .arg(simulator())
        .arg(&yaml)
        .args(["-p", "n=2", "-p", "c=250m", "--claims"])
        .arg(&claims)
        .arg("--out")
        .arg(dir.join("result.json"))
        .output()
        .expect("python3 runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "the step fails: {}",
        stderr(&out)
    );
    let attempts = std::fs::read_to_string(claims.join("values/attempts")).unwrap_or_default();
    assert_eq!(attempts, "x\nx\nx\n", "1 try and 2 retries");
}
