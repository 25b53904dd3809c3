//! A step template written straight into the block writer: each field's
//! constant name and its text, where serde's derive dispatched every field,
//! key and string through the `Serializer` (half the cost of writing a
//! template). Each scalar still takes [`super::yaml::style`]'s style; the
//! layout is [`super::block`]'s. What kfpl's steps rarely set (tolerations,
//! sidecars, a container field kfpl never writes) goes through serde, in
//! its place: the text is the same bytes as the derive's either way, which
//! the tests check on every program they compile.

use k8s_openapi::api::core::v1::{Container, EnvVar, ResourceRequirements, VolumeMount};
use std::collections::BTreeMap;
use std::io::Write;

use super::argo_types::{Artifact, Inputs, Metadata, Outputs, Parameter, Template, ValueFrom};
use super::block::Compound;

type Result = std::result::Result<(), serde_yaml::Error>;

/// Writes `template`'s fields into `map`, in the derive's order.
pub(super) fn template<W: Write>(map: &mut Compound<'_, W>, template: &Template) -> Result {
    let Template {
        name,
        inputs,
        outputs,
        metadata,
        dag,
        init_containers,
        container,
        retry_strategy,
        pod_spec_patch,
        active_deadline_seconds,
        parallelism,
        node_selector,
        tolerations,
        sidecars,
    } = template;
    map.field("name", name)?;
    if let Some(Inputs {
        parameters,
        artifacts,
    }) = inputs
    {
        put_parameters_and_artifacts(map.map("inputs")?, parameters, artifacts)?;
    }
    if let Some(Outputs {
        parameters,
        artifacts,
    }) = outputs
    {
        put_parameters_and_artifacts(map.map("outputs")?, parameters, artifacts)?;
    }
    if let Some(metadata) = metadata {
        self::metadata(map.map("metadata")?, metadata)?;
    }
    if let Some(dag) = dag {
        map.serde("dag", dag)?;
    }
    each(map, "initContainers", init_containers, container_item)?;
    match container {
        Some(container) if sets_more_than_kfpl(container) => map.serde("container", container)?,
        Some(container) => self::container(map.map("container")?, container)?,
        None => {}
    }
    if let Some(retry) = retry_strategy {
        let mut retry_map = map.map("retryStrategy")?;
        retry_map.field("limit", &retry.limit)?;
        retry_map.end()?;
    }
    optional(map, "podSpecPatch", pod_spec_patch)?;
    optional(map, "activeDeadlineSeconds", active_deadline_seconds)?;
    if let Some(parallelism) = parallelism {
        map.serde("parallelism", parallelism)?;
    }
    if !node_selector.is_empty() {
        text_map(map.map("nodeSelector")?, node_selector)?;
    }
    if !tolerations.is_empty() {
        map.serde("tolerations", tolerations)?;
    }
    if !sidecars.is_empty() {
        map.serde("sidecars", sidecars)?;
    }
    Ok(())
}

pub(super) fn optional<W: Write>(
    map: &mut Compound<'_, W>,
    key: &'static str,
    text: &Option<String>,
) -> Result {
    match text {
        Some(text) => map.field(key, text),
        None => Ok(()),
    }
}

/// A map of text (annotations, labels, a node selector), ended.
fn text_map<W: Write>(mut map: Compound<'_, W>, entries: &BTreeMap<String, String>) -> Result {
    for (key, value) in entries {
        map.entry_text(key, value)?;
    }
    map.end()
}

/// `inputs` or `outputs`, ended.
pub(super) fn put_parameters_and_artifacts<W: Write>(
    mut map: Compound<'_, W>,
    parameters: &[Parameter],
    artifacts: &[Artifact],
) -> Result {
    each(&mut map, "parameters", parameters, parameter)?;
    each(&mut map, "artifacts", artifacts, artifact)?;
    map.end()
}

/// `key:` and an item for each of `items`, written by `write`; nothing
/// at all for none (the derive skips an empty list).
pub(super) fn each<W: Write, T>(
    map: &mut Compound<'_, W>,
    key: &'static str,
    items: &[T],
    write: impl Fn(&mut Compound<'_, W>, &T) -> Result,
) -> Result {
    if items.is_empty() {
        return Ok(());
    }
    every(map, key, items, write)
}

/// [`each`], with `key: []` for none (a list k8s-openapi holds in an
/// `Option`, written whenever it is `Some`).
fn every<W: Write, T>(
    map: &mut Compound<'_, W>,
    key: &'static str,
    items: &[T],
    write: impl Fn(&mut Compound<'_, W>, &T) -> Result,
) -> Result {
    let mut seq = map.seq(key)?;
    for item in items {
        write(&mut seq, item)?;
    }
    seq.end()
}

fn parameter<W: Write>(seq: &mut Compound<'_, W>, parameter: &Parameter) -> Result {
    let Parameter {
        name,
        value,
        value_from,
    } = parameter;
    let mut item = seq.item_map()?;
    item.field("name", name)?;
    optional(&mut item, "value", value)?;
    if let Some(value_from) = value_from {
        self::value_from(item.map("valueFrom")?, value_from)?;
    }
    item.end()
}

fn value_from<W: Write>(mut map: Compound<'_, W>, value_from: &ValueFrom) -> Result {
    let ValueFrom {
        path,
        parameter,
        expression,
        default,
    } = value_from;
    if !path.is_empty() {
        map.field("path", path)?;
    }
    optional(&mut map, "parameter", parameter)?;
    optional(&mut map, "expression", expression)?;
    optional(&mut map, "default", default)?;
    map.end()
}

fn artifact<W: Write>(seq: &mut Compound<'_, W>, artifact: &Artifact) -> Result {
    let Artifact {
        name,
        path,
        from,
        optional,
    } = artifact;
    let mut item = seq.item_map()?;
    item.field("name", name)?;
    self::optional(&mut item, "path", path)?;
    self::optional(&mut item, "from", from)?;
    if *optional {
        item.serde("optional", &true)?;
    }
    item.end()
}

fn metadata<W: Write>(mut map: Compound<'_, W>, metadata: &Metadata) -> Result {
    let Metadata {
        annotations,
        labels,
    } = metadata;
    if !annotations.is_empty() {
        text_map(map.map("annotations")?, annotations)?;
    }
    if !labels.is_empty() {
        text_map(map.map("labels")?, labels)?;
    }
    map.end()
}

/// A container as an item of `initContainers`.
fn container_item<W: Write>(seq: &mut Compound<'_, W>, container: &Container) -> Result {
    if sets_more_than_kfpl(container) {
        return seq.item(container);
    }
    self::container(seq.item_map()?, container)
}

/// A container's fields, in k8s-openapi's order, ended; one that sets
/// nothing more than kfpl's (see [`sets_more_than_kfpl`]).
fn container<W: Write>(mut map: Compound<'_, W>, container: &Container) -> Result {
    if let Some(args) = &container.args {
        every(&mut map, "args", args, |seq, arg| seq.item_text(arg))?;
    }
    if let Some(command) = &container.command {
        every(&mut map, "command", command, |seq, arg| seq.item_text(arg))?;
    }
    if let Some(env) = &container.env {
        every(&mut map, "env", env, env_var)?;
    }
    optional(&mut map, "image", &container.image)?;
    map.field("name", &container.name)?;
    if let Some(resources) = &container.resources {
        self::resources(&mut map, resources)?;
    }
    if let Some(mounts) = &container.volume_mounts {
        every(&mut map, "volumeMounts", mounts, volume_mount)?;
    }
    optional(&mut map, "workingDir", &container.working_dir)?;
    map.end()
}

/// Whether `container` sets a field other than those kfpl's step
/// containers set (which [`container`] writes itself).
fn sets_more_than_kfpl(container: &Container) -> bool {
    // Every field named: a new one in k8s-openapi is a compile error here.
    let Container {
        args: _,
        command: _,
        env: _,
        image: _,
        name: _,
        resources: _,
        volume_mounts: _,
        working_dir: _,
        env_from,
        image_pull_policy,
        lifecycle,
        liveness_probe,
        ports,
        readiness_probe,
        resize_policy,
        restart_policy,
        security_context,
        startup_probe,
        stdin,
        stdin_once,
        termination_message_path,
        termination_message_policy,
        tty,
        volume_devices,
    } = container;
    env_from.is_some()
        || image_pull_policy.is_some()
        || lifecycle.is_some()
        || liveness_probe.is_some()
        || ports.is_some()
        || readiness_probe.is_some()
        || resize_policy.is_some()
        || restart_policy.is_some()
        || security_context.is_some()
        || startup_probe.is_some()
        || stdin.is_some()
        || stdin_once.is_some()
        || termination_message_path.is_some()
        || termination_message_policy.is_some()
        || tty.is_some()
        || volume_devices.is_some()
}

fn env_var<W: Write>(seq: &mut Compound<'_, W>, variable: &EnvVar) -> Result {
    let EnvVar {
        name,
        value,
        value_from,
    } = variable;
    if value_from.is_some() {
        return seq.item(variable);
    }
    let mut item = seq.item_map()?;
    item.field("name", name)?;
    optional(&mut item, "value", value)?;
    item.end()
}

fn resources<W: Write>(map: &mut Compound<'_, W>, resources: &ResourceRequirements) -> Result {
    let ResourceRequirements {
        claims,
        limits,
        requests,
    } = resources;
    if claims.is_some() {
        return map.serde("resources", resources);
    }
    let mut resources_map = map.map("resources")?;
    for (key, amounts) in [("limits", limits), ("requests", requests)] {
        if let Some(amounts) = amounts {
            let mut quantities = resources_map.map(key)?;
            for (name, amount) in amounts {
                quantities.entry_text(name, &amount.0)?;
            }
            quantities.end()?;
        }
    }
    resources_map.end()
}

fn volume_mount<W: Write>(seq: &mut Compound<'_, W>, mount: &VolumeMount) -> Result {
    let VolumeMount {
        mount_path,
        name,
        mount_propagation,
        read_only,
        recursive_read_only,
        sub_path,
        sub_path_expr,
    } = mount;
    let more = mount_propagation.is_some()
        || read_only.is_some()
        || recursive_read_only.is_some()
        || sub_path.is_some()
        || sub_path_expr.is_some();
    if more {
        return seq.item(mount);
    }
    let mut item = seq.item_map()?;
    item.field("mountPath", mount_path)?;
    item.field("name", name)?;
    item.end()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{SecurityContext, Toleration};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use proptest::prelude::*;

    use super::super::argo_types::{RetryStrategy, Sidecar};
    use super::super::block::{self, Rendered, Rendering};
    use super::*;

    /// `template` written by [`template`], as a document of one item.
    fn emitted(template: &Template) -> String {
        let mut rendering = Rendering::new();
        rendering
            .render(|map| super::template(map, template))
            .expect("renders");
        as_document(&[Rendered(rendering.bytes())])
    }

    /// `template` written by serde's derive, the same way.
    fn derived(template: &Template) -> String {
        as_document(&[template])
    }

    /// `items` under `spec.templates`, where a [`Rendered`] item goes.
    fn as_document<T: serde::Serialize>(items: &[T]) -> String {
        let document = BTreeMap::from([("spec", BTreeMap::from([("templates", items)]))]);
        let mut bytes = Vec::new();
        block::to_writer(&mut bytes, &document).expect("writes");
        String::from_utf8(bytes).expect("UTF-8")
    }

    /// Text with what makes YAML hard (see block's tests).
    fn text() -> impl Strategy<Value = String> {
        "([a-z0-9./{}$]{0,6}|yes|~|1_0|- |: | #|---|'|\"|\n|\t| |é|\u{85}){0,5}"
    }

    fn texts() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(text(), 0..3)
    }

    fn text_map() -> impl Strategy<Value = BTreeMap<String, String>> {
        prop::collection::btree_map(text(), text(), 0..3)
    }

    fn parameter() -> impl Strategy<Value = Parameter> {
        let value_from = (
            text(),
            proptest::option::of(text()),
            proptest::option::of(text()),
        )
            .prop_map(|(path, parameter, default)| ValueFrom {
                path,
                parameter,
                expression: None,
                default,
            });
        (
            text(),
            proptest::option::of(text()),
            proptest::option::of(value_from),
        )
            .prop_map(|(name, value, value_from)| Parameter {
                name,
                value,
                value_from,
            })
    }

    fn artifact() -> impl Strategy<Value = Artifact> {
        (text(), proptest::option::of(text()), any::<bool>()).prop_map(|(name, path, optional)| {
            Artifact {
                name,
                path,
                from: None,
                optional,
            }
        })
    }

    fn container() -> impl Strategy<Value = Container> {
        let env = prop::collection::vec((text(), proptest::option::of(text())), 0..3);
        let mounts = prop::collection::vec((text(), text(), any::<bool>()), 0..3);
        let limits = proptest::option::of(prop::collection::btree_map(text(), text(), 0..3));
        (
            (
                text(),
                proptest::option::of(texts()),
                proptest::option::of(texts()),
            ),
            (proptest::option::of(env), proptest::option::of(mounts)),
            (limits, proptest::option::of(text()), any::<bool>()),
        )
            .prop_map(
                |((name, command, args), (env, mounts), (limits, working_dir, secure))| {
                    let quantities = |limits: BTreeMap<String, String>| {
                        limits.into_iter().map(|(k, v)| (k, Quantity(v))).collect()
                    };
                    Container {
                        name,
                        command,
                        args,
                        env: env.map(|env| {
                            env.into_iter()
                                .map(|(name, value)| EnvVar {
                                    name,
                                    value,
                                    value_from: None,
                                })
                                .collect()
                        }),
                        volume_mounts: mounts.map(|mounts| {
                            mounts
                                .into_iter()
                                .map(|(name, mount_path, read_only)| VolumeMount {
                                    name,
                                    mount_path,
                                    read_only: read_only.then_some(true),
                                    ..VolumeMount::default()
                                })
                                .collect()
                        }),
                        resources: limits.map(|limits| ResourceRequirements {
                            requests: Some(quantities(limits.clone())),
                            limits: Some(quantities(limits)),
                            claims: None,
                        }),
                        working_dir,
                        // A field kfpl's steps never set: serde writes the container.
                        security_context: secure.then(|| SecurityContext {
                            privileged: Some(false),
                            ..SecurityContext::default()
                        }),
                        ..Container::default()
                    }
                },
            )
    }

    prop_compose! {
        fn any_template()(
            (name, inputs, outputs) in (
                text(),
                proptest::option::of((prop::collection::vec(parameter(), 0..3), prop::collection::vec(artifact(), 0..2))),
                proptest::option::of((prop::collection::vec(parameter(), 0..3), prop::collection::vec(artifact(), 0..2))),
            ),
            (annotations, labels, node_selector) in (proptest::option::of(text_map()), text_map(), text_map()),
            (init_containers, container, sidecar) in (prop::collection::vec(container(), 0..2), proptest::option::of(container()), proptest::option::of(container())),
            (retry, patch, deadline, parallelism, toleration) in (
                proptest::option::of(text()),
                proptest::option::of(text()),
                proptest::option::of(text()),
                proptest::option::of(0..4u32),
                proptest::option::of(text()),
            ),
        ) -> Template {
            Template {
                name,
                inputs: inputs.map(|(parameters, artifacts)| Inputs { parameters, artifacts }),
                outputs: outputs.map(|(parameters, artifacts)| Outputs { parameters, artifacts }),
                metadata: annotations.map(|annotations| Metadata { annotations, labels }),
                dag: None,
                init_containers,
                container,
                retry_strategy: retry.map(|limit| RetryStrategy { limit }),
                pod_spec_patch: patch,
                active_deadline_seconds: deadline,
                parallelism,
                node_selector,
                tolerations: toleration
                    .map(|key| Toleration { key: Some(key), ..Toleration::default() })
                    .into_iter()
                    .collect(),
                sidecars: sidecar
                    .map(|container| Sidecar { container, mirror_volume_mounts: true })
                    .into_iter()
                    .collect(),
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

        /// The emitter writes any template as serde's derive writes it, to
        /// the byte: what it lays out itself, and what it leaves to serde.
        #[test]
        fn any_template_is_written_as_the_derive_writes_it(template in any_template()) {
            prop_assert_eq!(emitted(&template), derived(&template));
        }
    }

    #[test]
    fn empty_parts_are_written_as_the_derive_writes_them() {
        let template = Template {
            inputs: Some(Inputs::default()),
            outputs: Some(Outputs::default()),
            metadata: Some(Metadata::default()),
            container: Some(Container {
                command: Some(Vec::new()),
                env: Some(Vec::new()),
                resources: Some(ResourceRequirements {
                    limits: Some(BTreeMap::new()),
                    ..ResourceRequirements::default()
                }),
                ..Container::default()
            }),
            dag: None,
            ..super::super::dag::dag_template("t", Vec::new())
        };
        let text = emitted(&template);
        assert_eq!(text, derived(&template));
        assert!(text.contains("inputs: {}\n"), "{text}");
        assert!(text.contains("command: []\n"), "{text}");
        assert!(text.contains("limits: {}\n"), "{text}");
    }
}
