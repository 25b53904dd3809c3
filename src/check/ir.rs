//! The checked IR: what `compile`, `run`, `graph` and the REPL consume.
//!
//! Everything here has been checked: names resolve, types match, the graph is
//! acyclic. `let`s are resolved (a string that interpolates a let keeps the
//! let as a [`Part::Let`] so a shell command can pass it as one variable).
//! Steps are in topological order, ties broken by declaration order. Spans
//! point back at the source for diagnostics in later stages.

use std::sync::Arc;

use super::hash::FxHashMap;

pub use super::cluster::{PipelineCluster, StepCluster, Toleration};
use crate::source::Span;
pub use crate::syntax::ast::{CompareOp, MetricFormat, ParamType};

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
    /// Steps in topological order (dependencies first; ties in declaration
    /// order), those inside control blocks included (see [`Step::block`]).
    pub steps: Vec<Step>,
    /// The control blocks (`if`, `else`, `for`, `repeat`, `finally`), each
    /// after the block around it.
    pub blocks: Vec<Block>,
    /// The pipeline block.
    pub span: Span,
    /// Cluster settings (`image_pull_secrets`, `parallelism`, …).
    pub cluster: PipelineCluster,
    /// `volume NAME { … }`: claims made for each run, in source order.
    pub volumes: Vec<Volume>,
    /// Step name → index into `steps` (hashed: every reference to an
    /// output looks its step up, and a B-tree compares names ~log2(n) times).
    pub(crate) step_index: FxHashMap<String, usize>,
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

    /// The blocks around `block`, innermost first, `block` included.
    pub fn ancestors(&self, block: Option<BlockId>) -> Vec<BlockId> {
        ancestors(block, |id| self.blocks.get(id).and_then(|b| b.parent))
    }

    /// Whether `inner` is `outer` or inside it.
    pub fn is_within(&self, inner: Option<BlockId>, outer: BlockId) -> bool {
        self.ancestors(inner).contains(&outer)
    }

    /// The `for` loops around step `step` that do not also surround
    /// `reader` (a block, or `None` for the pipeline's top level), outermost
    /// first. Read from `reader`, the step's outputs are JSON lists over
    /// these loops' items (lists of lists when they nest), in item order.
    pub fn loops_between(&self, step: &str, reader: Option<BlockId>) -> Vec<BlockId> {
        let Some(step) = self.step(step) else {
            return Vec::new();
        };
        let around_reader = self.ancestors(reader);
        let mut loops: Vec<BlockId> = self
            .ancestors(step.block)
            .into_iter()
            .filter(|id| !around_reader.contains(id))
            .filter(|&id| matches!(self.blocks[id].kind, BlockKind::For { .. }))
            .collect();
        loops.reverse();
        loops
    }

    /// The fields of loop `block`'s items that its steps read (`$<x.f>`),
    /// the conditions of blocks inside it included.
    pub fn item_fields(&self, block: BlockId) -> std::collections::BTreeSet<String> {
        let BlockKind::For { var, .. } = &self.blocks[block].kind else {
            return Default::default();
        };
        let mut texts: Vec<&Template> = Vec::new();
        for step in self.steps.iter().filter(|s| self.is_within(s.block, block)) {
            texts.extend(step.templates());
        }
        for (id, inner) in self.blocks.iter().enumerate() {
            if id != block && self.is_within(Some(id), block) {
                texts.extend(inner.kind.templates());
            }
        }
        let mut fields = std::collections::BTreeSet::new();
        for text in texts {
            for part in text.references() {
                if let Part::Item {
                    var: v,
                    field: Some(field),
                    ..
                } = part
                    && v == var
                {
                    fields.insert(field.clone());
                }
            }
        }
        fields
    }

    /// The steps directly in `block` (`None`: at the top level), in order.
    pub fn steps_in(&self, block: Option<BlockId>) -> impl Iterator<Item = (usize, &Step)> {
        self.steps
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.block == block)
    }

    /// The blocks directly in `block` (`None`: at the top level).
    pub fn blocks_in(&self, block: Option<BlockId>) -> impl Iterator<Item = (BlockId, &Block)> {
        self.blocks
            .iter()
            .enumerate()
            .filter(move |(_, b)| b.parent == block)
    }
}

/// The run information `$<workflow.NAME>` gives (LANGUAGE-2, "Run information").
pub const WORKFLOW_FIELDS: &[&str] = &["name", "uid", "pod_name", "status"];

/// The blocks around `block`, innermost first, `block` included, given
/// each block's parent (the checker walks its own declarations the same way).
pub(crate) fn ancestors(
    block: Option<BlockId>,
    parent: impl Fn(BlockId) -> Option<BlockId>,
) -> Vec<BlockId> {
    let mut out = Vec::new();
    let mut at = block;
    while let Some(id) = at {
        out.push(id);
        at = parent(id);
    }
    out
}

/// An index into [`Pipeline::blocks`].
pub type BlockId = usize;

/// A control block.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// What it is.
    pub kind: BlockKind,
    /// The block around it (`None`: the pipeline's top level).
    pub parent: Option<BlockId>,
    /// Steps outside the block that its head reads (an `if`'s condition, a
    /// `for`'s list, a repeat's initial carried values), sorted, each once.
    /// Every step in the block depends on them.
    pub dependencies: Vec<String>,
    /// The block's keyword (`if`, `else`, `for`, `repeat`, `finally`).
    pub keyword: Span,
    /// The whole block.
    pub span: Span,
}

/// The kinds of control blocks.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockKind {
    /// The steps of an `if` block (`otherwise` false) or of its `else`
    /// (`otherwise` true: they run when the condition is false). An
    /// `else if` is an `else` block holding an `if` block.
    If {
        condition: Condition,
        otherwise: bool,
    },
    /// `for var in items`.
    For {
        var: String,
        items: Items,
        /// At most this many iterations at once (fixed).
        parallelism: Option<u32>,
    },
    /// `repeat max N { carry … } until C` (`while C` is kept as `until not C`).
    Repeat {
        max: Count,
        carries: Vec<Carry>,
        until: Condition,
    },
    /// `finally { … }`: runs after every other step has ended.
    Finally,
}

impl BlockKind {
    /// The texts the block's head reads: conditions' operands, carries'
    /// initial values.
    pub fn templates(&self) -> Vec<&Template> {
        match self {
            BlockKind::If { condition, .. } => {
                condition.operands().into_iter().map(|o| &o.value).collect()
            }
            BlockKind::Repeat { carries, until, .. } => carries
                .iter()
                .map(|c| &c.initial)
                .chain(until.operands().into_iter().map(|o| &o.value))
                .collect(),
            BlockKind::For { .. } | BlockKind::Finally => Vec::new(),
        }
    }
}

/// The list a `for` loops over.
#[derive(Debug, Clone, PartialEq)]
pub enum Items {
    /// A literal list or a list let: compact JSON of the array.
    Fixed(String),
    /// A `list` param.
    Param(String),
    /// A step's `: list` output.
    Output { step: String, output: String },
}

/// `carry NAME = INITIAL then NEXT`.
#[derive(Debug, Clone, PartialEq)]
pub struct Carry {
    /// The carried value's name (`$<NAME>` in the body).
    pub name: String,
    /// Its type (INITIAL's and NEXT's).
    pub ty: ParamType,
    /// The first pass's value.
    pub initial: Template,
    /// The output of a body step that the next pass reads: (step, output).
    pub next: (String, String),
    pub span: Span,
}

/// A checked condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Or(Box<Condition>, Box<Condition>),
    And(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    /// `left OP right`: both sides of one type (`<` and its kin: numbers).
    Compare(CompareOp, Operand, Operand),
    /// A `bool` operand alone.
    Truth(Operand),
}

impl Condition {
    /// Every operand, left to right.
    pub fn operands(&self) -> Vec<&Operand> {
        let mut out = Vec::new();
        self.collect_operands(&mut out);
        out
    }

    fn collect_operands<'a>(&'a self, out: &mut Vec<&'a Operand>) {
        match self {
            Condition::Or(a, b) | Condition::And(a, b) => {
                a.collect_operands(out);
                b.collect_operands(out);
            }
            Condition::Not(a) => a.collect_operands(out),
            Condition::Compare(_, a, b) => out.extend([a, b]),
            Condition::Truth(a) => out.push(a),
        }
    }
}

/// An operand of a condition: a literal (a template of text) or one value.
#[derive(Debug, Clone, PartialEq)]
pub struct Operand {
    /// `string`, `number` or `bool`.
    pub ty: ParamType,
    /// The value as text (a literal is plain text; a reference is one part).
    pub value: Template,
    /// Whether it was written as a literal.
    pub literal: bool,
    pub span: Span,
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
    /// `description = …` (boxed, as `cpu` and `memory`: most steps have
    /// none, and inline each would add 16 bytes to every step).
    pub description: Option<Box<Template>>,
    /// `image = …`.
    pub image: Template,
    /// `command = …`.
    pub command: Command,
    /// `data = [...]`: claims mounted at paths, in source order. Shared:
    /// steps that mount one let's list (`data = data`) hold one copy.
    pub data: Arc<[Mount]>,
    /// `sync_source = …` (boxed, as `timeout`: few steps have one, and
    /// inline the two would add 80 bytes to every step).
    pub sync_source: Option<Box<SyncSource>>,
    /// `env = {...}`, in source order, keys unique.
    pub env: Box<[EnvVar]>,
    /// `secret_env = {...}`: variables read from secrets, in source order.
    pub secret_env: Box<[SecretEnv]>,
    /// `secret_volumes = [...]`: secrets mounted read-only as folders.
    pub secret_volumes: Box<[SecretVolume]>,
    /// `gpus = …` (0 when absent).
    pub gpus: Count,
    /// `cpu = …`: a Kubernetes quantity.
    pub cpu: Option<Box<Template>>,
    /// `memory = …`: a Kubernetes quantity.
    pub memory: Option<Box<Template>>,
    /// `retries = …` (0 when absent).
    pub retries: Count,
    /// `timeout = …`.
    pub timeout: Option<Box<Timeout>>,
    /// Declared metrics, in source order.
    pub metrics: Box<[Metric]>,
    /// Outputs: `output` first (implicit), then the declared ones in source order.
    pub outputs: Box<[Output]>,
    /// Steps this one depends on, sorted by name, each once (the steps its
    /// blocks' heads read included).
    pub dependencies: Box<[Dependency]>,
    /// The innermost control block around the step (`None`: top level).
    pub block: Option<BlockId>,
    /// `when = …`: the step runs only when it holds (boxed: most steps
    /// have none, and inline it would add 96 bytes to every step).
    pub when: Option<Box<Condition>>,
    /// Cluster settings (`node_selector`, `tolerations`, …). Shared: 224
    /// bytes that most steps leave empty point to one empty value.
    pub cluster: Arc<StepCluster>,
    /// `visuals = true`: the step writes KFP UI metadata to `$KFP_UI_METADATA`.
    pub visuals: bool,
    /// `cache = true`: reused from an earlier identical run (never in `finally`).
    pub cache: bool,
    /// `sidecar NAME { … }`: helpers running beside the step, in source order.
    pub sidecars: Box<[Sidecar]>,
}

impl Step {
    /// Every text the step reads values into: image, description, command,
    /// env, resources, and the operands of its `when`.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out: Vec<&Template> = vec![&self.image];
        out.extend(self.description.as_deref());
        out.extend(self.command.as_slice());
        out.extend(self.env.iter().map(|e| &e.value));
        out.extend(self.cpu.as_deref());
        out.extend(self.memory.as_deref());
        if let Some(when) = &self.when {
            out.extend(when.operands().into_iter().map(|o| &o.value));
        }
        out
    }

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
    /// Pieces in order; adjacent text is merged (a boxed slice: 8 bytes
    /// less than a `Vec` in every template, and a step holds several).
    pub parts: Box<[Part]>,
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
    /// `$<step.output>`: within one iteration of the step's loops, that
    /// iteration's value; from outside them, a JSON list (see
    /// [`Pipeline::loops_between`]).
    Output {
        /// The upstream step.
        step: String,
        /// The output's name (`output` for the implicit one).
        output: String,
        /// The interpolation.
        span: Span,
    },
    /// `$<x>` or `$<x.field>`: the item of the loop `for x in …` around the
    /// reference (a list or map item as compact JSON, a string as itself).
    Item {
        /// The loop variable.
        var: String,
        /// A field of a map item.
        field: Option<String>,
        /// The interpolation.
        span: Span,
    },
    /// `$<name>` of `carry name = … then …` in the repeat around it.
    Carry {
        /// The carried value's name.
        name: String,
        /// The interpolation.
        span: Span,
    },
    /// `$<workflow.name|uid|pod_name|status>`: run information.
    Workflow {
        /// `name`, `uid`, `pod_name` or `status`.
        field: String,
        /// The interpolation.
        span: Span,
    },
}

impl Part {
    /// Where the interpolation is written; `None` for literal text.
    pub fn span(&self) -> Option<Span> {
        match self {
            Part::Text(_) => None,
            Part::Param { span, .. }
            | Part::Let { span, .. }
            | Part::Output { span, .. }
            | Part::Item { span, .. }
            | Part::Carry { span, .. }
            | Part::Workflow { span, .. } => Some(*span),
        }
    }

    /// The interpolation as the user writes it (`$<train.model>`); literal
    /// text as itself.
    pub fn source(&self) -> String {
        match self {
            Part::Text(text) => text.clone(),
            Part::Param { name, .. } | Part::Let { name, .. } | Part::Carry { name, .. } => {
                format!("$<{name}>")
            }
            Part::Output { step, output, .. } => format!("$<{step}.{output}>"),
            Part::Item {
                var, field: None, ..
            } => format!("$<{var}>"),
            Part::Item {
                var,
                field: Some(field),
                ..
            } => format!("$<{var}.{field}>"),
            Part::Workflow { field, .. } => format!("$<workflow.{field}>"),
        }
    }

    /// The environment variable a shell command reads this value from:
    /// `KFP_learning_rate`, `KFP_code` (a let), `KFP_train__output`.
    /// Appended to `out` (no allocation of its own: the shell script writes
    /// a name a reference); `false`, and nothing written, for literal text.
    pub(crate) fn push_env_name(&self, out: &mut String) -> bool {
        let (head, tail): (&str, Option<&str>) = match self {
            Part::Text(_) => return false,
            Part::Param { name, .. } | Part::Let { name, .. } => (name, None),
            Part::Output { step, output, .. } => (step, Some(output)),
            // A loop variable and a carried value share the params' and lets'
            // names; `workflow` is a reserved step name.
            Part::Item { var, field, .. } => (var, field.as_deref()),
            Part::Carry { name, .. } => (name, None),
            Part::Workflow { field, .. } => ("workflow", Some(field)),
        };
        out.push_str("KFP_");
        out.push_str(head);
        if let Some(tail) = tail {
            out.push_str("__");
            out.push_str(tail);
        }
        true
    }
}

impl Template {
    /// A template of literal text.
    pub fn text(text: impl Into<String>, span: Span) -> Template {
        Template {
            parts: Box::new([Part::Text(text.into())]),
            span,
        }
    }

    /// The text when nothing is interpolated (lets with constant values count as text).
    pub(crate) fn as_const(&self) -> Option<String> {
        // Asked first: most templates asked interpolate a param, and their
        // text would be gathered only to be thrown away.
        if !self.is_const() {
            return None;
        }
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Let { value, .. } => out.push_str(&value.as_const()?),
                _ => return None,
            }
        }
        Some(out)
    }

    /// Whether nothing is interpolated (lets with constant values count as text).
    fn is_const(&self) -> bool {
        self.parts.iter().all(|part| match part {
            Part::Text(_) => true,
            Part::Let { value, .. } => value.is_const(),
            _ => false,
        })
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
                _ => out.push_str(&value(part)),
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
                _ => out.push(part),
            }
        }
    }

    /// The form a shell command takes: the script text, where each
    /// interpolation became `${KFP_…}`, and the variables to set, each
    /// once, in first-use order. Values never enter the script text.
    pub(crate) fn shell_script(&self) -> ShellScript<'_> {
        let mut script = String::with_capacity(self.script_len_hint());
        let mut variables: Vec<(String, &Part)> = Vec::new();
        for part in &self.parts {
            if let Part::Text(t) = part {
                script.push_str(t);
                continue;
            }
            // The name is written straight into the script and read back
            // from it: one allocation a variable, not a `format!` a reference.
            script.push_str("${");
            let start = script.len();
            part.push_env_name(&mut script);
            let name = &script[start..];
            if !variables.iter().any(|(n, _)| n == name) {
                variables.push((name.to_string(), part));
            }
            script.push('}');
        }
        ShellScript { script, variables }
    }

    /// About the script's length: its text, and room for each reference.
    fn script_len_hint(&self) -> usize {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(t) => t.len(),
                _ => 32,
            })
            .sum()
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
    Exec(Box<[Template]>),
}

impl Command {
    /// Every template in the command.
    pub fn templates(&self) -> Vec<&Template> {
        self.as_slice().iter().collect()
    }

    /// Every template in the command, without gathering them into a `Vec`.
    pub(crate) fn as_slice(&self) -> &[Template] {
        match self {
            Command::Shell(t) => std::slice::from_ref(t),
            Command::Exec(args) => args,
        }
    }
}

/// One `data` entry: `claim:/mount/path`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    /// The persistent volume claim (a DNS-1123 label), or the identifier
    /// of a declared `volume` when `volume` is set.
    pub claim: String,
    /// Whether `claim` names a `volume` of the pipeline (a declared
    /// volume's identifier wins over an existing claim of that name).
    pub volume: bool,
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
///
/// The references are boxed: a step holds two counts that are nearly
/// always fixed, and inline the names would make each 48 bytes, not 16.
#[derive(Debug, Clone, PartialEq)]
pub enum Count {
    /// Known now.
    Fixed(u32),
    /// The value of a number param, checked when params are bound.
    Param(Box<ParamCount>),
    /// The value of an upstream step's number output (`gpus` only),
    /// checked when that step has run.
    Output(Box<OutputCount>),
}

/// [`Count::Param`]: `$<n>`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamCount {
    /// The param's name.
    pub name: String,
    /// The interpolation.
    pub span: Span,
}

/// [`Count::Output`]: `$<size.gpus>`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputCount {
    /// The upstream step.
    pub step: String,
    /// Its output.
    pub output: String,
    /// The interpolation.
    pub span: Span,
}

impl Count {
    /// The fixed value, if fixed.
    pub fn fixed(&self) -> Option<u32> {
        match self {
            Count::Fixed(n) => Some(*n),
            Count::Param(_) | Count::Output(_) => None,
        }
    }

    /// The count as the user writes it: `2`, `$<n>` or `$<size.gpus>`.
    pub fn written(&self) -> String {
        match self {
            Count::Fixed(n) => n.to_string(),
            Count::Param(param) => format!("$<{}>", param.name),
            Count::Output(output) => format!("$<{}.{}>", output.step, output.output),
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

/// One `secret_env` entry: `VAR = "secret/key"`.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretEnv {
    /// The environment variable.
    pub name: String,
    /// The secret (a DNS-1123 label).
    pub secret: String,
    /// The key inside the secret (`[-._a-zA-Z0-9]+`).
    pub key: String,
    /// The entry.
    pub span: Span,
}

/// One `secret_volumes` entry: `secret:/mount/path`.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretVolume {
    /// The secret (a DNS-1123 label).
    pub secret: String,
    /// Absolute path, normalised like a `data` mount path.
    pub path: String,
    /// The entry.
    pub span: Span,
}

/// `output NAME: file`: which references read a file (the one rule both
/// targets follow to find a step's input files).
impl Pipeline {
    /// Whether `part` reads a `file` output.
    pub fn is_file_output(&self, part: &Part) -> bool {
        let Part::Output { step, output, .. } = part else {
            return false;
        };
        self.step(step)
            .and_then(|s| s.outputs.iter().find(|o| &o.name == output))
            .is_some_and(|o| o.ty == ParamType::File)
    }

    /// The file outputs `step` reads (`(producer, output)`, sorted, each
    /// once); only `command` and `env` may read them (E0342).
    pub fn file_inputs(&self, step: &Step) -> Vec<(String, String)> {
        // One list of references for every text, not one Vec per template.
        let mut references = Vec::new();
        let texts = step.command.as_slice().iter();
        for text in texts.chain(step.env.iter().map(|e| &e.value)) {
            text.collect_references(&mut references);
        }
        let mut inputs: Vec<(String, String)> = references
            .into_iter()
            .filter(|part| self.is_file_output(part))
            .filter_map(|part| match part {
                Part::Output { step, output, .. } => Some((step.clone(), output.clone())),
                _ => None,
            })
            .collect();
        inputs.sort();
        inputs.dedup();
        inputs
    }
}

/// `volume NAME { size, access_mode, storage_class, keep }`: a claim made
/// for each run (on Argo a `volumeClaimTemplate`, locally a folder).
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    /// The identifier, as `data` names it.
    pub name: String,
    /// The Kubernetes name: the identifier with `_` → `-` (a DNS-1123 label).
    pub claim: String,
    /// `size`: a Kubernetes quantity, or one `$<param>` holding one.
    pub size: Template,
    /// `access_mode` (`ReadWriteOnce` when not given).
    pub access_mode: String,
    /// `storage_class`, when given.
    pub storage_class: Option<String>,
    /// `keep = true`: locally, the folder outlives the run (no effect on Argo).
    pub keep: bool,
    /// The block.
    pub span: Span,
}

/// `sidecar NAME { image, command, env }`: a helper beside a step, its
/// values fixed at compile time.
#[derive(Debug, Clone, PartialEq)]
pub struct Sidecar {
    /// The identifier; the container's name is its Kubernetes form.
    pub name: String,
    /// `image`.
    pub image: String,
    /// `command` as an argv: a string command is `["sh", "-c", SCRIPT]`.
    pub argv: Vec<String>,
    /// `env`, in source order.
    pub env: Vec<(String, String)>,
    /// The block.
    pub span: Span,
}
