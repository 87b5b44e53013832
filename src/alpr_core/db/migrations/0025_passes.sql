-- Vehicle passes (docs/decisions.md#passes): the reads of one vehicle at one camera as one row,
-- kept by the writer in the transaction that stores the reads (db/passes.py, passes/grouping.py).
-- Retention deletes a pass once its last read is past the reads' retention.
CREATE TABLE passes (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    camera_id              text NOT NULL,
    site                   text,
    first_seen             timestamptz NOT NULL,
    last_seen              timestamptz NOT NULL CHECK (last_seen >= first_seen),
    read_count             integer NOT NULL CHECK (read_count >= 1),
    plate_text             text NOT NULL,   -- the consensus, as the best read wrote it
    plate_normalized       text NOT NULL,   -- the consensus
    votes                  jsonb NOT NULL,  -- each normalized text: its reads' summed confidence
    -- each key ('t:' || track_id, 'p:' || alpr_ocr_key(plate)): [its first read, its last],
    -- in microseconds since the epoch
    keys                   jsonb NOT NULL,
    best_event_id          uuid NOT NULL,   -- the best read: highest confidence, then earliest
    best_at                timestamptz NOT NULL,
    best_confidence        double precision NOT NULL,
    best_plate_text        text NOT NULL,
    best_plate_normalized  text NOT NULL,
    best_track_id          text NOT NULL,
    direction              text,            -- extras.direction, when edges send it
    region                 text,
    vehicle_type           text,
    vehicle_make           text,
    vehicle_model          text,
    vehicle_color          text
);

CREATE INDEX passes_time_idx ON passes (first_seen DESC, id DESC);
CREATE INDEX passes_camera_idx ON passes (camera_id, last_seen DESC);  -- the writer's look-up
CREATE INDEX passes_plate_idx ON passes (plate_normalized text_pattern_ops);
-- No index by site: a site's pages walk the time index and filter (docs/decisions.md#passes).

-- Both roles store reads (the storage service, and the API's HTTP ingest), so both keep passes.
GRANT SELECT, INSERT, UPDATE, DELETE ON passes TO alpr_writer, alpr_reader;
