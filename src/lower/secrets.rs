//! `secret_env` and `secret_volumes` on Argo: each variable is an
//! `env[].valueFrom.secretKeyRef` of the main container, each secret a
//! `secret` volume declared once in `spec.volumes` (like claims) and mounted
//! read-only where the step asked. Values never enter the workflow: the
//! cluster reads them when the pod starts.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    EnvVar, EnvVarSource, SecretKeySelector, SecretVolumeSource, Volume, VolumeMount,
};

use super::names::{Namer, reserved_mount};
use crate::check::ir::{Pipeline, Step};
use crate::diagnostics::{Code, Diagnostic};

/// The volume of each secret some step mounts.
#[derive(Debug, Default)]
pub(super) struct SecretVolumes {
    /// Secret → volume name.
    names: BTreeMap<String, String>,
}

impl SecretVolumes {
    /// Names a volume for each secret mounted anywhere in `pipeline`.
    pub(super) fn new(pipeline: &Pipeline, namer: &mut Namer) -> SecretVolumes {
        let secrets: BTreeSet<&str> = pipeline
            .steps
            .iter()
            .flat_map(|s| s.secret_volumes.iter().map(|v| v.secret.as_str()))
            .collect();
        let names = secrets
            .into_iter()
            .map(|secret| (secret.to_string(), namer.claim(&format!("secret-{secret}"))))
            .collect();
        SecretVolumes { names }
    }

    /// The read-only mounts of `step`'s secrets.
    pub(super) fn mounts(&self, step: &Step) -> Vec<VolumeMount> {
        step.secret_volumes
            .iter()
            .filter_map(|volume| {
                Some(VolumeMount {
                    name: self.names.get(&volume.secret)?.clone(),
                    mount_path: volume.path.clone(),
                    read_only: Some(true),
                    ..VolumeMount::default()
                })
            })
            .collect()
    }

    /// Their entries of `spec.volumes`.
    pub(super) fn declare(&self) -> impl Iterator<Item = Volume> + '_ {
        self.names.iter().map(|(secret, name)| Volume {
            name: name.clone(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret.clone()),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        })
    }
}

/// The main container's variables read from secrets.
pub(super) fn env(step: &Step) -> impl Iterator<Item = EnvVar> + '_ {
    step.secret_env.iter().map(|var| EnvVar {
        name: var.name.clone(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: var.secret.clone(),
                key: var.key.clone(),
                optional: None,
            }),
            ..EnvVarSource::default()
        }),
    })
}

/// E0502 for a secret mounted where kfpl or Argo keep their own files.
pub(super) fn reserved_mounts(pipeline: &Pipeline) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for step in &pipeline.steps {
        for volume in &step.secret_volumes {
            let Some(reserved) = reserved_mount(&volume.path) else {
                continue;
            };
            errors.push(
                Diagnostic::new(
                    Code::E0502,
                    format!(
                        "step `{}` mounts secret `{}` at `{}`, where kfpl or Argo keep their own files",
                        step.name, volume.secret, volume.path
                    ),
                )
                .primary(volume.span, format!("`{reserved}` is reserved"))
                .help(format!(
                    "mount the secret somewhere else, such as `{}:/etc/{}`",
                    volume.secret, volume.secret
                )),
            );
        }
    }
    errors
}
