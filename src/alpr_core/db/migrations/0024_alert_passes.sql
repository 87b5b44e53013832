-- Record a batch's hits a pass at a time (docs/decisions.md#watchlist-matching). The caller
-- groups the hits of one entry at one camera with one track_id, each read within pass_window
-- of the one before, into a pass: its reads join one alert, so one lock, one look-up and one
-- update serve them all. Replaces alpr_record_hits (migrations 0019, 0022), whose statements ran
-- once per read.
--
-- For each pass, in the caller's order (sorted by entry and camera, so that two writers take
-- the per-(entry, camera) advisory locks in one order): the reads the entry's alerts already
-- hold are dropped (a replay holds them all); the rest join the open alert of the pass, which
-- has its track_id within track_horizon or reads within pass_window of its first read, or open
-- one, with its outbox row. Returns one row per alert opened: its list's name and priority.
DROP FUNCTION alpr_record_hits(jsonb, interval, interval);

CREATE FUNCTION alpr_record_passes(passes jsonb, pass_window interval, track_horizon interval)
RETURNS TABLE (list_name text, list_priority text)
LANGUAGE plpgsql AS $$
DECLARE
    pass record;
    fresh uuid[];
    fresh_at timestamptz[];
    first_at timestamptz;
    last_at timestamptz;
    alert bigint;
BEGIN
    FOR pass IN
        SELECT * FROM jsonb_to_recordset(passes) AS p(entry uuid, list uuid, priority text,
            camera text, site text, track text, plate text, normalized text, events uuid[],
            ats timestamptz[])
    LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended(pass.entry::text || pass.camera, 0));
        SELECT array_agg(r.event ORDER BY r.at), array_agg(r.at ORDER BY r.at)
        INTO fresh, fresh_at
        FROM unnest(pass.events, pass.ats) AS r(event, at)
        WHERE NOT EXISTS (
            SELECT 1 FROM alert_reads x WHERE x.entry_id = pass.entry AND x.event_id = r.event);
        CONTINUE WHEN fresh IS NULL;
        first_at := fresh_at[1];
        last_at := fresh_at[cardinality(fresh_at)];
        UPDATE alerts SET first_seen = least(first_seen, first_at),
                          last_seen = greatest(last_seen, last_at),
                          read_count = read_count + cardinality(fresh), updated_at = now()
        WHERE id = (
            SELECT id FROM alerts
            WHERE entry_id = pass.entry AND camera_id = pass.camera
              AND ((track_id = pass.track AND first_at < last_seen + track_horizon
                    AND first_at > first_seen - track_horizon)
                   OR first_at BETWEEN first_seen - pass_window AND last_seen + pass_window)
            ORDER BY last_seen DESC LIMIT 1)
        RETURNING id INTO alert;
        IF alert IS NULL THEN
            INSERT INTO alerts (watchlist_id, entry_id, priority, plate_text, plate_normalized,
                                camera_id, site, track_id, first_seen, last_seen, read_count)
            VALUES (pass.list, pass.entry, pass.priority, pass.plate, pass.normalized,
                    pass.camera, pass.site, pass.track, first_at, last_at, cardinality(fresh))
            RETURNING id INTO alert;
            INSERT INTO alert_outbox (alert_id) VALUES (alert);
            SELECT w.name INTO list_name FROM watchlists w WHERE w.id = pass.list;
            list_priority := pass.priority;
            RETURN NEXT;
        END IF;
        INSERT INTO alert_reads (alert_id, entry_id, event_id, "timestamp")
        SELECT alert, pass.entry, f.event, f.at FROM unnest(fresh, fresh_at) AS f(event, at);
    END LOOP;
END
$$;
