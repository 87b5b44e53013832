-- Fuzzy search ranks plates first, then reads only the closest plates' reads.
--
-- alpr_fuzzy_plate_days (migration 0006) gave every (plate, day) pair within two edits, and the
-- search read every one of their reads to sort them all by distance and keep one page
-- (docs/decisions.md#fuzzy-early-stop). alpr_fuzzy_plates gives the plates in rank order (folded distance, raw
-- distance, plate) with their distances, and alpr_plate_days the days one plate was read on. A
-- page then reads plate after plate, each newest first, and stops once it is full: PostgreSQL
-- keeps the plates' order through the nested loop and sorts each plate's reads alone
-- (Incremental Sort).

CREATE FUNCTION alpr_fuzzy_plates(term text, max_edits integer, max_plates integer)
RETURNS TABLE (plate text, ocr_distance integer, raw_distance integer)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT known.plate_normalized,
           levenshtein(known.ocr_key, alpr_ocr_key(term)),
           levenshtein(known.plate_normalized, term)
    FROM (
        SELECT plate_normalized, ocr_key FROM plate_texts
        WHERE alpr_deletion_variants(ocr_key) && alpr_deletion_variants(alpr_ocr_key(term))
        UNION
        SELECT plate_normalized, alpr_ocr_key(plate_normalized) FROM plate_texts_pending
    ) AS known
    WHERE levenshtein(known.ocr_key, alpr_ocr_key(term)) <= max_edits
    ORDER BY 2, 3, 1
    LIMIT max_plates;
END;

-- The days (as UTC bounds, those of the day partitions) on which a plate was read: indexed in
-- plate_days, or still waiting in plate_texts_pending.
CREATE FUNCTION alpr_plate_days(plate text)
RETURNS TABLE (since timestamptz, until timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT days.day::timestamp AT TIME ZONE 'UTC', (days.day + 1)::timestamp AT TIME ZONE 'UTC'
    FROM (
        SELECT d.day FROM plate_days d WHERE d.plate_normalized = plate
        UNION
        SELECT p.day FROM plate_texts_pending p WHERE p.plate_normalized = plate
    ) AS days;
END;

DROP FUNCTION alpr_fuzzy_plate_days(text, integer, integer);
