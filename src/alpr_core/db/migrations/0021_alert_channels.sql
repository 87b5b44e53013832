-- Delivery of every alert to the deployment's own channels, Kafka (alpr.alerts) and MQTT, beside
-- the per-list webhooks (docs/decisions.md#alert-delivery). The dispatcher marks the channels it
-- is configured for enabled when it starts leading, and the others disabled. When an alert's
-- outbox row is written, the trigger adds one delivery row per enabled channel, as it does per
-- enabled webhook, in the same transaction: a channel down for a while gets its alerts later.

CREATE TABLE alert_channels (
    name        text PRIMARY KEY CHECK (name IN ('kafka', 'mqtt')),
    enabled     boolean NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE alert_deliveries
    ADD COLUMN channel text NOT NULL DEFAULT 'webhook'
        CHECK (channel IN ('webhook', 'kafka', 'mqtt')),
    ALTER COLUMN webhook_id DROP NOT NULL,
    ADD CONSTRAINT alert_deliveries_channel_target
        CHECK ((channel = 'webhook') = (webhook_id IS NOT NULL));
CREATE UNIQUE INDEX alert_deliveries_channel_idx ON alert_deliveries (outbox_id, channel)
    WHERE webhook_id IS NULL;

CREATE OR REPLACE FUNCTION alpr_alert_deliveries() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO alert_deliveries (outbox_id, webhook_id)
    SELECT NEW.id, w.id
    FROM alerts a JOIN webhooks w ON w.watchlist_id = a.watchlist_id AND w.enabled
    WHERE a.id = NEW.alert_id;
    INSERT INTO alert_deliveries (outbox_id, channel)
    SELECT NEW.id, c.name FROM alert_channels c WHERE c.enabled;
    PERFORM pg_notify('alpr_alerts', NEW.id::text);
    RETURN NEW;
END
$$;

GRANT SELECT ON alert_channels TO alpr_writer, alpr_reader;
GRANT INSERT, UPDATE ON alert_channels TO alpr_writer;
