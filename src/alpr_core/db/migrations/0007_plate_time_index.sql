-- The plate btree gains the time as its second column.
--
-- Fuzzy search reads each matching plate from one day partition at a time (migration 0006), by
-- plate and day bounds. With the plate alone in the index, the planner may AND it with a bitmap
-- of the whole day from the time index, reading a day's entries to find a plate's few rows; with
-- both columns one index answers both conditions. Exact search gets its rows in
-- time order from it too, and prefix search (text_pattern_ops on the first column) is unchanged.

CREATE INDEX plate_detections_plate_time_idx ON plate_detections
    (plate_normalized text_pattern_ops, "timestamp");
DROP INDEX plate_detections_plate_idx;
