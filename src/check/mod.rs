//! Checking: AST → typed IR (`ir::Pipeline`) plus diagnostics (E02xx–E04xx, W…).
//!
//! Names are collected first, so declaration order never matters; then lets,
//! params and steps are resolved and type-checked (`resolve`, `step`), the
//! dependency graph is sorted (`dag`) and the lints run (`lint`). Checking
//! goes on after an error so that one run reports every problem; the IR is
//! produced only when there were no errors.

mod blocks;
mod bodies;
mod cache;
pub(crate) mod cluster;
mod condition;
mod control;
mod dag;
mod defaults;
mod files;
pub(crate) mod hash;
pub mod ir;
pub(crate) mod json;
mod lint;
pub mod params;
mod resolve;
mod secrets;
pub(crate) mod sidecars;
mod step;
#[cfg(test)]
mod tests;
pub mod types;
pub(crate) mod values;
pub mod visuals;
pub(crate) mod volumes;

pub(crate) use step::{ATTRIBUTES as STEP_ATTRIBUTES, attribute_doc};

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diagnostics::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::source::Span;
use crate::syntax::ast;
use bodies::StepBodies;
use hash::{FxHashMap, FxHashSet};
use resolve::LetSlot;

/// The result of checking one program.
#[derive(Debug)]
pub struct Checked {
    /// The IR, when there were no errors.
    pub pipeline: Option<ir::Pipeline>,
    /// Errors and warnings, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks a parsed program (its first pipeline; the parser reports any others).
pub fn check(program: &ast::Program) -> Checked {
    let Some(pipeline) = program.pipelines.first() else {
        return Resolved::empty().finish();
    };
    let resolved = match defaults::apply(pipeline) {
        Some((merged, problems)) => resolve_pipeline(&merged, problems, StepBodies::default()),
        None => resolve_pipeline(pipeline, Vec::new(), StepBodies::default()),
    };
    resolved.finish()
}

/// A program whose names, types and values are checked but whose steps are
/// not yet sorted. It borrows nothing, so the AST can be dropped before the
/// graph is sorted (that keeps peak memory down on large programs).
#[derive(Debug)]
pub(crate) struct Resolved {
    parts: Option<Parts>,
    diagnostics: Diagnostics,
}

#[derive(Debug)]
struct Parts {
    ident: String,
    name: String,
    description: Option<String>,
    params: Vec<ir::Param>,
    steps: Vec<ir::Step>,
    blocks: Vec<ir::Block>,
    span: Span,
    cluster: ir::PipelineCluster,
    volumes: Vec<ir::Volume>,
}

/// The first half of [`check`]: everything but the dependency graph. It
/// takes the program so that each step's attributes are dropped once the
/// step is checked: the AST's bulk is then never whole beside the IR.
pub(crate) fn resolve_program(program: ast::Program) -> Resolved {
    let Some(pipeline) = program.pipelines.into_iter().next() else {
        return Resolved::empty();
    };
    let (mut pipeline, problems) = match defaults::apply(&pipeline) {
        Some(merged) => {
            drop(pipeline); // only the merged copy is checked
            merged
        }
        None => (pipeline, Vec::new()),
    };
    let bodies = StepBodies::take(&mut pipeline);
    resolve_pipeline(&pipeline, problems, bodies)
}

/// [`resolve_program`] of one pipeline (its defaults merged), whose steps'
/// attributes are in `bodies` or, when not taken, in the steps themselves.
fn resolve_pipeline(
    pipeline: &ast::Pipeline,
    problems: Vec<Diagnostic>,
    bodies: StepBodies,
) -> Resolved {
    let mut checker = Checker::new(pipeline, bodies);
    checker.diagnostics.extend(problems);
    let parts = checker.run();
    Resolved {
        parts: Some(parts),
        diagnostics: checker.diagnostics,
    }
}

impl Resolved {
    fn empty() -> Resolved {
        Resolved {
            parts: None,
            diagnostics: Diagnostics::new(),
        }
    }

    /// The second half of [`check`]: sorts the graph and builds the IR.
    pub(crate) fn finish(self) -> Checked {
        let mut diagnostics = self.diagnostics;
        let pipeline = self.parts.and_then(|parts| {
            let steps = dag::sort(&mut diagnostics, parts.steps)?;
            dag::check_blocks(&mut diagnostics, &steps, &parts.blocks);
            let step_index = steps
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.clone(), i))
                .collect();
            Some(ir::Pipeline {
                ident: parts.ident,
                name: parts.name,
                description: parts.description,
                params: parts.params,
                steps,
                blocks: parts.blocks,
                span: parts.span,
                cluster: parts.cluster,
                volumes: parts.volumes,
                step_index,
            })
        });
        let pipeline = if diagnostics.has_errors() {
            None
        } else {
            pipeline
        };
        Checked {
            pipeline,
            diagnostics: diagnostics.into_sorted(),
        }
    }
}

/// A step as declared: what checking its references needs.
#[derive(Clone, Copy)]
struct DeclaredStep<'a> {
    decl: &'a ast::StepDecl,
    /// The innermost block around it (`None`: the top level).
    block: Option<ir::BlockId>,
}

impl<'a> DeclaredStep<'a> {
    /// Whether the step has an output `name` (the implicit `output` included).
    fn has_output(&self, name: &str) -> bool {
        name == "output" || self.declared_outputs().any(|output| output == name)
    }

    /// The step's outputs, the implicit `output` first, each once.
    fn outputs(&self) -> Vec<&'a str> {
        let mut outputs = vec!["output"];
        for name in self.declared_outputs() {
            if !outputs.contains(&name) {
                outputs.push(name);
            }
        }
        outputs
    }

    /// The names of the `output NAME` lines, in source order.
    fn declared_outputs(&self) -> impl Iterator<Item = &'a str> {
        self.decl.items.iter().filter_map(|item| match item {
            ast::StepItem::Output(output) if !output.implicit => Some(output.name.name.as_str()),
            _ => None,
        })
    }
}

/// State of one check: the declarations by name and what has been resolved.
struct Checker<'a> {
    pipeline: &'a ast::Pipeline,
    params: BTreeMap<&'a str, &'a ast::ParamDecl>,
    lets: BTreeMap<&'a str, &'a ast::LetDecl>,
    /// Each step's declaration and innermost block (the first, when a
    /// name is declared twice). Hashed: every output reference looks its
    /// step up. One map, not one per fact: on a large program each map's
    /// table costs tens of bytes a step.
    steps: FxHashMap<&'a str, DeclaredStep<'a>>,
    /// The same steps in source order: the order they are checked in
    /// (kept as they are declared, not sorted out of the map afterwards).
    declared: Vec<&'a ast::StepDecl>,
    /// Each let's resolution (hashed: looked up at every use of a let).
    let_slots: FxHashMap<&'a str, LetSlot>,
    /// Params, lets and scoped names read somewhere (hashed: only asked
    /// whether it holds a name, once for every reference).
    used: FxHashSet<&'a str>,
    /// The step being checked, kept out of its own "did you mean" suggestions.
    current_step: Option<&'a str>,
    /// Control blocks, each after the block around it.
    blocks: Vec<control::BlockDecl<'a>>,
    /// Steps with `when`, and where it is written.
    when_steps: FxHashMap<&'a str, Span>,
    /// Loop variables and carried values: name → the blocks declaring it.
    scoped: BTreeMap<&'a str, Vec<ir::BlockId>>,
    /// The block values are being read in (`None`: the top level).
    scope: Option<ir::BlockId>,
    /// `$<x.field>` of loop items, checked once the loops' lists are known.
    item_fields: Vec<(ir::BlockId, ast::Ident)>,
    /// The `data` lists of lets, checked once and shared by the steps that
    /// mount them (see [`step`]'s `shared_data`).
    let_mounts: FxHashMap<Arc<str>, Arc<[ir::Mount]>>,
    /// The top-level `volume` blocks, gathered once: every `data` entry
    /// looks its name up among them.
    volume_blocks: Vec<&'a ast::NamedBlock>,
    /// The steps' attributes when they were taken out of the AST (see
    /// [`bodies`]); each step's are dropped once it is checked.
    bodies: StepBodies,
    diagnostics: Diagnostics,
}

impl<'a> Checker<'a> {
    fn new(pipeline: &'a ast::Pipeline, bodies: StepBodies) -> Checker<'a> {
        Checker {
            pipeline,
            params: BTreeMap::new(),
            lets: BTreeMap::new(),
            steps: FxHashMap::default(),
            declared: Vec::new(),
            let_slots: FxHashMap::default(),
            used: FxHashSet::default(),
            current_step: None,
            blocks: Vec::new(),
            when_steps: FxHashMap::default(),
            scoped: BTreeMap::new(),
            scope: None,
            item_fields: Vec::new(),
            let_mounts: FxHashMap::default(),
            volume_blocks: volumes::blocks(pipeline),
            bodies,
            diagnostics: Diagnostics::new(),
        }
    }

    fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn run(&mut self) -> Parts {
        self.collect_declarations();
        let (name, description, cluster) = self.pipeline_attributes();
        let params = self.params();
        let volumes = self.volumes();
        let mut steps = self.steps();
        let blocks = self.build_blocks();
        add_block_dependencies(&mut steps, &blocks);
        // What the defaults give `gpus`, `cpu`… is checked by the rule that
        // checks `-p` values, so `check` refuses what `compile` would.
        let default = |name: &str| {
            let param = params.iter().find(|p| p.name == name)?;
            Some((param.default.as_ref()?.as_text(), params::Source::Default))
        };
        let problems = params::resource_values(&params, &steps, default);
        self.diagnostics.extend(problems);
        let default = |name: &str| params.iter().find(|p| p.name == name)?.default.as_ref();
        let problems = volumes::size_values(&volumes, |name| default(name).map(|v| v.as_text()));
        self.diagnostics.extend(problems);
        self.resolve_all_lets();
        lint::unused(self);
        lint::steps(self, &steps, &params);
        Parts {
            ident: self.pipeline.name.name.clone(),
            name: name.unwrap_or_else(|| self.pipeline.name.name.clone()),
            description,
            params,
            steps,
            blocks,
            span: self.pipeline.span,
            cluster,
            volumes,
        }
    }

    /// Names of params, lets and steps, each unique; a param and a let may not share one.
    fn collect_declarations(&mut self) {
        values::check_kubernetes_name(self, &self.pipeline.name, "pipeline");
        let mut values_seen: BTreeMap<&'a str, Span> = BTreeMap::new();
        self.collect_items(&self.pipeline.items, None, &mut values_seen);
        self.check_scoped_names();
    }

    fn declare_value(
        &mut self,
        seen: &mut BTreeMap<&'a str, Span>,
        name: &'a ast::Ident,
        kind: &str,
    ) {
        match seen.get(name.name.as_str()) {
            Some(first) => self.error(duplicate(name, *first, kind)),
            None => {
                seen.insert(&name.name, name.span);
            }
        }
    }

    fn declare_step(&mut self, step: &'a ast::StepDecl, block: Option<ir::BlockId>) {
        if let Some(first) = self.steps.get(step.name.name.as_str()) {
            self.error(duplicate(&step.name, first.decl.name.span, "step"));
            return;
        }
        values::check_kubernetes_name(self, &step.name, "step");
        if step.name.name == "workflow" {
            self.error(reserved_step_name(&step.name));
        }
        let mut implicit_typed: Option<Span> = None;
        if let Some(when) = step.items.iter().find_map(|item| match item {
            ast::StepItem::When(when) => Some(when.keyword),
            _ => None,
        }) {
            self.when_steps.insert(&step.name.name, when);
        }
        for (at, item) in step.items.iter().enumerate() {
            let ast::StepItem::Output(output) = item else {
                continue;
            };
            if output.implicit {
                if let Some(first) = implicit_typed.replace(output.span) {
                    self.error(
                        Diagnostic::new(Code::E0204, "the implicit `output` is typed twice")
                            .primary(output.span, "typed again here")
                            .secondary(first, "first typed here")
                            .help("keep one `output: TYPE` line"),
                    );
                }
                continue;
            }
            // `output output`: the parser has reported the keyword (E0106);
            // a second diagnostic here would give other advice for one line.
            if output.name.name == "output" {
                continue;
            }
            // Searched among the lines before it (no list gathered a step).
            let name = output.name.name.as_str();
            if step.items[..at]
                .iter()
                .any(|earlier| is_output_named(earlier, name))
            {
                self.error(
                    Diagnostic::new(
                        Code::E0204,
                        format!("output `{}` is declared twice", output.name.name),
                    )
                    .primary(output.name.span, "declared again here")
                    .help("remove one of the declarations"),
                );
                continue;
            }
        }
        let declared = DeclaredStep { decl: step, block };
        self.steps.insert(&step.name.name, declared);
        self.declared.push(step);
    }

    /// `name` and `description` of the pipeline.
    fn pipeline_attributes(&mut self) -> (Option<String>, Option<String>, ir::PipelineCluster) {
        let mut cluster = ir::PipelineCluster::default();
        let mut name = None;
        let mut description = None;
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for item in &self.pipeline.items {
            let ast::Item::Attribute(attribute) = item else {
                continue;
            };
            let key = attribute.name.name.as_str();
            if !matches!(key, "name" | "description")
                && !cluster::PIPELINE_ATTRIBUTES.contains(&key)
            {
                self.error(unknown_pipeline_attribute(&attribute.name));
                continue;
            }
            if let Some(first) = seen.insert(key, attribute.name.span) {
                self.error(attribute_twice(&attribute.name, first));
                continue;
            }
            let value = self.resolve_value(&attribute.value);
            if cluster::PIPELINE_ATTRIBUTES.contains(&key) {
                if let Some(value) = value {
                    self.cluster_pipeline_attribute(key, &value, &mut cluster);
                }
                continue;
            }
            let text = value.and_then(|v| self.expect_fixed_string(&v, key));
            if key == "name" {
                name = text;
            } else {
                description = text;
            }
        }
        (name, description, cluster)
    }

    /// Params with checked defaults, in declaration order.
    fn params(&mut self) -> Vec<ir::Param> {
        let decls: Vec<&'a ast::ParamDecl> = self
            .pipeline
            .items
            .iter()
            .filter_map(|item| match item {
                ast::Item::Param(p) => Some(&**p),
                _ => None,
            })
            .filter(|p| {
                self.params
                    .get(p.name.name.as_str())
                    .is_some_and(|d| std::ptr::eq(*d, *p))
            })
            .collect();
        for decl in decls.iter().filter(|d| d.ty == ast::ParamType::File) {
            self.error(file_param(decl.ty_span, &decl.name.name));
        }
        decls
            .into_iter()
            .map(|decl| ir::Param {
                name: decl.name.name.clone(),
                ty: decl.ty,
                default: decl
                    .default
                    .as_ref()
                    .and_then(|value| self.param_default(decl, value)),
                span: decl.span,
            })
            .collect()
    }

    fn param_default(&mut self, decl: &ast::ParamDecl, value: &ast::Value) -> Option<ir::Scalar> {
        let found = match (&value.kind, decl.ty) {
            (_, ast::ParamType::File) => return None,
            (ast::ValueKind::Bool(b), ast::ParamType::Bool) => return Some(ir::Scalar::Bool(*b)),
            (ast::ValueKind::List(list), ast::ParamType::List) => {
                return self.list_default(decl, &list.items);
            }
            (ast::ValueKind::Number(n), ast::ParamType::Number) if n.value.is_finite() => {
                return Some(ir::Scalar::Number(n.text.clone()));
            }
            (ast::ValueKind::String(s), ast::ParamType::String) => {
                if let Some(text) = s.as_plain() {
                    if let Some(why) = values::value_too_large(&text) {
                        self.error(
                            Diagnostic::new(
                                Code::E0317,
                                format!("default of param `{}` is too large", decl.name.name),
                            )
                            .primary(value.span, why)
                            .help(values::VALUE_TOO_LARGE_HELP),
                        );
                    }
                    return Some(ir::Scalar::String(text));
                }
                "a string with an interpolation"
            }
            (ast::ValueKind::Number(_), ast::ParamType::Number) => "a number too large to use",
            (kind, _) => resolve::kind_name(kind),
        };
        let ty = type_word(decl.ty);
        let mut diagnostic = Diagnostic::new(
            Code::E0302,
            format!(
                "default of param `{}` is {found}, not a {ty}",
                decl.name.name
            ),
        )
        .primary(value.span, format!("expected a {ty}"))
        .secondary(
            decl.ty_span,
            format!("`{}` is declared as a {ty}", decl.name.name),
        );
        let reads_run_information = matches!(&value.kind, ast::ValueKind::String(s)
            if s.parts.iter().any(|p| matches!(p, ast::StringPart::Interp(i) if i.head.name == "workflow")));
        diagnostic = match (&value.kind, decl.ty) {
            _ if reads_run_information => diagnostic.help(
                "a param's default cannot hold run information yet; hold it in a let (`let run_id = \"$<workflow.uid>\"`)",
            ),
            (ast::ValueKind::String(s), ast::ParamType::Number)
                if s.as_plain()
                    .is_some_and(|t| t.trim().parse::<f64>().is_ok()) =>
            {
                diagnostic.help("remove the quotes: number defaults are written `0.01`")
            }
            (ast::ValueKind::Number(n), ast::ParamType::String) => diagnostic.help(format!(
                "quote it (`\"{}\"`), or declare the param as `number`",
                n.text
            )),
            _ => diagnostic.help(format!("give a {ty} literal, or change the param's type")),
        };
        self.error(diagnostic);
        None
    }

    /// A `list` param's default: kfp syntax, kept as compact JSON.
    fn list_default(&mut self, decl: &ast::ParamDecl, items: &[ast::Value]) -> Option<ir::Scalar> {
        match types::list_default(items) {
            Ok(json) => {
                let text = json.to_text();
                if let Some(why) = values::value_too_large(&text) {
                    self.error(
                        Diagnostic::new(
                            Code::E0317,
                            format!("default of param `{}` is too large", decl.name.name),
                        )
                        .primary(decl.span, why)
                        .help(values::VALUE_TOO_LARGE_HELP),
                    );
                }
                Some(ir::Scalar::List(text))
            }
            Err(item) => {
                self.error(
                    Diagnostic::new(
                        Code::E0302,
                        format!(
                            "default of param `{}` holds {}",
                            decl.name.name,
                            resolve::kind_name(&item.kind)
                        ),
                    )
                    .primary(item.span, "not allowed in a list param")
                    .help("a list param holds strings, numbers, bools, or maps of those, written as literals"),
                );
                None
            }
        }
    }

    fn steps(&mut self) -> Vec<ir::Step> {
        let mut order = std::mem::take(&mut self.declared);
        // Declarations are collected in source order; sorting what is
        // already sorted costs one pass, and keeps the order certain.
        order.sort_by_key(|decl| decl.span.start);
        // Sized once: grown by doubling, the Vec (hundreds of bytes a step)
        // would hold up to twice the room it needs, and copy itself as it grows.
        let mut steps = Vec::with_capacity(order.len());
        for decl in order {
            self.current_step = Some(&decl.name.name);
            self.scope = self
                .steps
                .get(decl.name.name.as_str())
                .and_then(|s| s.block);
            let when = self.step_when(decl);
            let attributes = self.bodies.remove(decl);
            if let Some(mut step) = step::check_step(self, decl, attributes) {
                step.block = self.scope;
                if let Some(when) = when {
                    add_dependencies(&mut step, condition_steps(&when), decl.span);
                    step.when = Some(Box::new(when));
                }
                steps.push(step);
            }
        }
        self.current_step = None;
        self.scope = None;
        steps
    }

    /// A step's `when`, checked (more than one is reported).
    fn step_when(&mut self, decl: &'a ast::StepDecl) -> Option<ir::Condition> {
        let mut whens = decl.items.iter().filter_map(|item| match item {
            ast::StepItem::When(when) => Some(when),
            _ => None,
        });
        let first = whens.next()?;
        if let Some(second) = whens.next() {
            self.error(
                Diagnostic::new(Code::E0206, "attribute `when` is given twice")
                    .primary(second.keyword, "given again here")
                    .secondary(first.keyword, "first given here")
                    .help("join the conditions with `and`"),
            );
        }
        self.condition(&first.condition)
    }

    /// Names of every step but the one being checked, for suggestions,
    /// sorted (the map is hashed; suggestions must not depend on its order).
    fn step_names(&self) -> Vec<&'a str> {
        let current = self.current_step;
        let mut names: Vec<&'a str> = (self.steps.keys().copied())
            .filter(|name| Some(*name) != current)
            .collect();
        names.sort_unstable();
        names
    }
}

/// Whether `item` is an `output NAME` line declaring `name`.
fn is_output_named(item: &ast::StepItem, name: &str) -> bool {
    matches!(item, ast::StepItem::Output(output) if !output.implicit && output.name.name == name)
}

/// The steps whose outputs a condition reads.
fn condition_steps(condition: &ir::Condition) -> Vec<String> {
    let mut out = Vec::new();
    for operand in condition.operands() {
        for part in operand.value.references() {
            if let ir::Part::Output { step, .. } = part
                && !out.contains(step)
            {
                out.push(step.clone());
            }
        }
    }
    out
}

/// Makes `step` depend on `upstream` (implied by a read), keeping the
/// dependencies sorted by name.
fn add_dependencies(step: &mut ir::Step, upstream: Vec<String>, span: Span) {
    // Taken and put back: a boxed slice cannot grow (and taking copies nothing).
    let mut dependencies = std::mem::take(&mut step.dependencies).into_vec();
    for name in upstream {
        if name == step.name {
            continue; // reported as a step reading itself, or a body's own `until`
        }
        match dependencies.iter_mut().find(|d| d.step == name) {
            Some(dependency) => dependency.implied = true,
            None => dependencies.push(ir::Dependency {
                step: name,
                implied: true,
                explicit: false,
                span,
            }),
        }
    }
    dependencies.sort_by(|a, b| a.step.cmp(&b.step));
    step.dependencies = dependencies.into_boxed_slice();
}

/// Every step in a block depends on the steps its blocks' heads read.
fn add_block_dependencies(steps: &mut [ir::Step], blocks: &[ir::Block]) {
    for step in steps.iter_mut() {
        let around = ir::ancestors(step.block, |id| blocks.get(id).and_then(|b| b.parent));
        let upstream: Vec<String> = around
            .into_iter()
            .flat_map(|id| blocks[id].dependencies.iter().cloned())
            .collect();
        let span = step.name_span;
        add_dependencies(step, upstream, span);
    }
}

/// `string`, `number`, `bool`, `list` or `file`.
pub(crate) fn type_word(ty: ast::ParamType) -> &'static str {
    ty.word()
}

/// E0213: `$<workflow.…>` is run information in v2, so no step may be called `workflow`.
fn reserved_step_name(name: &ast::Ident) -> Diagnostic {
    Diagnostic::new(Code::E0213, "`workflow` is a reserved step name")
        .primary(
            name.span,
            "reserved for `$<workflow.name>` and other run information",
        )
        .help("rename the step, such as `run_workflow`, and the `$<workflow.…>` references to it")
}

/// E0318: a param is a value given when the run starts, never a file a step made.
fn file_param(ty_span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0318,
        format!("param `{name}` is a `file`, but a param cannot be a file"),
    )
    .primary(ty_span, "only a step's `output` can be a `file`")
    .help("a param is a `string`, `number`, `bool` or `list`: pass a file's path as a `string`")
}

fn duplicate(name: &ast::Ident, first: Span, kind: &str) -> Diagnostic {
    Diagnostic::new(Code::E0204, format!("`{}` is declared twice", name.name))
        .primary(name.span, format!("this {kind} reuses the name"))
        .secondary(first, "first declared here")
        .help("rename one of them; params and lets share one set of names, steps another")
}

fn attribute_twice(name: &ast::Ident, first: Span) -> Diagnostic {
    Diagnostic::new(
        Code::E0206,
        format!("attribute `{}` is given twice", name.name),
    )
    .primary(name.span, "given again here")
    .secondary(first, "first given here")
    .help("keep one of them")
}

fn unknown_pipeline_attribute(name: &ast::Ident) -> Diagnostic {
    let help = if step::ATTRIBUTES.contains(&name.name.as_str()) {
        Some(format!("`{}` belongs inside a `step` block", name.name))
    } else {
        let known = ["name", "description"];
        let known = known.iter().chain(cluster::PIPELINE_ATTRIBUTES).copied();
        did_you_mean(&name.name, known.clone()).or_else(|| {
            let names: Vec<String> = known.map(|k| format!("`{k}`")).collect();
            Some(format!("a pipeline takes {}", names.join(", ")))
        })
    };
    Diagnostic::new(
        Code::E0205,
        format!("unknown pipeline attribute `{}`", name.name),
    )
    .primary(name.span, "not a pipeline attribute")
    .maybe_help(help)
}
