-- Passes per UTC hour (of their first read), camera and site, for GET /stats
-- (docs/decisions.md#stats). Passes are kept by the writers in Python (db/passes.py), which
-- also add what each batch changes to these counts, in the same transaction: a new pass counts
-- one, a pass merged into another or moved to an earlier hour moves its count. The same on
-- both table layouts: passes are a plain table either way.
CREATE TABLE pass_rollups (
    hour       timestamptz NOT NULL,
    camera_id  text NOT NULL,
    site       text,
    passes     bigint NOT NULL
);
CREATE UNIQUE INDEX pass_rollups_key ON pass_rollups (hour, camera_id, (coalesce(site, '')));

-- The passes already kept, counted while writers wait (they lock passes to change them).
LOCK TABLE passes IN SHARE MODE;
INSERT INTO pass_rollups (hour, camera_id, site, passes)
SELECT date_trunc('hour', first_seen, 'UTC'), camera_id, site, count(*)
FROM passes GROUP BY 1, 2, 3;

GRANT SELECT, INSERT, UPDATE, DELETE ON pass_rollups TO alpr_writer, alpr_reader;
