//! Files of a run (logs, outputs), read only from inside its folder.
//!
//! A path comes from a URL or from the database; either may be hostile. A
//! path is taken relative to the run's folder, refused when it has `..`, a
//! root or a drive, refused when any part of it is a symlink (which could
//! point anywhere), and refused when the canonical result is not inside
//! the canonical run folder.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use super::data::Error;
use crate::run::store::{RunRecord, StepRecord};

/// The most a single answer reads from a file.
const CHUNK: u64 = 256 * 1024;

/// A piece of a log, and the offset to ask for next.
#[derive(Debug)]
pub(super) struct LogChunk {
    pub(super) text: String,
    pub(super) next: u64,
}

/// `relative` inside `root`, or why not.
pub(super) fn resolve_inside(root: &Path, relative: &str) -> Result<PathBuf, Error> {
    let refused = || Error::NotFound(format!("`{relative}` is not a file of this run"));
    let relative_path = Path::new(relative);
    let plain = relative_path
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if relative.is_empty() || !plain {
        return Err(refused());
    }
    let mut walked = root.to_path_buf();
    for part in relative_path.components() {
        walked.push(part);
        let is_link = std::fs::symlink_metadata(&walked)
            .map(|m| m.file_type().is_symlink())
            .map_err(|_| refused())?;
        if is_link {
            return Err(refused());
        }
    }
    let root = root.canonicalize().map_err(|_| refused())?;
    let full = walked.canonicalize().map_err(|_| refused())?;
    if full.starts_with(&root) && full.is_file() {
        Ok(full)
    } else {
        Err(refused())
    }
}

/// A file of the run (`train/outputs/model`), at most [`CHUNK`] bytes of it.
pub(super) fn read_inside(run: &RunRecord, relative: &str) -> Result<Vec<u8>, Error> {
    let path = resolve_inside(Path::new(&run.run_dir), relative)?;
    read_from(&path, 0).map(|(bytes, _)| bytes)
}

/// `stdout` or `stderr` of `step`, from byte `from` on.
pub(super) fn log_chunk(
    run: &RunRecord,
    step: &str,
    stream: &str,
    from: u64,
) -> Result<LogChunk, Error> {
    let refused = || Error::NotFound(format!("no log `{stream}` for step `{step}`"));
    if !matches!(stream, "stdout" | "stderr") {
        return Err(refused());
    }
    let step = run
        .steps
        .iter()
        .find(|s| s.name == step)
        .ok_or_else(refused)?;
    let relative = relative_to_run(run, step).ok_or_else(refused)?;
    let path = resolve_inside(Path::new(&run.run_dir), &format!("{relative}/{stream}.log"));
    // A step that has not started has no log yet: that is an empty one.
    let Ok(path) = path else {
        return Ok(LogChunk {
            text: String::new(),
            next: from,
        });
    };
    let (mut bytes, _) = read_from(&path, from)?;
    // Cut at the last full line, so a character is never split between two
    // answers (a full chunk without any newline is sent whole).
    if bytes.len() as u64 == CHUNK
        && let Some(end) = bytes.iter().rposition(|&b| b == b'\n')
    {
        bytes.truncate(end + 1);
    }
    Ok(LogChunk {
        next: from + bytes.len() as u64,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// The step's folder relative to the run's (`train`), when it is inside.
pub(super) fn relative_to_run(run: &RunRecord, step: &StepRecord) -> Option<String> {
    Path::new(&step.step_dir)
        .strip_prefix(&run.run_dir)
        .ok()
        .and_then(Path::to_str)
        .map(str::to_string)
}

/// What the run page shows of a step beyond its record: its output files
/// and the start of its logs (the script fetches the rest as it comes).
#[derive(Debug)]
pub(super) struct StepFiles {
    pub(super) outputs: Vec<String>,
    pub(super) stdout: LogChunk,
    pub(super) stderr: LogChunk,
}

/// See [`StepFiles`].
pub(super) fn step_files(run: &RunRecord, step: &StepRecord) -> StepFiles {
    let log = |stream| {
        log_chunk(run, &step.name, stream, 0).unwrap_or(LogChunk {
            text: String::new(),
            next: 0,
        })
    };
    StepFiles {
        outputs: outputs(run, step),
        stdout: log("stdout"),
        stderr: log("stderr"),
    }
}

/// The files a step wrote to its outputs folder, relative to the run's folder.
fn outputs(run: &RunRecord, step: &StepRecord) -> Vec<String> {
    let Some(relative) = relative_to_run(run, step) else {
        return Vec::new();
    };
    let dir = Path::new(&run.run_dir).join(&relative).join("outputs");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .map(|name| format!("{relative}/outputs/{name}"))
        .collect();
    names.sort();
    names
}

fn read_from(path: &Path, from: u64) -> Result<(Vec<u8>, u64), Error> {
    let failed = |e: std::io::Error| Error::Store(format!("cannot read {}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(failed)?;
    file.seek(SeekFrom::Start(from)).map_err(failed)?;
    let mut bytes = Vec::new();
    file.take(CHUNK).read_to_end(&mut bytes).map_err(failed)?;
    let next = from + bytes.len() as u64;
    Ok((bytes, next))
}
