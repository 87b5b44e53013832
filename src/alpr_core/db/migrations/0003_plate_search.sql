-- Plate search: OCR look-alike folding for fuzzy matching, and edit distance for ranking.
--
-- alpr_ocr_key folds the characters recognisers confuse into one of each group
-- (0/O/D/Q -> 0, 1/I/L -> 1, 8/B -> 8, 5/S -> 5, 2/Z -> 2, 6/G -> 6), so two reads of the same
-- plate that differ only by look-alikes share a key. A trigram index on the key finds plates
-- within a few edits of it; levenshtein ranks them.

CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

CREATE FUNCTION alpr_ocr_key(plate text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN translate(plate, 'ODQILBSZG', '000118526');

CREATE INDEX plate_detections_ocr_trgm_idx ON plate_detections
    USING gin (alpr_ocr_key(plate_normalized) gin_trgm_ops);
