//! A step's container program: `command` and `env`, and the shell wrapper
//! when one is needed.
//!
//! In the plain case the container runs the step's command as written: a
//! string command as `sh -c SCRIPT` (the script from
//! [`Template::shell_script`], which reads every value from a `KFP_…`
//! variable), a list command as its argv with references as Argo inputs.
//!
//! A wrapper, `sh -c WRAPPER kfpl ARGV…`, is used when the step declares
//! metrics or when some text cannot be written for Argo as is (it holds
//! `{{`, see [`super::text`]). The wrapper exports such variables and builds
//! such arguments from shell words, then runs the argv: with `exec`, or,
//! for metrics, with stdout copied to the log through `tee`, its exit
//! status kept, and the metrics parsed from the whole stdout by `awk` into
//! KFP's `/mlpipeline-metrics.json`. It needs only POSIX `sh`, `tee` and
//! `awk` (dash and busybox are tested).

use std::collections::BTreeSet;

use super::names::{CODE_DIR, METRICS_FILE};
use super::text::{
    Piece, Ref, argo_lit_text, argo_text, collect_refs, flatten, k8s_escape, lit, plain_text,
    push_decode_line, refs, sh_quote, sh_word,
};
use crate::check::ir::{
    Command, MetricFormat, Output, ParamType, Part, ShellScript, Step, SyncSource, Template,
};
use crate::check::types;

/// What a container runs, ready for the model.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Program {
    /// `command` (Kubernetes-escaped).
    pub(crate) command: Vec<String>,
    /// `env`: names and Argo values, in order.
    pub(crate) env: Vec<(String, String)>,
}

/// The main container's program for a step. The values it reads are the
/// references in the step's `command` and `env`, `reads` (the caller
/// collects them from the templates, see `argo::program_reads`, and the
/// program decodes those it borrows from there: each built once).
pub(crate) fn main_program(step: &Step, reads: &BTreeSet<Ref>) -> Program {
    let mut program = Program::default();
    let mut carried = Carried::new(reads);
    for var in &step.env {
        carried.carry_template(&var.name, &var.value, &mut program.env);
    }
    let (argv, script_vars) = match &step.command {
        Command::Shell(template) => {
            let ShellScript { script, variables } = template.shell_script();
            for (name, part) in &variables {
                carried.carry_script_var(name, part, &mut program.env);
            }
            (Argv::Shell(script), variables)
        }
        Command::Exec(args) => (Argv::Exec(args.iter().map(flatten).collect()), Vec::new()),
    };
    let mut positional = match argv.argo_text() {
        Some(args)
            if step.metrics.is_empty()
                && carried.is_empty()
                && typed_outputs(step).next().is_none() =>
        {
            program.command = args;
            return program;
        }
        Some(args) => args,
        None => {
            argv.push_set_line(&mut carried);
            Vec::new()
        }
    };
    carried.unset_helpers(&script_vars);
    let wrapper = wrapper(step, &carried);
    let mut command = Vec::with_capacity(4 + positional.len());
    command.extend([
        "sh".into(),
        "-c".into(),
        k8s_escape(&wrapper),
        "kfpl".into(),
    ]);
    command.append(&mut positional);
    program.command = command;
    add_ref_vars(&mut program.env, &carried.decode);
    program
}

/// The argv a step's command runs.
enum Argv {
    /// `sh -c SCRIPT`, the script reading every value from its variable.
    Shell(String),
    /// A list command, each argument flattened.
    Exec(Vec<Vec<Piece>>),
}

impl Argv {
    /// The arguments as Argo text, or `None` when one cannot be carried as
    /// it is (see [`argo_text`]).
    fn argo_text(&self) -> Option<Vec<String>> {
        match self {
            Argv::Shell(script) => {
                let script = argo_lit_text(script, true)?;
                Some(vec!["sh".into(), "-c".into(), script])
            }
            Argv::Exec(args) => args.iter().map(|a| argo_text(a, true)).collect(),
        }
    }

    /// Has the wrapper build the argv from shell words (`set -- …`),
    /// decoding the values the arguments read.
    fn push_set_line(&self, carried: &mut Carried<'_>) {
        let words: Vec<String> = match self {
            Argv::Shell(script) => ["sh", "-c", script].into_iter().map(sh_quote).collect(),
            Argv::Exec(args) => args.iter().map(|arg| sh_word(arg)).collect(),
        };
        carried.lines.push_str("set -- ");
        carried.lines.push_str(&words.join(" "));
        carried.lines.push('\n');
        if let Argv::Exec(args) = self {
            for arg in args {
                carried.decode_all(refs(arg));
            }
        }
    }
}

/// What a wrapper must do before the command: decode values, then run
/// `lines` (exports, `set --`, `unset`).
#[derive(Debug)]
struct Carried<'r> {
    /// Every value the carried texts read.
    reads: &'r BTreeSet<Ref>,
    /// The values to decode (each arrives base64-encoded in its `KFP_…`
    /// variable), borrowed from `reads`.
    decode: BTreeSet<&'r Ref>,
    /// Shell lines run after decoding.
    lines: String,
}

impl<'r> Carried<'r> {
    fn new(reads: &'r BTreeSet<Ref>) -> Self {
        Carried {
            reads,
            decode: BTreeSet::new(),
            lines: String::new(),
        }
    }

    /// Decodes each of `values`: every one is in `reads` (the same
    /// templates' references), where the set borrows it from.
    fn decode_all<'v>(&mut self, values: impl IntoIterator<Item = &'v Ref>) {
        let reads = self.reads;
        self.decode
            .extend(values.into_iter().filter_map(|r| reads.get(r)));
    }

    fn is_empty(&self) -> bool {
        self.decode.is_empty() && self.lines.is_empty()
    }

    /// Unsets the decoded variables that are not the script's own: the
    /// program sees the variables `kfpl run` gives it, no more.
    fn unset_helpers(&mut self, script_vars: &[(String, &Part)]) {
        let mut helpers = self
            .decode
            .iter()
            .filter(|r| !script_vars.iter().any(|(name, _)| r.is_env_name(name)))
            .peekable();
        if helpers.peek().is_none() {
            return;
        }
        self.lines.push_str("unset");
        for helper in helpers {
            self.lines.push(' ');
            helper.push_env_name(&mut self.lines);
        }
        self.lines.push('\n');
    }

    /// Puts a variable that is literal text Argo can carry into `env`; a
    /// variable that is one value's own `KFP_…` variable is decoded in place;
    /// any other gets an `export` line built from shell words.
    fn carry(&mut self, name: &str, pieces: &[Piece], env: &mut Vec<(String, String)>) {
        if let Some(value) = argo_text(pieces, true) {
            env.push((name.to_string(), value));
            return;
        }
        if let [Piece::Ref(r)] = pieces
            && r.is_env_name(name)
        {
            self.decode_all([r]);
            return;
        }
        self.lines.push_str("export ");
        self.lines.push_str(name);
        self.lines.push('=');
        self.lines.push_str(&sh_word(pieces));
        self.lines.push('\n');
        self.decode_all(refs(pieces));
    }

    /// [`Carried::carry`] for a template: literal text alone goes straight
    /// into `env`, not flattened into a piece first.
    fn carry_template(&mut self, name: &str, value: &Template, env: &mut Vec<(String, String)>) {
        if let Some(text) = plain_text(value).and_then(|text| argo_lit_text(text, true)) {
            env.push((name.to_string(), text));
            return;
        }
        self.carry(name, &flatten(value), env);
    }

    /// [`Carried::carry`] for a variable of a step's script: a reference's
    /// variable is named after it ([`Template::shell_script`]), so its value
    /// is decoded in place without being flattened first.
    fn carry_script_var(&mut self, name: &str, part: &Part, env: &mut Vec<(String, String)>) {
        match part {
            Part::Let { value, .. } => self.carry_template(name, value, env),
            Part::Text(text) => self.carry(name, &lit(text), env),
            _ => {
                let reads = self.reads;
                self.decode
                    .extend(reads.iter().find(|r| r.is_from_part(part)));
            }
        }
    }

    /// Appends the shell text: the decoding lines, then the others.
    fn push_prelude(&self, out: &mut String) {
        push_decode_line(out, self.decode.iter().copied());
        out.push_str(&self.lines);
    }
}

/// The wrapper's text: what `carried` does, then `exec "$@"`, or the
/// command (through the metrics block when there are metrics) followed by
/// the typed-output checks.
fn wrapper(step: &Step, carried: &Carried<'_>) -> String {
    let typed = typed_outputs(step).next().is_some();
    // Sized for the common wrapper (comment, decoding line, `exec`): grown once at most.
    let mut wrapper = String::with_capacity(512);
    wrapper.push_str(match (step.metrics.is_empty(), typed) {
        (true, false) => {
            "# kfpl: decodes the values and sets what Argo cannot carry verbatim, then runs the step's command (\"$@\")\n"
        }
        (true, true) => {
            "# kfpl: runs the step's command (\"$@\"), then checks its typed outputs as `kfpl run` does\n"
        }
        (false, _) => {
            "# kfpl: runs the step's command (\"$@\") with its stdout copied to the log and\n\
             # kept; then writes its metrics for KFP and exits with the command's status\n"
        }
    });
    carried.push_prelude(&mut wrapper);
    if step.metrics.is_empty() && !typed {
        wrapper.push_str("exec \"$@\"\n");
        return wrapper;
    }
    if step.metrics.is_empty() {
        wrapper.push_str("\"$@\"\nKFP_STATUS=$?\n");
    } else {
        wrapper.push_str(&metrics_block(step));
    }
    wrapper.push_str(&output_checks(step));
    wrapper.push_str("exit \"${KFP_STATUS:-1}\"\n");
    wrapper
}

/// The outputs with a declared type, in the order `kfpl run` checks them.
fn typed_outputs(step: &Step) -> impl Iterator<Item = &Output> {
    step.outputs.iter().filter(|o| o.ty != ParamType::String)
}

/// After a successful command, the first typed output that is missing or
/// not of its type fails the step with E0612, in `kfpl run`'s words
/// (`check::types` holds the rule and the messages).
fn output_checks(step: &Step) -> String {
    let mut out = String::new();
    let mut checks = String::new();
    for output in typed_outputs(step) {
        let file = format!("\"$KFP_OUTPUTS\"/{}", sh_quote(&output.name));
        let fail = |message: String| {
            format!(
                "then printf '%s\\n' {} >&2; KFP_STATUS=1\n",
                sh_quote(&format!("kfpl: error[E0612]: {message}"))
            )
        };
        let missing = types::missing_message(&output.name, output.ty);
        if output.ty == ParamType::File {
            // A file or a folder: the artifact Argo uploads.
            checks.push_str(&format!("elif [ ! -e {file} ]; {}", fail(missing)));
            continue;
        }
        checks.push_str(&format!("elif [ ! -f {file} ]; {}", fail(missing)));
        checks.push_str(&format!(
            "elif ! kfpl_typed {} {file}; {}",
            output.ty.word(),
            fail(types::mismatch_message(&output.name, output.ty))
        ));
    }
    if checks.is_empty() {
        return out;
    }
    if typed_outputs(step).any(|o| o.ty != ParamType::File) {
        out.push_str(&format!(
            "kfpl_typed() {{ LC_ALL=C awk -v t=\"$1\" {} \"$2\"; }}\n",
            sh_quote(types::OUTPUT_CHECK_AWK)
        ));
    }
    out.push_str("if [ \"${KFP_STATUS:-1}\" != 0 ]; then :\n");
    out.push_str(&checks);
    out.push_str("fi\n");
    out
}

/// Adds `KFP_…={{inputs.parameters.…}}` (the encoded value) for each value
/// the wrapper decodes.
fn add_ref_vars(env: &mut Vec<(String, String)>, decoded: &BTreeSet<&Ref>) {
    env.reserve(decoded.len());
    for r in decoded {
        if !env.iter().any(|(n, _)| r.is_env_name(n)) {
            env.push((r.env_name(), r.argo()));
        }
    }
}

/// The program of the init container that clones `sync_source` into
/// `code/<repo-name>` at `GIT_SYNC_REV` (when the step sets it).
pub(crate) fn git_program(step: &Step, source: &SyncSource) -> Program {
    let mut program = Program::default();
    let mut prelude = String::new();
    if let Some(revision) = step.git_revision() {
        let mut reads = BTreeSet::new();
        collect_refs(revision, &mut reads);
        let mut carried = Carried::new(&reads);
        carried.carry_template("GIT_SYNC_REV", revision, &mut program.env);
        carried.push_prelude(&mut prelude);
        add_ref_vars(&mut program.env, &carried.decode);
    }
    let dir = sh_quote(&format!("{CODE_DIR}/{}", source.repo_name));
    let script = format!(
        "# kfpl: clone sync_source, then check out $GIT_SYNC_REV when it is set\n\
         set -e\n\
         {prelude}\
         git clone -- {url} {dir}\n\
         if [ -n \"${{GIT_SYNC_REV:-}}\" ]; then\n\
         \x20 cd {dir}\n\
         \x20 git -c advice.detachedHead=false checkout \"$GIT_SYNC_REV\" || {{ git fetch origin \"$GIT_SYNC_REV\" && git -c advice.detachedHead=false checkout FETCH_HEAD; }}\n\
         fi\n",
        url = sh_quote(&source.url),
    );
    program.command = vec!["sh".into(), "-c".into(), k8s_escape(&script)];
    program
}

/// Runs `"$@"` with stdout copied to the log and to a file, keeps its exit
/// status, and writes the declared metrics found in the file.
fn metrics_block(step: &Step) -> String {
    let log = "\"${TMPDIR:-/tmp}/kfpl-stdout\"";
    let mut out = format!(
        "exec 4>&1\n\
         KFP_STATUS=`{{ {{ \"$@\" 3>&- 4>&-; echo $? >&3; }} | tee {log} >&4 3>&-; }} 3>&1`\n\
         exec 4>&-\n"
    );
    for (i, metric) in step.metrics.iter().enumerate() {
        out.push_str(&format!(
            "KFP_METRIC_{}={} \\\n",
            i + 1,
            sh_quote(&metric.name)
        ));
    }
    let mut table = format!("  n = {}\n", step.metrics.len());
    for (i, metric) in step.metrics.iter().enumerate() {
        let format = match metric.format {
            MetricFormat::Percentage => "PERCENTAGE",
            MetricFormat::Raw => "RAW",
        };
        // kfp_name matches KFP's pattern, so it needs no escaping in awk or JSON.
        table.push_str(&format!(
            "  kfp[{n}] = \"{}\"; format[{n}] = \"{format}\"\n",
            metric.kfp_name,
            n = i + 1
        ));
    }
    let program = AWK_METRICS
        .replace("@TABLE@", &table)
        .replace("@FILE@", METRICS_FILE);
    out.push_str(&format!("LC_ALL=C awk '{program}' {log}\n"));
    out.push_str(&format!("rm -f {log}\n"));
    out
}

/// Finds the last `NAME=VALUE` / `NAME: VALUE` line of each metric (as
/// `kfpl run` does: spaces around the line and the separator allowed, the
/// name exact) and writes KFP's metrics JSON. Not a number: a warning on
/// stderr, skipped. Never printed: a note on stderr, left out (not 0).
const AWK_METRICS: &str = r#"function trim(s) {
  sub(/^[ \t\r\f\v]+/, "", s)
  sub(/[ \t\r\f\v]+$/, "", s)
  return s
}
BEGIN {
@TABLE@  for (i = 1; i <= n; i++) name[i] = ENVIRON["KFP_METRIC_" i]
}
{
  line = trim($0)
  for (i = 1; i <= n; i++) {
    l = length(name[i])
    if (substr(line, 1, l) != name[i]) continue
    rest = substr(line, l + 1)
    sub(/^[ \t\r\f\v]+/, "", rest)
    sep = substr(rest, 1, 1)
    if (sep != "=" && sep != ":") continue
    v = trim(substr(rest, 2))
    s = ""
    if (v ~ /^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$/) {
      x = v + 0
      s = sprintf("%.15g", x)
      if (s + 0 != x) s = sprintf("%.17g", x)
      if (s ~ /[a-df-zA-DF-Z]/) s = ""
    }
    if (s == "") print "kfpl: metric " name[i] ": `" v "` is not a number, ignored" > "/dev/stderr"
    else { value[i] = s; seen[i] = 1 }
    break
  }
}
END {
  out = ""
  for (i = 1; i <= n; i++) {
    if (!(i in seen)) { print "kfpl: metric " name[i] " was not printed" > "/dev/stderr"; continue }
    if (out != "") out = out ","
    out = out "{\"name\":\"" kfp[i] "\",\"numberValue\":" value[i] ",\"format\":\"" format[i] "\"}"
  }
  print "{\"metrics\":[" out "]}" > "@FILE@"
}"#;
