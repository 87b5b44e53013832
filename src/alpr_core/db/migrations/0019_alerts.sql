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

GRANT SELECT, INSERT, UPDATE ON alerts, alert_reads, alert_outbox TO alpr_writer, alpr_reader;
