-- kfpl run records, schema version 1 (PRAGMA user_version = 1).
-- Times are milliseconds since the Unix epoch (UTC). JSON columns hold objects of strings.

CREATE TABLE experiments (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  created_ms INTEGER NOT NULL
);

CREATE TABLE runs (
  seq           INTEGER PRIMARY KEY,          -- the number in the id: r<seq>
  id            TEXT NOT NULL UNIQUE,         -- 'r1', 'r2', ...
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  pipeline      TEXT NOT NULL,                -- the pipeline identifier
  pipeline_name TEXT NOT NULL,                -- its display name
  source_path   TEXT NOT NULL,                -- the FILE as given on the command line
  source_hash   TEXT NOT NULL,                -- FNV-1a 64 of the file's bytes, hex
  source        TEXT NOT NULL,                -- the program text as run
  params        TEXT NOT NULL,                -- JSON object: every param's value
  status        TEXT NOT NULL,                -- running | succeeded | failed | cancelled | interrupted
  started_ms    INTEGER NOT NULL,
  ended_ms      INTEGER,
  exit_code     INTEGER,                      -- kfpl's own exit status
  pid           INTEGER NOT NULL,             -- the kfpl process running it
  pid_start     INTEGER,                      -- its start time (clock ticks since boot), against pid reuse
  run_dir       TEXT NOT NULL,                -- logs, working directories, outputs
  resumed_from  TEXT REFERENCES runs(id),
  message       TEXT                          -- why it did not succeed
);

CREATE TABLE steps (
  run_id     TEXT NOT NULL REFERENCES runs(id),
  name       TEXT NOT NULL,
  position   INTEGER NOT NULL,                -- topological order
  image      TEXT NOT NULL,                   -- recorded, not pulled
  status     TEXT NOT NULL,                   -- pending | running | succeeded | failed | skipped | cancelled | reused | interrupted
  attempts   INTEGER NOT NULL DEFAULT 0,
  started_ms INTEGER,
  ended_ms   INTEGER,
  exit_code  INTEGER,
  signal     INTEGER,                         -- the signal that ended it, if one did
  gpus       TEXT NOT NULL DEFAULT '',        -- CUDA_VISIBLE_DEVICES it got
  outputs    TEXT NOT NULL DEFAULT '{}',      -- JSON object
  step_dir   TEXT NOT NULL,                   -- stdout.log, stderr.log, work/, outputs/
  message    TEXT,
  PRIMARY KEY (run_id, name)
);

CREATE TABLE metrics (
  run_id TEXT NOT NULL REFERENCES runs(id),
  step   TEXT NOT NULL,
  name   TEXT NOT NULL,
  value  REAL,                                -- NULL: declared but never printed (missing)
  format TEXT NOT NULL,                       -- raw | percentage
  PRIMARY KEY (run_id, step, name)
);

CREATE INDEX runs_by_experiment ON runs(experiment_id, seq);
