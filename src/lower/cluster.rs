//! Cluster settings on the Argo model: a step's `node_selector`,
//! `tolerations`, `annotations`, `labels`, `display_name`, requests and
//! `pod_spec_patch` on its template, and the pipeline's
//! `image_pull_secrets`, `service_account`, `ttl` and `parallelism` on the
//! workflow's `spec`.
//!
//! Values read from params (requests, `node_selector` values) go through
//! the template's `podSpecPatch`, as the parametric `cpu`/`memory`/`gpus`
//! do: a JSON object kfpl builds with the value as a JSON string, never
//! text pasted into YAML. A user's `pod_spec_patch` is merged under kfpl's.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{LocalObjectReference, ResourceRequirements, Toleration};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::{Map, Value};

use super::argo_types::{Metadata, Template, TtlStrategy, WorkflowSpec};
use super::names::MAIN_CONTAINER;
use super::text::{Piece, Ref, display_text, flatten, lit, refs};
use crate::check::ir::{Count, PipelineCluster, Step, StepCluster, Template as Text};

/// The pod annotation KFP's UI reads a step's display name from.
pub(crate) const DISPLAY_NAME_ANNOTATION: &str = "pipelines.kubeflow.org/task_display_name";

/// E0501 when a step's `pod_spec_patch` holds `{{`: Argo would substitute
/// it (kfpl's own references in the patch are the only ones there).
pub(super) fn braces(step: &Step) -> Option<crate::diagnostics::Diagnostic> {
    let patch = step.cluster.pod_spec_patch.as_ref()?;
    Value::Object(patch.clone())
        .to_string()
        .contains("{{")
        .then(|| {
            super::checks::braces(
                &format!("`pod_spec_patch` of step `{}`", step.name),
                step.cluster.pod_spec_patch_span,
            )
        })
}

/// The pipeline's settings on the workflow's `spec`.
pub(super) fn spec<T>(cluster: &PipelineCluster, spec: &mut WorkflowSpec<T>) {
    spec.image_pull_secrets = cluster
        .image_pull_secrets
        .iter()
        .map(|name| LocalObjectReference { name: name.clone() })
        .collect();
    spec.service_account_name = cluster.service_account.clone();
    spec.ttl_strategy = cluster.ttl.map(|seconds| TtlStrategy {
        seconds_after_completion: seconds,
    });
    spec.parallelism = cluster.parallelism;
}

/// A step's settings on its container template; `text` renders a value as
/// the template reads it (a param as its decoded input).
pub(super) fn step(step: &Step, template: &mut Template, text: impl Fn(&Text) -> String) {
    let cluster = &step.cluster;
    metadata(cluster, template);
    template.tolerations = cluster.tolerations.iter().map(toleration).collect();
    let mut patch = Patch::default();
    for (key, value) in &cluster.node_selector {
        if is_parametric(value) {
            patch
                .node_selector
                .insert(key.clone(), patch_text(&flatten(value)));
        } else {
            template.node_selector.insert(key.clone(), text(value));
        }
    }
    for (name, request) in [
        ("cpu", &cluster.cpu_request),
        ("memory", &cluster.memory_request),
    ] {
        let Some(request) = request else { continue };
        let parametric = is_parametric(request);
        let value = if parametric {
            patch_text(&flatten(request))
        } else {
            text(request)
        };
        patch.requests.insert(name, (value, parametric));
    }
    if let Some(container) = template.container.as_mut() {
        let resources = container
            .resources
            .get_or_insert_with(ResourceRequirements::default);
        for (name, (value, parametric)) in &patch.requests {
            if !parametric {
                resources
                    .requests
                    .get_or_insert_default()
                    .insert((*name).to_string(), Quantity(value.clone()));
            }
        }
        if *resources == ResourceRequirements::default() {
            container.resources = None;
        }
    }
    template.pod_spec_patch = patch.merge(
        cluster.pod_spec_patch.as_ref(),
        template.pod_spec_patch.as_deref(),
    );
}

/// `annotations`, `display_name` and `labels` beside the description.
fn metadata(cluster: &StepCluster, template: &mut Template) {
    // Shown only, like the description: `{{` is broken so Argo reads no
    // reference in them.
    let shown = |text: &String| display_text(&lit(text));
    let mut annotations: BTreeMap<String, String> = cluster
        .annotations
        .iter()
        .map(|(key, value)| (key.clone(), shown(value)))
        .collect();
    if let Some(name) = &cluster.display_name {
        annotations.insert(DISPLAY_NAME_ANNOTATION.to_string(), shown(name));
    }
    if annotations.is_empty() && cluster.labels.is_empty() {
        return;
    }
    let metadata = template.metadata.get_or_insert_with(Metadata::default);
    metadata.annotations.extend(annotations);
    metadata.labels.extend(cluster.labels.clone());
}

fn toleration(toleration: &crate::check::ir::Toleration) -> Toleration {
    Toleration {
        key: toleration.key.clone(),
        operator: Some(toleration.operator.clone()),
        value: toleration.value.clone(),
        effect: toleration.effect.clone(),
        toleration_seconds: toleration.toleration_seconds,
    }
}

/// The value a count reads at run time (a param's or an output's).
pub(super) fn count_ref(count: &Count) -> Option<Ref> {
    match count {
        Count::Fixed(_) => None,
        Count::Param(param) => Some(Ref::Param(param.name.clone())),
        Count::Output(output) => Some(Ref::Output {
            step: output.step.clone(),
            output: output.output.clone(),
        }),
    }
}

/// A run-time value's text inside a JSON string of a pod patch kfpl
/// builds. Argo puts a value into the patch as it is, so a `"` in it would
/// end the JSON string and let the value write pod fields: each value is
/// therefore inserted JSON-escaped, as `toJson`'s text less its quotes
/// (the expression holds no `"` or `\`, so it survives the patch's own
/// JSON encoding unchanged). Literal text is escaped by that encoding.
pub(super) fn patch_text(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Lit(text) => out.push_str(text),
            // Run information is a name Argo made: no quote in it.
            Piece::Ref(r @ Ref::Workflow(_)) => out.push_str(&r.argo_decoded()),
            Piece::Ref(r) => {
                let json = format!("toJson({})", r.decoded_input());
                out.push_str(&format!("{{{{={json}[1:len({json})-1]}}}}"));
            }
        }
    }
    out
}

fn is_parametric(value: &Text) -> bool {
    refs(&flatten(value)).next().is_some()
}

/// What kfpl's pod patch adds for the cluster settings.
#[derive(Default)]
struct Patch {
    /// `nodeSelector` values read from params.
    node_selector: BTreeMap<String, String>,
    /// Each request: its text and whether it reads a param.
    requests: BTreeMap<&'static str, (String, bool)>,
}

impl Patch {
    /// The template's `podSpecPatch`: the user's patch, under kfpl's
    /// resource patch (`own`, JSON), under this one. A fixed request goes
    /// into the patch too when kfpl's patch sets that request (a limit from
    /// a param), so that the patch does not undo it.
    fn merge(self, user: Option<&Map<String, Value>>, own: Option<&str>) -> Option<String> {
        let own: Option<Value> = own.and_then(|text| serde_json::from_str(text).ok());
        let sets_request = |name: &str| {
            own.as_ref()
                .and_then(|o| o.pointer(&format!("/containers/0/resources/requests/{name}")))
                .is_some()
        };
        let requests: Map<String, Value> = self
            .requests
            .iter()
            .filter(|(name, (_, parametric))| *parametric || sets_request(name))
            .map(|(name, (value, _))| ((*name).to_string(), Value::from(value.clone())))
            .collect();
        let mut ours = Map::new();
        if !self.node_selector.is_empty() {
            ours.insert("nodeSelector".into(), serde_json::json!(self.node_selector));
        }
        if !requests.is_empty() {
            ours.insert(
                "containers".into(),
                serde_json::json!([{ "name": MAIN_CONTAINER, "resources": { "requests": requests } }]),
            );
        }
        let mut merged = Value::Object(user.cloned().unwrap_or_default());
        for layer in own.into_iter().chain([Value::Object(ours)]) {
            merge(&mut merged, layer);
        }
        match &merged {
            Value::Object(map) if map.is_empty() => None,
            _ => Some(merged.to_string()),
        }
    }
}

/// Merges `over` into `base`: maps key by key, `containers` lists by
/// container name, anything else replaced.
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(Value::Array(items)) if key == "containers" => {
                        merge_containers(items, value);
                    }
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, over) => *base = over,
    }
}

fn merge_containers(items: &mut Vec<Value>, over: Value) {
    let Value::Array(over) = over else {
        return;
    };
    for container in over {
        let name = container.get("name").cloned();
        match items.iter_mut().find(|c| c.get("name") == name.as_ref()) {
            Some(existing) => merge(existing, container),
            None => items.push(container),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_patch_is_merged_under_kfpls_by_container_name() {
        let user = serde_json::json!({
            "dnsPolicy": "None",
            "containers": [{ "name": "main", "resources": { "requests": { "cpu": "9" } }, "tty": true }]
        });
        let own = r#"{"containers":[{"name":"main","resources":{"limits":{"cpu":"X"},"requests":{"cpu":"X"}}}]}"#;
        let mut patch = Patch::default();
        patch.requests.insert("cpu", ("1".into(), false));
        let merged = patch.merge(user.as_object(), Some(own)).unwrap_or_default();
        let merged: Value = serde_json::from_str(&merged).unwrap_or_default();
        assert_eq!(merged["dnsPolicy"], "None");
        assert_eq!(merged["containers"].as_array().map(Vec::len), Some(1));
        assert_eq!(merged["containers"][0]["tty"], true);
        assert_eq!(merged["containers"][0]["resources"]["limits"]["cpu"], "X");
        // The fixed request wins over the limit kfpl's patch copied into it.
        assert_eq!(merged["containers"][0]["resources"]["requests"]["cpu"], "1");
    }

    #[test]
    fn no_patch_without_anything_to_patch() {
        assert_eq!(Patch::default().merge(None, None), None);
    }
}
