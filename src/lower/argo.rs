//! The checked IR → the Argo model: one DAG template (the entrypoint) with a
//! task a step, and one container template a step.
//!
//! Values reach a step only through its template's inputs, base64-encoded:
//! the DAG task passes `{{=sprig.b64enc(workflow.parameters['P'])}}` for a
//! param and `{{=sprig.b64enc(tasks['T'].outputs.parameters['O'])}}` for an
//! upstream output; the container decodes `{{inputs.parameters.…}}`, and
//! fields Argo fills read `{{=sprig.b64dec(inputs.parameters['…'])}}` (see
//! [`super::text::Ref`]).
//! Every step mounts an `emptyDir` at `KFP_OUTPUTS`; outputs are read back
//! from its files (default `""`). Callers run [`super::checks`] first: what
//! it refuses (text Argo would read as a reference in an image, say) is
//! written here without further checks.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::Hasher;

use serde::ser::SerializeSeq;

use crate::check::hash::{FxHashMap, FxHasher};

use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, EnvVar, PersistentVolumeClaimVolumeSource,
    ResourceRequirements, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::argo_types::{
    API_VERSION, Arguments, Artifact, Inputs, KIND, Metadata, Outputs, Parameter, RetryStrategy,
    Template, ValueFrom, Workflow, WorkflowSpec,
};
use super::block::{Rendered, Rendering};
use super::dag::{DagNames, Dags};
use super::names::{
    self, GIT_CONTAINER, MAIN_CONTAINER, METRICS_ARTIFACT, METRICS_FILE, Namer, OUTPUTS_DIR,
    OUTPUTS_VOLUME, UI_METADATA_ARTIFACT, UI_METADATA_FILE, WORK_DIR, WORK_VOLUME, kubernetes_name,
};
use super::script::{self, Program};
use super::text::{
    Piece, Ref, argo_lit_text, argo_text, collect_refs, display_text, flatten, plain_text, refs,
};
use crate::check::ir::{Count, ParamType, Pipeline, Step, SyncSource, Template as Text};

/// The annotation KFP v1 reads the pipeline's name, description and inputs from.
pub(crate) const PIPELINE_SPEC_ANNOTATION: &str = "pipelines.kubeflow.org/pipeline_spec";
/// The pod annotation holding a step's `description`.
pub(crate) const DESCRIPTION_ANNOTATION: &str = "kfpl/description";

/// Builds the workflow in memory. `values` holds each param's value as text
/// (a param missing from it is left for the submitter to give). Fails
/// only where YAML would (see [`super::emit`]).
pub(crate) fn workflow(
    pipeline: &Pipeline,
    values: &BTreeMap<String, String>,
    git_image: &str,
) -> Result<Workflow, serde_yaml::Error> {
    let streamed = streamed(pipeline, values, git_image);
    let spec = streamed.spec;
    let mut steps = Vec::new();
    let written = spec.templates.write_steps(|template, _| {
        steps.push(*template);
        Ok::<(), serde_yaml::Error>(())
    })?;
    let dags = spec.templates.dag_templates(&written);
    Ok(Workflow {
        api_version: streamed.api_version,
        kind: streamed.kind,
        metadata: streamed.metadata,
        spec: WorkflowSpec {
            entrypoint: spec.entrypoint,
            arguments: spec.arguments,
            templates: steps.into_iter().chain(dags).collect(),
            volumes: spec.volumes,
            on_exit: spec.on_exit,
            image_pull_secrets: spec.image_pull_secrets,
            service_account_name: spec.service_account_name,
            ttl_strategy: spec.ttl_strategy,
            parallelism: spec.parallelism,
            volume_claim_templates: spec.volume_claim_templates,
            volume_claim_gc: spec.volume_claim_gc,
        },
    })
}

/// The workflow with its step templates built one at a time as they are
/// written: peak memory is the IR and the DAG, not the whole model.
pub(crate) fn streamed<'a>(
    pipeline: &'a Pipeline,
    values: &BTreeMap<String, String>,
    git_image: &'a str,
) -> Workflow<StepTemplates<'a>> {
    let mut template_names = Namer::new(128);
    for step in &pipeline.steps {
        template_names.claim(&kubernetes_name(&step.name));
    }
    let entrypoint = template_names.claim(&kubernetes_name(&pipeline.ident));
    let dag_names = DagNames::new(pipeline, entrypoint.clone(), &mut template_names);
    let on_exit = dag_names.on_exit(pipeline);
    let templates = StepTemplates {
        pipeline,
        volumes: VolumeNames::new(pipeline),
        git: GitContainers::new(git_image),
        dag_names,
        file_outputs: pipeline
            .steps
            .iter()
            .any(|s| s.outputs.iter().any(|o| o.ty == ParamType::File)),
    };
    let arguments = pipeline
        .params
        .iter()
        .map(|param| Parameter {
            name: param.name.clone(),
            value: values.get(&param.name).cloned(),
            value_from: None,
        })
        .collect();
    let mut workflow = Workflow {
        api_version: API_VERSION.into(),
        kind: KIND.into(),
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", kubernetes_name(&pipeline.ident))),
            annotations: Some(BTreeMap::from([(
                PIPELINE_SPEC_ANNOTATION.to_string(),
                pipeline_spec(pipeline, values),
            )])),
            ..ObjectMeta::default()
        },
        spec: WorkflowSpec {
            entrypoint,
            arguments: Some(Arguments {
                parameters: arguments,
                artifacts: Vec::new(),
            })
            .filter(|a| !a.parameters.is_empty()),
            volumes: templates.volumes.declare(),
            volume_claim_templates: templates.volumes.claims_made.templates(pipeline, values),
            volume_claim_gc: super::volumes::claim_gc(pipeline),
            templates,
            on_exit,
            image_pull_secrets: Vec::new(),
            service_account_name: None,
            ttl_strategy: None,
            parallelism: None,
        },
    };
    super::cluster::spec(&pipeline.cluster, &mut workflow.spec);
    workflow
}

/// `spec.templates`, written as a sequence: each distinct step template,
/// built from the IR as it is written, then the DAGs (the entrypoint
/// first), which name the step templates and so come once every step's is
/// known. Argo and KFP find templates by name, never by position.
pub struct StepTemplates<'a> {
    pipeline: &'a Pipeline,
    volumes: VolumeNames,
    git: GitContainers<'a>,
    dag_names: DagNames,
    /// Whether a step has a `file` output (else no step reads one).
    file_outputs: bool,
}

impl StepTemplates<'_> {
    /// Step `index`'s template and the values it reads. Boxed: a
    /// `Template` is about 2 KB, and it was copied whole at each of the
    /// five moves from its building to its writing (~2 M instructions at
    /// 1,000 steps).
    fn build_with_inputs(&self, index: usize) -> (Box<Template>, BTreeSet<Ref>) {
        let step = &self.pipeline.steps[index];
        // The step's file inputs, found once for both uses.
        let file_inputs = match self.file_outputs {
            true => self.pipeline.file_inputs(step),
            false => Vec::new(),
        };
        let files = super::artifacts::inputs(&file_inputs);
        let step = super::artifacts::with_paths(self.pipeline, step, &file_inputs);
        let reads = program_reads(&step);
        let program = script::main_program(&step, &reads);
        let inputs = step_inputs(&step, reads);
        let mut template = step_template(&step, program, &inputs, &self.volumes, &self.git);
        if !files.is_empty() {
            template
                .inputs
                .get_or_insert_with(Inputs::default)
                .artifacts = files;
        }
        (template, inputs)
    }

    /// Builds each step's template once, lays it out (see [`render`]) and
    /// hands `write` the first of each content with its text: steps whose
    /// templates would be identical but for the name use the first one's
    /// (a pipeline of alike steps stays smaller than the cluster's object
    /// limit). Returns what the DAG templates need of each step. Only a
    /// hash of each distinct template's text is held (see `shared_with`).
    fn write_steps<E: serde::ser::Error>(
        &self,
        mut write: impl FnMut(Box<Template>, &[u8]) -> Result<(), E>,
    ) -> Result<WrittenSteps, E> {
        let steps = self.pipeline.steps.len();
        let mut by_body: FxHashMap<u64, Vec<usize>> = FxHashMap::default();
        let (mut owners, mut all_inputs) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
        let mut reads_files = false;
        let mut rendering = Rendering::new();
        let mut earlier = Earlier {
            step: None,
            rendering: Rendering::new(),
        };
        for index in 0..steps {
            let (template, inputs) = self.build_with_inputs(index);
            reads_files |= template
                .inputs
                .as_ref()
                .is_some_and(|i| !i.artifacts.is_empty());
            render(&mut rendering, &template).map_err(E::custom)?;
            let body = body(rendering.bytes());
            let same = by_body.entry(hash(body)).or_default();
            let shared = self.shared_with(body, same, &mut earlier)?;
            owners.push(shared.unwrap_or(index));
            if shared.is_none() {
                same.push(index);
                write(template, rendering.bytes())?;
            }
            // Sorted as the set was, in a slice of its size: a BTreeSet's
            // node has room for 11 refs (~600 bytes a step, 100,000 held).
            all_inputs.push(inputs.into_iter().collect());
        }
        Ok(WrittenSteps {
            owners,
            inputs: all_inputs,
            reads_files,
        })
    }

    /// The DAGs' plan, from what the steps' templates left.
    fn dags<'w>(&'w self, written: &'w WrittenSteps) -> Dags<'w> {
        Dags::new(
            self.pipeline,
            &written.owners,
            &written.inputs,
            &self.dag_names,
        )
    }

    /// The DAG templates, with every task built.
    fn dag_templates(&self, written: &WrittenSteps) -> Vec<Template> {
        let mut templates = self.dags(written).templates();
        super::artifacts::wire(self.pipeline, &written.owners, &mut templates);
        templates
    }

    /// The earlier step among `same` (the distinct templates whose text
    /// hashes as `body` does) whose template's text is `body`, but for the
    /// name. Each is laid out again to be compared, the last one kept: a
    /// run of alike steps lays out the first once. Steps that differ hash
    /// apart (`same` is empty), so none is laid out again, and steps alike
    /// but for any one field stay linear.
    fn shared_with<E: serde::ser::Error>(
        &self,
        body: &[u8],
        same: &[usize],
        earlier: &mut Earlier,
    ) -> Result<Option<usize>, E> {
        for &step in same {
            if earlier.step != Some(step) {
                let (template, _) = self.build_with_inputs(step);
                render(&mut earlier.rendering, &template).map_err(E::custom)?;
                earlier.step = Some(step);
            }
            if self::body(earlier.rendering.bytes()) == body {
                return Ok(Some(step));
            }
        }
        Ok(None)
    }

    /// Writes the DAG templates, after the steps' (see `write_steps`).
    fn serialize_dags<S: SerializeSeq>(
        &self,
        seq: &mut S,
        written: &WrittenSteps,
    ) -> Result<(), S::Error> {
        if written.reads_files {
            // `wire` passes artifacts across all the DAGs at once.
            for dag in &self.dag_templates(written) {
                seq.serialize_element(dag)?;
            }
        } else {
            // Each task is built as it is written: the DAGs' arguments
            // (most of lowering's memory at 100,000 steps) are never held.
            let dags = self.dags(written);
            for dag in &dags.plans() {
                seq.serialize_element(dag)?;
            }
        }
        Ok(())
    }

    /// `spec.templates` with each step template written as it was laid out
    /// (see [`super::yaml::write_streamed`]).
    pub(crate) fn laid_out(&self) -> LaidOut<'_, '_> {
        LaidOut(self)
    }
}

/// The step that was laid out last for a comparison, and its text.
struct Earlier {
    step: Option<usize>,
    rendering: Rendering,
}

/// What the DAG templates need of the steps once their templates are written.
struct WrittenSteps {
    /// The step that owns step `i`'s template: itself, or the first alike
    /// (an index, not a name: [`super::dag::template_name`]).
    owners: Vec<usize>,
    /// The values step `i` reads, sorted.
    inputs: Vec<Box<[Ref]>>,
    /// Whether a step reads a `file` output (its DAGs pass artifacts on).
    reads_files: bool,
}

/// Lays out `template` as an item of `spec.templates`: its text, and
/// (but for the name, its first line) its identity.
fn render(rendering: &mut Rendering, template: &Template) -> Result<(), serde_yaml::Error> {
    rendering.render(|map| super::emit::template(map, template))
}

/// A laid-out template's text after its name's line.
fn body(text: &[u8]) -> &[u8] {
    let name_line = text.iter().position(|&b| b == b'\n');
    name_line.map_or(text, |end| &text[end + 1..])
}

fn hash(body: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(body);
    hasher.finish()
}

impl serde::Serialize for StepTemplates<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The length is known only once the steps are shared.
        let mut seq = serializer.serialize_seq(None)?;
        let written = self.write_steps(|template, _| seq.serialize_element(&template))?;
        self.serialize_dags(&mut seq, &written)?;
        seq.end()
    }
}

/// [`StepTemplates`] with each step template written as the text it was
/// laid out as, not through serde again: half the cost of writing a
/// template. Only [`super::block`]'s writer takes it (see [`Rendered`]).
pub(crate) struct LaidOut<'s, 'a>(&'s StepTemplates<'a>);

impl serde::Serialize for LaidOut<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        let written = self
            .0
            .write_steps(|_, text| seq.serialize_element(&Rendered(text)))?;
        self.0.serialize_dags(&mut seq, &written)?;
        seq.end()
    }
}

/// KFP v1's pipeline spec: `{"description", "inputs": [{"default", "name",
/// "optional", "type"}], "name"}` as JSON with sorted keys, `{{` written as
/// `{\u007b` so that no reader takes it for an Argo reference.
fn pipeline_spec(pipeline: &Pipeline, values: &BTreeMap<String, String>) -> String {
    let inputs: Vec<serde_json::Value> = pipeline
        .params
        .iter()
        .map(|param| {
            let ty = match param.ty {
                ParamType::String | ParamType::File => "String",
                ParamType::Number => "Float",
                ParamType::Bool => "Bool",
                ParamType::List => "JsonArray",
            };
            let mut input = serde_json::json!({ "name": param.name, "type": ty });
            if let Some(value) = values.get(&param.name) {
                input["default"] = value.clone().into();
                input["optional"] = true.into();
            }
            input
        })
        .collect();
    let mut spec = serde_json::json!({ "name": pipeline.name, "inputs": inputs });
    if let Some(description) = &pipeline.description {
        spec["description"] = description.clone().into();
    }
    spec.to_string().replace("{{", "{\\u007b")
}

/// Every value a step's program reads (its `command` and `env`), run
/// information too.
fn program_reads(step: &Step) -> BTreeSet<Ref> {
    let mut reads = BTreeSet::new();
    let program = step.command.templates().into_iter();
    for text in program.chain(step.env.iter().map(|e| &e.value)) {
        collect_refs(text, &mut reads);
    }
    reads
}

/// Every value a step's template reads, sorted (the template's inputs):
/// those its program reads (`program_reads`), then the others.
fn step_inputs(step: &Step, program_reads: BTreeSet<Ref>) -> BTreeSet<Ref> {
    let mut inputs = program_reads;
    let texts = [
        Some(&step.image),
        step.description.as_deref(),
        step.cpu.as_deref(),
    ];
    let texts = texts.into_iter().chain([step.memory.as_deref()]).flatten();
    for text in texts.chain(step.cluster.templates()) {
        collect_refs(text, &mut inputs);
    }
    for count in [&step.gpus, &step.retries] {
        inputs.extend(super::cluster::count_ref(count));
    }
    if step.sync_source.is_some()
        && let Some(revision) = step.git_revision()
    {
        collect_refs(revision, &mut inputs);
    }
    inputs.retain(Ref::is_input);
    inputs
}

/// A step's container template.
fn step_template(
    step: &Step,
    program: Program,
    inputs: &BTreeSet<Ref>,
    volumes: &VolumeNames,
    git: &GitContainers,
) -> Box<Template> {
    let mut mounts = Vec::with_capacity(2 + step.data.len() + step.secret_volumes.len());
    mounts.push(mount(OUTPUTS_VOLUME, OUTPUTS_DIR));
    let mut init_containers = Vec::new();
    let mut working_dir = None;
    if let Some(source) = &step.sync_source {
        let work = mount(&volumes.work, WORK_DIR);
        init_containers.push(git.container(step, source, &work));
        mounts.push(work);
        working_dir = Some(WORK_DIR.to_string());
    }
    for data in step.data.iter() {
        let name = match data.volume {
            true => volumes.claims_made.name(&data.claim).cloned(),
            false => Some(volumes.claim(&data.claim)),
        };
        mounts.extend(name.map(|name| mount(&name, &data.path)));
    }
    mounts.extend(volumes.secrets.mounts(step));
    // kfpl's variables, the program's, then those read from secrets, in a
    // list sized once.
    let mut env = Vec::with_capacity(2 + program.env.len() + step.secret_env.len());
    env.push(env_var("KFP_OUTPUTS".into(), OUTPUTS_DIR.into()));
    if step.visuals {
        let metadata = crate::check::visuals::METADATA_ENV;
        env.push(env_var(metadata.into(), UI_METADATA_FILE.into()));
    }
    env.extend(
        program
            .env
            .into_iter()
            .map(|(name, value)| env_var(name, value)),
    );
    env.extend(super::secrets::env(step));
    let image = text(&step.image);
    let mut main = container(MAIN_CONTAINER, image, env, program.command, mounts);
    let (requirements, pod_spec_patch) = resources(step);
    main.resources = requirements;
    main.working_dir = working_dir;

    let outputs = Outputs {
        parameters: step
            .outputs
            .iter()
            .filter(|output| output.ty != ParamType::File)
            .map(|output| Parameter {
                name: output.name.clone(),
                value: None,
                value_from: Some(ValueFrom {
                    path: [OUTPUTS_DIR, "/", &output.name].concat(),
                    default: Some(String::new()),
                    ..ValueFrom::default()
                }),
            })
            .collect(),
        artifacts: output_artifacts(step)
            .into_iter()
            .chain(super::artifacts::outputs(step))
            .collect(),
    };
    let metadata = step.description.as_deref().map(|description| Metadata {
        annotations: BTreeMap::from([(
            DESCRIPTION_ANNOTATION.to_string(),
            display_text(&flatten(description)),
        )]),
        labels: BTreeMap::new(),
    });
    let mut template = Box::new(Template {
        name: kubernetes_name(&step.name),
        inputs: Some(Inputs {
            parameters: inputs
                .iter()
                .map(|r| Parameter {
                    name: r.input_name(),
                    value: None,
                    value_from: None,
                })
                .collect(),
            artifacts: Vec::new(),
        })
        .filter(|i| !i.parameters.is_empty()),
        outputs: Some(outputs),
        metadata,
        dag: None,
        init_containers,
        container: Some(main),
        retry_strategy: count(&step.retries).map(|limit| RetryStrategy { limit }),
        pod_spec_patch,
        active_deadline_seconds: step.timeout.as_ref().map(|t| t.seconds.to_string()),
        parallelism: None,
        node_selector: BTreeMap::new(),
        tolerations: Vec::new(),
        sidecars: super::sidecars::containers(&step.sidecars),
    });
    super::cluster::step(step, &mut template, text);
    super::cache::step(step, &mut template);
    template
}

/// KFP v1's artifacts: `mlpipeline-metrics` when the step declares metrics,
/// `mlpipeline-ui-metadata` with `visuals = true`. Both optional: a step
/// that wrote none still succeeds, as locally (where it is W0602/W0613).
fn output_artifacts(step: &Step) -> Vec<Artifact> {
    let metrics = (!step.metrics.is_empty()).then_some((METRICS_ARTIFACT, METRICS_FILE));
    let visuals = step
        .visuals
        .then_some((UI_METADATA_ARTIFACT, UI_METADATA_FILE));
    [metrics, visuals]
        .into_iter()
        .flatten()
        .map(|(name, path)| Artifact {
            name: name.into(),
            path: Some(path.into()),
            optional: true,
            ..Artifact::default()
        })
        .collect()
}

/// A template's text for a field Kubernetes does not expand (`checks` has
/// made sure Argo can carry it).
fn text(template: &Text) -> String {
    plain_text(template)
        .and_then(|text| argo_lit_text(text, false))
        .unwrap_or_else(|| pieces_text(&flatten(template)))
}

/// [`text`] of a template already flattened.
fn pieces_text(pieces: &[Piece]) -> String {
    argo_text(pieces, false).unwrap_or_else(|| display_text(pieces))
}

/// A count as a string: `None` for a fixed 0, the decoded input for a param.
fn count(count: &Count) -> Option<String> {
    match count {
        Count::Fixed(0) => None,
        Count::Fixed(n) => Some(n.to_string()),
        Count::Param(_) | Count::Output(_) => {
            super::cluster::count_ref(count).map(|r| r.argo_decoded())
        }
    }
}

/// `cpu`, `memory` and `nvidia.com/gpu`, each as request and limit: the
/// fixed ones in the container's `resources`, and those read from params in
/// a `podSpecPatch` (Argo's way to parameterise them: a Kubernetes quantity
/// field refuses `{{inputs.parameters.X}}` when the workflow is read, a
/// patch is applied after Argo substituted it).
fn resources(step: &Step) -> (Option<ResourceRequirements>, Option<String>) {
    let mut fixed = BTreeMap::new();
    let mut from_params = BTreeMap::new();
    let mut add = |name: &str, value: String, parametric: bool| {
        let amounts = if parametric {
            &mut from_params
        } else {
            &mut fixed
        };
        amounts.insert(name.to_string(), value);
    };
    for (name, template) in [("cpu", &step.cpu), ("memory", &step.memory)] {
        if let Some(template) = template {
            // Flattened once for the test and the text.
            let pieces = flatten(template);
            let parametric = refs(&pieces).next().is_some();
            let value = if parametric {
                super::cluster::patch_text(&pieces)
            } else {
                pieces_text(&pieces)
            };
            add(name, value, parametric);
        }
    }
    match super::cluster::count_ref(&step.gpus) {
        Some(gpus) => add(
            "nvidia.com/gpu",
            super::cluster::patch_text(&[Piece::Ref(gpus)]),
            true,
        ),
        None => {
            if let Some(gpus) = count(&step.gpus) {
                add("nvidia.com/gpu", gpus, false);
            }
        }
    }
    let requirements = (!fixed.is_empty()).then(|| {
        let amounts: BTreeMap<String, Quantity> =
            fixed.into_iter().map(|(k, v)| (k, Quantity(v))).collect();
        ResourceRequirements {
            limits: Some(amounts.clone()),
            requests: Some(amounts),
            ..ResourceRequirements::default()
        }
    });
    let patch = (!from_params.is_empty()).then(|| {
        let resources = serde_json::json!({ "limits": from_params, "requests": from_params });
        serde_json::json!({ "containers": [{ "name": MAIN_CONTAINER, "resources": resources }] })
            .to_string()
    });
    (requirements, patch)
}

fn container(
    name: &str,
    image: String,
    env: Vec<EnvVar>,
    command: Vec<String>,
    mounts: Vec<VolumeMount>,
) -> Container {
    Container {
        name: name.into(),
        image: Some(image),
        command: Some(command),
        env: Some(env).filter(|e| !e.is_empty()),
        volume_mounts: Some(mounts).filter(|m| !m.is_empty()),
        ..Container::default()
    }
}

fn env_var(name: String, value: String) -> EnvVar {
    EnvVar {
        name,
        value: Some(value),
        value_from: None,
    }
}

/// The init containers that clone `sync_source`: steps in a row that clone
/// the same source at the same revision share the last one built (a clone
/// costs a copy of its strings; building it, a script).
struct GitContainers<'a> {
    image: &'a str,
    last: RefCell<Option<(GitSource, Container)>>,
}

/// What a git-sync container is built from (`work`, the mount, is the
/// same for every step).
struct GitSource {
    url: String,
    repo_name: String,
    revision: Option<Vec<Piece>>,
}

impl<'a> GitContainers<'a> {
    fn new(image: &'a str) -> GitContainers<'a> {
        GitContainers {
            image,
            last: RefCell::new(None),
        }
    }

    /// The init container that clones `source` for `step`.
    fn container(&self, step: &Step, source: &SyncSource, work: &VolumeMount) -> Container {
        let revision = step.git_revision().map(flatten);
        let mut last = self.last.borrow_mut();
        if let Some((built, git)) = last.as_ref()
            && built.url == source.url
            && built.repo_name == source.repo_name
            && built.revision == revision
        {
            return git.clone();
        }
        let program = script::git_program(step, source);
        let env = program
            .env
            .into_iter()
            .map(|(name, value)| env_var(name, value));
        let (image, mounts) = (self.image.into(), vec![work.clone()]);
        let git = container(GIT_CONTAINER, image, env.collect(), program.command, mounts);
        let built = GitSource {
            url: source.url.clone(),
            repo_name: source.repo_name.clone(),
            revision,
        };
        *last = Some((built, git.clone()));
        git
    }
}

fn mount(volume: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: volume.into(),
        mount_path: path.into(),
        ..VolumeMount::default()
    }
}

/// The workflow's volumes: kfpl's scratch directories, then each claim once.
struct VolumeNames {
    work: String,
    uses_work: bool,
    claims: BTreeMap<String, String>,
    secrets: super::secrets::SecretVolumes,
    /// The pipeline's `volume`s (claims Argo makes for the run).
    claims_made: super::volumes::ClaimVolumes,
}

impl VolumeNames {
    fn new(pipeline: &Pipeline) -> VolumeNames {
        let mut namer = Namer::new(63);
        namer.claim(OUTPUTS_VOLUME);
        let claims_made = super::volumes::ClaimVolumes::new(pipeline, &mut namer);
        let uses_work = pipeline.steps.iter().any(|s| s.sync_source.is_some());
        let work = if uses_work {
            namer.claim(WORK_VOLUME)
        } else {
            WORK_VOLUME.to_string()
        };
        let claims: BTreeSet<&str> = pipeline
            .steps
            .iter()
            .flat_map(|s| {
                s.data
                    .iter()
                    .filter(|d| !d.volume)
                    .map(|d| d.claim.as_str())
            })
            .collect();
        let claims = claims
            .into_iter()
            .map(|claim| (claim.to_string(), namer.claim(claim)))
            .collect();
        VolumeNames {
            work,
            uses_work,
            claims,
            secrets: super::secrets::SecretVolumes::new(pipeline, &mut namer),
            claims_made,
        }
    }

    /// The volume a claim is mounted from.
    fn claim(&self, claim: &str) -> String {
        self.claims
            .get(claim)
            .cloned()
            .unwrap_or_else(|| names::kubernetes_name(claim))
    }

    /// `spec.volumes`.
    fn declare(&self) -> Vec<Volume> {
        let empty_dir = |name: &str| Volume {
            name: name.into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        };
        let mut volumes = vec![empty_dir(OUTPUTS_VOLUME)];
        if self.uses_work {
            volumes.push(empty_dir(&self.work));
        }
        volumes.extend(self.claims.iter().map(|(claim, name)| Volume {
            name: name.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.clone(),
                read_only: None,
            }),
            ..Volume::default()
        }));
        volumes.extend(self.secrets.declare());
        volumes
    }
}
