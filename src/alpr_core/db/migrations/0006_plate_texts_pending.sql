-- plate_texts_pending: plates the writers stored, waiting to enter plate_texts.
--
-- Entering plate_texts costs about 150 us of database time per new plate (29 deletion variants,
-- each a GIN insertion, migration 0005): at a burst of 12,000 reads a second with a new plate
-- every few reads, that took a third of the database's time from ingest. Writers therefore only
-- append each batch's plates here (no index, a few microseconds each), in the batch's own
-- transaction, and a background indexer (alpr_core.db.plate_texts) moves them into plate_texts
-- at a bounded rate. Fuzzy search reads both, so a plate is found as soon as its read is stored.

CREATE TABLE plate_texts_pending (
    plate_normalized text NOT NULL,
    last_seen        date NOT NULL
);

COMMENT ON TABLE plate_texts_pending IS
    'Plates stored but not yet in plate_texts; fuzzy search scans them, an indexer drains them.';
