-- plate_detections: one row per plate read.
--
-- The columns of the OVR-ALPR Core Services design keep their names (id, timestamp, plate_text,
-- confidence, camera_id, track_id, image_path) so its SQL keeps working. Widened where the design
-- would lose data: track_id is TEXT (edges send strings), plate_text and camera_id are TEXT with
-- length checks in the consumer.
--
-- Layout: a TimescaleDB hypertable when the extension can be created (the production image), else
-- native range partitions of one day each. Either way, unique keys include "timestamp", and
-- retention drops whole partitions or chunks.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

DO $migration$
DECLARE
    has_timescale boolean := false;
    columns text := $cols$
        id                bigint GENERATED ALWAYS AS IDENTITY,
        event_id          uuid NOT NULL,
        "timestamp"       timestamptz NOT NULL,
        plate_text        text NOT NULL,
        plate_normalized  text NOT NULL,
        confidence        double precision NOT NULL,
        region            text,
        camera_id         text NOT NULL,
        track_id          text NOT NULL,
        image_path        text,
        image_object_key  text,
        image_content_type text,
        plate_url         text,
        vehicle_url       text,
        frame_url         text,
        vehicle_type      text,
        vehicle_make      text,
        vehicle_model     text,
        vehicle_color     text,
        site              text,
        host              text,
        latency_ms        integer NOT NULL DEFAULT 0,
        extras            jsonb,
        unknown_fields    jsonb,
        schema_id         integer,
        ingested_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (id, "timestamp"),
        UNIQUE (event_id, "timestamp")
    $cols$;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS timescaledb;
            has_timescale := true;
        EXCEPTION WHEN feature_not_supported OR insufficient_privilege OR object_not_in_prerequisite_state
                  OR invalid_parameter_value OR internal_error THEN
            RAISE NOTICE 'timescaledb is available but cannot be loaded; using native partitions';
        END;
    END IF;
    IF has_timescale THEN
        EXECUTE format('CREATE TABLE plate_detections (%s)', columns);
        PERFORM create_hypertable('plate_detections', 'timestamp',
                                  chunk_time_interval => interval '1 day');
    ELSE
        EXECUTE format('CREATE TABLE plate_detections (%s) PARTITION BY RANGE ("timestamp")', columns);
    END IF;
END
$migration$;

COMMENT ON COLUMN plate_detections.image_path IS
    'Where the plate crop is: our object key for inline images, else the edge''s plate_url.';
COMMENT ON COLUMN plate_detections.image_object_key IS
    'Object key in our bucket written by the storage service; retention deletes these objects.';
COMMENT ON COLUMN plate_detections.unknown_fields IS
    'Fields sent by newer producers that this schema version does not know, kept as JSON.';

CREATE INDEX plate_detections_time_idx ON plate_detections ("timestamp" DESC, id DESC);
CREATE INDEX plate_detections_camera_time_idx ON plate_detections (camera_id, "timestamp" DESC);
CREATE INDEX plate_detections_plate_idx ON plate_detections (plate_normalized text_pattern_ops);
CREATE INDEX plate_detections_plate_trgm_idx ON plate_detections
    USING gin (plate_normalized gin_trgm_ops);

-- The day partitions that cover [from_day, to_day], created when missing (no-op on a hypertable,
-- where TimescaleDB makes chunks itself). Called by writers before inserting a batch.
CREATE FUNCTION alpr_ensure_partitions(from_day date, to_day date) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    day date;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'plate_detections'::regclass) THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('alpr_ensure_partitions'));
    FOR day IN SELECT generate_series(from_day, to_day, interval '1 day')::date LOOP
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS %I PARTITION OF plate_detections FOR VALUES FROM (%L) TO (%L)',
            'plate_detections_p' || to_char(day, 'YYYYMMDD'),
            day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
    END LOOP;
END
$fn$;

-- The partitions or chunks holding only rows older than cutoff, oldest first.
CREATE FUNCTION alpr_expired_partitions(cutoff timestamptz)
RETURNS TABLE (schema_name text, table_name text)
LANGUAGE plpgsql AS $fn$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'plate_detections'::regclass) THEN
        RETURN QUERY
            SELECT n.nspname::text, c.relname::text
            FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE i.inhparent = 'plate_detections'::regclass
              AND c.relname ~ '^plate_detections_p[0-9]{8}$'
              AND (to_date(substring(c.relname FROM '[0-9]{8}$'), 'YYYYMMDD') + 1)::timestamp
                  AT TIME ZONE 'UTC' <= cutoff
            ORDER BY c.relname;
    ELSE
        RETURN QUERY EXECUTE
            'SELECT n.nspname::text, c.relname::text
             FROM show_chunks(''plate_detections'', older_than => $1) AS chunk
             JOIN pg_class c ON c.oid = chunk
             JOIN pg_namespace n ON n.oid = c.relnamespace
             ORDER BY c.relname' USING cutoff;
    END IF;
END
$fn$;
