-- kfpl run records, schema version 2: the warnings a run gave (W06xx), so
-- that `kfpl runs show` can say what `kfpl run` said (an output never
-- written, a metric never printed).

CREATE TABLE warnings (
  run_id  TEXT NOT NULL REFERENCES runs(id),
  step    TEXT,                               -- the step concerned, if one is
  code    TEXT NOT NULL,                      -- W06xx
  message TEXT NOT NULL
);

CREATE INDEX warnings_by_run ON warnings(run_id);
