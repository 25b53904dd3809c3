-- kfpl run records, schema version 4: language v2 runs a step more than
-- once (an iteration of each `for` around it, a pass of each `repeat`).
-- Each run of a step is its own row, named `train[1] lr=0.1` (iteration 1,
-- item 0.1) or `next#2` (pass 2); rows are added as the run learns of them.
-- `step` is the declared step, `iteration` the innermost loop's index (from
-- 0), `pass` the innermost repeat's pass (from 1). Older rows are plain
-- steps. A step whose condition is false is `skipped`, with its reason.

ALTER TABLE steps ADD COLUMN step TEXT;
ALTER TABLE steps ADD COLUMN iteration INTEGER;
ALTER TABLE steps ADD COLUMN pass INTEGER;
UPDATE steps SET step = name;
