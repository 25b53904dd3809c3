//! Argo's Workflow JSON schema, built once per test binary as
//! shared/schemas/README.md says: the one validator every test that checks
//! compiled YAML uses (`#[path = "support/argo_schema.rs"] mod argo_schema;`,
//! beside `mod support;`, since only those binaries need `jsonschema`).

#![allow(dead_code)]

use std::sync::OnceLock;

fn schema() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = super::support::root().join("../shared/schemas/argo-workflows.schema.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "the Argo schema must be at {} (a clone with shared/ beside it): {e}",
                path.display()
            )
        });
        let mut schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
        let root = schema.as_object_mut().expect("schema is an object");
        // The file validates any Argo object; a compiled program is a Workflow.
        root.remove("oneOf");
        root.insert(
            "$ref".into(),
            "#/definitions/io.argoproj.workflow.v1alpha1.Workflow".into(),
        );
        jsonschema::validator_for(&schema).expect("the schema compiles")
    })
}

/// Where `yaml` breaks the Workflow schema (`message at /json/pointer`);
/// empty when it is valid.
pub(crate) fn errors(yaml: &str) -> Vec<String> {
    let instance: serde_json::Value = match serde_yaml::from_str(yaml) {
        Ok(instance) => instance,
        Err(e) => return vec![format!("not YAML that reads as JSON: {e}")],
    };
    schema()
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Fails the test when `yaml` (named `name` in the message) breaks the schema.
pub(crate) fn assert_valid(name: &str, yaml: &str) {
    let errors = errors(yaml);
    assert!(
        errors.is_empty(),
        "{name} fails the Argo schema:\n{}",
        errors.join("\n")
    );
}
