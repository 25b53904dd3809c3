//! What `argo lint` would check, checked on the produced [`Workflow`].
//!
//! Argo's JSON schema does not see names, references, dependencies or
//! unknown fields; the KFP API server runs Argo's lint on upload. [`lint`]
//! walks the model (not the text) and reports each broken guarantee:
//! - template and task names match `^[a-zA-Z0-9][-a-zA-Z0-9]*$`, at most 128
//!   characters, unique; task names do not start with a digit (Argo refuses
//!   that with `dependencies`);
//! - parameter and artifact names match `^[-a-zA-Z0-9_]+$`, unique per list;
//! - the entrypoint is a DAG; each task's template exists and gets exactly
//!   its inputs; dependencies exist, are not the task itself, and form no cycle;
//! - every `{{…}}` resolves: `workflow.parameters.P` and
//!   `tasks.T.outputs.parameters.O` (T a dependency, O one of its outputs)
//!   in the DAG, `inputs.parameters.N` in a step, also inside kfpl's
//!   `{{=sprig.b64enc(…)}}`/`{{=sprig.b64dec(…)}}` tags (no other
//!   expression); nowhere else any `{{`;
//! - every mounted volume is declared, once, and no path is mounted twice;
//! - resource amounts are Kubernetes quantities (`{{…}}` goes in `podSpecPatch`);
//! - only fields that Argo v3.3 knows appear ([`known_fields`]).
//!
//! An empty list means the workflow passes. Tests run it on every output.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::argo_types::{API_VERSION, KIND, Parameter, Template, Workflow};

/// Every guarantee the workflow breaks, as sentences (empty: none).
pub fn lint(workflow: &Workflow) -> Vec<String> {
    let mut problems = Vec::new();
    if workflow.api_version != API_VERSION || workflow.kind != KIND {
        problems.push(format!(
            "document is `{}` `{}`, not an Argo Workflow",
            workflow.api_version, workflow.kind
        ));
    }
    let spec = &workflow.spec;
    let mut templates: BTreeMap<&str, &Template> = BTreeMap::new();
    for template in &spec.templates {
        check_name(&mut problems, "template", &template.name);
        if templates.insert(&template.name, template).is_some() {
            problems.push(format!("template `{}` is defined twice", template.name));
        }
    }
    let arguments: Vec<&Parameter> = spec.arguments.iter().flat_map(|a| &a.parameters).collect();
    check_parameters(&mut problems, "spec.arguments", &arguments);
    match templates.get(spec.entrypoint.as_str()) {
        Some(t) if t.dag.is_some() => {}
        _ => problems.push(format!(
            "entrypoint `{}` is not a DAG template",
            spec.entrypoint
        )),
    }
    if let Some(on_exit) = &spec.on_exit
        && templates
            .get(on_exit.as_str())
            .is_none_or(|t| t.dag.is_none())
    {
        problems.push(format!("onExit `{on_exit}` is not a DAG template"));
    }
    let globals: BTreeSet<&str> = arguments.iter().map(|p| p.name.as_str()).collect();
    for template in &spec.templates {
        if template.dag.is_some() {
            check_dag(&mut problems, template, &templates, &globals);
        } else {
            check_step(&mut problems, template, spec);
        }
    }
    let mut volumes = BTreeSet::new();
    for volume in &spec.volumes {
        if !volumes.insert(&volume.name) {
            problems.push(format!("volume `{}` is declared twice", volume.name));
        }
        if !crate::check::values::is_dns_label(&volume.name) {
            problems.push(format!(
                "volume name `{}` is not a DNS-1123 label",
                volume.name
            ));
        }
    }
    match serde_json::to_value(workflow) {
        Ok(value) => {
            no_references(&mut problems, "metadata", &value["metadata"]);
            no_references(&mut problems, "spec.arguments", &value["spec"]["arguments"]);
            no_references(&mut problems, "spec.volumes", &value["spec"]["volumes"]);
            known_fields(&mut problems, "", "workflow", &value);
        }
        Err(error) => problems.push(format!("the workflow does not serialise: {error}")),
    }
    problems
}

fn check_name(problems: &mut Vec<String>, kind: &str, name: &str) {
    let valid = name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        problems.push(format!(
            "{kind} name `{name}` does not match ^[a-zA-Z0-9][-a-zA-Z0-9]*$ (at most 128)"
        ));
    }
}

fn check_parameters(problems: &mut Vec<String>, place: &str, parameters: &[&Parameter]) {
    let mut seen = BTreeSet::new();
    for parameter in parameters {
        check_parameter_name(problems, place, &parameter.name);
        if !seen.insert(parameter.name.as_str()) {
            problems.push(format!("{place}: parameter `{}` twice", parameter.name));
        }
    }
}

fn check_parameter_name(problems: &mut Vec<String>, place: &str, name: &str) {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        problems.push(format!(
            "{place}: name `{name}` does not match ^[-a-zA-Z0-9_]+$"
        ));
    }
}

fn check_dag(
    problems: &mut Vec<String>,
    template: &Template,
    templates: &BTreeMap<&str, &Template>,
    globals: &BTreeSet<&str>,
) {
    let Some(dag) = &template.dag else {
        return;
    };
    let mut tasks = BTreeMap::new();
    for task in &dag.tasks {
        check_name(problems, "task", &task.name);
        if task.name.starts_with(|c: char| c.is_ascii_digit()) {
            problems.push(format!("task name `{}` starts with a digit", task.name));
        }
        if tasks.insert(task.name.as_str(), task).is_some() {
            problems.push(format!("task `{}` is defined twice", task.name));
        }
    }
    let own_inputs: BTreeSet<&str> = template
        .inputs
        .iter()
        .flat_map(|i| &i.parameters)
        .map(|p| p.name.as_str())
        .collect();
    for task in &dag.tasks {
        let place = format!("task `{}`", task.name);
        let target = templates.get(task.template.as_str());
        if target.is_none() {
            problems.push(format!(
                "{place}: template `{}` does not exist",
                task.template
            ));
        }
        for dependency in &task.dependencies {
            if dependency == &task.name || !tasks.contains_key(dependency.as_str()) {
                problems.push(format!(
                    "{place}: dependency `{dependency}` is not another task"
                ));
            }
        }
        let arguments: Vec<&Parameter> =
            task.arguments.iter().flat_map(|a| &a.parameters).collect();
        check_parameters(problems, &place, &arguments);
        let given: BTreeSet<&str> = arguments.iter().map(|p| p.name.as_str()).collect();
        let wanted: BTreeSet<&str> = target
            .and_then(|t| t.inputs.as_ref())
            .iter()
            .flat_map(|i| &i.parameters)
            .map(|p| p.name.as_str())
            .collect();
        if given != wanted {
            problems.push(format!(
                "{place}: arguments {given:?} do not match the inputs {wanted:?}"
            ));
        }
        let looped = !task.with_items.is_empty() || task.with_param.is_some();
        let scope = DagScope {
            task: Some(task),
            tasks: &tasks,
            templates,
            globals,
            inputs: &own_inputs,
            looped,
        };
        let values = arguments
            .iter()
            .filter_map(|a| a.value.as_deref())
            .chain(task.with_param.as_deref());
        for value in values {
            for reference in references(problems, &place, value) {
                if !scope.resolves(&reference) {
                    problems.push(format!("{place}: `{{{{{reference}}}}}` does not resolve"));
                }
            }
        }
        if let Some(when) = &task.when {
            if when.trim_start().starts_with("{{=") {
                problems.push(format!("{place}: `when` starts with an expression tag"));
            }
            for reference in references(problems, &place, when) {
                if !reference.starts_with("inputs.parameters.") || !scope.resolves(&reference) {
                    problems.push(format!(
                        "{place}: `when` reads `{{{{{reference}}}}}`, not one of its DAG's inputs"
                    ));
                }
            }
        }
    }
    let place = format!("template `{}` outputs", template.name);
    let scope = DagScope {
        task: None,
        tasks: &tasks,
        templates,
        globals,
        inputs: &own_inputs,
        looped: false,
    };
    let outputs = template.outputs.iter().flat_map(|o| &o.parameters);
    for output in outputs.filter_map(|p| p.value_from.as_ref()) {
        let parameter = output.parameter.iter().cloned();
        let expression = output.expression.iter().map(|e| format!("{{{{={e}}}}}"));
        for text in parameter.chain(expression) {
            for reference in references(problems, &place, &text) {
                if !scope.resolves(&reference) {
                    problems.push(format!("{place}: `{{{{{reference}}}}}` does not resolve"));
                }
            }
        }
    }
    if let Some(cycle_at) = cycle(&tasks) {
        problems.push(format!(
            "the dependencies form a cycle through task `{cycle_at}`"
        ));
    }
}

/// What a reference in a DAG may name: a global param or run information,
/// an input of the DAG, an output of a task (a dependency, for a task's
/// own references), or a loop's item.
struct DagScope<'a> {
    task: Option<&'a super::argo_types::DagTask>,
    tasks: &'a BTreeMap<&'a str, &'a super::argo_types::DagTask>,
    templates: &'a BTreeMap<&'a str, &'a Template>,
    globals: &'a BTreeSet<&'a str>,
    inputs: &'a BTreeSet<&'a str>,
    looped: bool,
}

impl DagScope<'_> {
    fn resolves(&self, reference: &str) -> bool {
        if let Some(name) = reference.strip_prefix("workflow.parameters.") {
            return self.globals.contains(name);
        }
        if let Some(name) = reference.strip_prefix("inputs.parameters.") {
            return self.inputs.contains(name);
        }
        if RUN_INFORMATION.contains(&reference) && reference != "pod.name" {
            return true;
        }
        if reference == "item" || reference.starts_with("item.") {
            return self.looped;
        }
        let Some(rest) = reference.strip_prefix("tasks.") else {
            return false;
        };
        let Some((upstream, output)) = rest.split_once(".outputs.parameters.") else {
            return false;
        };
        self.task
            .is_none_or(|task| task.dependencies.iter().any(|d| d == upstream))
            && self
                .tasks
                .get(upstream)
                .and_then(|t| self.templates.get(t.template.as_str()))
                .and_then(|t| t.outputs.as_ref())
                .is_some_and(|o| o.parameters.iter().any(|p| p.name == output))
    }
}

/// Run information Argo gives every template (`pod.name`: a pod's only).
const RUN_INFORMATION: &[&str] = &[
    "workflow.name",
    "workflow.uid",
    "workflow.status",
    "pod.name",
];

/// A task on a cycle, if the dependencies have one (Kahn's algorithm).
fn cycle<'a>(tasks: &BTreeMap<&'a str, &'a super::argo_types::DagTask>) -> Option<&'a str> {
    let mut waiting: BTreeMap<&str, usize> = tasks
        .iter()
        .map(|(name, task)| {
            let known = task
                .dependencies
                .iter()
                .filter(|d| tasks.contains_key(d.as_str()))
                .count();
            (*name, known)
        })
        .collect();
    let mut ready: Vec<&str> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(t, _)| *t)
        .collect();
    while let Some(done) = ready.pop() {
        waiting.remove(done);
        for (name, task) in tasks {
            if task.dependencies.iter().any(|d| d == done)
                && let Some(n) = waiting.get_mut(name)
            {
                *n -= 1;
                if *n == 0 {
                    ready.push(name);
                }
            }
        }
    }
    waiting.keys().next().copied()
}

fn check_step(
    problems: &mut Vec<String>,
    template: &Template,
    spec: &super::argo_types::WorkflowSpec,
) {
    let place = format!("template `{}`", template.name);
    let inputs: Vec<&Parameter> = template.inputs.iter().flat_map(|i| &i.parameters).collect();
    check_parameters(problems, &place, &inputs);
    if let Some(outputs) = &template.outputs {
        let parameters: Vec<&Parameter> = outputs.parameters.iter().collect();
        check_parameters(problems, &place, &parameters);
        let mut artifacts = BTreeSet::new();
        for artifact in &outputs.artifacts {
            check_parameter_name(problems, &place, &artifact.name);
            if !artifacts.insert(&artifact.name) {
                problems.push(format!("{place}: artifact `{}` twice", artifact.name));
            }
        }
    }
    let Some(main) = &template.container else {
        problems.push(format!("{place}: neither a DAG nor a container"));
        return;
    };
    // Kubernetes parses quantities when it reads the workflow: `{{…}}` there
    // is refused before Argo could substitute it (podSpecPatch is the way).
    let resources = main.resources.iter();
    let amounts = resources.flat_map(|r| r.limits.iter().chain(r.requests.iter()).flatten());
    for (name, quantity) in amounts {
        if !crate::check::values::is_quantity(&quantity.0) {
            problems.push(format!(
                "{place}: `{name}: {}` is not a Kubernetes quantity",
                quantity.0
            ));
        }
    }
    if let Some(patch) = &template.pod_spec_patch
        && serde_json::from_str::<Value>(patch).is_err()
    {
        problems.push(format!("{place}: podSpecPatch is not JSON"));
    }
    // A claim template's name is a pod volume too (Argo adds it to each pod).
    let claims_made = spec.volume_claim_templates.iter();
    let declared: BTreeSet<&str> = (spec.volumes.iter().map(|v| v.name.as_str()))
        .chain(claims_made.filter_map(|c| c.metadata.name.as_deref()))
        .collect();
    for container in template.init_containers.iter().chain([main]) {
        let mut paths = BTreeSet::new();
        for mount in container.volume_mounts.iter().flatten() {
            if !declared.contains(mount.name.as_str()) {
                problems.push(format!(
                    "{place}: volume `{}` is mounted but not declared",
                    mount.name
                ));
            }
            if !paths.insert(&mount.mount_path) {
                problems.push(format!("{place}: `{}` is mounted twice", mount.mount_path));
            }
        }
    }
    let names: BTreeSet<&str> = inputs.iter().map(|p| p.name.as_str()).collect();
    let value = serde_json::to_value(template).unwrap_or_default();
    let mut strings = Vec::new();
    collect_strings(&value, &mut strings);
    for text in strings {
        for reference in references(problems, &place, text) {
            let resolves = RUN_INFORMATION.contains(&reference.as_str())
                || reference
                    .strip_prefix("inputs.parameters.")
                    .is_some_and(|n| names.contains(n));
            if !resolves {
                problems.push(format!("{place}: `{{{{{reference}}}}}` does not resolve"));
            }
        }
    }
}

/// The `{{…}}` references in `text`, trimmed as Argo trims them; kfpl's
/// expression tags (`{{=sprig.b64enc(…)}}`) as the plain reference they read.
fn references(problems: &mut Vec<String>, place: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            problems.push(format!("{place}: `{{{{` without `}}}}` in {text:?}"));
            break;
        };
        let tag = after[..close].trim();
        match tag.strip_prefix('=') {
            Some(expression) => match expression_references(expression) {
                Ok(found) => out.extend(found),
                Err(function) => problems.push(format!(
                    "{place}: `{{{{{tag}}}}}` does not resolve: `{function}` is not a function kfpl writes"
                )),
            },
            None => out.push(tag.to_string()),
        }
        rest = &after[close + 2..];
    }
    out
}

/// The functions kfpl's expression tags call.
const FUNCTIONS: &[&str] = &[
    "sprig.b64enc",
    "sprig.b64dec",
    "sprig.fromJson",
    "sprig.default",
    "sprig.float64",
    "sprig.hasPrefix",
    "sprig.replace",
    "asFloat",
    "asInt",
    "string",
    "map",
    "toJson",
    // A value in a pod patch: `toJson(v)[1:len(toJson(v))-1]`.
    "len",
];

/// The references an expression reads (`tasks['t'].outputs.parameters['o']`
/// as `tasks.t.outputs.parameters.o`), string constants skipped; or the
/// first function kfpl does not write.
fn expression_references(expression: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut chars = expression.chars().peekable();
    while let Some(c) = chars.next() {
        let is_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        if c == '\'' {
            // A string constant (kfpl's hold no `'`).
            chars.by_ref().find(|&c| c == '\'');
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' || (!word.is_empty() && is_word(c)) {
            word.push(c);
        } else if c == '[' && !word.is_empty() && chars.peek() == Some(&'\'') {
            // An index by a key: `tasks['t']` reads `tasks.t`.
            chars.next();
            let key: String = chars.by_ref().take_while(|&c| c != '\'').collect();
            chars.next_if_eq(&']');
            word.push('.');
            word.push_str(&key);
        } else if !word.is_empty() {
            finish(&mut word, c == '(', &mut out)?;
            continue;
        } else {
            continue;
        }
        let continues = chars.peek().is_some_and(|&n| is_word(n) || (n == '['));
        if !continues {
            let called = plain_call(&mut chars);
            finish(&mut word, called, &mut out)?;
        }
    }
    Ok(out)
}

/// Ends a name: a call must be to one of [`FUNCTIONS`]; any other name but
/// a keyword is a reference.
fn finish(word: &mut String, called: bool, out: &mut Vec<String>) -> Result<(), String> {
    let name = std::mem::take(word);
    if called {
        if !FUNCTIONS.contains(&name.as_str()) {
            return Err(name);
        }
    } else if !matches!(name.as_str(), "true" | "false" | "in" | "nil") {
        out.push(name);
    }
    Ok(())
}

/// Whether the next character (spaces skipped) opens a call.
fn plain_call(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> bool {
    while chars.peek() == Some(&' ') {
        chars.next();
    }
    chars.peek() == Some(&'(')
}

fn no_references(problems: &mut Vec<String>, place: &str, value: &Value) {
    let mut strings = Vec::new();
    collect_strings(value, &mut strings);
    for text in strings {
        if text.contains("{{") {
            problems.push(format!("{place}: `{{{{` in {text:?}"));
        }
    }
}

fn collect_strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => {
            for (key, v) in map {
                out.push(key);
                collect_strings(v, out);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The fields kfpl may write for each kind of object, and the kind of each
/// field's value: `""` a scalar, `"{}"` a map of strings, `"[]"` a list of
/// strings, `"[]kind"` a list of objects. All exist in Argo v3.3.
fn fields(kind: &str) -> &'static [(&'static str, &'static str)] {
    match kind {
        "workflow" => &[
            ("apiVersion", ""),
            ("kind", ""),
            ("metadata", "meta"),
            ("spec", "spec"),
        ],
        "meta" => &[("generateName", ""), ("annotations", "{}")],
        "spec" => &[
            ("entrypoint", ""),
            ("arguments", "args"),
            ("templates", "[]template"),
            ("volumes", "[]volume"),
            ("onExit", ""),
            ("imagePullSecrets", "[]secretRef"),
            ("serviceAccountName", ""),
            ("ttlStrategy", "ttl"),
            ("parallelism", ""),
            ("volumeClaimTemplates", "[]claimTemplate"),
            ("volumeClaimGC", "claimGC"),
        ],
        "claimTemplate" => &[("metadata", "claimMeta"), ("spec", "claimSpec")],
        "claimMeta" => &[("name", "")],
        "claimSpec" => &[
            ("accessModes", "[]"),
            ("storageClassName", ""),
            ("resources", "resources"),
        ],
        "claimGC" => &[("strategy", "")],
        "secretRef" => &[("name", "")],
        "ttl" => &[("secondsAfterCompletion", "")],
        "args" => &[("parameters", "[]param"), ("artifacts", "[]artifact")],
        "param" => &[("name", ""), ("value", ""), ("valueFrom", "valueFrom")],
        "valueFrom" => &[
            ("path", ""),
            ("default", ""),
            ("parameter", ""),
            ("expression", ""),
        ],
        "template" => &[
            ("name", ""),
            ("inputs", "args"),
            ("outputs", "outputs"),
            ("metadata", "templateMeta"),
            ("dag", "dag"),
            ("initContainers", "[]container"),
            ("container", "container"),
            ("retryStrategy", "retry"),
            ("podSpecPatch", ""),
            ("activeDeadlineSeconds", ""),
            ("parallelism", ""),
            ("nodeSelector", "{}"),
            ("tolerations", "[]toleration"),
            ("sidecars", "[]sidecar"),
        ],
        "sidecar" => &[
            ("name", ""),
            ("image", ""),
            ("command", "[]"),
            ("env", "[]env"),
            ("mirrorVolumeMounts", ""),
        ],
        "toleration" => &[
            ("key", ""),
            ("operator", ""),
            ("value", ""),
            ("effect", ""),
            ("tolerationSeconds", ""),
        ],
        "outputs" => &[("parameters", "[]param"), ("artifacts", "[]artifact")],
        "artifact" => &[("name", ""), ("path", ""), ("from", ""), ("optional", "")],
        "templateMeta" => &[("annotations", "{}"), ("labels", "{}")],
        "dag" => &[("tasks", "[]task")],
        "task" => &[
            ("name", ""),
            ("template", ""),
            ("dependencies", "[]"),
            ("arguments", "args"),
            ("when", ""),
            ("withItems", "items"),
            ("withParam", ""),
        ],
        "retry" => &[("limit", "")],
        "container" => &[
            ("name", ""),
            ("image", ""),
            ("command", "[]"),
            ("env", "[]env"),
            ("resources", "resources"),
            ("volumeMounts", "[]mount"),
            ("workingDir", ""),
        ],
        "env" => &[("name", ""), ("value", ""), ("valueFrom", "envSource")],
        "envSource" => &[("secretKeyRef", "secretKeyRef")],
        "secretKeyRef" => &[("name", ""), ("key", "")],
        "resources" => &[("limits", "{}"), ("requests", "{}")],
        "mount" => &[("name", ""), ("mountPath", ""), ("readOnly", "")],
        "volume" => &[
            ("name", ""),
            ("emptyDir", "emptyDir"),
            ("persistentVolumeClaim", "claim"),
            ("secret", "secretVolume"),
        ],
        "secretVolume" => &[("secretName", "")],
        "claim" => &[("claimName", "")],
        _ => &[],
    }
}

/// Reports every field of `value` (an object of `kind`) that kfpl does not
/// mean to write, recursively.
fn known_fields(problems: &mut Vec<String>, path: &str, kind: &str, value: &Value) {
    let Value::Object(map) = value else {
        problems.push(format!("{path}: expected an object"));
        return;
    };
    let allowed = fields(kind);
    for (key, child) in map {
        let here = format!("{path}.{key}");
        let Some((_, child_kind)) = allowed.iter().find(|(name, _)| name == key) else {
            problems.push(format!(
                "{here}: field unknown to Argo v3.3 (or not meant to be written)"
            ));
            continue;
        };
        match (*child_kind, child) {
            ("", Value::String(_) | Value::Bool(_) | Value::Number(_)) => {}
            ("items", Value::Array(items))
                if items.iter().all(|item| {
                    item.is_string()
                        || item
                            .as_object()
                            .is_some_and(|m| m.values().all(Value::is_string))
                }) => {}
            ("{}", Value::Object(m)) if m.values().all(Value::is_string) => {}
            ("[]", Value::Array(items)) if items.iter().all(Value::is_string) => {}
            (list, Value::Array(items)) if list.starts_with("[]") && list.len() > 2 => {
                for (i, item) in items.iter().enumerate() {
                    known_fields(problems, &format!("{here}[{i}]"), &list[2..], item);
                }
            }
            (object, Value::Object(_)) if !object.is_empty() && !object.starts_with(['[', '{']) => {
                known_fields(problems, &here, object, child);
            }
            _ => problems.push(format!("{here}: unexpected value {child}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::expression_references;

    #[test]
    fn expressions_are_read_for_their_references() {
        let found =
            expression_references("sprig.b64enc(tasks['prepare-data'].outputs.parameters['in'])");
        assert_eq!(
            found,
            Ok(vec!["tasks.prepare-data.outputs.parameters.in".to_string()])
        );
        let condition = "((tasks['flip'].outputs.parameters['output'] == 'workflow.name') \
                         && (asFloat(workflow.parameters['n']) >= asFloat('1.5')))";
        assert_eq!(
            expression_references(condition),
            Ok(vec![
                "tasks.flip.outputs.parameters.output".to_string(),
                "workflow.parameters.n".to_string()
            ])
        );
        assert_eq!(
            expression_references("sprig.default(item, sprig.fromJson('\"' + item + '\"'))"),
            Ok(vec!["item".to_string(), "item".to_string()])
        );
        assert_eq!(
            expression_references(
                "(string(asInt(inputs.parameters['kfpl--pass']) + 1) in ['true', 'True'])"
            ),
            Ok(vec!["inputs.parameters.kfpl--pass".to_string()])
        );
        assert_eq!(
            expression_references("sprig.upper(workflow.parameters['x'])"),
            Err("sprig.upper".to_string())
        );
    }
}
