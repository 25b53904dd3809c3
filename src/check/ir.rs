//! The checked IR: what `compile`, `run`, `graph` and the REPL consume.
//!
//! Everything here has been checked: names resolve, types match, the graph is
//! acyclic. `let`s are resolved (a string that interpolates a let keeps the
//! let as a [`Part::Let`] so a shell command can pass it as one variable).
//! Steps are in topological order, ties broken by declaration order. Spans
//! point back at the source for diagnostics in later stages.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::source::Span;
pub use crate::syntax::ast::{MetricFormat, ParamType};

/// A checked pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    /// The identifier after `pipeline`.
    pub ident: String,
    /// Display name (`name = …`, else the identifier).
    pub name: String,
    /// `description = …`.
    pub description: Option<String>,
    /// Params in declaration order.
    pub params: Vec<Param>,
    /// Steps in topological order (dependencies first; ties in declaration order).
    pub steps: Vec<Step>,
    /// The pipeline block.
    pub span: Span,
    /// Step name → index into `steps`.
    pub(crate) step_index: BTreeMap<String, usize>,
}

impl Pipeline {
    /// The step called `name`.
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.step_index.get(name).map(|&i| &self.steps[i])
    }

    /// The index of the step called `name` in `steps`.
    pub fn step_position(&self, name: &str) -> Option<usize> {
        self.step_index.get(name).copied()
    }

    /// The param called `name`.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// A pipeline parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// `string` or `number`.
    pub ty: ParamType,
    /// The default, checked against `ty`; `None` means a value must be given.
    pub default: Option<Scalar>,
    /// The declaration.
    pub span: Span,
}

/// A param value: always carried as text, the way Argo and KFP carry parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A string.
    String(String),
    /// A number, as written (`0.01` stays `0.01`).
    Number(String),
    /// A bool.
    Bool(bool),
    /// A list, as compact JSON with map keys sorted.
    List(String),
}

impl Scalar {
    /// The value as text.
    pub(crate) fn as_text(&self) -> &str {
        match self {
            Scalar::String(s) | Scalar::Number(s) | Scalar::List(s) => s,
            Scalar::Bool(true) => "true",
            Scalar::Bool(false) => "false",
        }
    }
}

/// A step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The step identifier (`prepare_data`).
    pub name: String,
    /// The identifier's span.
    pub name_span: Span,
    /// The whole step block.
    pub span: Span,
    /// `description = …`.
    pub description: Option<Template>,
    /// `image = …`.
    pub image: Template,
    /// `command = …`.
    pub command: Command,
    /// `data = [...]`: claims mounted at paths, in source order.
    pub data: Vec<Mount>,
    /// `sync_source = …`.
    pub sync_source: Option<SyncSource>,
    /// `env = {...}`, in source order, keys unique.
    pub env: Vec<EnvVar>,
    /// `gpus = …` (0 when absent).
    pub gpus: Count,
    /// `cpu = …`: a Kubernetes quantity.
    pub cpu: Option<Template>,
    /// `memory = …`: a Kubernetes quantity.
    pub memory: Option<Template>,
    /// `retries = …` (0 when absent).
    pub retries: Count,
    /// `timeout = …`.
    pub timeout: Option<Timeout>,
    /// Declared metrics, in source order.
    pub metrics: Vec<Metric>,
    /// Outputs: `output` first (implicit), then the declared ones in source order.
    pub outputs: Vec<Output>,
    /// Steps this one depends on, sorted by name, each once.
    pub dependencies: Vec<Dependency>,
}

impl Step {
    /// Whether the step declares (or implicitly has) an output called `name`.
    pub fn has_output(&self, name: &str) -> bool {
        self.outputs.iter().any(|o| o.name == name)
    }

    /// The value of `env.GIT_SYNC_REV`, the revision `sync_source` is checked out at.
    pub(crate) fn git_revision(&self) -> Option<&Template> {
        self.env
            .iter()
            .find(|e| e.name == "GIT_SYNC_REV")
            .map(|e| &e.value)
    }
}

/// Why a step depends on another.
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    /// The upstream step.
    pub step: String,
    /// Through `$<step.…>` (implied) or `after` (explicit); both when both.
    pub implied: bool,
    /// Whether `after` lists it.
    pub explicit: bool,
    /// The first place the dependency was written.
    pub span: Span,
}

/// A text value with interpolations: literal text, params, lets, step outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// Pieces in order; adjacent text is merged.
    pub parts: Vec<Part>,
    /// The string (or number) literal it came from.
    pub span: Span,
}

/// One piece of a [`Template`].
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Literal text.
    Text(String),
    /// `$<param>`.
    Param {
        /// The param's name.
        name: String,
        /// The interpolation.
        span: Span,
    },
    /// `$<let>`: the let's name and its resolved value.
    Let {
        /// The let's name.
        name: String,
        /// Its value, rendered as text (it may interpolate params and outputs itself).
        value: Arc<Template>,
        /// The interpolation.
        span: Span,
    },
    /// `$<step.output>`.
    Output {
        /// The upstream step.
        step: String,
        /// The output's name (`output` for the implicit one).
        output: String,
        /// The interpolation.
        span: Span,
    },
}

impl Part {
    /// The environment variable a shell command reads this value from:
    /// `KFP_learning_rate`, `KFP_code` (a let), `KFP_train__output`.
    /// `None` for literal text.
    pub(crate) fn env_name(&self) -> Option<String> {
        match self {
            Part::Text(_) => None,
            Part::Param { name, .. } | Part::Let { name, .. } => Some(format!("KFP_{name}")),
            Part::Output { step, output, .. } => Some(format!("KFP_{step}__{output}")),
        }
    }
}

impl Template {
    /// A template of literal text.
    pub fn text(text: impl Into<String>, span: Span) -> Template {
        Template {
            parts: vec![Part::Text(text.into())],
            span,
        }
    }

    /// The text when nothing is interpolated (lets with constant values count as text).
    pub(crate) fn as_const(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Let { value, .. } => out.push_str(&value.as_const()?),
                Part::Param { .. } | Part::Output { .. } => return None,
            }
        }
        Some(out)
    }

    /// Renders the template, asking `value` for each param and output
    /// (lets are expanded in place).
    pub fn render(&self, value: &mut dyn FnMut(&Part) -> String) -> String {
        let mut out = String::new();
        self.render_into(&mut out, value);
        out
    }

    fn render_into(&self, out: &mut String, value: &mut dyn FnMut(&Part) -> String) {
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Let { value: inner, .. } => inner.render_into(out, value),
                Part::Param { .. } | Part::Output { .. } => out.push_str(&value(part)),
            }
        }
    }

    /// Every param and output this template reads, lets looked through.
    pub(crate) fn references(&self) -> Vec<&Part> {
        let mut out = Vec::new();
        self.collect_references(&mut out);
        out
    }

    fn collect_references<'a>(&'a self, out: &mut Vec<&'a Part>) {
        for part in &self.parts {
            match part {
                Part::Text(_) => {}
                Part::Let { value, .. } => value.collect_references(out),
                Part::Param { .. } | Part::Output { .. } => out.push(part),
            }
        }
    }

    /// The form a shell command takes: the script text, where each
    /// interpolation became `${KFP_…}`, and the variables to set, each
    /// once, in first-use order. Values never enter the script text.
    pub(crate) fn shell_script(&self) -> ShellScript<'_> {
        let mut script = String::new();
        let mut variables: Vec<(String, &Part)> = Vec::new();
        for part in &self.parts {
            match part.env_name() {
                None => {
                    if let Part::Text(t) = part {
                        script.push_str(t);
                    }
                }
                Some(name) => {
                    script.push_str(&format!("${{{name}}}"));
                    if !variables.iter().any(|(n, _)| *n == name) {
                        variables.push((name, part));
                    }
                }
            }
        }
        ShellScript { script, variables }
    }
}

/// A shell command split into script text and the variables it reads.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ShellScript<'a> {
    /// The script, referring to values only as `${KFP_…}`.
    pub script: String,
    /// Variable name → the part whose value it holds (a let's value may itself interpolate).
    pub variables: Vec<(String, &'a Part)>,
}

/// `command = …`.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// A string: a script for `sh -c`.
    Shell(Template),
    /// A list: an argv, values substituted as text.
    Exec(Vec<Template>),
}

impl Command {
    /// Every template in the command.
    pub fn templates(&self) -> Vec<&Template> {
        match self {
            Command::Shell(t) => vec![t],
            Command::Exec(args) => args.iter().collect(),
        }
    }
}

/// One `data` entry: `claim:/mount/path`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    /// The persistent volume claim (a DNS-1123 label).
    pub claim: String,
    /// Absolute path, normalised (no trailing `/`, no `.` or `..`).
    pub path: String,
    /// The entry.
    pub span: Span,
}

/// `sync_source = "https://…/repo.git"`.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncSource {
    /// The git URL (or local path).
    pub url: String,
    /// The directory name under `code/`: the URL's last segment without `.git`.
    pub repo_name: String,
    /// The value.
    pub span: Span,
}

/// One `env` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvVar {
    /// The variable's name.
    pub name: String,
    /// Its value.
    pub value: Template,
    /// The entry.
    pub span: Span,
}

/// A whole number: fixed, or a `number` param's value (`gpus = "$<n_gpus>"`).
#[derive(Debug, Clone, PartialEq)]
pub enum Count {
    /// Known now.
    Fixed(u32),
    /// The value of a number param, checked when params are bound.
    Param {
        /// The param's name.
        name: String,
        /// The interpolation.
        span: Span,
    },
}

impl Count {
    /// The fixed value, if fixed.
    pub fn fixed(&self) -> Option<u32> {
        match self {
            Count::Fixed(n) => Some(*n),
            Count::Param { .. } => None,
        }
    }
}

/// `timeout = "90m"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeout {
    /// The duration in whole seconds (> 0).
    pub seconds: u64,
    /// As written.
    pub text: String,
    /// The value.
    pub span: Span,
}

/// `metric "Train-accuracy": percentage`.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The name as declared: what the program prints.
    pub name: String,
    /// The name in KFP's metrics artifact (normalised to KFP's pattern).
    pub kfp_name: String,
    /// Raw or percentage.
    pub format: MetricFormat,
    /// The declaration.
    pub span: Span,
}

/// An output of a step.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// `output` for the implicit one, else the declared name.
    pub name: String,
    /// `string` unless declared `number`, `bool` or `list`.
    pub ty: ParamType,
    /// The declaration (the step's name for the implicit one).
    pub span: Span,
}
