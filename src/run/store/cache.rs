//! The records of step caching (`schema5.sql`): each cached step's key and
//! its parts, where a `cached` step came from, and the lookups `kfpl run`
//! and `kfpl runs why` make.

use rusqlite::{OptionalExtension, params};

use super::query::CachedFrom;
use super::{StepStatus, Store, StoreError};
use crate::run::cache::KeyParts;

/// What the records say of one step's caching.
#[derive(Debug, Clone)]
pub(crate) struct CacheRecord {
    /// Its key, when it has `cache = true`.
    pub key: Option<String>,
    /// What the key was made of.
    pub parts: Option<KeyParts>,
    /// Where a `cached` step came from.
    pub cached_from: Option<CachedFrom>,
    /// Whether its run was made with `--no-cache`.
    pub no_cache: bool,
}

impl Store {
    /// Records the key a step with `cache = true` has in this run.
    pub(crate) fn set_cache_key(
        &mut self,
        run: &str,
        name: &str,
        key: &str,
        parts: &KeyParts,
    ) -> Result<(), StoreError> {
        let parts = serde_json::to_string(parts).unwrap_or_default();
        self.conn
            .execute(
                "UPDATE steps SET cache_key = ?3, cache_parts = ?4 WHERE run_id = ?1 AND name = ?2",
                params![run, name, key, parts],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The records (run, name) of `step` that succeeded with `key`, latest
    /// first. Only a step that ran is a source: a `cached` one points at it.
    pub(crate) fn cache_sources(
        &self,
        step: &str,
        key: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.run_id, s.name FROM steps s JOIN runs r ON r.id = s.run_id
                 WHERE s.cache_key = ?1 AND s.step = ?2 AND s.status = ?3
                 ORDER BY r.seq DESC, s.rowid DESC",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![key, step, StepStatus::Succeeded], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// What the records say of step record `name` of `run`; `None` when there
    /// is no such record.
    pub(crate) fn cache_record(
        &self,
        run: &str,
        name: &str,
    ) -> Result<Option<CacheRecord>, StoreError> {
        if self.version()? < 5 {
            return Ok(None);
        }
        self.conn
            .query_row(
                "SELECT s.cache_key, s.cache_parts, s.cached_from_run,
                   s.cached_from_step, r.no_cache
                 FROM steps s JOIN runs r ON r.id = s.run_id
                 WHERE s.run_id = ?1 AND s.name = ?2",
                [run, name],
                |row| {
                    let parts: Option<String> = row.get(1)?;
                    let from_run: Option<String> = row.get(2)?;
                    let from_step: Option<String> = row.get(3)?;
                    Ok(CacheRecord {
                        key: row.get(0)?,
                        parts: parts.and_then(|p| serde_json::from_str(&p).ok()),
                        cached_from: from_run
                            .zip(from_step)
                            .map(|(run, step)| CachedFrom { run, step }),
                        no_cache: row.get::<_, i64>(4)? != 0,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The most recent run before `run`, of the same pipeline, with a keyed
    /// record named `name`: its id and that record.
    pub(crate) fn previous_cache_record(
        &self,
        run: &str,
        name: &str,
    ) -> Result<Option<(String, CacheRecord)>, StoreError> {
        let previous: Option<String> = self
            .conn
            .query_row(
                "SELECT p.id FROM runs p JOIN runs r ON r.id = ?1
                 JOIN steps s ON s.run_id = p.id AND s.name = ?2
                 WHERE p.pipeline = r.pipeline AND p.seq < r.seq AND s.cache_key IS NOT NULL
                 ORDER BY p.seq DESC LIMIT 1",
                [run, name],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(previous) = previous else {
            return Ok(None);
        };
        Ok(self
            .cache_record(&previous, name)?
            .map(|record| (previous, record)))
    }
}
