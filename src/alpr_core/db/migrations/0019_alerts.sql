-- Alerts: a listed vehicle's pass by a camera (docs/decisions.md#watchlist-matching).
-- One alert per pass, not per read: a read of the same entry at the same camera joins the open
-- alert when it has the alert's track_id or falls within the grouping window of its reads. Each
-- read an alert holds is in alert_reads, once per entry, so a replayed read changes nothing.
-- alert_outbox is written in the transaction that opens an alert: its deliveries (Kafka, MQTT,
-- webhooks) read it, so a crash at any point means a later delivery, never a lost one.

CREATE TABLE alerts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    watchlist_id     uuid NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
    entry_id         uuid NOT NULL,  -- the entry may since be gone: the alert stays
    priority         text NOT NULL,
    plate_text       text NOT NULL,  -- as the first read had it
    plate_normalized text NOT NULL,
    camera_id        text NOT NULL,
    site             text,
    track_id         text NOT NULL,
    first_seen       timestamptz NOT NULL,
    last_seen        timestamptz NOT NULL,
    read_count       integer NOT NULL DEFAULT 1,
    status           text NOT NULL DEFAULT 'new'
                     CHECK (status IN ('new', 'acknowledged', 'confirmed', 'dismissed')),
    acknowledged_by  text,
    acknowledged_at  timestamptz,
    resolved_by      text,
    resolved_at      timestamptz,
    note             text CHECK (length(note) <= 2000),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_pass_idx ON alerts (entry_id, camera_id, last_seen DESC);
CREATE INDEX alerts_newest_idx ON alerts (first_seen DESC, id DESC);
CREATE INDEX alerts_watchlist_idx ON alerts (watchlist_id);

CREATE TABLE alert_reads (
    alert_id     bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    entry_id     uuid NOT NULL,
    event_id     uuid NOT NULL,
    "timestamp"  timestamptz NOT NULL,  -- with event_id, the read in plate_detections
    PRIMARY KEY (entry_id, event_id)
);
CREATE INDEX alert_reads_alert_idx ON alert_reads (alert_id);

CREATE TABLE alert_outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id    bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_outbox_alert_idx ON alert_outbox (alert_id);

-- Record a batch's hits in one call: for each (entry, read), skip it when the entry's alerts
-- already hold the read (a replay), else join the open alert of its pass or open one with its
-- outbox row. Returns the alerts opened. Callers sort the hits by (entry, camera): the
-- per-pass advisory locks are then taken in one order, and two writers neither deadlock nor
-- open one pass twice. A read with the alert's track_id joins it within track_horizon.
CREATE FUNCTION alpr_record_hits(hits jsonb, pass_window interval, track_horizon interval)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    hit record;
    alert bigint;
    opened integer := 0;
BEGIN
    FOR hit IN
        SELECT * FROM jsonb_to_recordset(hits) AS h(entry uuid, list uuid, priority text,
            event uuid, at timestamptz, camera text, site text, track text, plate text,
            normalized text)
    LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended(hit.entry::text || hit.camera, 0));
        CONTINUE WHEN EXISTS (
            SELECT 1 FROM alert_reads WHERE entry_id = hit.entry AND event_id = hit.event);
        UPDATE alerts SET first_seen = least(first_seen, hit.at),
                          last_seen = greatest(last_seen, hit.at),
                          read_count = read_count + 1, updated_at = now()
        WHERE id = (
            SELECT id FROM alerts
            WHERE entry_id = hit.entry AND camera_id = hit.camera
              AND ((track_id = hit.track AND hit.at < last_seen + track_horizon
                    AND hit.at > first_seen - track_horizon)
                   OR hit.at BETWEEN first_seen - pass_window AND last_seen + pass_window)
            ORDER BY last_seen DESC LIMIT 1)
        RETURNING id INTO alert;
        IF alert IS NULL THEN
            INSERT INTO alerts (watchlist_id, entry_id, priority, plate_text, plate_normalized,
                                camera_id, site, track_id, first_seen, last_seen)
            VALUES (hit.list, hit.entry, hit.priority, hit.plate, hit.normalized, hit.camera,
                    hit.site, hit.track, hit.at, hit.at)
            RETURNING id INTO alert;
            INSERT INTO alert_outbox (alert_id) VALUES (alert);
            opened := opened + 1;
        END IF;
        INSERT INTO alert_reads (alert_id, entry_id, event_id, "timestamp")
        VALUES (alert, hit.entry, hit.event, hit.at);
    END LOOP;
    RETURN opened;
END
$$;

GRANT SELECT, INSERT, UPDATE ON alerts, alert_reads, alert_outbox TO alpr_writer, alpr_reader;
