"""Fill plate_detections with realistic synthetic rows fast, generated inside PostgreSQL.

python -m bench.prefill --rows 10000000   # into DB_NAME from the environment
"""

from __future__ import annotations

import argparse
import time

import psycopg

from alpr_core.config import Settings
from bench.resources import load_services_env

# A vehicle's plate, from a hash of its number (the old, every-read-a-new-plate data used random()).
_HASH = "(hashint8extended(vehicle, 11) & 9007199254740991)"
_PLATE = (
    f"chr(65 + mod({_HASH}, 26)::int) || chr(65 + mod({_HASH} / 26, 26)::int)"
    f" || chr(65 + mod({_HASH} / 676, 26)::int) || lpad(mod({_HASH} / 17576, 10000)::text, 4, '0')"
)


def _track_unit(seed: int) -> str:
    """A number in [0, 1) that is the same for the four reads of one track."""
    return f"((hashint8extended(g / 4, {seed}) & 2147483647)::float8 / 2147483648)"


# OCR look-alikes, each to one it is confused with (the simulator's confusions).
_LOOKS_FROM, _LOOKS_TO = "O0DQ1IL8B5S2Z6G", "0O00I11B8S5Z2G6"
_INSERT = f"""
INSERT INTO plate_detections (event_id, "timestamp", plate_text, plate_normalized, confidence,
    camera_id, track_id, site, host, latency_ms, vehicle_type, vehicle_color, plate_url,
    image_path)
SELECT gen_random_uuid(), ts, plate, plate, 0.5 + random() * 0.5,
       'cam-' || lpad(mod(g / 4, 50)::text, 3, '0'), 'trk-' || (g / 4),
       'site-' || (mod(g / 4, 5) + 1), 'edge-' || lpad(mod(g / 4, 50)::text, 3, '0'),
       (random() * 100)::int, (ARRAY['car', 'suv', 'van', 'truck'])[1 + mod(vehicle, 4)],
       (ARRAY['white', 'black', 'silver', 'blue', 'red'])[1 + mod(vehicle, 5)], url, url
FROM (
    SELECT g, ts, url, vehicle,
           CASE WHEN misread < 0.10
                THEN overlay(true_plate PLACING translate(substr(true_plate, position, 1),
                             '{_LOOKS_FROM}', '{_LOOKS_TO}') FROM position FOR 1)
                WHEN misread < 0.13 THEN overlay(true_plate PLACING '' FROM position FOR 1)
                ELSE true_plate END AS plate
    FROM (
        SELECT g, ts, url, vehicle, {_PLATE} AS true_plate, random() AS misread,
               1 + (random() * 6)::int AS position
        FROM (
            SELECT g,
                   CASE WHEN %(vehicles)s > 0
                        THEN (%(vehicles)s * power({_track_unit(1)}, 1.5))::bigint
                        ELSE g * 7919 END AS vehicle,
                   now() - interval '1 hour' - {_track_unit(2)} * (%(days)s * interval '1 day')
                       + mod(g, 4) * interval '150 milliseconds' AS ts,
                   's3://alpr-plate-images/edge/' || g || '.jpg' AS url
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
        ) AS tracked
    ) AS read
) AS generated
"""
# The fuzzy-search dictionary of the rows above, as the plate indexer leaves it (db/plate_texts.py).
_PLATE_DAYS = """
INSERT INTO plate_days (plate_normalized, day)
SELECT DISTINCT plate_normalized, ("timestamp" AT TIME ZONE 'UTC')::date FROM plate_detections
ON CONFLICT DO NOTHING
"""
_PLATE_TEXTS = """
INSERT INTO plate_texts (plate_normalized, last_seen)
SELECT plate_normalized, max(day) FROM plate_days GROUP BY plate_normalized
ON CONFLICT (plate_normalized) DO UPDATE SET last_seen = excluded.last_seen
WHERE plate_texts.last_seen < excluded.last_seen
"""


def prefill(
    conninfo: str,
    rows: int,
    days: int = 29,
    chunk: int = 1_000_000,
    first_row: int = 1,
    vehicles: int | None = None,
) -> float:
    """Insert ``rows`` rows spread over the last ``days`` days (ending an hour ago): tracks of
    four reads, each track a vehicle drawn from ``vehicles`` (default: one per ten reads; the
    first tenth of them make a fifth of the tracks, as regular traffic does), 10 % of reads
    with an OCR look-alike and 3 % with a dropped character. ``vehicles=0``: every read a new
    random plate, the worst case for fuzzy search."""
    vehicles = rows // 10 if vehicles is None else vehicles
    started = time.perf_counter()
    end = first_row + rows - 1
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT alpr_ensure_partitions(current_date - %s, current_date)", (days + 1,))
        for first in range(first_row, end + 1, chunk):
            last = min(first + chunk - 1, end)
            conn.execute(
                _INSERT.encode(), {"first": first, "last": last, "days": days, "vehicles": vehicles}
            )
            print(f"  prefilled {last:,} rows ({time.perf_counter() - started:.0f} s)", flush=True)
        # As autovacuum leaves a table at rest: statistics, the visibility map, and the trigram
        # indexes' GIN pending lists merged. A partition of a few thousand fresh rows otherwise
        # keeps its whole trigram index in the pending list, which every search reads linearly
        # (substring search ran 6 times slower in a run that started before autovacuum).
        conn.execute(_PLATE_DAYS)
        conn.execute(_PLATE_TEXTS)
        for table in ("plate_detections", "plate_days", "plate_texts"):
            conn.execute(f"VACUUM (ANALYZE) {table}".encode())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--vehicles",
        type=int,
        default=None,
        help="distinct vehicles (default rows/10; 0: every read a new plate)",
    )
    args = parser.parse_args()
    load_services_env()
    seconds = prefill(Settings.load().db.conninfo(), args.rows, vehicles=args.vehicles)
    print(f"{args.rows:,} rows in {seconds:.0f} s ({args.rows / seconds:,.0f} rows/s)")


if __name__ == "__main__":
    main()
