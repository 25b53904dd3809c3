//! Names in the compiled workflow: templates, tasks, volumes, paths.
//!
//! Step and pipeline identifiers (`[a-z_][a-z0-9_]*`, checked to become
//! DNS-1123 labels) turn into Kubernetes names with `_` → `-`, which is
//! injective because identifiers hold no `-`. kfpl's own names (the DAG
//! template, scratch volumes) could still meet a user's name, so a
//! [`Namer`] hands out each name once, adding `-2`, `-3`, … on a clash. Names
//! are handed out in a fixed order, so the output never changes between runs.

use std::collections::BTreeSet;

pub(crate) use crate::check::values::kubernetes_name;

/// Where a step's `KFP_OUTPUTS` directory is (an `emptyDir`).
pub(crate) const OUTPUTS_DIR: &str = "/kfp/outputs";
/// The working directory of a step with `sync_source` (an `emptyDir`).
pub(crate) const WORK_DIR: &str = "/kfp/work";
/// Where `sync_source` repositories are cloned, under [`WORK_DIR`].
pub(crate) const CODE_DIR: &str = "/kfp/work/code";
/// Where KFP v1 reads a step's metrics from.
pub(crate) const METRICS_FILE: &str = "/mlpipeline-metrics.json";
/// The output artifact KFP v1 reads metrics from.
pub(crate) const METRICS_ARTIFACT: &str = "mlpipeline-metrics";
/// Where a step with `visuals = true` writes KFP UI metadata (KFP's own path).
pub(crate) const UI_METADATA_FILE: &str = "/mlpipeline-ui-metadata.json";
/// The output artifact KFP v1's UI reads visuals from.
pub(crate) const UI_METADATA_ARTIFACT: &str = "mlpipeline-ui-metadata";
/// The volume behind [`OUTPUTS_DIR`].
pub(crate) const OUTPUTS_VOLUME: &str = "kfpl-outputs";
/// The volume behind [`WORK_DIR`].
pub(crate) const WORK_VOLUME: &str = "kfpl-work";
/// The main container's name (Argo calls it `main` whatever it is given).
pub(crate) const MAIN_CONTAINER: &str = "main";
/// The init container that clones `sync_source`.
pub(crate) const GIT_CONTAINER: &str = "git-sync";

/// Paths a `data` claim may not be mounted at (or, for the first group, under):
/// kfpl's and Argo's own directories.
pub(crate) fn reserved_mount(path: &str) -> Option<&'static str> {
    let under = |dir: &str| {
        path.strip_prefix(dir)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under(OUTPUTS_DIR) {
        Some(OUTPUTS_DIR)
    } else if under(CODE_DIR) {
        Some(CODE_DIR)
    } else if under("/var/run/argo") {
        Some("/var/run/argo")
    } else {
        [WORK_DIR, "/kfp", METRICS_FILE, UI_METADATA_FILE]
            .into_iter()
            .find(|reserved| path == *reserved)
    }
}

/// Hands out unique names.
#[derive(Debug, Default)]
pub(crate) struct Namer {
    used: BTreeSet<String>,
    max_len: usize,
}

impl Namer {
    /// Names of at most `max_len` bytes (63 for volumes, 128 for templates).
    pub(crate) fn new(max_len: usize) -> Namer {
        Namer {
            used: BTreeSet::new(),
            max_len,
        }
    }

    /// `base` when it is free, else `base-2`, `base-3`, … (shortened to fit).
    /// `base` must be a DNS-1123 label.
    pub(crate) fn claim(&mut self, base: &str) -> String {
        let mut candidate = truncate(base, self.max_len);
        let mut n = 2usize;
        // One search a name that is free (most are), where `contains` and
        // then `insert` searched the set twice.
        while !self.used.insert(candidate.clone()) {
            let suffix = format!("-{n}");
            let stem = truncate(base, self.max_len.saturating_sub(suffix.len()));
            candidate = format!("{stem}{suffix}");
            n += 1;
        }
        candidate
    }
}

/// At most `max` bytes, never ending in `-` (all names here are ASCII).
fn truncate(name: &str, max: usize) -> String {
    // A name of at most `max` bytes has at most `max` chars: nothing to
    // cut, and no chars to walk.
    let end = match name.len() <= max {
        true => name.len(),
        false => name.char_indices().nth(max).map_or(name.len(), |(i, _)| i),
    };
    // Cut in place and copied once (a collected copy, then a trimmed one, cost two).
    name[..end].trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namer_adds_suffixes_on_clashes() {
        let mut namer = Namer::new(63);
        assert_eq!(namer.claim("train"), "train");
        assert_eq!(namer.claim("train"), "train-2");
        assert_eq!(namer.claim("train"), "train-3");
        let long = "a".repeat(63);
        assert_eq!(namer.claim(&long), long);
        let second = namer.claim(&long);
        assert_eq!(second.len(), 63);
        assert!(second.ends_with("-2"));
    }

    #[test]
    fn identifiers_become_kubernetes_names() {
        assert_eq!(kubernetes_name("prepare_data"), "prepare-data");
        assert_eq!(kubernetes_name("a__b"), "a--b");
    }

    #[test]
    fn reserved_paths() {
        for path in [
            "/kfp",
            "/kfp/outputs",
            "/kfp/outputs/x",
            "/kfp/work",
            "/kfp/work/code",
            "/kfp/work/code/repo",
            "/var/run/argo",
            "/mlpipeline-metrics.json",
            "/mlpipeline-ui-metadata.json",
        ] {
            assert!(reserved_mount(path).is_some(), "{path}");
        }
        for path in ["/training", "/kfp/work/data", "/kfpx", "/tmp"] {
            assert_eq!(reserved_mount(path), None, "{path}");
        }
    }
}
