//! `volume NAME { … }` under `kfpl run`: a folder of the run,
//! `<run folder>/kfpl-volumes/NAME`, made when the run starts and mounted (like
//! a `data` claim: the sandbox's bind mount, an engine's `--volume`) at
//! the path of each step that names it. It is removed when the run ends,
//! however it ended, unless the volume says `keep = true`; `kfpl runs show`
//! lists the kept ones. `size`, `access_mode` and `storage_class` are the
//! cluster's business: a local folder has neither quota nor class.

use std::path::{Path, PathBuf};

use crate::check::ir::Volume;

/// The folder holding a run's volumes. Its `-` keeps it apart from the
/// step folders beside it (`train`, `train[1]`, `next#2`), whose names
/// never hold one: a step called `volumes` is a step like any other.
const VOLUMES: &str = "kfpl-volumes";

/// The folder of volume `name` in the run folder `run_dir`.
pub(crate) fn volume_dir(run_dir: &Path, name: &str) -> PathBuf {
    run_dir.join(VOLUMES).join(name)
}

/// Makes each volume's folder. A folder that cannot be made is left for
/// the first step that mounts it, which fails saying why (E0607).
pub(crate) fn create(volumes: &[Volume], run_dir: &Path) {
    for volume in volumes {
        let _ = std::fs::create_dir_all(volume_dir(run_dir, &volume.name));
    }
}

/// Removes the folder of each volume without `keep` (and `kfpl-volumes/` when
/// nothing is left in it).
pub(crate) fn remove_unkept(volumes: &[Volume], run_dir: &Path) {
    for volume in volumes.iter().filter(|v| !v.keep) {
        let _ = std::fs::remove_dir_all(volume_dir(run_dir, &volume.name));
    }
    let _ = std::fs::remove_dir(run_dir.join(VOLUMES));
}

/// The kept volumes of a finished run: each folder under `kfpl-volumes/`.
pub fn kept(run_dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(run_dir.join(VOLUMES)) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::ir::Template;
    use crate::source::Span;

    fn volume(name: &str, keep: bool) -> Volume {
        Volume {
            name: name.into(),
            claim: name.replace('_', "-"),
            size: Template {
                parts: Box::default(),
                span: Span::DETACHED,
            },
            access_mode: "ReadWriteOnce".into(),
            storage_class: None,
            keep,
            span: Span::DETACHED,
        }
    }

    #[test]
    fn unkept_folders_go_and_kept_ones_stay() {
        let run_dir = std::env::temp_dir().join(format!("kfpl-volumes-{}", std::process::id()));
        let volumes = [volume("scratch", false), volume("models", true)];
        create(&volumes, &run_dir);
        std::fs::write(volume_dir(&run_dir, "scratch").join("f"), "x").unwrap();
        assert!(volume_dir(&run_dir, "models").is_dir());
        remove_unkept(&volumes, &run_dir);
        assert!(!volume_dir(&run_dir, "scratch").exists());
        assert_eq!(
            kept(&run_dir),
            vec![("models".to_string(), volume_dir(&run_dir, "models"))]
        );
        let _ = std::fs::remove_dir_all(&run_dir);
    }
}
