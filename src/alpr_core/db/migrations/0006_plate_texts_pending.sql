-- plate_days and plate_texts_pending: on which days each plate was read, and the plates the
-- writers stored that wait to enter the fuzzy-search dictionary.
--
-- plate_days lets fuzzy search fetch a plate's reads from the day partitions that hold some,
-- not from every partition: one index probe per day the plate was read.
--
-- Entering plate_texts costs a GIN insertion per deletion variant of each new plate (migration
-- 0005), too much to pay inside ingest's transactions (docs/decisions.md#plate-indexer).
-- Writers therefore only append each batch's (plate, day) pairs to plate_texts_pending (no
-- index), in the batch's own transaction, and a background indexer (alpr_core.db.plate_texts)
-- moves them into plate_texts and plate_days at a bounded rate. Fuzzy search reads both, so a
-- plate is found as soon as its read is stored.

CREATE TABLE plate_days (
    plate_normalized text NOT NULL,
    day              date NOT NULL,  -- UTC, as the day partitions
    PRIMARY KEY (plate_normalized, day)
);

INSERT INTO plate_days (plate_normalized, day)
SELECT DISTINCT plate_normalized, ("timestamp" AT TIME ZONE 'UTC')::date
FROM plate_detections;

CREATE TABLE plate_texts_pending (
    plate_normalized text NOT NULL,
    day              date NOT NULL
);

COMMENT ON TABLE plate_texts_pending IS
    'Plates stored but not yet in plate_texts; fuzzy search scans them, an indexer drains them.';

-- The (plate, day) pairs of every plate within two edits of a folded term, at most max_plates
-- plates, closest first, with the day's bounds: fuzzy search reads each pair's partition only.
CREATE FUNCTION alpr_fuzzy_plate_days(term_key text, max_edits integer, max_plates integer)
RETURNS TABLE (plate text, since timestamptz, until timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH plates AS (
        SELECT known.plate_normalized
        FROM (
            SELECT plate_normalized, ocr_key FROM plate_texts
            WHERE alpr_deletion_variants(ocr_key) && alpr_deletion_variants(term_key)
            UNION
            SELECT plate_normalized, alpr_ocr_key(plate_normalized) FROM plate_texts_pending
        ) AS known
        WHERE levenshtein(known.ocr_key, term_key) <= max_edits
        ORDER BY levenshtein(known.ocr_key, term_key)
        LIMIT max_plates
    ), days AS (
        SELECT d.plate_normalized, d.day FROM plate_days d
        WHERE d.plate_normalized IN (SELECT plates.plate_normalized FROM plates)
        UNION
        SELECT p.plate_normalized, p.day FROM plate_texts_pending p
        WHERE p.plate_normalized IN (SELECT plates.plate_normalized FROM plates)
    )
    SELECT days.plate_normalized, days.day::timestamp AT TIME ZONE 'UTC',
           (days.day + 1)::timestamp AT TIME ZONE 'UTC'
    FROM days;
END;
