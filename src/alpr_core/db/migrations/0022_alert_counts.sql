-- alpr_record_hits (migration 0019) returns the alerts it opened by list name and priority,
-- for the metric alpr_alerts_total{list,priority}, instead of their count.
DROP FUNCTION alpr_record_hits(jsonb, interval, interval);

-- Record a batch's hits in one call: for each (entry, read), skip it when the entry's alerts
-- already hold the read (a replay), else join the open alert of its pass or open one with its
-- outbox row. Returns one row per alert opened: its list's name and its priority. Callers sort
-- the hits by (entry, camera): the per-pass advisory locks are then taken in one order, and two
-- writers neither deadlock nor open one pass twice. A read with the alert's track_id joins it within track_horizon.
CREATE FUNCTION alpr_record_hits(hits jsonb, pass_window interval, track_horizon interval)
RETURNS TABLE (list_name text, list_priority text)
LANGUAGE plpgsql AS $$
DECLARE
    hit record;
    alert bigint;
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
            SELECT w.name INTO list_name FROM watchlists w WHERE w.id = hit.list;
            list_priority := hit.priority;
            RETURN NEXT;
        END IF;
        INSERT INTO alert_reads (alert_id, entry_id, event_id, "timestamp")
        VALUES (alert, hit.entry, hit.event, hit.at);
    END LOOP;
END
$$;
