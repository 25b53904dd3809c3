//! `output NAME: file` locally: a file or folder a step writes at
//! `$KFP_OUTPUTS/NAME`, kept with the run and handed to every reader as a
//! path, never copied.
//!
//! When the step ends well the output stays where it was written, in the
//! step's own `outputs/` folder of the run (nothing moves, nothing is
//! copied, whether it holds 1 KB or 10 GB): its files lose their write
//! permission, and its record is its place among the runs and its size
//! (`r3/train/outputs/model (file, 1073741824 bytes)`), which `runs show`
//! lists as the output's value. A run resumed from r3 reuses the record,
//! and its readers read r3's file.
//!
//! A reader's `$<train.model>` is the kept output's absolute path. The
//! producer's `outputs/` folder is bound read-only over itself for the
//! reader: in its private mount namespace on the host engine (the
//! sandbox), with `--volume DIR:DIR:ro` under podman and docker. A
//! read-only mount stops a reader running as root too, which write
//! permissions do not, and is made in constant time whatever the size.
//! Without a mount namespace on the host, the permissions are all that is
//! left, and the run warns (W0609).

use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// Why a file output cannot be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeepError {
    /// The step never made it (E0612).
    Missing(String),
    /// It is something else than a file or a folder, or cannot be read (E0610).
    Bad(String),
}

/// What a kept output holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Size {
    bytes: u64,
    files: u64,
}

/// Keeps output `name` of the step whose outputs folder is `outputs`, in a
/// run kept in `run_dir`; its record (the output's value text).
pub(crate) fn keep(run_dir: &Path, outputs: &Path, name: &str) -> Result<String, KeepError> {
    let path = outputs.join(name);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(KeepError::Missing(crate::check::types::missing_message(
                name,
                crate::check::ir::ParamType::File,
            )));
        }
        Err(e) => return Err(KeepError::Bad(format!("cannot read output `{name}`: {e}"))),
    };
    let kind = if meta.is_dir() { "folder" } else { "file" };
    if !meta.is_dir() && !meta.is_file() {
        return Err(KeepError::Bad(format!(
            "output `{name}` is not a file or a folder; write one at $KFP_OUTPUTS/{name}"
        )));
    }
    let size = seal(&path).map_err(|e| KeepError::Bad(format!("output `{name}`: {e}")))?;
    let relative = path.strip_prefix(runs_dir(run_dir)).unwrap_or(&path);
    let size = match kind {
        "folder" if size.files == 1 => format!("folder, 1 file, {} bytes", size.bytes),
        "folder" => format!("folder, {} files, {} bytes", size.files, size.bytes),
        _ => format!("file, {} bytes", size.bytes),
    };
    Ok(format!("{} ({size})", relative.display()))
}

/// Takes the write permission off every file under `path` (folders keep
/// theirs, so the run can still be deleted) and counts what it holds.
/// Symbolic links inside a folder stay links; FIFOs, sockets and devices
/// are refused: a reader could hang on, or reach outside through, them.
fn seal(path: &Path) -> Result<Size, String> {
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Ok(Size::default());
    }
    if kind.is_file() {
        let mut permissions = meta.permissions();
        permissions.set_mode(permissions.mode() & !0o222);
        std::fs::set_permissions(path, permissions)
            .map_err(|e| format!("cannot make `{}` read-only: {e}", path.display()))?;
        return Ok(Size {
            bytes: meta.len(),
            files: 1,
        });
    }
    if !kind.is_dir() {
        return Err(format!(
            "`{}` is not a file, a folder or a symbolic link",
            path.display()
        ));
    }
    let mut size = Size::default();
    let entries =
        std::fs::read_dir(path).map_err(|e| format!("cannot list `{}`: {e}", path.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list `{}`: {e}", path.display()))?;
        let inner = seal(&entry.path())?;
        size.bytes += inner.bytes;
        size.files += inner.files;
    }
    Ok(size)
}

/// The absolute path of the kept output a record names, for a reader:
/// `None` unless the record's path stays inside the run's folder.
pub(crate) fn reader_path(record: &str, run_dir: &Path) -> Option<PathBuf> {
    let (relative, _size) = record.rsplit_once(" (")?;
    let relative = Path::new(relative);
    let inside = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    (inside && relative.components().count() > 1).then(|| runs_dir(run_dir).join(relative))
}

/// The record of a kept output once its step's `outputs/` folder is linked
/// into `step_dir` (a cached step): the same output, in the new folder, so
/// the new run never reads the earlier run's folder.
pub(crate) fn moved_record(record: &str, run_dir: &Path, step_dir: &Path) -> Option<String> {
    let (relative, size) = record.rsplit_once(" (")?;
    let name = Path::new(relative).file_name()?;
    let step = step_dir.strip_prefix(runs_dir(run_dir)).ok()?;
    let moved = step.join("outputs").join(name);
    Some(format!("{} ({size}", moved.to_str()?))
}

/// The folder of every run: a record names its run, so a resumed run's
/// readers find the file a reused step kept in the run it comes from.
fn runs_dir(run_dir: &Path) -> &Path {
    run_dir.parent().unwrap_or(run_dir)
}

/// The folder a reader gets read-only to see the output at `path`: the
/// producer's `outputs/` folder.
pub(crate) fn mount_folder(path: &Path) -> Option<&Path> {
    path.parent()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("kfpl-artifacts-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("r1/train/outputs")).unwrap();
        dir.join("r1")
    }

    #[test]
    fn a_kept_file_is_recorded_with_its_size_and_loses_its_write_permission() {
        let run = scratch("file");
        let outputs = run.join("train/outputs");
        std::fs::write(outputs.join("model"), b"weights").unwrap();
        let record = keep(&run, &outputs, "model").unwrap();
        assert_eq!(record, "r1/train/outputs/model (file, 7 bytes)");
        let mode = std::fs::metadata(outputs.join("model"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o222, 0);
        assert_eq!(reader_path(&record, &run), Some(outputs.join("model")));
        std::fs::remove_dir_all(run.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_kept_folder_counts_its_files_and_a_missing_output_is_missing() {
        let run = scratch("folder");
        let outputs = run.join("train/outputs");
        std::fs::create_dir_all(outputs.join("data/deep")).unwrap();
        std::fs::write(outputs.join("data/a"), b"12").unwrap();
        std::fs::write(outputs.join("data/deep/b"), b"345").unwrap();
        let record = keep(&run, &outputs, "data").unwrap();
        assert_eq!(record, "r1/train/outputs/data (folder, 2 files, 5 bytes)");
        assert!(matches!(
            keep(&run, &outputs, "none"),
            Err(KeepError::Missing(_))
        ));
        std::fs::remove_dir_all(run.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_record_cannot_point_outside_the_run() {
        let run = Path::new("/runs/r1");
        assert_eq!(reader_path("../r2/x (file, 1 bytes)", run), None);
        assert_eq!(reader_path("x (file, 1 bytes)", run), None);
        assert_eq!(
            reader_path("r0/a/outputs/x (file, 1 bytes)", run),
            Some(PathBuf::from("/runs/r0/a/outputs/x"))
        );
        assert_eq!(reader_path("/etc/passwd (file, 1 bytes)", run), None);
        assert_eq!(reader_path("no size", run), None);
    }
}
