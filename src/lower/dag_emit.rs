//! A DAG's tasks written straight into the block writer, as
//! [`super::emit`] writes the step templates: each field's constant name
//! and its text, where serde's derive dispatched every field, key and
//! string through the `Serializer`. A step's task is written from its
//! plan ([`StepTask`]) without building a [`DagTask`]; a block's task is
//! built, then written field by field. Each scalar still takes
//! [`super::yaml::style`]'s style; the layout is [`super::block`]'s. The
//! text is the derive's, to the byte: the tests compare the two.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::io::Write;

use super::argo_types::{Arguments, DagTask};
use super::block::{Compound, Rendered, Rendering};
use super::dag::{COND, Dags, StepTask};
use super::emit::{each, optional, put_parameters_and_artifacts};
use super::text::Ref;
use crate::check::ir::BlockId;

type Result = std::result::Result<(), serde_yaml::Error>;

/// The column of a DAG's tasks' dashes: an item of `spec.templates`
/// (dash at 2) has its keys at 4, `dag`'s at 6, and a sequence under a
/// key (`tasks`) has its dashes at the key's column.
pub(super) const TASK_DASHES: usize = 6;

/// The column of a task's arguments' dashes: its keys are 2 deeper than
/// its dash, `arguments`' 2 deeper again, and `parameters`' dashes at
/// that key's column.
const ARGUMENT_DASHES: usize = TASK_DASHES + 4;

/// Writes `task`'s fields into `map`, in the derive's order.
pub(super) fn task<W: Write>(map: &mut Compound<'_, W>, task: &DagTask) -> Result {
    let DagTask {
        name,
        template,
        dependencies,
        arguments,
        when,
        with_items,
        with_param,
    } = task;
    head(map, name, template, dependencies)?;
    if let Some(Arguments {
        parameters,
        artifacts,
    }) = arguments
    {
        put_parameters_and_artifacts(map.map("arguments")?, parameters, artifacts)?;
    }
    optional(map, "when", when)?;
    if !with_items.is_empty() {
        // Only a literal loop's task has them: left to serde.
        map.serde("withItems", with_items)?;
    }
    optional(map, "withParam", with_param)
}

/// Writes the task of `step` into `map` as [`task`] writes it built, with
/// `when` (its DAG's); each argument's text comes from `arguments`.
pub(super) fn step_task<'d, W: Write>(
    map: &mut Compound<'_, W>,
    step: &StepTask<'d>,
    when: Option<&str>,
    arguments: &mut ArgumentTexts<'d, '_>,
) -> Result {
    let StepTask {
        name,
        template,
        dependencies,
        condition,
        inputs,
    } = step;
    head(map, name, template, dependencies)?;
    if condition.is_some() || !inputs.is_empty() {
        let mut arguments_map = map.map("arguments")?;
        let mut parameters = arguments_map.seq("parameters")?;
        if let Some(condition) = condition {
            parameter(&mut parameters, COND, condition)?;
        }
        for r in *inputs {
            arguments.write(&mut parameters, r)?;
        }
        parameters.end()?;
        arguments_map.end()?;
    }
    match when {
        Some(when) => map.field("when", when),
        None => Ok(()),
    }
}

/// The fields every task starts with.
fn head<W: Write>(
    map: &mut Compound<'_, W>,
    name: &str,
    template: &str,
    dependencies: &[String],
) -> Result {
    map.field("name", name)?;
    map.field("template", template)?;
    each(map, "dependencies", dependencies, |seq, task| {
        seq.item_text(task)
    })
}

/// An argument: a parameter with its value.
fn parameter<W: Write>(seq: &mut Compound<'_, W>, name: &str, value: &str) -> Result {
    let mut item = seq.item_map()?;
    parameter_fields(&mut item, name, value)?;
    item.end()
}

fn parameter_fields<W: Write>(item: &mut Compound<'_, W>, name: &str, value: &str) -> Result {
    item.field("name", name)?;
    item.field("value", value)
}

/// The arguments of the step tasks of one DAG (`scope`) as they are
/// written. A param's, a loop item's or a carried value's (few, each read
/// by many steps alike, the same argument in every task of the DAG) is
/// laid out once and its text kept; an output's (as many as the steps,
/// each read by few) is written each time.
pub(super) struct ArgumentTexts<'d, 'a> {
    dags: &'d Dags<'a>,
    scope: Option<BlockId>,
    kept: BTreeMap<&'d Ref, Rendering>,
    /// An output's argument, name and value, written anew for each task
    /// into the same buffers: no allocation an argument.
    name: String,
    value: String,
}

impl<'d, 'a> ArgumentTexts<'d, 'a> {
    pub(super) fn new(dags: &'d Dags<'a>, scope: Option<BlockId>) -> Self {
        ArgumentTexts {
            dags,
            scope,
            kept: BTreeMap::new(),
            name: String::new(),
            value: String::new(),
        }
    }

    /// Writes `r`'s argument as an item of `parameters`, a step task's.
    fn write<W: Write>(&mut self, parameters: &mut Compound<'_, W>, r: &'d Ref) -> Result {
        let (dags, scope) = (self.dags, self.scope);
        let value = || dags.argument(scope, r);
        if matches!(r, Ref::Output { .. }) {
            self.name.clear();
            r.push_input_name(&mut self.name);
            self.value.clear();
            dags.push_argument(&mut self.value, scope, r);
            return parameter(parameters, &self.name, &self.value);
        }
        let laid_out = match self.kept.entry(r) {
            Entry::Occupied(kept) => kept.into_mut(),
            Entry::Vacant(place) => {
                let mut rendering = Rendering::at(ARGUMENT_DASHES);
                rendering.render(|item| parameter_fields(item, &r.input_name(), &value()))?;
                place.insert(rendering)
            }
        };
        parameters.item(&Rendered(laid_out.bytes()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::super::argo_types::{Artifact, Parameter, ValueFrom};
    use super::super::block;
    use super::*;

    /// `task` as the one task of a DAG template, written by [`task`] and
    /// by serde's derive.
    fn both_ways(task: &DagTask) -> (String, String) {
        let mut rendering = Rendering::at(TASK_DASHES);
        rendering
            .render(|map| super::task(map, task))
            .expect("renders");
        (in_a_dag(&Rendered(rendering.bytes())), in_a_dag(task))
    }

    /// `task` where a lazily written DAG's tasks go: `spec.templates[0].dag.tasks`.
    fn in_a_dag<T: serde::Serialize>(task: &T) -> String {
        let template = BTreeMap::from([("dag", BTreeMap::from([("tasks", [task])]))]);
        let document = BTreeMap::from([("spec", BTreeMap::from([("templates", [template])]))]);
        let mut bytes = Vec::new();
        block::to_writer(&mut bytes, &document).expect("writes");
        String::from_utf8(bytes).expect("UTF-8")
    }

    /// Text with what makes YAML hard: indicators, words YAML 1.1 reads
    /// as bools or nulls, quotes, line breaks, unicode.
    fn text() -> impl Strategy<Value = String> {
        "([a-z0-9./{}$=]{0,6}|yes|null|~|1_0|- |: | #|'|\"|\n|\t| |é|\u{85}){0,4}"
    }

    /// A task's argument (a `valueFrom` too: the writer is emit's, which
    /// its own tests try with every field).
    fn parameter() -> impl Strategy<Value = Parameter> {
        (text(), proptest::option::of(text()), any::<bool>()).prop_map(|(name, value, from)| {
            Parameter {
                value_from: from.then(|| ValueFrom {
                    parameter: Some(name.clone()),
                    ..ValueFrom::default()
                }),
                name,
                value,
            }
        })
    }

    fn artifact() -> impl Strategy<Value = Artifact> {
        (text(), proptest::option::of(text())).prop_map(|(name, from)| Artifact {
            name,
            path: None,
            from,
            optional: false,
        })
    }

    /// A loop's items: texts, or maps of texts.
    fn item() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            text().prop_map(serde_json::Value::String),
            prop::collection::btree_map(text(), text(), 0..3).prop_map(|fields| {
                fields
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                    .collect()
            }),
        ]
    }

    prop_compose! {
        fn any_task()(
            (name, template, dependencies) in (text(), text(), prop::collection::vec(text(), 0..3)),
            arguments in proptest::option::of((
                prop::collection::vec(parameter(), 0..3),
                prop::collection::vec(artifact(), 0..2),
            )),
            (when, with_items, with_param) in (
                proptest::option::of(text()),
                prop::collection::vec(item(), 0..3),
                proptest::option::of(text()),
            ),
        ) -> DagTask {
            DagTask {
                name,
                template,
                dependencies,
                arguments: arguments.map(|(parameters, artifacts)| Arguments { parameters, artifacts }),
                when,
                with_items,
                with_param,
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any task is written as serde's derive writes it, to the byte,
        /// at the column of a DAG's tasks.
        #[test]
        fn any_task_is_written_as_the_derive_writes_it(task in any_task()) {
            let (written, derived) = both_ways(&task);
            prop_assert_eq!(written, derived);
        }
    }

    #[test]
    fn empty_arguments_are_written_as_the_derive_writes_them() {
        let task = DagTask {
            name: "a".into(),
            template: "b".into(),
            dependencies: Vec::new(),
            arguments: Some(Arguments::default()),
            when: None,
            with_items: Vec::new(),
            with_param: None,
        };
        let (written, derived) = both_ways(&task);
        assert_eq!(written, derived);
        assert!(written.contains("arguments: {}\n"), "{written}");
    }
}
