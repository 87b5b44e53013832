-- Reads per UTC hour, camera and site, for GET /stats (docs/decisions.md#stats). On a
-- hypertable: a TimescaleDB continuous aggregate with real-time aggregation, refreshed by a
-- policy. Else: a table kept by a statement trigger on every insert into the reads, from the
-- rows inserted only, so a replay (which inserts nothing) counts nothing. Both are read_rollups,
-- with the same columns, read by /stats the same way.
DO $migration$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_class WHERE relname = 'plate_detections' AND relkind = 'r') THEN
        EXECUTE $cagg$
            CREATE MATERIALIZED VIEW read_rollups
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT time_bucket(interval '1 hour', "timestamp") AS hour, camera_id, site,
                   count(*) AS reads, sum(confidence) AS confidence_sum
            FROM plate_detections GROUP BY 1, 2, 3
            WITH NO DATA
        $cagg$;
        -- Late reads (up to the event age limit) reach the materialized hours at each refresh.
        PERFORM add_continuous_aggregate_policy('read_rollups', start_offset => NULL,
            end_offset => interval '1 hour', schedule_interval => interval '5 minutes');
    ELSE
        CREATE TABLE read_rollups (
            hour            timestamptz NOT NULL,
            camera_id       text NOT NULL,
            site            text,
            reads           bigint NOT NULL,
            confidence_sum  double precision NOT NULL
        );
        CREATE UNIQUE INDEX read_rollups_key
            ON read_rollups (hour, camera_id, (coalesce(site, '')));

        -- Runs as its owner, so that both writers (the storage service, the API's HTTP ingest)
        -- keep the rollups without being able to change them otherwise. Rows are upserted in
        -- key order, so two writers' transactions lock them in the same order.
        CREATE FUNCTION alpr_roll_up_reads() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
        BEGIN
            INSERT INTO read_rollups AS r (hour, camera_id, site, reads, confidence_sum)
            SELECT date_trunc('hour', "timestamp", 'UTC'), camera_id, site, count(*),
                   sum(confidence)
            FROM new_reads GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (hour, camera_id, (coalesce(site, ''))) DO UPDATE
                SET reads = r.reads + excluded.reads,
                    confidence_sum = r.confidence_sum + excluded.confidence_sum;
            RETURN NULL;
        END
        $fn$;
        -- The reads already stored, counted in the same transaction as the trigger is made
        -- (the lock keeps writers out until both are in place).
        LOCK TABLE plate_detections IN SHARE MODE;
        INSERT INTO read_rollups (hour, camera_id, site, reads, confidence_sum)
        SELECT date_trunc('hour', "timestamp", 'UTC'), camera_id, site, count(*), sum(confidence)
        FROM plate_detections GROUP BY 1, 2, 3;
        CREATE TRIGGER plate_detections_roll_up AFTER INSERT ON plate_detections
            REFERENCING NEW TABLE AS new_reads
            FOR EACH STATEMENT EXECUTE FUNCTION alpr_roll_up_reads();
    END IF;
END
$migration$;

-- Retention: the hours before the first day kept go with their reads (dropped partitions or
-- chunks). A continuous aggregate forgets them at its next refresh of those hours; its
-- materialized rows are deleted here too, so /stats never counts a dropped day.
CREATE FUNCTION alpr_expire_read_rollups(first_kept timestamptz) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    deleted bigint;
    materialized regclass;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_class WHERE relname = 'read_rollups' AND relkind = 'r') THEN
        DELETE FROM read_rollups WHERE hour < first_kept;
        GET DIAGNOSTICS deleted = ROW_COUNT;
        RETURN deleted;
    END IF;
    EXECUTE $q$SELECT format('%I.%I', materialization_hypertable_schema,
                                     materialization_hypertable_name)::regclass
               FROM timescaledb_information.continuous_aggregates
               WHERE view_name = 'read_rollups'$q$ INTO materialized;
    EXECUTE format('DELETE FROM %s WHERE hour < $1', materialized) USING first_kept;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END
$fn$;

REVOKE EXECUTE ON FUNCTION alpr_expire_read_rollups(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alpr_expire_read_rollups(timestamptz) TO alpr_writer;
GRANT SELECT ON read_rollups TO alpr_writer, alpr_reader;
