//! Reading run records back: for `kfpl runs list/show/compare` and `--resume`.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, Row, params};

use super::{RunStatus, StepStatus, Store, StoreError};

/// One recorded run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunRecord {
    /// `r1`, `r2`, …
    pub id: String,
    /// The experiment it belongs to.
    pub experiment: String,
    /// The pipeline identifier.
    pub pipeline: String,
    /// The pipeline's display name.
    pub pipeline_name: String,
    /// The file as given to `kfpl run`.
    pub source_path: String,
    /// FNV-1a 64 of the program text.
    pub source_hash: String,
    /// How it ended, or that it has not.
    pub status: RunStatus,
    /// Every param's value.
    pub params: BTreeMap<String, String>,
    /// Start, RFC 3339 UTC.
    pub started_at: String,
    /// End, RFC 3339 UTC.
    pub ended_at: Option<String>,
    /// Seconds from start to end.
    pub duration_s: Option<f64>,
    /// Start, milliseconds since the epoch.
    #[serde(skip)]
    pub started_ms: i64,
    /// kfpl's exit status.
    pub exit_code: Option<i32>,
    /// The kfpl process that ran it.
    pub pid: i64,
    /// Logs and working directories.
    pub run_dir: String,
    /// The run it resumed.
    pub resumed_from: Option<String>,
    /// The container engine its steps ran in (`podman`, `docker`); absent
    /// for runs on the host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// Why it did not succeed.
    pub message: Option<String>,
    /// Its steps in order (empty in listings).
    pub steps: Vec<StepRecord>,
    /// Every declared metric of every step, missing ones with `value: null`.
    pub metrics: Vec<MetricRecord>,
    /// The warnings the run gave, in order (empty in listings).
    pub warnings: Vec<WarningRecord>,
}

/// A warning a run gave (`W06xx`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct WarningRecord {
    /// The step concerned, if one is.
    pub step: Option<String>,
    /// `W0606`, …
    pub code: String,
    /// What it said.
    pub message: String,
}

/// One run of a step in a recorded run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepRecord {
    /// The record's name: the step identifier, with `[i]` for each loop
    /// iteration and `#p` for each repeat pass around it and the items
    /// (`train[1] lr=0.1`, `next#2`).
    pub name: String,
    /// The declared step.
    pub step: String,
    /// The innermost loop's iteration, from 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iteration: Option<u32>,
    /// The innermost repeat's pass, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass: Option<u32>,
    /// The image (recorded, not pulled).
    pub image: String,
    /// Where it stands.
    pub status: StepStatus,
    /// Attempts made.
    pub attempts: u32,
    /// First start, RFC 3339 UTC.
    pub started_at: Option<String>,
    /// Last end, RFC 3339 UTC.
    pub ended_at: Option<String>,
    /// Seconds from start to end.
    pub duration_s: Option<f64>,
    /// Milliseconds since the epoch.
    #[serde(skip)]
    pub started_ms: Option<i64>,
    /// Milliseconds since the epoch.
    #[serde(skip)]
    pub ended_ms: Option<i64>,
    /// The last attempt's exit code.
    pub exit_code: Option<i32>,
    /// The signal that ended it.
    pub signal: Option<i32>,
    /// `CUDA_VISIBLE_DEVICES` it ran with.
    pub gpus: String,
    /// Output values.
    pub outputs: BTreeMap<String, String>,
    /// The step's folder (working directory, outputs, logs).
    pub step_dir: String,
    /// Its stdout log.
    pub stdout_log: String,
    /// Its stderr log.
    pub stderr_log: String,
    /// Why it failed or was skipped.
    pub message: Option<String>,
    /// A `cached` step: the run and step record it was reused from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_from: Option<CachedFrom>,
}

/// Where a `cached` step was reused from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CachedFrom {
    /// The run.
    pub run: String,
    /// The step record in it.
    pub step: String,
}

/// One metric of one step of a run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MetricRecord {
    /// The step that declared it.
    pub step: String,
    /// Its declared name.
    pub name: String,
    /// The last value printed; `None` when never printed (missing, not zero).
    pub value: Option<f64>,
    /// `raw` or `percentage`.
    pub format: String,
    /// Whether it is missing.
    pub missing: bool,
}

const RUN_COLUMNS: &str = "r.id, e.name, r.pipeline, r.pipeline_name, r.source_path, r.source_hash,
    r.status, r.params, r.started_ms, r.ended_ms, r.exit_code, r.pid, r.run_dir, r.resumed_from, r.message";

fn run_from_row(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    let params: String = row.get(7)?;
    let started_ms: i64 = row.get(8)?;
    let ended_ms: Option<i64> = row.get(9)?;
    Ok(RunRecord {
        id: row.get(0)?,
        experiment: row.get(1)?,
        pipeline: row.get(2)?,
        pipeline_name: row.get(3)?,
        source_path: row.get(4)?,
        source_hash: row.get(5)?,
        status: row.get(6)?,
        params: serde_json::from_str(&params).unwrap_or_default(),
        started_at: rfc3339(started_ms),
        ended_at: ended_ms.map(rfc3339),
        duration_s: ended_ms.map(|end| (end - started_ms) as f64 / 1000.0),
        started_ms,
        exit_code: row.get(10)?,
        pid: row.get(11)?,
        run_dir: row.get(12)?,
        resumed_from: row.get(13)?,
        engine: None,
        message: row.get(14)?,
        steps: Vec::new(),
        metrics: Vec::new(),
        warnings: Vec::new(),
    })
}

impl Store {
    /// Every run, oldest first, optionally of one experiment, with metrics (no steps).
    pub fn runs(&self, experiment: Option<&str>) -> Result<Vec<RunRecord>, StoreError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id
             WHERE ?1 IS NULL OR e.name = ?1 ORDER BY r.seq"
        );
        let mut runs = {
            let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
            stmt.query_map(params![experiment], run_from_row)
                .map_err(|e| self.err(e))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| self.err(e))?
        };
        for run in &mut runs {
            run.metrics = self.metrics(&run.id, None)?;
        }
        Ok(runs)
    }

    /// One run with its steps and metrics.
    pub fn run(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id
             WHERE r.id = ?1"
        );
        let Some(mut run) = self
            .conn
            .query_row(&sql, [id], run_from_row)
            .optional()
            .map_err(|e| self.err(e))?
        else {
            return Ok(None);
        };
        run.steps = self.steps(id, None)?;
        run.metrics = self.metrics(id, None)?;
        run.warnings = self.warnings(id)?;
        run.engine = self.engine(id)?;
        Ok(Some(run))
    }

    /// The program text a run ran, as recorded.
    pub fn source(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT source FROM runs WHERE id = ?1", [id], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The ids of the last `count` runs (oldest of them first), optionally of one experiment.
    pub fn last_runs(
        &self,
        count: usize,
        experiment: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id
                 WHERE ?1 IS NULL OR e.name = ?1 ORDER BY r.seq DESC LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let mut ids = stmt
            .query_map(params![experiment, count as i64], |row| row.get(0))
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<String>, _>>()
            .map_err(|e| self.err(e))?;
        ids.reverse();
        Ok(ids)
    }

    /// One step record of a run and its metrics; `None` when there is no such record.
    pub(crate) fn step_record(
        &self,
        run: &str,
        name: &str,
    ) -> Result<Option<(StepRecord, Vec<MetricRecord>)>, StoreError> {
        let Some(step) = self.steps(run, Some(name))?.pop() else {
            return Ok(None);
        };
        Ok(Some((step, self.metrics(run, Some(name))?)))
    }

    /// A run's step records in order (only the one called `only`, when given).
    fn steps(&self, run: &str, only: Option<&str>) -> Result<Vec<StepRecord>, StoreError> {
        // Records from before steps ran more than once (read without migrating).
        let version = self.version()?;
        let instances = if version < 4 {
            "name, NULL, NULL"
        } else {
            "COALESCE(step, name), iteration, pass"
        };
        let cached = if version < 5 {
            "NULL, NULL"
        } else {
            "cached_from_run, cached_from_step"
        };
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT name, image, status, attempts, started_ms, ended_ms, exit_code, signal,
                   gpus, outputs, step_dir, message, {instances}, {cached}
                 FROM steps WHERE run_id = ?1 AND (?2 IS NULL OR name = ?2)
                 ORDER BY position, rowid"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![run, only], |row| {
                let started_ms: Option<i64> = row.get(4)?;
                let ended_ms: Option<i64> = row.get(5)?;
                let outputs: String = row.get(9)?;
                let step_dir: String = row.get(10)?;
                let from_run: Option<String> = row.get(15)?;
                let from_step: Option<String> = row.get(16)?;
                Ok(StepRecord {
                    name: row.get(0)?,
                    step: row.get(12)?,
                    iteration: row.get(13)?,
                    pass: row.get(14)?,
                    image: row.get(1)?,
                    status: row.get(2)?,
                    attempts: row.get(3)?,
                    started_at: started_ms.map(rfc3339),
                    ended_at: ended_ms.map(rfc3339),
                    duration_s: started_ms
                        .zip(ended_ms)
                        .map(|(s, e)| (e - s) as f64 / 1000.0),
                    started_ms,
                    ended_ms,
                    exit_code: row.get(6)?,
                    signal: row.get(7)?,
                    gpus: row.get(8)?,
                    outputs: serde_json::from_str(&outputs).unwrap_or_default(),
                    stdout_log: format!("{step_dir}/stdout.log"),
                    stderr_log: format!("{step_dir}/stderr.log"),
                    step_dir,
                    message: row.get(11)?,
                    cached_from: from_run
                        .zip(from_step)
                        .map(|(run, step)| CachedFrom { run, step }),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The run's container engine, `None` on the host (and in records from
    /// before the engine was kept, read without migrating).
    fn engine(&self, run: &str) -> Result<Option<String>, StoreError> {
        if self.version()? < 3 {
            return Ok(None);
        }
        let engine: String = self
            .conn
            .query_row("SELECT engine FROM runs WHERE id = ?1", [run], |row| {
                row.get(0)
            })
            .map_err(|e| self.err(e))?;
        Ok(Some(engine).filter(|engine| engine != "host"))
    }

    /// The records' schema version.
    pub(super) fn version(&self) -> Result<i64, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| self.err(e))
    }

    fn warnings(&self, run: &str) -> Result<Vec<WarningRecord>, StoreError> {
        if self.version()? < 2 {
            // Records from before warnings were kept (read without migrating).
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare("SELECT step, code, message FROM warnings WHERE run_id = ?1 ORDER BY rowid")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([run], |row| {
                Ok(WarningRecord {
                    step: row.get(0)?,
                    code: row.get(1)?,
                    message: row.get(2)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// A run's metrics in step order (only those of step record `only`, when given).
    fn metrics(&self, run: &str, only: Option<&str>) -> Result<Vec<MetricRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT m.step, m.name, m.value, m.format FROM metrics m
                 LEFT JOIN steps s ON s.run_id = m.run_id AND s.name = m.step
                 WHERE m.run_id = ?1 AND (?2 IS NULL OR m.step = ?2)
                 ORDER BY s.position, s.rowid, m.rowid",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![run, only], |row| {
                let value: Option<f64> = row.get(2)?;
                Ok(MetricRecord {
                    step: row.get(0)?,
                    name: row.get(1)?,
                    value,
                    format: row.get(3)?,
                    missing: value.is_none(),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

/// Milliseconds since the epoch as `2024-05-01T12:34:56.789Z`.
pub(super) fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn formats_utc_times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339(1_714_566_896_789), "2024-05-01T12:34:56.789Z");
    }
}
