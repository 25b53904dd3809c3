//! `volume NAME { … }` on Argo: one `spec.volumeClaimTemplates` entry a
//! volume (its pod volume named by [`ClaimVolumes`], mounted like a claim),
//! and `spec.volumeClaimGC: {strategy: OnWorkflowCompletion}`, so the
//! claims go when the workflow ends however it ended. `keep` has no effect
//! here: it is about the local folder.
//!
//! A size read from a param is written as the param's value, known when
//! compiling: Argo cannot substitute `{{workflow.parameters.…}}` into a
//! claim template's size, because the workflow is decoded (and the
//! quantity parsed) before any substitution (argoproj/argo-workflows#1932).
//! A size param without a value when compiling is E0346.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PersistentVolumeClaimSpec, VolumeResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::argo_types::{ClaimTemplate, VolumeClaimGc};
use super::names::Namer;
use crate::check::ir::{Part, Pipeline, Volume};
use crate::diagnostics::{Code, Diagnostic};

/// The pod volume of each declared volume (identifier → name).
#[derive(Debug, Default)]
pub(super) struct ClaimVolumes {
    names: BTreeMap<String, String>,
}

impl ClaimVolumes {
    /// Names a pod volume for each volume of `pipeline`, before any other
    /// volume is named, so each keeps its Kubernetes name.
    pub(super) fn new(pipeline: &Pipeline, namer: &mut Namer) -> ClaimVolumes {
        let names = pipeline
            .volumes
            .iter()
            .map(|v| (v.name.clone(), namer.claim(&v.claim)))
            .collect();
        ClaimVolumes { names }
    }

    /// The pod volume of volume `name`.
    pub(super) fn name(&self, name: &str) -> Option<&String> {
        self.names.get(name)
    }

    /// `spec.volumeClaimTemplates`.
    pub(super) fn templates(
        &self,
        pipeline: &Pipeline,
        values: &BTreeMap<String, String>,
    ) -> Vec<ClaimTemplate> {
        pipeline
            .volumes
            .iter()
            .map(|volume| ClaimTemplate {
                metadata: ObjectMeta {
                    name: self.names.get(&volume.name).cloned(),
                    ..ObjectMeta::default()
                },
                spec: PersistentVolumeClaimSpec {
                    access_modes: Some(vec![volume.access_mode.clone()]),
                    storage_class_name: volume.storage_class.clone(),
                    resources: Some(VolumeResourceRequirements {
                        requests: Some(BTreeMap::from([(
                            "storage".to_string(),
                            Quantity(size(volume, values).unwrap_or_default()),
                        )])),
                        ..VolumeResourceRequirements::default()
                    }),
                    ..PersistentVolumeClaimSpec::default()
                },
            })
            .collect()
    }
}

/// `spec.volumeClaimGC` when the pipeline has volumes.
pub(super) fn claim_gc(pipeline: &Pipeline) -> Option<VolumeClaimGc> {
    (!pipeline.volumes.is_empty()).then(|| VolumeClaimGc {
        strategy: "OnWorkflowCompletion".into(),
    })
}

/// The size as text: the quantity, or the value of the param it reads.
fn size(volume: &Volume, values: &BTreeMap<String, String>) -> Option<String> {
    match &volume.size.parts[..] {
        [Part::Param { name, .. }] => values.get(name).cloned(),
        _ => volume.size.as_const(),
    }
}

/// E0346: a volume's size param has no value when compiling.
pub(super) fn check(pipeline: &Pipeline, values: &BTreeMap<String, String>) -> Vec<Diagnostic> {
    pipeline
        .volumes
        .iter()
        .filter(|volume| size(volume, values).is_none())
        .map(|volume| {
            let param = match &volume.size.parts[..] {
                [Part::Param { name, .. }] => name.as_str(),
                _ => "",
            };
            Diagnostic::new(
                Code::E0346,
                format!(
                    "the size of volume `{}` reads param `{param}`, which has no value when compiling",
                    volume.name
                ),
            )
            .primary(volume.size.span, "Argo cannot fill this in later")
            .help(format!(
                "give it one with `-p {param}=10Gi` (or a default): Argo parses a claim's size before it substitutes parameters"
            ))
        })
        .collect()
}
