//! One step: its attribute table (names, types, value formats), metrics and
//! outputs, checked into an `ir::Step`. Dependencies are gathered here from
//! every `$<step.…>` the step reads and from `after`.

use std::borrow::Cow;
use std::sync::Arc;

use super::Checker;
use super::ir::{self, Count, ParamType, Part, Template};
use super::resolve::{RValue, Resolved};
use super::values::{self, MountError};
use crate::diagnostics::{Code, Diagnostic, closest, did_you_mean};
use crate::source::Span;
use crate::syntax::ast;

/// Every step attribute (LANGUAGE.md, "Step attributes").
pub(crate) const ATTRIBUTES: &[&str] = &[
    "image",
    "command",
    "data",
    "sync_source",
    "env",
    "gpus",
    "cpu",
    "memory",
    "after",
    "retries",
    "timeout",
    "description",
    "when",
    "node_selector",
    "tolerations",
    "annotations",
    "labels",
    "display_name",
    "cpu_request",
    "memory_request",
    "pod_spec_patch",
    "secret_env",
    "secret_volumes",
    "visuals",
    "cache",
];

/// One line on each attribute a step or pipeline takes, from the language
/// spec's tables: what editors show on hover.
pub(crate) fn attribute_doc(name: &str) -> Option<&'static str> {
    Some(match name {
        "image" => "string, required: the container image",
        "command" => {
            "string or list of strings, required: a string is a shell script run by `sh -c`; a list is an exec-form argv"
        }
        "data" => "list of `\"claim:/mount/path\"`: mount each persistent volume claim at its path",
        "sync_source" => {
            "string (git URL): clone the repository into `code/<repo-name>/` before the command runs, at `env.GIT_SYNC_REV` when set"
        }
        "env" => "map of string to string: environment variables",
        "gpus" => {
            "whole number >= 0 (default 0): GPUs the step needs (`nvidia.com/gpu` on Kubernetes)"
        }
        "cpu" => "string or number: CPU request and limit, a Kubernetes quantity (`\"500m\"`, `2`)",
        "memory" => "string: memory request and limit, a Kubernetes quantity (`\"4Gi\"`)",
        "after" => {
            "list of step names: explicit ordering, on top of the ordering implied by `$<step.…>`"
        }
        "retries" => "whole number >= 0 (default 0): times a failed step is tried again",
        "timeout" => {
            "duration (`\"90s\"`, `\"30m\"`, `\"2h\"`) or whole number of seconds: the step fails when it runs longer"
        }
        "description" => "string: shown in KFP and in `kfpl` listings",
        "when" => {
            "condition (`$<deploy> and $<score.acc> >= 0.9`): the step runs only when it holds, else it is skipped"
        }
        "secret_env" => {
            "map of variable to `\"secret/key\"`: an environment variable read from a key of a Kubernetes secret (locally `$KFPL_HOME/secrets/<secret>/<key>`)"
        }
        "secret_volumes" => {
            "list of `\"secret:/mount/path\"`: mount each secret's keys as read-only files at its path"
        }
        "visuals" => {
            "bool, fixed: the step writes KFP UI metadata (`{\"outputs\": [...]}`) to `$KFP_UI_METADATA`; the `mlpipeline-ui-metadata` artifact on Argo, `kfpl runs visuals` locally"
        }
        "cache" => {
            "bool, fixed at compile time (default false): reuse the outputs of an earlier identical run of the step instead of running it"
        }
        "name" => {
            "string (pipeline): display name, KFP's pipeline name; defaults to the pipeline's identifier"
        }
        _ => {
            return super::cluster::attribute_doc(name)
                .or_else(|| super::volumes::attribute_doc(name));
        }
    })
}

/// The two forms of `command`, for its diagnostics.
const COMMAND_FORMS: &str = "`command = \"…\"` (a shell script) or `command = [\"prog\", \"arg\"]`";

/// How to write a `timeout`, for its diagnostics.
const DURATION_HELP: &str = "write a positive duration such as `\"90s\"`, `\"30m\"`, `\"2h\"` or `\"1h30m\"`, or a whole number of seconds such as `90`";

/// What a step block said, attribute by attribute.
#[derive(Default)]
struct Fields {
    description: Option<Template>,
    image: Option<Template>,
    command: Option<ir::Command>,
    data: Arc<[ir::Mount]>,
    sync_source: Option<ir::SyncSource>,
    env: Vec<ir::EnvVar>,
    gpus: Option<Count>,
    cpu: Option<Template>,
    memory: Option<Template>,
    retries: Option<Count>,
    timeout: Option<ir::Timeout>,
    after: Vec<(String, Span)>,
    metrics: Vec<ir::Metric>,
    cluster: ir::StepCluster,
    secret_env: Vec<ir::SecretEnv>,
    secret_volumes: Vec<ir::SecretVolume>,
    visuals: Option<bool>,
    cache: Option<bool>,
    sidecars: Vec<ir::Sidecar>,
}

/// Checks one step; `None` when it has errors. `taken` holds its attributes
/// when they were taken out of the AST: their values move into the IR.
pub(super) fn check_step<'a>(
    checker: &mut Checker<'a>,
    decl: &'a ast::StepDecl,
    taken: Vec<ast::StepItem>,
) -> Option<ir::Step> {
    let errors_before = error_count(checker);
    let mut fields = Fields::default();
    let mut given = Given::default();
    // Attributes taken out of the AST come first: the others are not attributes.
    for item in taken {
        if let ast::StepItem::Attribute(attribute) = item {
            let ast::Attribute { name, value, .. } = attribute;
            step_attribute(
                checker,
                &name,
                Cow::Owned(value),
                decl,
                &mut given,
                &mut fields,
            );
        }
    }
    for item in &decl.items {
        match item {
            ast::StepItem::Attribute(attribute) => {
                let value = Cow::Borrowed(&attribute.value);
                step_attribute(
                    checker,
                    &attribute.name,
                    value,
                    decl,
                    &mut given,
                    &mut fields,
                );
            }
            ast::StepItem::Metric(metric) => checker.metric(metric, &mut fields.metrics),
            ast::StepItem::Output(_) | ast::StepItem::When(_) | ast::StepItem::Sidecar(_) => {}
        }
    }
    for required in ["image", "command"] {
        // A misspelt `imgae` was reported already; "no `image`" would say it twice.
        if !given.has(required) && !given.misspelt.contains(&required) {
            checker.error(
                Diagnostic::new(
                    Code::E0207,
                    format!("step `{}` has no `{required}`", decl.name.name),
                )
                .primary(decl.name.span, format!("`{required}` is required"))
                .help(match required {
                    "image" => {
                        "add `image = \"python:3.12\"` (the container image the step runs in)"
                            .to_string()
                    }
                    _ => format!("add {COMMAND_FORMS}"),
                }),
            );
        }
    }
    fields.sidecars = checker.sidecars(decl);
    checker.check_requests(&fields.cluster, fields.cpu.as_ref(), fields.memory.as_ref());
    checker.check_annotation_size(decl, &fields.cluster, fields.description.as_ref());
    no_file_paths(checker, &fields);
    super::secrets::check_clashes(
        checker,
        &fields.env,
        &fields.data,
        &fields.secret_env,
        &fields.secret_volumes,
    );
    let visuals = fields.visuals.unwrap_or(false);
    let read_texts = fields.command.iter().flat_map(|c| c.as_slice());
    let read_texts = read_texts.chain(fields.env.iter().map(|e| &e.value));
    checker.check_metadata_reads(&decl.name.name, visuals, read_texts);
    let outputs = outputs(decl);
    let dependencies = dependencies(checker, decl, &fields);
    if error_count(checker) > errors_before {
        return None;
    }
    Some(ir::Step {
        name: decl.name.name.clone(),
        name_span: decl.name.span,
        span: decl.span,
        description: fields.description.map(Box::new),
        image: fields.image?,
        command: fields.command?,
        data: fields.data,
        sync_source: fields.sync_source.map(Box::new),
        env: fields.env.into(),
        secret_env: fields.secret_env.into(),
        secret_volumes: fields.secret_volumes.into(),
        gpus: fields.gpus.unwrap_or(Count::Fixed(0)),
        cpu: fields.cpu.map(Box::new),
        memory: fields.memory.map(Box::new),
        retries: fields.retries.unwrap_or(Count::Fixed(0)),
        timeout: fields.timeout.map(Box::new),
        metrics: fields.metrics.into(),
        outputs: outputs.into(),
        dependencies: dependencies.into(),
        block: None,
        when: None,
        cluster: fields.cluster.shared(),
        visuals,
        cache: fields.cache.unwrap_or(false),
        sidecars: fields.sidecars.into(),
    })
}

fn error_count(checker: &Checker<'_>) -> usize {
    checker.diagnostics.error_count()
}

fn unknown_attribute(name: &ast::Ident) -> Diagnostic {
    let help = if name.name == "metric" || name.name == "output" {
        Some(format!("declare it as `{} NAME` without `=`", name.name))
    } else if matches!(name.name.as_str(), "name") {
        Some("a step is named by its identifier: `step NAME { … }`".into())
    } else {
        did_you_mean(&name.name, ATTRIBUTES.iter().copied())
            .or_else(|| Some(format!("a step takes: {}", ATTRIBUTES.join(", "))))
    };
    Diagnostic::new(
        Code::E0205,
        format!("unknown step attribute `{}`", name.name),
    )
    .primary(name.span, "not a step attribute")
    .maybe_help(help)
}

/// The attributes a step was given, and those unknown ones look like
/// misspellings of (`imgae` → `image`).
#[derive(Default)]
struct Given {
    /// Where each attribute of [`ATTRIBUTES`] was first given, by its place
    /// there (an array, not a map: no allocation and no search a step).
    first: [Option<Span>; ATTRIBUTES.len()],
    misspelt: Vec<&'static str>,
}

impl Given {
    fn has(&self, name: &str) -> bool {
        let index = ATTRIBUTES.iter().position(|known| *known == name);
        index.is_some_and(|index| self.first[index].is_some())
    }
}

/// One `name = value` of a step: known, given once, then its value checked.
fn step_attribute(
    checker: &mut Checker<'_>,
    name: &ast::Ident,
    value: Cow<'_, ast::Value>,
    decl: &ast::StepDecl,
    given: &mut Given,
    fields: &mut Fields,
) {
    let Some(index) = ATTRIBUTES.iter().position(|known| *known == name.name) else {
        checker.error(unknown_attribute(name));
        let known = ATTRIBUTES.iter().copied();
        given.misspelt.extend(closest(&name.name, known));
        return;
    };
    // The latest is kept, as a third would be reported against the second.
    if let Some(first) = given.first[index].replace(name.span) {
        checker.error(super::attribute_twice(name, first));
        return;
    }
    attribute_value(checker, ATTRIBUTES[index], value, decl.span, fields);
}

fn attribute_value(
    checker: &mut Checker<'_>,
    name: &'static str,
    value: Cow<'_, ast::Value>,
    step_span: Span,
    fields: &mut Fields,
) {
    if name == "after" {
        fields.after = checker.after(&value);
        return;
    }
    let value_span = value.span;
    let Some(value) = checker.resolve_owned(value.into_owned()) else {
        return;
    };
    match name {
        "image" => fields.image = checker.string_attr(value, name),
        "description" => fields.description = checker.string_attr(value, name),
        "command" => fields.command = checker.command(value),
        "data" => fields.data = checker.shared_data(&value),
        "sync_source" => fields.sync_source = checker.sync_source(&value),
        "env" => fields.env = checker.env(&value),
        "secret_env" => fields.secret_env = checker.secret_env(&value),
        "secret_volumes" => fields.secret_volumes = checker.secret_volumes(&value),
        "gpus" | "retries" => {
            let count = checker.count(&value, name);
            if name == "gpus" {
                fields.gpus = count;
            } else {
                fields.retries = count;
            }
        }
        "cpu" => fields.cpu = checker.quantity(value, name, true),
        "memory" => fields.memory = checker.quantity(value, name, false),
        "timeout" => fields.timeout = checker.timeout(&value, name),
        "visuals" => fields.visuals = checker.visuals(&value),
        "cache" => fields.cache = checker.cache(&value, step_span),
        // A `when` whose value parsed as a condition is not an attribute.
        "when" => checker.error(
            Diagnostic::new(
                Code::E0322,
                format!("`when` takes a condition, not {}", value.kind()),
            )
            .primary(value_span, "not a condition")
            .help("write `when = $<deploy>` or `when = $<mode> == \"fast\"`"),
        ),
        _ => checker.cluster_step_attribute(name, &value, &mut fields.cluster),
    }
}

/// E0342: a file output's path goes only where a path makes sense.
fn no_file_paths(checker: &mut Checker<'_>, fields: &Fields) {
    let named = [
        ("`image`", fields.image.as_ref()),
        ("`description`", fields.description.as_ref()),
        ("`cpu`", fields.cpu.as_ref()),
        ("`memory`", fields.memory.as_ref()),
    ];
    for (what, template) in named {
        if let Some(template) = template {
            checker.no_path_in(what, template);
        }
    }
    for template in fields.cluster.templates() {
        checker.no_path_in("a cluster setting", template);
    }
}

/// Outputs: the implicit `output`, then the declared ones (duplicates were reported).
fn outputs(decl: &ast::StepDecl) -> Vec<ir::Output> {
    let declared = decl.items.iter();
    let declared = declared.filter(|item| matches!(item, ast::StepItem::Output(_)));
    // Sized exactly: kept in the IR, and growth would leave room for 4.
    let mut out = Vec::with_capacity(1 + declared.count());
    out.push(ir::Output {
        name: "output".into(),
        ty: ParamType::String,
        span: decl.name.span,
    });
    for item in &decl.items {
        let ast::StepItem::Output(output) = item else {
            continue;
        };
        let ty = output.ty.map_or(ParamType::String, |(_, ty, _)| ty);
        if output.implicit {
            out[0].ty = ty;
        } else if !out.iter().any(|o| o.name == output.name.name) {
            out.push(ir::Output {
                name: output.name.name.clone(),
                ty,
                span: output.span,
            });
        }
    }
    out
}

/// Dependencies from every template the step reads, then `after`.
fn dependencies(
    checker: &mut Checker<'_>,
    decl: &ast::StepDecl,
    fields: &Fields,
) -> Vec<ir::Dependency> {
    // Each place a step is named, in the order written: (step, span, by `after`).
    let mut named: Vec<(&str, Span, bool)> = Vec::new();
    let templates = fields
        .image
        .iter()
        .chain(&fields.description)
        .chain(fields.command.iter().flat_map(|c| c.as_slice()))
        .chain(fields.env.iter().map(|e| &e.value))
        .chain(&fields.cpu)
        .chain(&fields.memory)
        .chain(fields.cluster.templates());
    for template in templates {
        for part in template.references() {
            if let Part::Output { step, span, .. } = part {
                named.push((step, *span, false));
            }
        }
    }
    // `gpus` may read an output too (the producer runs first).
    if let Some(Count::Output(output)) = &fields.gpus {
        named.push((&output.step, output.span, false));
    }
    for (step, span) in &fields.after {
        named.push((step, *span, true));
    }
    let deps = merge_dependencies(named);
    if let Some(own) = deps.iter().find(|d| d.step == decl.name.name) {
        checker.error(
            Diagnostic::new(
                Code::E0402,
                format!("step `{}` depends on itself", decl.name.name),
            )
            .primary(own.span, "the step refers to itself here")
            .secondary(decl.name.span, "in this step")
            .help(
                "a step cannot read its own outputs; pass the value through another step or a file",
            ),
        );
    }
    deps
}

/// One dependency a step, sorted by name, from the places each is named:
/// the first place is the one kept, and the ways (reads, `after`) are joined.
/// (A sorted list, not a map: no node or key copied a reference.)
fn merge_dependencies(mut named: Vec<(&str, Span, bool)>) -> Vec<ir::Dependency> {
    // Stable: the first place each step is named stays first among its own.
    named.sort_by(|a, b| a.0.cmp(b.0));
    // Sized exactly: the list becomes the IR's boxed slice without a copy.
    let distinct = usize::from(!named.is_empty())
        + named
            .windows(2)
            .filter(|pair| pair[0].0 != pair[1].0)
            .count();
    let mut deps: Vec<ir::Dependency> = Vec::with_capacity(distinct);
    for (step, span, explicit) in named {
        match deps.last_mut() {
            Some(last) if last.step == step => {
                last.implied |= !explicit;
                last.explicit |= explicit;
            }
            _ => deps.push(ir::Dependency {
                step: step.to_string(),
                implied: !explicit,
                explicit,
                span,
            }),
        }
    }
    deps
}

impl<'a> Checker<'a> {
    fn string_attr(&mut self, value: Resolved, name: &str) -> Option<Template> {
        let value = match value.into_template() {
            Ok(template) => return Some(template),
            Err(value) => value,
        };
        let help = match &value.value {
            // Through a let, the label on the let says what it is (and the
            // REPL, which shows that label as a note, puts the note where
            // the help would be).
            _ if value.via.is_some() => None,
            RValue::Number(n) => Some(format!("quote it: `{name} = \"{}\"`", n.text)),
            RValue::Bool(b) => Some(format!("quote it: `{name} = \"{b}\"`")),
            _ => Some(format!("write `{name} = \"…\"`")),
        };
        self.error(
            value
                .mismatch(value.span, &format!("`{name}`"), "a string")
                .maybe_help(help),
        );
        None
    }

    pub(super) fn command(&mut self, value: Resolved) -> Option<ir::Command> {
        let command = match value.value {
            // Taken by value: a script is a step's longest template, and
            // unless a let shares it, it is moved into the IR, not copied.
            RValue::Str(template) => ir::Command::Shell(into_template(template, value.span)),
            RValue::List(ref items) => {
                let mut args = Vec::with_capacity(items.len());
                for item in items.iter() {
                    match &item.value {
                        RValue::Str(t) => args.push(with_span(t, item.span)),
                        RValue::Number(n) => args.push(Template::text(n.text.clone(), item.span)),
                        _ => {
                            self.error(
                                item.mismatch(item.span, "each `command` argument", "a string")
                                    .help("write each argument as a string (numbers may stay bare): `[\"prog\", \"--flag\", \"1\"]`"),
                            );
                            return None;
                        }
                    }
                }
                ir::Command::Exec(args.into())
            }
            _ => {
                self.error(
                    value
                        .mismatch(value.span, "`command`", "a string or a list of strings")
                        .help(format!("write {COMMAND_FORMS}")),
                );
                return None;
            }
        };
        let empty = match &command {
            ir::Command::Shell(t) => t.as_const().is_some_and(|s| s.trim().is_empty()),
            ir::Command::Exec(args) => args.is_empty(),
        };
        if empty {
            self.error(
                Diagnostic::new(Code::E0316, "`command` is empty")
                    .primary(value.span, "nothing to run")
                    .help("write the script to run, or the program and its arguments as a list"),
            );
            return None;
        }
        Some(command)
    }

    /// `data`, checked once for each let it names: every step that mounts
    /// the let's list shares one copy (a let is resolved once, so a second
    /// check would find what the first found; repeated warnings are dropped
    /// when diagnostics are sorted).
    fn shared_data(&mut self, value: &Resolved) -> Arc<[ir::Mount]> {
        let Some((name, _)) = &value.via else {
            return self.data(value).into();
        };
        if let Some(mounts) = self.let_mounts.get(name) {
            return Arc::clone(mounts);
        }
        let errors_before = error_count(self);
        let mounts: Arc<[ir::Mount]> = self.data(value).into();
        if error_count(self) == errors_before {
            self.let_mounts
                .insert(Arc::clone(name), Arc::clone(&mounts));
        }
        mounts
    }

    fn data(&mut self, value: &Resolved) -> Vec<ir::Mount> {
        let RValue::List(items) = &value.value else {
            self.error(
                value
                    .mismatch(value.span, "`data`", "a list of \"claim:/path\" strings")
                    .help("write `data = [\"user-susan:/training\"]`"),
            );
            return Vec::new();
        };
        let mut mounts: Vec<ir::Mount> = Vec::with_capacity(items.len());
        for item in items.iter() {
            let Some(entry) = self.expect_fixed_string(item, "data") else {
                continue;
            };
            let Some((claim, path, volume)) = self.mount(&entry, item) else {
                continue;
            };
            if let Some(first) = mounts.iter().find(|m| m.path == path) {
                self.error(
                    Diagnostic::new(Code::E0307, format!("two claims are mounted at `{path}`"))
                        .primary(item.span, "mounted again here")
                        .secondary(first.span, "first mounted here")
                        .help("give each claim its own mount path"),
                );
                continue;
            }
            mounts.push(ir::Mount {
                claim,
                volume,
                path,
                span: item.span,
            });
        }
        mounts
    }

    /// `claim:/path` or `volume:/path`: the name, the path, and whether the
    /// name is a declared volume (whose identifier may hold `_`).
    fn mount(&mut self, entry: &str, item: &Resolved) -> Option<(String, String, bool)> {
        let name = entry.split_once(':').map_or(entry, |(name, _)| name);
        let volume = match self.lookup_volume(name, item) {
            super::volumes::Lookup::Refused => return None,
            super::volumes::Lookup::Volume => true,
            super::volumes::Lookup::Claim => false,
        };
        // A volume's path follows the claims' rules; its name was checked
        // with its declaration.
        let checked = match volume {
            true => values::parse_mount(&format!("volume{}", &entry[name.len()..]))
                .map(|(_, path)| (name.to_string(), path)),
            false => values::parse_mount(entry),
        };
        let diagnostic = match checked {
            Ok((claim, path)) => return Some((claim, path, volume)),
            Err(MountError::NoColon) => Diagnostic::new(
                Code::E0304,
                format!("`data` entry `{entry}` is not `claim:/path`"),
            )
            .primary(item.span, "missing `:`")
            .help("write the claim name, a colon and the mount path: `user-susan:/training`"),
            Err(MountError::BadClaim) => {
                let claim = entry.split(':').next().unwrap_or_default();
                Diagnostic::new(Code::E0305, format!("`{claim}` is not a valid claim name"))
                    .primary(item.span, "not a DNS-1123 label")
                    .help("claim names are lower-case letters, digits and `-`, start and end with a letter or digit, at most 63 characters")
            }
            Err(MountError::BadPath(reason)) => {
                Diagnostic::new(Code::E0306, format!("invalid mount path in `{entry}`"))
                    .primary(item.span, reason)
                    .help("mount at an absolute path such as `/training`")
            }
        };
        let diagnostic = match &item.via {
            Some((name, span)) => diagnostic.secondary(*span, format!("from let `{name}`")),
            None => diagnostic,
        };
        self.error(diagnostic);
        None
    }

    fn sync_source(&mut self, value: &Resolved) -> Option<ir::SyncSource> {
        let url = self.expect_fixed_string(value, "sync_source")?;
        let Some(repo_name) = values::repo_name(&url) else {
            self.error(
                Diagnostic::new(Code::E0313, format!("cannot tell the repository name of `{url}`"))
                    .primary(value.span, "not a git URL")
                    .help("give the repository's URL, e.g. `https://github.com/org/repo.git`; the code lands in `code/repo/`"),
            );
            return None;
        };
        Some(ir::SyncSource {
            url,
            repo_name,
            span: value.span,
        })
    }

    /// The entries of a map of environment variables (`env`, `secret_env`):
    /// a map, each name valid and given once; `example` shows the form.
    pub(super) fn env_entries<'v>(
        &mut self,
        value: &'v Resolved,
        attribute: &str,
        example: &str,
    ) -> Vec<(&'v ast::Ident, &'v Resolved)> {
        let RValue::Map(entries) = &value.value else {
            self.error(
                value
                    .mismatch(value.span, &format!("`{attribute}`"), "a map")
                    .help(format!("write `{attribute} = {example}`")),
            );
            return Vec::new();
        };
        let mut out: Vec<(&ast::Ident, &Resolved)> = Vec::with_capacity(entries.len());
        for (key, entry) in entries.iter() {
            if !self.env_name(key) {
                continue;
            }
            if let Some((first, _)) = out.iter().find(|(k, _)| k.name == key.name) {
                self.error(super::attribute_twice(key, first.span));
                continue;
            }
            out.push((key, entry));
        }
        out
    }

    fn env(&mut self, value: &Resolved) -> Vec<ir::EnvVar> {
        let entries = self.env_entries(value, "env", "{ NAME = \"value\" }");
        let mut out: Vec<ir::EnvVar> = Vec::with_capacity(entries.len());
        for (key, entry) in entries {
            let RValue::Str(template) = &entry.value else {
                let text = match &entry.value {
                    RValue::Number(n) => format!("quote it: `\"{}\"`", n.text),
                    RValue::Bool(b) => format!("quote it: `\"{b}\"`"),
                    _ => "environment variables hold strings".into(),
                };
                self.error(
                    entry
                        .mismatch(entry.span, &format!("env `{}`", key.name), "a string")
                        .help(text),
                );
                continue;
            };
            out.push(ir::EnvVar {
                name: key.name.clone(),
                value: with_span(template, entry.span),
                span: key.span.to(entry.span),
            });
        }
        out
    }

    /// E0311 unless `key` is a valid environment variable name kfpl does not set itself.
    pub(super) fn env_name(&mut self, key: &ast::Ident) -> bool {
        if !values::is_env_name(&key.name) {
            self.error(
                Diagnostic::new(
                    Code::E0311,
                    format!("`{}` is not a valid environment variable name", key.name),
                )
                .primary(key.span, "invalid name")
                .help(format!(
                    "use letters, digits and `_`, not starting with a digit, such as `{}`",
                    env_name_like(&key.name)
                )),
            );
            return false;
        }
        if key.name.starts_with("KFP_") {
            self.error(
                Diagnostic::new(
                    Code::E0311,
                    format!("`{}` is reserved for kfpl", key.name),
                )
                .primary(key.span, "a reserved name")
                .help("kfpl sets the `KFP_…` variables itself (`KFP_OUTPUTS`, interpolated values); choose another name"),
            );
            return false;
        }
        true
    }

    /// A whole number >= 0, or a string holding exactly one `$<number-param>`.
    pub(super) fn count(&mut self, value: &Resolved, name: &str) -> Option<Count> {
        match &value.value {
            RValue::Number(n) => {
                let whole =
                    n.value.fract() == 0.0 && n.value >= 0.0 && n.value <= f64::from(u32::MAX);
                if whole {
                    return Some(Count::Fixed(n.value as u32));
                }
                self.error(not_whole(value, name, &n.text));
                None
            }
            RValue::Str(template) => {
                if name == "gpus"
                    && let [part @ Part::Output { step, output, span }] = &template.parts[..]
                {
                    let count = ir::OutputCount {
                        step: step.clone(),
                        output: output.clone(),
                        span: *span,
                    };
                    return (self.runtime_output(part, name))
                        .then(|| Count::Output(Box::new(count)));
                }
                if let [Part::Param { name: param, span }] = &template.parts[..]
                    && let Some(decl) = self.params.get(param.as_str())
                {
                    if decl.ty == ast::ParamType::Number {
                        return Some(Count::Param(Box::new(ir::ParamCount {
                            name: param.clone(),
                            span: *span,
                        })));
                    }
                    let ty = decl.ty.word();
                    self.error(
                        Diagnostic::new(
                            Code::E0301,
                            format!("`{name}` needs a number param, but `{param}` is a {ty}"),
                        )
                        .primary(*span, format!("a {ty} param"))
                        .secondary(decl.ty_span, format!("declared as a {ty} here"))
                        .help(format!("declare `param {param}: number`")),
                    );
                    return None;
                }
                self.error(
                    value
                        .mismatch(value.span, &format!("`{name}`"), "a whole number")
                        .help(format!(
                            "write `{name} = 1`, or `{name} = \"$<param>\"` with a number param"
                        )),
                );
                None
            }
            _ => {
                self.error(
                    value
                        .mismatch(value.span, &format!("`{name}`"), "a whole number")
                        .help(format!("write `{name} = 1`")),
                );
                None
            }
        }
    }

    /// A Kubernetes quantity: `cpu` takes a string or a number, `memory` a string.
    pub(super) fn quantity(
        &mut self,
        value: Resolved,
        name: &str,
        number_ok: bool,
    ) -> Option<Template> {
        let span = value.span;
        let template = match value.into_template() {
            Ok(template) => template,
            Err(value) => match value.value {
                RValue::Number(n) if number_ok => Template::text(n.text, span),
                _ => {
                    let expected = if number_ok {
                        "a string or a number"
                    } else {
                        "a string"
                    };
                    let example = values::quantity_example(name);
                    self.error(
                        value
                            .mismatch(span, &format!("`{name}`"), expected)
                            .help(format!("write a quantity such as {example}")),
                    );
                    return None;
                }
            },
        };
        // An output read here must hold a quantity (E0356).
        let outputs = template.references().into_iter();
        let mut outputs = outputs.filter(|part| matches!(part, Part::Output { .. }));
        if !outputs.all(|part| self.runtime_output(part, name)) {
            return None;
        }
        if let Some(text) = template.as_const()
            && !values::is_quantity(&text)
        {
            let example = values::quantity_example(name);
            self.error(
                Diagnostic::new(
                    Code::E0310,
                    format!("`{text}` is not a Kubernetes quantity"),
                )
                .primary(span, format!("invalid `{name}`"))
                .help(format!("write a quantity such as {example}")),
            );
            return None;
        }
        Some(template)
    }

    /// A duration: a string (`"90s"`, `"1h30m"`) or a bare number of
    /// seconds (`90`, as KFP v1's `set_timeout(90)`), more than zero.
    pub(super) fn timeout(&mut self, value: &Resolved, name: &str) -> Option<ir::Timeout> {
        let text = match &value.value {
            RValue::Number(n) => n.text.clone(),
            RValue::Str(_) => self.expect_fixed_string(value, name)?,
            _ => {
                self.error(
                    value
                        .mismatch(value.span, &format!("`{name}`"), "a duration")
                        .help(DURATION_HELP),
                );
                return None;
            }
        };
        let Some(seconds) = values::parse_duration(&text) else {
            self.error(
                Diagnostic::new(Code::E0309, format!("`{text}` is not a duration"))
                    .primary(value.span, format!("invalid `{name}`"))
                    .help(DURATION_HELP),
            );
            return None;
        };
        Some(ir::Timeout {
            seconds,
            text,
            span: value.span,
        })
    }

    /// `after = [step, …]`: the idents name steps.
    fn after(&mut self, value: &ast::Value) -> Vec<(String, Span)> {
        let ast::ValueKind::List(ast::Bracketed { items, .. }) = &value.kind else {
            self.error(
                Diagnostic::new(Code::E0301, "`after` must be a list of step names")
                    .primary(value.span, "expected a list")
                    .help("write `after = [prepare_data]`"),
            );
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let ast::ValueKind::Ident(ident) = &item.kind else {
                self.error(
                    Diagnostic::new(Code::E0301, "`after` lists step names, not values")
                        .primary(item.span, "expected a step name")
                        .help(
                            "write the step's identifier without quotes: `after = [prepare_data]`",
                        ),
                );
                continue;
            };
            if !self.steps.contains_key(ident.name.as_str()) {
                let diagnostic = self.unknown_step(ident);
                self.error(diagnostic);
                continue;
            }
            if !self.check_after_access(ident) {
                continue;
            }
            out.push((ident.name.clone(), ident.span));
        }
        out
    }

    fn metric(&mut self, metric: &ast::MetricDecl, out: &mut Vec<ir::Metric>) {
        let Some(name) = metric.name.as_plain() else {
            self.error(
                Diagnostic::new(Code::E0315, "a metric name cannot interpolate")
                    .primary(metric.name.span, "interpolation in a metric name")
                    .help("write the name the program prints, e.g. `metric \"accuracy\"`"),
            );
            return;
        };
        let kfp_name = values::normalize_metric_name(&name);
        if kfp_name.is_empty() {
            self.error(
                Diagnostic::new(
                    Code::E0315,
                    format!("`{name}` cannot be used as a metric name"),
                )
                .primary(metric.name.span, "no letter to start a name with")
                .help("metric names start with a letter, e.g. `metric \"accuracy\"`"),
            );
            return;
        }
        if let Some(first) = out
            .iter()
            .find(|m| m.name == name || m.kfp_name == kfp_name)
        {
            self.error(
                Diagnostic::new(Code::E0208, format!("metric `{name}` is declared twice"))
                    .primary(metric.name.span, "declared again here")
                    .secondary(first.span, format!("`{}` declared here", first.name))
                    .help("give each metric of a step its own name"),
            );
            return;
        }
        out.push(ir::Metric {
            name,
            kfp_name,
            format: metric.format.map_or(ast::MetricFormat::Raw, |(f, _)| f),
            span: metric.name.span,
        });
    }
}

fn not_whole(value: &Resolved, name: &str, text: &str) -> Diagnostic {
    let mut diagnostic = Diagnostic::new(
        Code::E0308,
        format!("`{name}` must be a whole number >= 0, found `{text}`"),
    )
    .primary(value.span, "not a whole number >= 0")
    .help(format!("write `{name} = 1`"));
    if let Some((let_name, span)) = &value.via {
        diagnostic = diagnostic.secondary(*span, format!("from let `{let_name}`"));
    }
    diagnostic
}

/// `CUDA-VISIBLE-DEVICES` → `CUDA_VISIBLE_DEVICES`, for the help line.
fn env_name_like(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The template with the span of the value that used it (the let's own span stays inside).
/// `template` with `span`, moved out of its `Arc` when nothing else holds it.
pub(super) fn into_template(template: Arc<Template>, span: Span) -> Template {
    match Arc::try_unwrap(template) {
        Ok(mut template) => {
            template.span = span;
            template
        }
        Err(shared) => with_span(&shared, span),
    }
}

fn with_span(template: &Arc<Template>, span: Span) -> Template {
    Template {
        parts: template.parts.clone(),
        span,
    }
}
