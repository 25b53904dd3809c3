-- kfpl run records, schema version 5: step caching (`cache = true`).
-- A step with `cache = true` records its cache key (a SHA-256 digest) and
-- the parts it was made of (JSON, for `kfpl runs why`). A step reused from
-- an earlier run is `cached`, with the run and step record it came from.
-- A run made with `--no-cache` says so. Older rows have no key.

ALTER TABLE steps ADD COLUMN cache_key TEXT;
ALTER TABLE steps ADD COLUMN cache_parts TEXT;
ALTER TABLE steps ADD COLUMN cached_from_run TEXT;
ALTER TABLE steps ADD COLUMN cached_from_step TEXT;
ALTER TABLE runs ADD COLUMN no_cache INTEGER NOT NULL DEFAULT 0;
CREATE INDEX steps_by_cache_key ON steps (cache_key);
