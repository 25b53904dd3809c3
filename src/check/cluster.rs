//! Cluster settings (LANGUAGE-2.md, "Data, files and cluster settings"):
//! the step attributes `node_selector`, `tolerations`, `annotations`,
//! `labels`, `display_name`, `cpu_request`, `memory_request` and
//! `pod_spec_patch`, and the pipeline attributes `image_pull_secrets`,
//! `service_account`, `ttl` and `parallelism`. Each is checked here into a
//! [`StepCluster`] or a [`PipelineCluster`]; they matter on Argo only, and
//! `kfpl run` says so once (W0607).

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use super::Checker;
use super::ir::{Part, Template};
use super::resolve::{RValue, Resolved};
use super::values;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::ParamType;

/// The step attributes checked here, in the order of the spec's table: the
/// run of `step::ATTRIBUTES` after `when` (one list of attribute names; the
/// test below holds the bounds).
pub(crate) const STEP_ATTRIBUTES: &[&str] = super::step::ATTRIBUTES.split_at(13).1.split_at(8).0;

/// The pipeline attributes checked here.
pub(crate) const PIPELINE_ATTRIBUTES: &[&str] = &[
    "image_pull_secrets",
    "service_account",
    "ttl",
    "parallelism",
];

/// Key prefixes kfpl writes itself: a user's annotation or label under one
/// would change what KFP or Argo does with the pod.
const RESERVED_PREFIXES: &[&str] = &["pipelines.kubeflow.org/", "workflows.argoproj.io/"];

/// The total size of an object's annotations Kubernetes accepts
/// (`TotalAnnotationSizeLimitB`, apimachinery's object-meta validation).
const ANNOTATIONS_LIMIT: usize = 256 * 1024;

/// A step's cluster settings (all empty when it has none).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepCluster {
    /// `node_selector`: label → value (a value may be one `$<param>` or
    /// upstream output).
    pub node_selector: Vec<(String, Template)>,
    /// `tolerations`, in source order.
    pub tolerations: Vec<Toleration>,
    /// `annotations`: pod annotations.
    pub annotations: BTreeMap<String, String>,
    /// `labels`: pod labels.
    pub labels: BTreeMap<String, String>,
    /// `display_name`: the name KFP's UI shows for the step.
    pub display_name: Option<String>,
    /// `cpu_request`: a quantity (or one `$<param>` or upstream output).
    pub cpu_request: Option<Template>,
    /// `memory_request`: a quantity (or one `$<param>` or upstream output).
    pub memory_request: Option<Template>,
    /// `pod_spec_patch`, parsed: a JSON object.
    pub pod_spec_patch: Option<serde_json::Map<String, serde_json::Value>>,
    /// Where `pod_spec_patch` was written (for E0501 when compiling).
    pub pod_spec_patch_span: Span,
}

/// The hover line of each cluster attribute (LANGUAGE-2.md's table).
pub(crate) fn attribute_doc(name: &str) -> Option<&'static str> {
    Some(match name {
        "node_selector" => {
            "map of label to value: the nodes the pod may run on (`nodeSelector`); a value may be one `$<param>` or step output. Cluster only"
        }
        "tolerations" => {
            "list of maps (`key`, `operator` Exists|Equal, `value`, `effect` NoSchedule|PreferNoSchedule|NoExecute, `toleration_seconds`): taints the pod tolerates. Cluster only"
        }
        "annotations" => "map of string to string: pod annotations. Cluster only",
        "labels" => "map of string to string: pod labels. Cluster only",
        "display_name" => "string: the step's name in KFP's UI. Cluster only",
        "cpu_request" => {
            "string or number: CPU request below the `cpu` limit (a quantity, or one `$<param>` or step output). Cluster only"
        }
        "memory_request" => {
            "string: memory request below the `memory` limit (a quantity, or one `$<param>` or step output). Cluster only"
        }
        "pod_spec_patch" => {
            "string, YAML or JSON of a map, fixed at compile time: merged into the pod spec (`podSpecPatch`); the container is `main`. Cluster only"
        }
        "image_pull_secrets" => {
            "list of secret names (pipeline): `spec.imagePullSecrets`. Cluster only"
        }
        "service_account" => "string (pipeline): the pods' service account. Cluster only",
        "ttl" => "duration (pipeline): delete the workflow this long after it ends. Cluster only",
        "parallelism" => {
            "whole number >= 1 (pipeline): at most this many steps at once, on Argo and as the default of `kfpl run --parallelism`"
        }
        _ => return None,
    })
}

impl StepCluster {
    /// The settings for a step's IR: every step without any shares one
    /// empty value (224 bytes a step saved on large programs).
    pub(crate) fn shared(self) -> Arc<StepCluster> {
        static EMPTY: LazyLock<Arc<StepCluster>> = LazyLock::new(Arc::default);
        if self.is_empty() {
            Arc::clone(&EMPTY)
        } else {
            Arc::new(self)
        }
    }

    /// Whether no setting is given: equal to the default, asked field by
    /// field (no default built and dropped a step). Every field is named,
    /// so a new one cannot be forgotten here.
    fn is_empty(&self) -> bool {
        let StepCluster {
            node_selector,
            tolerations,
            annotations,
            labels,
            display_name,
            cpu_request,
            memory_request,
            pod_spec_patch,
            pod_spec_patch_span,
        } = self;
        node_selector.is_empty()
            && tolerations.is_empty()
            && annotations.is_empty()
            && labels.is_empty()
            && display_name.is_none()
            && cpu_request.is_none()
            && memory_request.is_none()
            && pod_spec_patch.is_none()
            && *pod_spec_patch_span == Span::default()
    }

    /// The names of the settings given, for W0607.
    pub fn settings(&self) -> Vec<&'static str> {
        let given = [
            !self.node_selector.is_empty(),
            !self.tolerations.is_empty(),
            !self.annotations.is_empty(),
            !self.labels.is_empty(),
            self.display_name.is_some(),
            self.cpu_request.is_some(),
            self.memory_request.is_some(),
            self.pod_spec_patch.is_some(),
        ];
        STEP_ATTRIBUTES
            .iter()
            .zip(given)
            .filter_map(|(name, given)| given.then_some(*name))
            .collect()
    }

    /// The texts that may read params (their refs are template inputs).
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.node_selector
            .iter()
            .map(|(_, value)| value)
            .chain(&self.cpu_request)
            .chain(&self.memory_request)
    }
}

/// One toleration.
#[derive(Debug, Clone, PartialEq)]
pub struct Toleration {
    /// The taint's key (absent: every taint, with `Exists`).
    pub key: Option<String>,
    /// `Exists` or `Equal`.
    pub operator: String,
    /// The taint's value (`Equal` only).
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute` (absent: all).
    pub effect: Option<String>,
    /// How long a `NoExecute` taint is tolerated.
    pub toleration_seconds: Option<i64>,
}

/// The pipeline's cluster settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PipelineCluster {
    /// `image_pull_secrets`: secret names.
    pub image_pull_secrets: Vec<String>,
    /// `service_account`.
    pub service_account: Option<String>,
    /// `ttl`, in seconds.
    pub ttl: Option<u64>,
    /// `parallelism`: at most this many steps at once.
    pub parallelism: Option<u32>,
}

impl PipelineCluster {
    /// The names of the settings that apply on the cluster only, for W0607
    /// (`parallelism` applies locally too).
    pub fn settings(&self) -> Vec<&'static str> {
        let given = [
            !self.image_pull_secrets.is_empty(),
            self.service_account.is_some(),
            self.ttl.is_some(),
        ];
        PIPELINE_ATTRIBUTES
            .iter()
            .zip(given)
            .filter_map(|(name, given)| given.then_some(*name))
            .collect()
    }
}

impl Checker<'_> {
    /// One cluster step attribute (`name` is in [`STEP_ATTRIBUTES`]).
    pub(super) fn cluster_step_attribute(
        &mut self,
        name: &str,
        value: &Resolved,
        cluster: &mut StepCluster,
    ) {
        match name {
            "node_selector" => cluster.node_selector = self.node_selector(value),
            "tolerations" => cluster.tolerations = self.tolerations(value),
            "annotations" | "labels" => {
                let map = self.metadata_map(value, name);
                if name == "labels" {
                    cluster.labels = map;
                } else {
                    cluster.annotations = map;
                }
            }
            "display_name" => cluster.display_name = self.expect_fixed_string(value, name),
            "cpu_request" | "memory_request" => {
                let limit = name.trim_end_matches("_request");
                let quantity = self
                    .quantity(value.clone(), name, limit == "cpu")
                    .filter(|q| self.one_param_at_most(q, name));
                if limit == "cpu" {
                    cluster.cpu_request = quantity;
                } else {
                    cluster.memory_request = quantity;
                }
            }
            "pod_spec_patch" => {
                cluster.pod_spec_patch = self.pod_spec_patch(value);
                cluster.pod_spec_patch_span = value.span;
            }
            _ => {}
        }
    }

    /// One cluster pipeline attribute (`name` is in [`PIPELINE_ATTRIBUTES`]).
    pub(super) fn cluster_pipeline_attribute(
        &mut self,
        name: &str,
        value: &Resolved,
        cluster: &mut PipelineCluster,
    ) {
        match name {
            "image_pull_secrets" => cluster.image_pull_secrets = self.pull_secrets(value),
            "service_account" => {
                cluster.service_account = self
                    .expect_fixed_string(value, name)
                    .filter(|account| self.object_name(account, value.span, name));
            }
            "ttl" => cluster.ttl = self.timeout(value, name).map(|t| t.seconds),
            "parallelism" => cluster.parallelism = self.pipeline_parallelism(value),
            _ => {}
        }
    }

    /// E0333: a request above its fixed limit.
    pub(super) fn check_requests(
        &mut self,
        cluster: &StepCluster,
        cpu: Option<&Template>,
        memory: Option<&Template>,
    ) {
        let pairs = [
            ("cpu", &cluster.cpu_request, cpu),
            ("memory", &cluster.memory_request, memory),
        ];
        for (limit_name, request, limit) in pairs {
            let (Some(request), Some(limit)) = (request, limit) else {
                continue;
            };
            let (Some(request_text), Some(limit_text)) = (request.as_const(), limit.as_const())
            else {
                continue;
            };
            let (Some(wanted), Some(allowed)) =
                (quantity_value(&request_text), quantity_value(&limit_text))
            else {
                continue;
            };
            if wanted > allowed {
                self.error(
                    Diagnostic::new(
                        Code::E0333,
                        format!(
                            "`{limit_name}_request` `{request_text}` is more than `{limit_name}` `{limit_text}`"
                        ),
                    )
                    .primary(request.span, "the request")
                    .secondary(limit.span, "the limit")
                    .help(format!(
                        "a request may not exceed its limit: lower `{limit_name}_request` or raise `{limit_name}`"
                    )),
                );
            }
        }
    }

    /// E0357 when the step's pod annotations (its `annotations`,
    /// `display_name` and a fixed `description`) pass the 256 KiB
    /// Kubernetes allows an object: the pod would never be made.
    pub(super) fn check_annotation_size(
        &mut self,
        decl: &crate::syntax::ast::StepDecl,
        cluster: &StepCluster,
        description: Option<&Template>,
    ) {
        // kfpl's own keys (display name, description) are a few dozen
        // bytes: their values are what counts.
        let mut size: usize = cluster
            .annotations
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum();
        size += cluster.display_name.as_ref().map_or(0, String::len);
        size += description
            .and_then(Template::as_const)
            .map_or(0, |text| text.len());
        if size <= ANNOTATIONS_LIMIT {
            return;
        }
        self.error(
            Diagnostic::new(
                Code::E0357,
                format!(
                    "the annotations of step `{}` take {size} bytes, more than the {ANNOTATIONS_LIMIT} Kubernetes allows",
                    decl.name.name
                ),
            )
            .primary(decl.name.span, "its pod would be refused")
            .help("keep annotations short: put long text in a file the step reads, and annotate with a reference to it"),
        );
    }

    fn node_selector(&mut self, value: &Resolved) -> Vec<(String, Template)> {
        let mut out = Vec::new();
        for (key, entry) in self.map_entries(value, "node_selector") {
            if !self.metadata_key(&key.name, key.span, "node_selector") {
                continue;
            }
            let RValue::Str(template) = &entry.value else {
                self.error(
                    entry
                        .mismatch(entry.span, &format!("node_selector `{}`", key.name), "a string")
                        .help("label values are strings: `{ \"cloud.google.com/gke-accelerator\" = \"nvidia-tesla-k80\" }`"),
                );
                continue;
            };
            let template = Template {
                parts: template.parts.clone(),
                span: entry.span,
            };
            if !self.one_param_at_most(&template, "node_selector") {
                continue;
            }
            if let Some(text) = template.as_const()
                && !is_label_value(&text)
            {
                self.error(bad_label(&text, entry.span, "label value"));
                continue;
            }
            out.push((key.name.clone(), template));
        }
        out
    }

    fn metadata_map(&mut self, value: &Resolved, what: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (key, entry) in self.map_entries(value, what) {
            if !self.metadata_key(&key.name, key.span, what) {
                continue;
            }
            let Some(text) = self.expect_fixed_string(entry, &format!("{what} `{}`", key.name))
            else {
                continue;
            };
            if what == "labels" && !is_label_value(&text) {
                self.error(bad_label(&text, entry.span, "label value"));
                continue;
            }
            out.insert(key.name.clone(), text);
        }
        out
    }

    /// The entries of a map attribute, or an error.
    fn map_entries<'v>(
        &mut self,
        value: &'v Resolved,
        what: &str,
    ) -> Vec<(&'v crate::syntax::ast::Ident, &'v Resolved)> {
        let RValue::Map(entries) = &value.value else {
            self.error(
                value
                    .mismatch(value.span, &format!("`{what}`"), "a map")
                    .help(format!(
                        "write `{what} = {{ \"example.com/team\" = \"vision\" }}`"
                    )),
            );
            return Vec::new();
        };
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        let mut out = Vec::with_capacity(entries.len());
        for (key, entry) in entries.iter() {
            match seen.insert(&key.name, key.span) {
                Some(first) => self.error(super::attribute_twice(key, first)),
                None => out.push((key, entry)),
            }
        }
        out
    }

    /// E0330 / E0331 on a label or annotation key; `true` when it is fine.
    fn metadata_key(&mut self, key: &str, span: Span, what: &str) -> bool {
        if let Some(prefix) = RESERVED_PREFIXES.iter().find(|p| key.starts_with(**p)) {
            self.error(
                Diagnostic::new(
                    Code::E0331,
                    format!("`{key}` in `{what}` is under `{prefix}`, which kfpl writes itself"),
                )
                .primary(span, "a key reserved for kfpl")
                .help(format!(
                    "choose a key under your own prefix, such as `example.com/{}`",
                    key.rsplit('/').next().unwrap_or(key)
                )),
            );
            return false;
        }
        if !is_label_key(key) {
            self.error(bad_label(key, span, "key"));
            return false;
        }
        true
    }

    fn tolerations(&mut self, value: &Resolved) -> Vec<Toleration> {
        let RValue::List(items) = &value.value else {
            self.error(
                value
                    .mismatch(value.span, "`tolerations`", "a list of maps")
                    .help(TOLERATION_HELP),
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| self.toleration(item))
            .collect()
    }

    fn toleration(&mut self, item: &Resolved) -> Option<Toleration> {
        let RValue::Map(entries) = &item.value else {
            self.error(
                item.mismatch(item.span, "each toleration", "a map")
                    .help(TOLERATION_HELP),
            );
            return None;
        };
        let mut fields: BTreeMap<&str, (String, Span)> = BTreeMap::new();
        let mut ok = true;
        for (key, entry) in entries.iter() {
            let field = key.name.as_str();
            if !matches!(
                field,
                "key" | "operator" | "value" | "effect" | "toleration_seconds"
            ) {
                ok = false;
                self.error(bad_toleration(
                    format!("a toleration has no field `{field}`"),
                    key.span,
                ));
                continue;
            }
            let text = match &entry.value {
                RValue::Number(n) if field == "toleration_seconds" => Some(n.text.clone()),
                _ => self.expect_fixed_string(entry, &format!("toleration `{field}`")),
            };
            match text {
                Some(text) => {
                    fields.insert(field, (text, entry.span));
                }
                None => ok = false,
            }
        }
        let operator = fields
            .get("operator")
            .map_or("Equal", |(text, _)| text.as_str())
            .to_string();
        let problem = toleration_problem(&fields, &operator);
        if let Some((message, span)) = problem {
            self.error(bad_toleration(message, span.unwrap_or(item.span)));
            return None;
        }
        let text = |name: &str| fields.get(name).map(|(text, _)| text.clone());
        ok.then(|| Toleration {
            key: text("key"),
            operator,
            value: text("value"),
            effect: text("effect"),
            toleration_seconds: text("toleration_seconds").and_then(|s| s.parse().ok()),
        })
    }

    /// E0334: `pod_spec_patch` must be YAML or JSON of a map.
    fn pod_spec_patch(
        &mut self,
        value: &Resolved,
    ) -> Option<serde_json::Map<String, serde_json::Value>> {
        let text = self.expect_fixed_string(value, "pod_spec_patch")?;
        let problem = match serde_yaml::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(map)) => return Some(map),
            Ok(other) => format!("it is {}", json_kind(&other)),
            Err(error) => format!("it is not YAML: {error}"),
        };
        self.error(
            Diagnostic::new(Code::E0334, format!("`pod_spec_patch` is not a map: {problem}"))
                .primary(value.span, "not YAML or JSON of a map")
                .help("write the pod spec fields to merge, e.g. `pod_spec_patch = \"{\\\"dnsPolicy\\\": \\\"None\\\"}\"`; the step's container is named `main`"),
        );
        None
    }

    fn pull_secrets(&mut self, value: &Resolved) -> Vec<String> {
        let RValue::List(items) = &value.value else {
            self.error(
                value
                    .mismatch(value.span, "`image_pull_secrets`", "a list of secret names")
                    .help("write `image_pull_secrets = [\"regcred\"]`"),
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| {
                self.expect_fixed_string(item, "image_pull_secrets")
                    .filter(|name| self.object_name(name, item.span, "image_pull_secrets"))
            })
            .collect()
    }

    /// E0330 unless `name` is a DNS-1123 subdomain (a Kubernetes object name).
    fn object_name(&mut self, name: &str, span: Span, what: &str) -> bool {
        if is_dns_subdomain(name) {
            return true;
        }
        self.error(
            Diagnostic::new(
                Code::E0330,
                format!("`{name}` in `{what}` is not a Kubernetes object name"),
            )
            .primary(span, "not a DNS-1123 name")
            .help("object names are lower-case letters, digits, `-` and `.`, start and end with a letter or digit, at most 253 characters"),
        );
        false
    }

    fn pipeline_parallelism(&mut self, value: &Resolved) -> Option<u32> {
        if let RValue::Number(n) = &value.value
            && n.value.fract() == 0.0
            && n.value >= 1.0
            && n.value <= f64::from(u32::MAX)
        {
            return Some(n.value as u32);
        }
        let found = match &value.value {
            RValue::Number(n) => n.text.clone(),
            _ => value.kind().to_string(),
        };
        self.error(
            Diagnostic::new(
                Code::E0308,
                format!("`parallelism` must be a fixed whole number >= 1, found {found}"),
            )
            .primary(value.span, "not a whole number >= 1")
            .help("write `parallelism = 4`: at most that many steps run at once"),
        );
        None
    }

    /// E0314 unless `template` is fixed, exactly one `$<param>` or exactly
    /// one upstream output (E0356 unless that output is of a type `what`
    /// takes).
    fn one_param_at_most(&mut self, template: &Template, what: &str) -> bool {
        let fixed = template.as_const().is_some();
        match &template.parts[..] {
            _ if fixed => return true,
            [Part::Param { .. }] => return true,
            [part @ Part::Output { .. }] => return self.runtime_output(part, what),
            _ => {}
        }
        self.error(
            Diagnostic::new(
                Code::E0314,
                format!(
                    "`{what}` must be fixed when compiling, or exactly one `$<param>` or step output"
                ),
            )
            .primary(template.span, "mixes text with a run-time value")
            .help(format!(
                "write a literal (lets are fine) or a lone value, as in {}; kfpl puts that value in a pod patch it builds",
                if what == "node_selector" {
                    "`node_selector = { pool = \"$<pool>\" }`".to_string()
                } else {
                    format!("`{what} = \"$<{what}>\"`")
                }
            )),
        );
        false
    }

    /// E0356 unless the output `part` reads can hold a value of `what`
    /// (`gpus`: a number; `node_selector`: a string; a quantity: a string
    /// or a number); a list (an output read across a loop) never can.
    pub(super) fn runtime_output(&mut self, part: &Part, what: &str) -> bool {
        let Part::Output { step, output, span } = part else {
            return true;
        };
        let ty = if self.read_across_loop(step) {
            Some(ParamType::List)
        } else {
            self.output_type(step, output)
        };
        let Some(ty) = ty else {
            return true; // an unknown output was reported where it was read
        };
        if ty == ParamType::File {
            return true; // a path where a value goes: E0342 says so, once
        }
        let accepted: &[ParamType] = match what {
            "gpus" => &[ParamType::Number],
            "node_selector" => &[ParamType::String],
            _ => &[ParamType::String, ParamType::Number],
        };
        if accepted.contains(&ty) {
            return true;
        }
        let wanted: Vec<&str> = accepted.iter().map(|t| t.word()).collect();
        let across = if ty == ParamType::List {
            " (read outside its loop, it is the list of every iteration's value)"
        } else {
            ""
        };
        self.error(
            Diagnostic::new(
                Code::E0356,
                format!(
                    "`{what}` reads `{step}.{output}`, a {} output{across}",
                    ty.word()
                ),
            )
            .primary(*span, format!("not a {} output", wanted.join(" or ")))
            .help(format!(
                "`{what}` takes a {} output: declare {} on `{step}`, or read another value",
                wanted.join(" or "),
                match what {
                    "gpus" => format!("`output {output}: number`"),
                    "node_selector" => format!("`output {output}` (untyped outputs are strings)"),
                    _ => format!("`output {output}` (a string) or `output {output}: number`"),
                },
            )),
        );
        false
    }
}

const TOLERATION_HELP: &str =
    "write `tolerations = [{ key = \"gpu\", operator = \"Exists\", effect = \"NoSchedule\" }]`";

/// What is wrong with a toleration's fields, and where.
fn toleration_problem(
    fields: &BTreeMap<&str, (String, Span)>,
    operator: &str,
) -> Option<(String, Option<Span>)> {
    let span = |name: &str| fields.get(name).map(|(_, span)| *span);
    if !matches!(operator, "Exists" | "Equal") {
        return Some((
            format!("toleration operator `{operator}` is not `Exists` or `Equal`"),
            span("operator"),
        ));
    }
    if let Some((effect, span)) = fields.get("effect")
        && !matches!(
            effect.as_str(),
            "NoSchedule" | "PreferNoSchedule" | "NoExecute"
        )
    {
        return Some((
            format!(
                "toleration effect `{effect}` is not `NoSchedule`, `PreferNoSchedule` or `NoExecute`"
            ),
            Some(*span),
        ));
    }
    if operator == "Exists" && fields.contains_key("value") {
        return Some((
            "a toleration with operator `Exists` takes no `value`".into(),
            span("value"),
        ));
    }
    if operator == "Equal" && !fields.contains_key("key") {
        return Some((
            "a toleration with operator `Equal` needs a `key`".into(),
            span("operator"),
        ));
    }
    if let Some((key, span)) = fields.get("key")
        && !is_label_key(key)
    {
        return Some((
            format!("toleration key `{key}` is not a Kubernetes label key"),
            Some(*span),
        ));
    }
    if fields.contains_key("toleration_seconds")
        && fields.get("effect").map(|(e, _)| e.as_str()) != Some("NoExecute")
    {
        return Some((
            "`toleration_seconds` applies only to the effect `NoExecute`".into(),
            span("toleration_seconds"),
        ));
    }
    if let Some((seconds, span)) = fields.get("toleration_seconds")
        && seconds.parse::<i64>().is_err()
    {
        return Some((
            format!("toleration_seconds `{seconds}` is not a whole number of seconds"),
            Some(*span),
        ));
    }
    None
}

fn bad_toleration(message: String, span: Span) -> Diagnostic {
    Diagnostic::new(Code::E0332, message)
        .primary(span, "invalid toleration")
        .help(TOLERATION_HELP)
}

fn bad_label(text: &str, span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0330,
        format!("`{text}` is not a valid Kubernetes {what}"),
    )
    .primary(span, format!("invalid {what}"))
    .help("a key is an optional DNS prefix and `/`, then a name of at most 63 letters, digits, `-`, `_` and `.` that starts and ends with a letter or digit; a label value is such a name or empty")
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "empty",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a map",
    }
}

/// What a resource value known only at run time must be, by attribute:
/// the rule literal values are checked with, applied to a param's value
/// when params are bound and to an output's when its step starts.
pub(crate) struct ValueRule {
    /// The code when a param's value breaks it.
    pub(crate) code: Code,
    /// What the value must be (`a Kubernetes quantity`).
    pub(crate) wanted: &'static str,
    /// A value that is (`` `"4Gi"` ``).
    pub(crate) example: &'static str,
    /// Whether a value is.
    pub(crate) holds: fn(&str) -> bool,
}

/// The rule of `field`: `gpus` and `retries` a whole number, a
/// `node_selector` value a label value, anything else a quantity.
pub(crate) fn value_rule(field: &str) -> ValueRule {
    match field {
        "gpus" | "retries" => ValueRule {
            code: Code::E0308,
            wanted: "a whole number >= 0",
            example: "`1`",
            holds: |text| super::params::whole_number(text).is_some(),
        },
        "node_selector" => ValueRule {
            code: Code::E0330,
            wanted: "a Kubernetes label value",
            example: "`nvidia-tesla-t4`",
            holds: is_label_value,
        },
        _ => ValueRule {
            code: Code::E0310,
            wanted: "a Kubernetes quantity",
            example: values::quantity_example(field),
            holds: values::is_quantity,
        },
    }
}

/// A step's resource values that may be known only at run time, each with
/// its attribute: `cpu`, `memory`, the requests, then each `node_selector`
/// value. The one list the param check and the run-time check walk.
pub(crate) fn resource_templates(step: &super::ir::Step) -> Vec<(&'static str, &Template)> {
    let quantities = [
        ("cpu", step.cpu.as_deref()),
        ("memory", step.memory.as_deref()),
        ("cpu_request", step.cluster.cpu_request.as_ref()),
        ("memory_request", step.cluster.memory_request.as_ref()),
    ];
    let selector = step
        .cluster
        .node_selector
        .iter()
        .map(|(_, value)| ("node_selector", Some(value)));
    quantities
        .into_iter()
        .chain(selector)
        .filter_map(|(field, template)| Some((field, template?)))
        .collect()
}

/// Each limit that has a request: `("cpu", limit, request)`, then memory's.
pub(crate) fn limits_and_requests(
    step: &super::ir::Step,
) -> Vec<(&'static str, &Template, &Template)> {
    [
        ("cpu", &step.cpu, &step.cluster.cpu_request),
        ("memory", &step.memory, &step.cluster.memory_request),
    ]
    .into_iter()
    .filter_map(|(name, limit, request)| Some((name, limit.as_deref()?, request.as_ref()?)))
    .collect()
}

/// What is wrong with a resource value read from a step output, known only
/// when its step starts (E0358); `None` when it is fine.
pub(crate) fn runtime_value_problem(field: &str, text: &str) -> Option<String> {
    let rule = value_rule(field);
    (!(rule.holds)(text)).then(|| {
        format!(
            "`{field}` is `{text}`, not {} such as {}",
            rule.wanted, rule.example
        )
    })
}

/// A label's name part, or a label value when not empty: at most 63
/// characters of `[A-Za-z0-9_.-]`, starting and ending alphanumeric.
fn is_label_name(name: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    !name.is_empty()
        && name.len() <= 63
        && alnum(name.chars().next())
        && alnum(name.chars().last())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A label value: empty, or like a label name.
pub(crate) fn is_label_value(value: &str) -> bool {
    value.is_empty() || is_label_name(value)
}

/// A label or annotation key: `[prefix/]name`, the prefix a DNS subdomain.
pub(crate) fn is_label_key(key: &str) -> bool {
    match key.split_once('/') {
        Some((prefix, name)) => is_dns_subdomain(prefix) && is_label_name(name),
        None => is_label_name(key),
    }
}

/// A DNS-1123 subdomain: dot-separated DNS labels, at most 253 characters.
pub(crate) fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(values::is_dns_label)
}

/// A quantity's amount (`"500m"` → 0.5, `"1Gi"` → 1073741824), to compare
/// a request with its limit.
pub(crate) fn quantity_value(text: &str) -> Option<f64> {
    const SUFFIXES: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    let (number, scale) = SUFFIXES
        .iter()
        .find_map(|(suffix, scale)| text.strip_suffix(suffix).map(|n| (n, *scale)))
        .unwrap_or((text, 1.0));
    number.parse::<f64>().ok().map(|n| n * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_compare_by_amount() {
        assert_eq!(quantity_value("500m"), Some(0.5));
        assert_eq!(quantity_value("2"), Some(2.0));
        assert_eq!(quantity_value("1Gi"), Some(1_073_741_824.0));
        assert!(quantity_value("512Mi") < quantity_value("1G"));
        assert_eq!(quantity_value("lots"), None);
    }

    #[test]
    fn label_keys_follow_kubernetes() {
        assert!(is_label_key("cloud.google.com/gke-accelerator"));
        assert!(is_label_key("team"));
        assert!(!is_label_key("-team"));
        assert!(!is_label_key("Bad_Prefix/name"));
        assert!(!is_label_key(&"a".repeat(64)));
        assert!(is_label_value(""));
        assert!(!is_label_value("has space"));
    }
}

#[cfg(test)]
mod attribute_tests {
    #[test]
    fn the_cluster_attributes_are_their_run_of_the_step_attributes() {
        let names = super::STEP_ATTRIBUTES;
        assert_eq!(names.first(), Some(&"node_selector"));
        assert_eq!(names.last(), Some(&"pod_spec_patch"));
        assert_eq!(names.len(), 8);
    }
}
