//! The run store as the pages need it, opened afresh for each request so a
//! `kfpl run` writing the same database is seen as it goes (WAL; the store's
//! busy timeout covers a writer holding the lock).

use std::path::Path;

use crate::check::ir;
use crate::run::store::{RunRecord, Store};
use crate::source::SourceFile;

/// Why a page cannot be drawn.
#[derive(Debug)]
pub(super) enum Error {
    /// No such run (the text names it).
    NotFound(String),
    /// The database could not be read.
    Store(String),
}

impl From<crate::run::store::StoreError> for Error {
    fn from(error: crate::run::store::StoreError) -> Error {
        Error::Store(error.to_string())
    }
}

/// One run with the pipeline it ran, when its recorded source still checks.
#[derive(Debug)]
pub(super) struct RunView {
    pub(super) record: RunRecord,
    pub(super) pipeline: Option<ir::Pipeline>,
}

/// The store, or `None` when nothing was ever recorded (the folder is not
/// created just by looking).
fn open(state: &Path) -> Result<Option<Store>, Error> {
    if !state.join("kfpl.db").is_file() {
        return Ok(None);
    }
    // Read-write where possible, so abandoned runs are marked interrupted as
    // `kfpl runs` marks them; read-only where the folder is not writable.
    Ok(Some(Store::open_to_read(state)?))
}

/// Every run, oldest first, with metrics.
pub(super) fn runs(state: &Path) -> Result<Vec<RunRecord>, Error> {
    match open(state)? {
        Some(store) => Ok(store.runs(None)?),
        None => Ok(Vec::new()),
    }
}

/// One run (`r3` or `3`) with steps, metrics and its step graph.
pub(super) fn run(state: &Path, id: &str) -> Result<RunView, Error> {
    let missing = || Error::NotFound(format!("no run `{id}` is recorded"));
    let store = open(state)?.ok_or_else(missing)?;
    let id = store.resolve_id(id)?.ok_or_else(missing)?;
    let record = store.run(&id)?.ok_or_else(missing)?;
    let pipeline = store.source(&id)?.and_then(|text| {
        let file = SourceFile::new(record.source_path.clone(), text);
        crate::check(&file).pipeline
    });
    Ok(RunView { record, pipeline })
}

/// The runs named, in the order given, each with its steps.
pub(super) fn runs_by_id(state: &Path, ids: &[String]) -> Result<Vec<RunRecord>, Error> {
    let Some(store) = open(state)? else {
        return Ok(Vec::new());
    };
    let mut runs = Vec::new();
    for id in ids {
        let record = match store.resolve_id(id)? {
            Some(id) => store.run(&id)?,
            None => None,
        };
        runs.push(record.ok_or_else(|| Error::NotFound(format!("no run `{id}` is recorded")))?);
    }
    Ok(runs)
}
