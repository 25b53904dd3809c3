-- kfpl run records, schema version 3: where the steps ran (`kfpl run
-- --engine`): `host`, `podman` or `docker`. Older runs ran on the host.

ALTER TABLE runs ADD COLUMN engine TEXT NOT NULL DEFAULT 'host';
