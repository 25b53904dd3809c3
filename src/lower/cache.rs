//! `cache` on Argo, the way KFP 1.8 writes it: KFP's API server labels every
//! pod for its cache webhook, so a cached step needs nothing, and a step
//! without `cache = true` opts out with the annotation KFP's compiler writes
//! for `op.execution_options.caching_strategy.max_cache_staleness = "P0D"`
//! (a cached result at most zero days old: never one).

use super::argo_types::{Metadata, Template};
use crate::check::ir::Step;

/// KFP's per-template cache setting.
pub(crate) const MAX_CACHE_STALENESS: &str = "pipelines.kubeflow.org/max_cache_staleness";

/// Reuse nothing: the value for a step without `cache = true`.
const NEVER: &str = "P0D";

/// The annotation on the template of a step that is not cached.
pub(super) fn step(step: &Step, template: &mut Template) {
    if step.cache {
        return;
    }
    template
        .metadata
        .get_or_insert_with(Metadata::default)
        .annotations
        .insert(MAX_CACHE_STALENESS.to_string(), NEVER.to_string());
}
