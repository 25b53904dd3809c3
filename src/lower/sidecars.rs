//! `sidecar NAME { image, command, env }` on Argo: one entry of the step
//! template's `sidecars`, with `mirrorVolumeMounts` so it sees the step's
//! mounts (a local sidecar runs in the step's sandbox and sees them too).
//! Argo starts sidecars with the main container and, once main has ended
//! and its outputs are saved, sends them SIGTERM, then SIGKILL after the
//! grace period; a sidecar that exits non-zero on its own fails the step.
//!
//! Its values are fixed (checked): the command runs as written (a string
//! as `sh -c SCRIPT`), escaped only for the kubelet's `$(VAR)` expansion.
//! Argo substitutes `{{…}}` in every container of a template, so text with
//! `{{` is E0501.

use k8s_openapi::api::core::v1::{Container, EnvVar};

use super::argo_types::Sidecar as ArgoSidecar;
use super::names::kubernetes_name;
use super::text::k8s_escape;
use crate::check::ir::{Pipeline, Sidecar};
use crate::diagnostics::Diagnostic;

/// The template's `sidecars` for a step's sidecars.
pub(super) fn containers(sidecars: &[Sidecar]) -> Vec<ArgoSidecar> {
    sidecars
        .iter()
        .map(|sidecar| ArgoSidecar {
            container: Container {
                name: kubernetes_name(&sidecar.name),
                image: Some(sidecar.image.clone()),
                command: Some(sidecar.argv.iter().map(|a| k8s_escape(a)).collect()),
                env: Some(
                    sidecar
                        .env
                        .iter()
                        .map(|(name, value)| EnvVar {
                            name: name.clone(),
                            value: Some(k8s_escape(value)),
                            value_from: None,
                        })
                        .collect(),
                )
                .filter(|env: &Vec<EnvVar>| !env.is_empty()),
                ..Container::default()
            },
            mirror_volume_mounts: true,
        })
        .collect()
}

/// E0501 for a sidecar's text holding `{{`.
pub(super) fn braces(pipeline: &Pipeline) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for step in &pipeline.steps {
        for sidecar in &step.sidecars {
            let texts = std::iter::once(&sidecar.image)
                .chain(&sidecar.argv)
                .chain(sidecar.env.iter().map(|(_, v)| v));
            if texts.into_iter().any(|t| t.contains("{{")) {
                errors.push(super::checks::braces(
                    &format!("sidecar `{}` of step `{}`", sidecar.name, step.name),
                    sidecar.span,
                ));
            }
        }
    }
    errors
}
