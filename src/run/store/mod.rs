//! Run records: an embedded SQLite database (`kfpl.db` in the state folder).
//!
//! `kfpl run` writes here as the run goes, one transaction per event (run
//! started, step started, step finished, run finished), so a kfpl that is
//! killed leaves a consistent record: its run stays `running` with the
//! process id that ran it, and the next [`Store::open`] marks it
//! `interrupted`. `kfpl runs` reads the same records.
//!
//! The schema is versioned with `PRAGMA user_version` and migrated forward on
//! open; `schema.sql` is version 1. Run ids are `r1`, `r2`, … in the order
//! runs start, across experiments.

mod cache;
mod query;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, ToSql, TransactionBehavior, params};

pub use query::{CachedFrom, MetricRecord, RunRecord, StepRecord, WarningRecord};

use super::protocol::StepReport;
pub use super::protocol::{RunStatus, StepStatus, UnknownStatus};
use crate::ir::MetricFormat;

/// The migrations, in order: entry `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("schema2.sql"),
    include_str!("schema3.sql"),
    include_str!("schema4.sql"),
    include_str!("schema5.sql"),
];

/// Why the records could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("run records at `{path}`: {source}")]
    Sqlite {
        /// The database.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The state folder could not be created.
    #[error("cannot create `{path}`: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The database was written by a newer kfpl.
    #[error("run records at `{path}` have schema version {found}; this kfpl knows up to {known}")]
    TooNew {
        /// The database.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
}

impl StoreError {
    /// A help line that fits the cause: a folder that cannot be written, a
    /// database that is damaged or not kfpl's, one from a newer kfpl.
    pub fn help(&self) -> &'static str {
        use rusqlite::ErrorCode;
        match self {
            StoreError::TooNew { .. } => {
                "these records were written by a newer kfpl: run that kfpl, or point `KFPL_HOME` at another folder"
            }
            StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(failure, _),
                ..
            } if matches!(
                failure.code,
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase
            ) =>
            {
                "`kfpl.db` is damaged or is not a kfpl database: move it aside (a new one is created) or point `KFPL_HOME` at another folder"
            }
            StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(failure, _),
                ..
            } if matches!(
                failure.code,
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked
            ) =>
            {
                "another program holds `kfpl.db` locked: wait for it to finish, then run again"
            }
            StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(failure, _),
                ..
            } if failure.code == ErrorCode::DiskFull => {
                "the disk holding the state folder is full: free space, or point `KFPL_HOME` at a folder with room"
            }
            StoreError::Sqlite { .. } | StoreError::Io { .. } => {
                "check that the state folder (`$KFPL_HOME`, else `.kfpl`) is writable"
            }
        }
    }
}

// The statuses' one text mapping is `as_str`/`FromStr` (in `protocol`);
// the records store and read exactly those words.
macro_rules! status_sql {
    ($($ty:ident),*) => {$(
        impl ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }
        impl FromSql for $ty {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<$ty> {
                value
                    .as_str()?
                    .parse()
                    .map_err(|e: UnknownStatus| FromSqlError::Other(Box::new(e)))
            }
        }
    )*};
}

status_sql!(RunStatus, StepStatus);

/// A run about to start.
#[derive(Debug, Clone)]
pub(crate) struct NewRun<'a> {
    /// The experiment (created when new).
    pub experiment: &'a str,
    /// The pipeline identifier.
    pub pipeline: &'a str,
    /// Its display name.
    pub pipeline_name: &'a str,
    /// The file as given.
    pub source_path: &'a str,
    /// The program text.
    pub source: &'a str,
    /// Every param's value.
    pub params: &'a BTreeMap<String, String>,
    /// When it started.
    pub started_ms: i64,
    /// Where its logs go: `runs/<id>` is appended.
    pub runs_dir: &'a Path,
    /// The run it resumes.
    pub resumed_from: Option<&'a str>,
    /// Where its steps run: `host`, `podman` or `docker`.
    pub engine: &'a str,
    /// `--no-cache`: no step is reused from an earlier run.
    pub no_cache: bool,
}

/// A step taken over from an earlier run: from the run being resumed
/// (`reused`) or from the cache (`cached`).
#[derive(Debug, Clone)]
pub(crate) struct Takeover<'a> {
    /// `reused` or `cached`.
    pub status: StepStatus,
    /// The new record's name.
    pub name: &'a str,
    /// The earlier record.
    pub old: &'a StepRecord,
    /// Its metrics.
    pub metrics: &'a [&'a MetricRecord],
    /// The new record's folder.
    pub step_dir: &'a str,
    /// Its start and end.
    pub times: (Option<i64>, Option<i64>),
    /// What `kfpl runs show` says of it.
    pub message: String,
    /// The run and step record a `cached` step came from.
    pub cached_from: Option<(&'a str, &'a str)>,
}

/// A run of a step the run has learnt of (see `schema4.sql`).
#[derive(Debug, Clone)]
pub(crate) struct NewStep<'a> {
    /// The record's name: `train`, `train[1] lr=0.1`, `next#2`.
    pub name: &'a str,
    /// The declared step.
    pub step: &'a str,
    /// Its place in the topological order (rows of one step keep the order they were added in).
    pub position: usize,
    /// The innermost loop's index, from 0.
    pub iteration: Option<u32>,
    /// The innermost repeat's pass, from 1.
    pub pass: Option<u32>,
    /// The image, rendered.
    pub image: &'a str,
    /// Its folder.
    pub step_dir: &'a Path,
}

/// The open database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    interrupted: Vec<String>,
}

impl Store {
    /// Opens (creating and migrating as needed) `<state>/kfpl.db`, then marks
    /// runs whose kfpl process is gone as `interrupted`.
    pub fn open(state: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(state).map_err(|source| StoreError::Io {
            path: state.to_path_buf(),
            source,
        })?;
        let path = state.join("kfpl.db");
        let sql = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(sql)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(sql)?;
        // WAL lets `kfpl runs` read while a run writes; another kfpl writing
        // waits on the busy timeout.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sql)?;
        let mut store = Store {
            conn,
            path,
            interrupted: Vec::new(),
        };
        store.migrate()?;
        store.interrupted = store.mark_interrupted()?;
        Ok(store)
    }

    /// Opens `<state>/kfpl.db` for `kfpl runs`: as [`Store::open`] does
    /// (marking abandoned runs `interrupted`) where the records can be
    /// written, else only to read them ([`Store::open_read_only`]), so that a
    /// read-only state folder can still be listed.
    pub fn open_to_read(state: &Path) -> Result<Store, StoreError> {
        Store::open(state).or_else(|_| Store::open_read_only(state))
    }

    /// Opens `<state>/kfpl.db` only to read it: nothing is created,
    /// migrated or marked. A database in WAL mode needs its `-shm` file; where it cannot
    /// be created, the file is read as immutable.
    pub fn open_read_only(state: &Path) -> Result<Store, StoreError> {
        use rusqlite::OpenFlags;
        let path = state.join("kfpl.db");
        let sql = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let readable = |conn: Connection| -> rusqlite::Result<Connection> {
            conn.busy_timeout(Duration::from_secs(10))?;
            conn.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))?;
            Ok(conn)
        };
        let conn = match Connection::open_with_flags(&path, flags).and_then(readable) {
            Ok(conn) => conn,
            Err(_) => {
                let uri = format!("file:{}?immutable=1", uri_path(&path));
                Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                    .and_then(readable)
                    .map_err(sql)?
            }
        };
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(sql)?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                path,
                found: version,
                known,
            });
        }
        Ok(Store {
            conn,
            path,
            interrupted: Vec::new(),
        })
    }

    /// Where the database is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs that [`Store::open`] found abandoned and marked `interrupted`.
    pub(crate) fn interrupted_on_open(&self) -> &[String] {
        &self.interrupted
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let known = MIGRATIONS.len() as i64;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| StoreError::Sqlite {
                path: self.path.clone(),
                source: e,
            })?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| StoreError::Sqlite {
                path: self.path.clone(),
                source: e,
            })?;
        if version > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                known,
            });
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let step = || -> rusqlite::Result<()> {
                tx.execute_batch(migration)?;
                tx.pragma_update(None, "user_version", index as i64 + 1)
            };
            step().map_err(|e| StoreError::Sqlite {
                path: self.path.clone(),
                source: e,
            })?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Marks `running` runs whose process is gone as `interrupted`; returns their ids.
    fn mark_interrupted(&mut self) -> Result<Vec<String>, StoreError> {
        let path = self.path.clone();
        let sql = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let running: Vec<(String, i64, Option<i64>, String)> = {
            let mut stmt = tx
                .prepare("SELECT id, pid, pid_start, run_dir FROM runs WHERE status = ?1")
                .map_err(sql)?;
            stmt.query_map([RunStatus::Running], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)?
        };
        let mut marked = Vec::new();
        for (id, pid, pid_start, run_dir) in running {
            if process_alive(pid, pid_start) {
                continue;
            }
            let stopped = stop_leftovers(&run_dir);
            let leftovers = match stopped {
                0 => String::new(),
                1 => "; stopped 1 process it left running".to_string(),
                n => format!("; stopped {n} processes it left running"),
            };
            tx.execute(
                "UPDATE runs SET status = ?3,
                   message = 'kfpl (pid ' || pid || ') stopped before the run finished' || ?2
                 WHERE id = ?1",
                params![id, leftovers, RunStatus::Interrupted],
            )
            .map_err(sql)?;
            tx.execute(
                "UPDATE steps SET status = ?2 WHERE run_id = ?1 AND status = ?3",
                params![id, StepStatus::Interrupted, StepStatus::Running],
            )
            .map_err(sql)?;
            tx.execute(
                "UPDATE steps SET status = ?2, message = 'the run was interrupted'
                 WHERE run_id = ?1 AND status = ?3",
                params![id, StepStatus::Skipped, StepStatus::Pending],
            )
            .map_err(sql)?;
            marked.push(id);
        }
        tx.commit().map_err(sql)?;
        Ok(marked)
    }

    /// Records a new run (status `running`), no steps yet; returns its id and folder.
    pub(crate) fn begin_run(&mut self, run: &NewRun<'_>) -> Result<(String, PathBuf), StoreError> {
        let path = self.path.clone();
        let sql = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let (pid, pid_start) = own_process();
        let params_json = serde_json::to_string(run.params).unwrap_or_else(|_| "{}".into());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        tx.execute(
            "INSERT OR IGNORE INTO experiments (name, created_ms) VALUES (?1, ?2)",
            params![run.experiment, run.started_ms],
        )
        .map_err(sql)?;
        let experiment_id: i64 = tx
            .query_row(
                "SELECT id FROM experiments WHERE name = ?1",
                [run.experiment],
                |row| row.get(0),
            )
            .map_err(sql)?;
        let first: i64 = tx
            .query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM runs", [], |row| {
                row.get(0)
            })
            .map_err(sql)?;
        let (seq, run_dir) = claim_run_dir(run.runs_dir, first)?;
        let id = format!("r{seq}");
        tx.execute(
            "INSERT INTO runs (seq, id, experiment_id, pipeline, pipeline_name, source_path,
               source_hash, source, params, status, started_ms, pid, pid_start, run_dir, resumed_from, engine,
               no_cache)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?15, ?10, ?11, ?12, ?13, ?14, ?16, ?17)",
            params![
                seq,
                id,
                experiment_id,
                run.pipeline,
                run.pipeline_name,
                run.source_path,
                source_hash(run.source),
                run.source,
                params_json,
                run.started_ms,
                pid,
                pid_start,
                run_dir.to_string_lossy(),
                run.resumed_from,
                RunStatus::Running,
                run.engine,
                run.no_cache,
            ],
        )
        .map_err(sql)?;
        if let Err(e) = tx.commit() {
            // The folder is ours: leave no empty folder behind a run that was never recorded.
            let _ = std::fs::remove_dir(&run_dir);
            return Err(sql(e));
        }
        Ok((id, run_dir))
    }

    /// Records a run of a step as `pending`.
    pub(crate) fn add_step(&mut self, run: &str, step: &NewStep<'_>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO steps (run_id, name, position, image, status, step_dir, step, iteration, pass)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    run,
                    step.name,
                    step.position as i64,
                    step.image,
                    StepStatus::Pending,
                    step.step_dir.to_string_lossy(),
                    step.step,
                    step.iteration,
                    step.pass,
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// A pending step is taken over from an earlier run: its old record's
    /// outputs and metrics, in one transaction.
    pub(crate) fn take_over_step(
        &mut self,
        run: &str,
        takeover: &Takeover<'_>,
    ) -> Result<(), StoreError> {
        let Takeover { old, .. } = takeover;
        let path = self.path.clone();
        let sql = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute(
            "UPDATE steps SET status = ?3, attempts = 0, started_ms = ?4, ended_ms = ?5,
               exit_code = ?6, gpus = ?7, outputs = ?8, step_dir = ?9, message = ?10,
               cached_from_run = ?11, cached_from_step = ?12
             WHERE run_id = ?1 AND name = ?2",
            params![
                run,
                takeover.name,
                takeover.status,
                takeover.times.0,
                takeover.times.1,
                old.exit_code,
                old.gpus,
                serde_json::to_string(&old.outputs).unwrap_or_else(|_| "{}".into()),
                takeover.step_dir,
                takeover.message,
                takeover.cached_from.map(|(run, _)| run),
                takeover.cached_from.map(|(_, step)| step),
            ],
        )
        .map_err(sql)?;
        for metric in takeover.metrics {
            tx.execute(
                "INSERT OR REPLACE INTO metrics (run_id, step, name, value, format)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![run, takeover.name, metric.name, metric.value, metric.format],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    /// Records a warning the run gave (shown again by `kfpl runs show`).
    pub(crate) fn warning(
        &mut self,
        run: &str,
        step: Option<&str>,
        code: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO warnings (run_id, step, code, message) VALUES (?1, ?2, ?3, ?4)",
                params![run, step, code, message],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// A step's attempt started.
    pub(crate) fn step_started(
        &mut self,
        run: &str,
        step: &str,
        attempt: u32,
        started_ms: i64,
        gpus: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE steps SET status = ?6, attempts = ?3,
                   started_ms = COALESCE(started_ms, ?4), gpus = ?5
                 WHERE run_id = ?1 AND name = ?2",
                params![run, step, attempt, started_ms, gpus, StepStatus::Running],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// A step ended (or was skipped): its record and its metrics, in one transaction.
    pub fn step_finished(&mut self, run: &str, step: &StepReport) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sql = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute(
            "UPDATE steps SET status = ?3, attempts = ?4, started_ms = COALESCE(started_ms, ?5),
               ended_ms = ?6, exit_code = ?7, signal = ?8, outputs = ?9, message = ?10
             WHERE run_id = ?1 AND name = ?2",
            params![
                run,
                step.name,
                step.status,
                step.attempts,
                step.started_ms,
                step.ended_ms,
                step.exit_code,
                step.signal,
                serde_json::to_string(&step.outputs).unwrap_or_else(|_| "{}".into()),
                step.problem.as_ref().map(|p| p.message.as_str()),
            ],
        )
        .map_err(sql)?;
        for metric in &step.metrics {
            tx.execute(
                "INSERT OR REPLACE INTO metrics (run_id, step, name, value, format)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    run,
                    step.name,
                    metric.name,
                    metric.value,
                    metric_format_name(metric.format)
                ],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    /// The run ended.
    pub(crate) fn finish_run(
        &mut self,
        run: &str,
        status: RunStatus,
        ended_ms: i64,
        exit_code: i32,
        message: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE runs SET status = ?2, ended_ms = ?3, exit_code = ?4, message = ?5 WHERE id = ?1",
                params![run, status, ended_ms, exit_code, message],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The run's id when it exists (`r3`, `3` or `R3`).
    pub fn resolve_id(&self, id: &str) -> Result<Option<String>, StoreError> {
        let id = id.trim();
        let id = if id.chars().all(|c| c.is_ascii_digit()) {
            format!("r{id}")
        } else {
            id.to_ascii_lowercase()
        };
        self.conn
            .query_row("SELECT id FROM runs WHERE id = ?1", [&id], |row| row.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }
}

/// The first free run number from `first` on and its folder, created: a
/// folder that exists belongs to another run (one recorded in a `kfpl.db`
/// that was since lost or replaced), so its number is skipped, never reused.
/// `create_dir` either makes the folder or fails, so two kfpl processes
/// cannot claim the same one.
fn claim_run_dir(runs_dir: &Path, first: i64) -> Result<(i64, PathBuf), StoreError> {
    std::fs::create_dir_all(runs_dir).map_err(|source| StoreError::Io {
        path: runs_dir.to_path_buf(),
        source,
    })?;
    let mut seq = first;
    loop {
        let dir = runs_dir.join(format!("r{seq}"));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((seq, dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => seq += 1,
            Err(source) => return Err(StoreError::Io { path: dir, source }),
        }
    }
}

/// A path as the path part of an SQLite `file:` URI (`?`, `#` and `%` escaped).
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
}

/// `raw` or `percentage`: a metric's format as recorded.
pub(crate) fn metric_format_name(format: MetricFormat) -> &'static str {
    match format {
        MetricFormat::Raw => "raw",
        MetricFormat::Percentage => "percentage",
    }
}

/// FNV-1a, 64 bits, as 16 hex digits: identifies a program text (not a security hash).
pub fn source_hash(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// This process's id and start time.
fn own_process() -> (i64, Option<i64>) {
    let pid = i64::from(std::process::id());
    (pid, process_start(pid))
}

/// A process's start time in clock ticks after boot (`/proc/PID/stat`, field 22).
fn process_start(pid: i64) -> Option<i64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: split after the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Kills (SIGKILL) the processes a dead kfpl left running for a run: those
/// whose environment holds `KFPL_RUN_DIR=<run_dir>` (every step process gets
/// it, and its children inherit it). Returns how many.
fn stop_leftovers(run_dir: &str) -> usize {
    super::reap::kill_tagged("KFPL_RUN_DIR", run_dir)
}

/// Whether the process that wrote a run is still the same live process.
fn process_alive(pid: i64, recorded_start: Option<i64>) -> bool {
    match (process_start(pid), recorded_start) {
        (Some(now), Some(then)) => now == then,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_start_time_is_readable_and_stable() {
        let (pid, start) = own_process();
        assert!(start.is_some());
        assert!(process_alive(pid, start));
        assert!(!process_alive(pid, start.map(|s| s + 1)));
    }

    const STEP_STATUSES: [StepStatus; 9] = [
        StepStatus::Pending,
        StepStatus::Running,
        StepStatus::Succeeded,
        StepStatus::Failed,
        StepStatus::Skipped,
        StepStatus::Cancelled,
        StepStatus::Reused,
        StepStatus::Interrupted,
        StepStatus::Cached,
    ];

    #[test]
    fn statuses_read_back_what_they_write() {
        for status in STEP_STATUSES {
            assert_eq!(status.as_str().parse::<StepStatus>(), Ok(status));
        }
        for status in [
            RunStatus::Running,
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Cancelled,
            RunStatus::Interrupted,
        ] {
            assert_eq!(status.as_str().parse::<RunStatus>(), Ok(status));
        }
        assert_eq!(
            "Succeeded".parse::<StepStatus>(),
            Err(UnknownStatus("Succeeded".into()))
        );
    }

    /// Databases written before the statuses were typed hold these words:
    /// they must still read, and new rows must hold the same.
    #[test]
    fn status_columns_hold_the_schema_words() {
        let words = [
            "pending",
            "running",
            "succeeded",
            "failed",
            "skipped",
            "cancelled",
            "reused",
            "interrupted",
            "cached",
        ];
        let conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        for (status, word) in STEP_STATUSES.iter().zip(words) {
            let stored: String = conn
                .query_row("SELECT ?1", [status], |row| row.get(0))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(stored, word);
            let read: StepStatus = conn
                .query_row("SELECT ?1", [word], |row| row.get(0))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(read, *status);
        }
        let bad: rusqlite::Result<StepStatus> =
            conn.query_row("SELECT 'done'", [], |row| row.get(0));
        assert!(bad.is_err(), "an unknown word is an error, not a guess");
    }

    /// A folder left by a run whose record was lost is never reused.
    #[test]
    fn run_folders_that_exist_are_skipped() {
        let runs = std::env::temp_dir().join(format!("kfpl-claim-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&runs);
        std::fs::create_dir_all(runs.join("r1")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(runs.join("r2")).unwrap_or_else(|e| panic!("{e}"));
        let (seq, dir) = claim_run_dir(&runs, 1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((seq, dir.clone()), (3, runs.join("r3")));
        assert!(dir.is_dir());
        let (seq, _) = claim_run_dir(&runs, 3).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(seq, 4, "the folder just claimed is taken too");
        let _ = std::fs::remove_dir_all(&runs);
    }

    #[test]
    fn sqlite_uri_paths_escape_query_characters() {
        assert_eq!(uri_path(Path::new("/a b/c?d#e%f")), "/a b/c%3fd%23e%25f");
    }

    #[test]
    fn source_hash_is_fnv1a() {
        assert_eq!(source_hash(""), "cbf29ce484222325");
        assert_eq!(source_hash("a"), "af63dc4c8601ec8c");
    }
}
