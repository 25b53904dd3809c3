//! The Argo Workflow model kfpl emits: only the fields kfpl writes, named as
//! Argo names them (camelCase), with Kubernetes objects (`ObjectMeta`,
//! `Container`, `Volume`, …) taken from `k8s-openapi`.
//!
//! Every field here exists in Argo v3.3 (what KFP 1.8 servers ship), so one
//! file runs on old and new clusters. Empty lists and absent options are not
//! written. Maps are `BTreeMap`s, so the YAML is the same bytes every time.
//! Every struct also deserialises (refusing unknown fields), so the golden
//! files can be read back into a [`Workflow`] and compared.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, LocalObjectReference, PersistentVolumeClaimSpec, Toleration, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// `apiVersion` of every Argo workflow.
pub(crate) const API_VERSION: &str = "argoproj.io/v1alpha1";

/// `kind` of the document kfpl writes.
pub(crate) const KIND: &str = "Workflow";

/// An Argo `Workflow`: the whole compiled pipeline. `Templates` is the
/// list in memory, or (while streaming) something that builds each template
/// as it is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Workflow<Templates = Vec<Template>> {
    /// Always [`API_VERSION`].
    pub api_version: String,
    /// Always [`KIND`].
    pub kind: String,
    /// `generateName` and the KFP annotations.
    pub metadata: ObjectMeta,
    /// Templates, arguments, volumes.
    pub spec: WorkflowSpec<Templates>,
}

impl<T> Workflow<T> {
    /// The same workflow with other `templates` (the rest cloned: a few
    /// fields, none that grows with the steps but the templates).
    pub fn with_templates<U>(&self, templates: U) -> Workflow<U> {
        let spec = &self.spec;
        Workflow {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            metadata: self.metadata.clone(),
            spec: WorkflowSpec {
                entrypoint: spec.entrypoint.clone(),
                arguments: spec.arguments.clone(),
                templates,
                volumes: spec.volumes.clone(),
                on_exit: spec.on_exit.clone(),
                image_pull_secrets: spec.image_pull_secrets.clone(),
                service_account_name: spec.service_account_name.clone(),
                ttl_strategy: spec.ttl_strategy.clone(),
                parallelism: spec.parallelism,
                volume_claim_templates: spec.volume_claim_templates.clone(),
                volume_claim_gc: spec.volume_claim_gc.clone(),
            },
        }
    }
}

/// `spec` of a [`Workflow`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkflowSpec<Templates = Vec<Template>> {
    /// The template the workflow starts with: the DAG.
    pub entrypoint: String,
    /// The pipeline's params with their values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Arguments>,
    /// One container template a step (steps whose templates would be
    /// identical share one), then the DAG templates, the entrypoint first.
    pub templates: Templates,
    /// Claims and kfpl's scratch `emptyDir`s, mounted by the templates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// The exit handler: the DAG of the `finally` block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_exit: Option<String>,
    /// The pipeline's `image_pull_secrets`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<LocalObjectReference>,
    /// The pipeline's `service_account`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// The pipeline's `ttl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_strategy: Option<TtlStrategy>,
    /// The pipeline's `parallelism`: at most this many pods at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
    /// The pipeline's `volume`s: claims Argo makes for each run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_claim_templates: Vec<ClaimTemplate>,
    /// When Argo deletes those claims (always when the workflow ends).
    #[serde(
        default,
        rename = "volumeClaimGC",
        skip_serializing_if = "Option::is_none"
    )]
    pub volume_claim_gc: Option<VolumeClaimGc>,
}

/// One `volumeClaimTemplates` entry: a claim's name and spec, without the
/// `apiVersion` and `kind` a whole Kubernetes object carries (Argo's own
/// examples write neither).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimTemplate {
    /// `name`: the pod volume the templates mount.
    pub metadata: ObjectMeta,
    pub spec: PersistentVolumeClaimSpec,
}

/// `volumeClaimGC`: when Argo deletes the claims it made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeClaimGc {
    /// `OnWorkflowCompletion` (Argo's default keeps them when the workflow fails).
    pub strategy: String,
}

/// A template's sidecar: a container, and `mirrorVolumeMounts` (it sees
/// the main container's mounts, as a local sidecar shares the step's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sidecar {
    #[serde(flatten)]
    pub container: Container,
    /// Always true.
    pub mirror_volume_mounts: bool,
}

/// `ttlStrategy`: when Argo deletes a finished workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TtlStrategy {
    /// Seconds after the workflow ends, however it ended.
    pub seconds_after_completion: u64,
}

/// Parameters, and the `file` outputs passed between steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Arguments {
    /// The parameters, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// The `file` outputs passed on (`from`), each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
}

/// A named string value: a workflow argument, a task argument, a template
/// input (no value) or a template output (`valueFrom`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Parameter {
    /// Matches `^[-a-zA-Z0-9_]+$`.
    pub name: String,
    /// The value (always a string for Argo's schema).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Where an output is read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<ValueFrom>,
}

/// `valueFrom` of an output parameter: a file in the container (a step),
/// or a task's output (`parameter`) or an expression over them (a DAG).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValueFrom {
    /// The file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// A DAG's output: `{{tasks.T.outputs.parameters.O}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// A DAG's output: an expression over its tasks' outputs and its inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// The value when the file is missing (kfpl: `""`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// `inputs` of a template.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Inputs {
    /// Declared parameters (no values: the task's arguments give them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// Declared artifacts: `file` outputs read (a container's at a `path`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
}

/// `outputs` of a template.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Outputs {
    /// The step's outputs, read from files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// `mlpipeline-metrics` when the step declares metrics, `mlpipeline-ui-metadata` with visuals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
}

/// An artifact: a file or folder the executor uploads after the step (an
/// output), places before it (a container's input), or passes on (a
/// task's argument, `from`; a DAG's input).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Artifact {
    /// Matches `^[-a-zA-Z0-9_]+$`.
    pub name: String,
    /// The file in the main container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Where a task's argument comes from (`{{tasks.T.outputs.artifacts.N}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// A missing file is not an error.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// `metadata` of a template: annotations on the step's pod.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    /// Pod annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Pod labels (`labels`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// One template: the DAG (`dag`) or a step (`container`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Template {
    /// Matches `^[a-zA-Z0-9][-a-zA-Z0-9]*$`, at most 128 characters, unique.
    pub name: String,
    /// Parameters the template reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Inputs>,
    /// Parameters and artifacts the template produces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Outputs>,
    /// Pod annotations (the step's description).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// The DAG, for the entrypoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dag: Option<DagTemplate>,
    /// Containers run before the main one (the git clone of `sync_source`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<Container>,
    /// The step's container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    /// `retries`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_strategy: Option<RetryStrategy>,
    /// Resources read from params, as a JSON strategic-merge patch of the pod
    /// (Kubernetes quantity fields cannot hold `{{…}}`; Argo patches after
    /// substituting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_spec_patch: Option<String>,
    /// `timeout` in seconds, as a string (the schema types IntOrString as string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<String>,
    /// At most this many pods at once under this template (a loop's wrapper).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
    /// The fixed part of the step's `node_selector`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// The step's `tolerations`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// The step's `sidecar`s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sidecars: Vec<Sidecar>,
}

/// `dag` of the entrypoint template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DagTemplate {
    /// One task a step, in topological order.
    pub tasks: Vec<DagTask>,
}

/// One node of the DAG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DagTask {
    /// The step's name with `_` → `-`.
    pub name: String,
    /// The step's template.
    pub template: String,
    /// Tasks that must succeed first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// Params and upstream outputs for the template's inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Arguments>,
    /// govaluate text: the task runs only when it holds (kfpl compares only
    /// its own `true`/`false` and pass words here, never a user's value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// A literal loop's items (strings, or maps of strings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with_items: Vec<serde_json::Value>,
    /// A run-time loop's list (JSON array text once substituted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_param: Option<String>,
}

/// `retryStrategy`: how often a failed step is tried again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryStrategy {
    /// A whole number, or `{{inputs.parameters.X}}`, as a string.
    pub limit: String,
}
