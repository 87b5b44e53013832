-- Delivery of alerts (docs/decisions.md#alert-delivery). A webhook subscribes to one list's
-- alerts. When an alert's outbox row is written, a trigger adds one delivery row per enabled
-- webhook of its list, in the same transaction, and wakes the dispatcher (NOTIFY, sent on
-- commit). The dispatcher delivers the due rows, retrying with backoff; a webhook that fails
-- too many times in a row is switched off.

CREATE TABLE webhooks (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    watchlist_id          uuid NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
    url                   text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    secret                text NOT NULL,  -- the HMAC key the receiver checks signatures with
    enabled               boolean NOT NULL DEFAULT TRUE,
    max_failures          integer NOT NULL DEFAULT 10 CHECK (max_failures BETWEEN 1 AND 1000),
    consecutive_failures  integer NOT NULL DEFAULT 0,
    disabled_at           timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_watchlist_idx ON webhooks (watchlist_id);

CREATE TABLE alert_deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id        bigint NOT NULL REFERENCES alert_outbox (id) ON DELETE CASCADE,
    webhook_id       uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    last_error       text,
    UNIQUE (outbox_id, webhook_id)
);
CREATE INDEX alert_deliveries_due_idx ON alert_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL;

CREATE FUNCTION alpr_alert_deliveries() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO alert_deliveries (outbox_id, webhook_id)
    SELECT NEW.id, w.id
    FROM alerts a JOIN webhooks w ON w.watchlist_id = a.watchlist_id AND w.enabled
    WHERE a.id = NEW.alert_id;
    PERFORM pg_notify('alpr_alerts', NEW.id::text);
    RETURN NEW;
END
$$;
CREATE TRIGGER alert_outbox_deliveries AFTER INSERT ON alert_outbox
    FOR EACH ROW EXECUTE FUNCTION alpr_alert_deliveries();

GRANT SELECT, INSERT, UPDATE, DELETE ON webhooks TO alpr_reader;
GRANT SELECT, UPDATE ON webhooks TO alpr_writer;
GRANT SELECT, INSERT, UPDATE ON alert_deliveries TO alpr_writer, alpr_reader;
-- Retention, run by the storage service, deletes expired alerts (their reads, outbox rows and
-- deliveries go with them).
GRANT DELETE ON alerts TO alpr_writer;
