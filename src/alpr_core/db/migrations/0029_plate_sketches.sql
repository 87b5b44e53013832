-- Unique plates per UTC day, camera and site, as Apache DataSketches HyperLogLog sketches
-- (docs/decisions.md#plate-sketches). The writers add each batch's new reads to them in the
-- batch's transaction (db/plate_sketches.py); `alpr stats rebuild` makes them from the reads
-- stored before they were kept. The same on both table layouts.
CREATE TABLE plate_sketches (
    day        date NOT NULL,
    camera_id  text NOT NULL,
    site       text,
    uniques    bytea NOT NULL
);
CREATE UNIQUE INDEX plate_sketches_key ON plate_sketches (day, camera_id, (coalesce(site, '')));

GRANT SELECT, INSERT, UPDATE, DELETE ON plate_sketches TO alpr_writer, alpr_reader;
