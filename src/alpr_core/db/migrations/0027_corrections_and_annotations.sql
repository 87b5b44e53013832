-- Corrections of misread plates, and tags and notes on plates (docs/decisions.md#corrections).
--
-- A correction rewrites a read's plate_text and plate_normalized, so that every search, history,
-- pass and statistic sees the corrected text through the indexes they already use. The text the
-- read had before is kept here, one row per correction, with who made it, when and why; a
-- search also finds a read by each text it had (api/queries.py, the corrected branch). The
-- columns a search names (plate_normalized, "timestamp") have the reads' names, so a search's
-- predicate applies to this table unchanged.
CREATE TABLE plate_corrections (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    read_id               bigint NOT NULL,
    "timestamp"           timestamptz NOT NULL,  -- the read's, which retention goes by
    camera_id             text NOT NULL,         -- the read's, for the key's scope
    site                  text,
    plate_text            text NOT NULL,         -- the text before this correction
    plate_normalized      text NOT NULL,
    corrected_text        text NOT NULL,
    corrected_normalized  text NOT NULL,
    reason                text,
    key_id                uuid,
    key_name              text NOT NULL,
    corrected_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX plate_corrections_read_idx ON plate_corrections (read_id, "timestamp");
CREATE INDEX plate_corrections_plate_idx ON plate_corrections (plate_normalized text_pattern_ops);
CREATE INDEX plate_corrections_time_idx ON plate_corrections ("timestamp");

-- Tags and notes are on a plate text, made through one of its reads, whose camera and site they
-- keep: a key sees those of the cameras and sites it may see, as it sees reads.
CREATE TABLE plate_tags (
    plate_normalized  text NOT NULL,
    tag               text NOT NULL,
    camera_id         text NOT NULL,
    site              text,
    key_id            uuid,
    key_name          text NOT NULL,
    tagged_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plate_normalized, tag, camera_id)
);

CREATE TABLE plate_notes (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plate_normalized  text NOT NULL,
    body              text NOT NULL,
    camera_id         text NOT NULL,
    site              text,
    key_id            uuid,
    key_name          text NOT NULL,
    written_at        timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX plate_notes_plate_idx ON plate_notes (plate_normalized, written_at);

-- `analyst`: reads what a viewer reads, and corrects reads, tags and annotates plates.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
    CHECK (role IN ('viewer', 'admin', 'ingest', 'watchlist', 'analyst'));

-- The query API corrects a read's text, and nothing else of it.
GRANT UPDATE (plate_text, plate_normalized) ON plate_detections TO alpr_reader;
GRANT SELECT, INSERT ON plate_corrections TO alpr_reader;
GRANT SELECT, INSERT, DELETE ON plate_tags, plate_notes TO alpr_reader;
-- Retention runs in the storage service.
GRANT SELECT, DELETE ON plate_corrections, plate_tags, plate_notes TO alpr_writer;
