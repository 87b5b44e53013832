-- Least privilege (docs/decisions.md#database-roles). The role that runs the migrations owns
-- every object. Two group roles, without login, hold what the services may do; the service
-- logins are members (`alpr migrate` makes them from DB_WRITER_USER and DB_READER_USER):
--   alpr_writer, the storage service: appends reads, keeps the fuzzy-search tables, reads the
--     camera registry, and runs retention through the functions below;
--   alpr_reader, the query API: reads what it serves, appends audit rows and (POST /events)
--     reads, keeps the fuzzy-search tables, records when a key was last used; it never updates or
--     deletes a read or an audit row.
-- Every later migration grants on the tables it adds.

DO $roles$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['alpr_writer', 'alpr_reader'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- another database of the cluster made it at the same moment
            END;
        END IF;
    END LOOP;
END
$roles$;

GRANT USAGE ON SCHEMA public TO alpr_writer, alpr_reader;

GRANT SELECT, INSERT ON plate_detections TO alpr_writer, alpr_reader;
-- The fuzzy-search dictionary is derived from the reads; each process that stores reads keeps it.
GRANT SELECT, INSERT, UPDATE, DELETE ON plate_texts, plate_days, plate_texts_pending
    TO alpr_writer, alpr_reader;
GRANT SELECT ON cameras TO alpr_writer, alpr_reader;

GRANT SELECT ON api_keys TO alpr_reader;
GRANT UPDATE (last_used_at) ON api_keys TO alpr_reader;
GRANT SELECT, INSERT ON audit_log TO alpr_reader;

-- Partitions are made and dropped by their owner: these functions run as the owner, and touch
-- nothing but the day partitions (or chunks) of plate_detections. Both writers make the days
-- they store into; only the storage service drops expired ones.
ALTER FUNCTION alpr_ensure_partitions(date, date) SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE EXECUTE ON FUNCTION alpr_ensure_partitions(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alpr_ensure_partitions(date, date) TO alpr_writer, alpr_reader;

-- Refuse (insufficient_privilege) a table that is not an expired partition or chunk of
-- plate_detections for cutoff.
CREATE FUNCTION alpr_require_expired_partition(cutoff timestamptz, schema_name text, table_name text)
RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $fn$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM alpr_expired_partitions(cutoff) e
                   WHERE e.schema_name = $2 AND e.table_name = $3) THEN
        RAISE EXCEPTION 'not an expired partition of plate_detections: %.%', $2, $3
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$fn$;

-- The expired partition or chunk named, if it is one: its image keys, for retention to delete
-- before the partition goes.
CREATE FUNCTION alpr_expired_partition_image_keys(cutoff timestamptz, schema_name text, table_name text)
RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
    PERFORM alpr_require_expired_partition(cutoff, $2, $3);
    RETURN QUERY EXECUTE format(
        'SELECT image_object_key FROM %I.%I WHERE image_object_key IS NOT NULL', $2, $3);
END
$fn$;

-- Drop the expired partition or chunk named; the caller's lock_timeout applies.
CREATE FUNCTION alpr_drop_expired_partition(cutoff timestamptz, schema_name text, table_name text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
    PERFORM alpr_require_expired_partition(cutoff, $2, $3);
    EXECUTE format('DROP TABLE %I.%I', $2, $3);
END
$fn$;

REVOKE EXECUTE ON FUNCTION alpr_expired_partition_image_keys(timestamptz, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION alpr_drop_expired_partition(timestamptz, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alpr_expired_partition_image_keys(timestamptz, text, text) TO alpr_writer;
GRANT EXECUTE ON FUNCTION alpr_drop_expired_partition(timestamptz, text, text) TO alpr_writer;
