-- plate_texts: every distinct normalized plate text stored, with the last day it was read, and
-- an index that finds the plates within two edits of a term exactly.
--
-- Fuzzy search looks for plates within two edits of a term, after OCR look-alikes are folded
-- (alpr_ocr_key, migration 0003). A trigram index filters two edits weakly: on a 7-character
-- plate two edits can leave 2 of its 8 trigrams, so the index must return every string sharing
-- 2, each rechecked on its row, and a similarity threshold loses two-edit matches
-- (docs/decisions.md#fuzzy-dictionary).
--
-- Instead, each distinct plate's folded key is indexed by its deletion variants: the key with
-- up to two characters deleted (29 strings for 7 characters). Two keys are within two edits
-- exactly when their variant sets meet (each edit is undone by deleting one character on one
-- side or both), so `&&` on the variants finds every plate within two edits, with few others;
-- levenshtein then keeps the true ones (docs/decisions.md).
--
-- Plates enter through plate_texts_pending and a background indexer (migration 0006). Retention
-- deletes the plates whose last read it dropped, so no plate text outlives its reads.

CREATE FUNCTION alpr_deletion_variants(key text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
    n integer := length(key);
    variants text[] := ARRAY[key];
    shorter text;
BEGIN
    FOR i IN 1..n LOOP
        shorter := substr(key, 1, i - 1) || substr(key, i + 1);
        variants := variants || shorter;
        FOR j IN i..n - 1 LOOP
            variants := variants || (substr(shorter, 1, j - 1) || substr(shorter, j + 1));
        END LOOP;
    END LOOP;
    RETURN variants;  -- with repeats, which the index stores once
END
$fn$;

CREATE TABLE plate_texts (
    plate_normalized text PRIMARY KEY,
    ocr_key          text GENERATED ALWAYS AS (alpr_ocr_key(plate_normalized)) STORED,
    last_seen        date NOT NULL  -- UTC day of the newest read; not indexed, so updates stay HOT
) WITH (fillfactor = 90);

COMMENT ON TABLE plate_texts IS
    'Distinct plate texts for fuzzy search; retention deletes those with no reads left.';

INSERT INTO plate_texts (plate_normalized, last_seen)
SELECT plate_normalized, max(("timestamp" AT TIME ZONE 'UTC')::date)
FROM plate_detections
GROUP BY plate_normalized;

-- No pending list: every search would scan it linearly, and inserting straight into the tree
-- costs the same here (measured).
CREATE INDEX plate_texts_variants_idx ON plate_texts
    USING gin (alpr_deletion_variants(ocr_key)) WITH (fastupdate = off);

-- Replaced by plate_texts: the reads no longer carry an index for fuzzy search.
DROP INDEX IF EXISTS plate_detections_ocr_trgm_idx;
