//! A step's pod metadata as recorded by `kfpl run`: its `display_name`,
//! `annotations` and `labels` (LANGUAGE-2.md: "recorded, shown by
//! `runs show`"). They are fixed when checking, so every instance of a step
//! has the same; they are kept as `settings.json` in the folder of each
//! instance that started (the run records' schema holds no place for them),
//! and `kfpl runs show` reads them back from there.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::check::ir::StepCluster;

/// The file in a step's folder.
const FILE: &str = "settings.json";

/// A step's recorded pod metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepSettings {
    /// The name KFP's UI shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Pod annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Pod labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl StepSettings {
    /// What a step's cluster settings record; `None` when nothing.
    pub(crate) fn of(cluster: &StepCluster) -> Option<StepSettings> {
        let settings = StepSettings {
            display_name: cluster.display_name.clone(),
            annotations: cluster.annotations.clone(),
            labels: cluster.labels.clone(),
        };
        (settings != StepSettings::default()).then_some(settings)
    }

    /// Writes them into `step_dir` (made if missing).
    pub(crate) fn write(&self, step_dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(step_dir)?;
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(step_dir.join(FILE), text + "\n")
    }

    /// The settings recorded in `step_dir`; `None` when it has none (a step
    /// without them, or one that never started).
    pub fn read(step_dir: &Path) -> Option<StepSettings> {
        let text = std::fs::read_to_string(step_dir.join(FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// One line: `display name "Train", annotations a=1 b=2, labels t=x`.
    pub fn summary(&self) -> String {
        let pairs = |map: &BTreeMap<String, String>| {
            map.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut parts = Vec::new();
        if let Some(name) = &self.display_name {
            parts.push(format!("display name {name:?}"));
        }
        if !self.annotations.is_empty() {
            parts.push(format!("annotations {}", pairs(&self.annotations)));
        }
        if !self.labels.is_empty() {
            parts.push(format!("labels {}", pairs(&self.labels)));
        }
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_back_as_written_and_sum_up_on_one_line() {
        let dir = std::env::temp_dir().join(format!("kfpl-settings-{}", std::process::id()));
        let settings = StepSettings {
            display_name: Some("Train".into()),
            annotations: BTreeMap::from([("example.com/team".into(), "vision".into())]),
            labels: BTreeMap::from([("tier".into(), "gold".into())]),
        };
        settings.write(&dir).unwrap();
        assert_eq!(StepSettings::read(&dir), Some(settings.clone()));
        assert_eq!(
            settings.summary(),
            "display name \"Train\", annotations example.com/team=vision, labels tier=gold"
        );
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(StepSettings::read(&dir), None);
    }
}
