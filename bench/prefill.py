"""Fill plate_detections with realistic synthetic rows fast, generated inside PostgreSQL.

python -m bench.prefill --rows 10000000   # into DB_NAME from the environment
"""

from __future__ import annotations

import argparse
import time

import psycopg

from alpr_core.config import Settings
from bench.resources import load_services_env

_LETTER = "chr(65 + (random() * 25)::int)"
_PLATE = f"{_LETTER} || {_LETTER} || {_LETTER} || lpad(((random() * 9999)::int)::text, 4, '0')"
_INSERT = f"""
INSERT INTO plate_detections (event_id, "timestamp", plate_text, plate_normalized, confidence,
    camera_id, track_id, site, host, latency_ms, vehicle_type, vehicle_color, plate_url,
    image_path)
SELECT gen_random_uuid(), ts, plate, plate, 0.5 + random() * 0.5,
       'cam-' || lpad(mod(g, 50)::text, 3, '0'), 'trk-' || (g / 4), 'site-' || (mod(g, 5) + 1),
       'edge-' || lpad(mod(g, 50)::text, 3, '0'), (random() * 100)::int,
       (ARRAY['car', 'suv', 'van', 'truck'])[1 + mod(g, 4)],
       (ARRAY['white', 'black', 'silver', 'blue', 'red'])[1 + mod(g, 5)], url, url
FROM (
    SELECT g, {_PLATE} AS plate,
           now() - interval '1 hour' - random() * (%(days)s * interval '1 day') AS ts,
           's3://alpr-plate-images/edge/' || g || '.jpg' AS url
    FROM generate_series(%(first)s, %(last)s) AS g
) AS generated
"""


def prefill(
    conninfo: str, rows: int, days: int = 29, chunk: int = 1_000_000, first_row: int = 1
) -> float:
    """Insert ``rows`` rows spread over the last ``days`` days (ending an hour ago)."""
    started = time.perf_counter()
    end = first_row + rows - 1
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT alpr_ensure_partitions(current_date - %s, current_date)", (days + 1,))
        for first in range(first_row, end + 1, chunk):
            last = min(first + chunk - 1, end)
            conn.execute(_INSERT.encode(), {"first": first, "last": last, "days": days})
            print(f"  prefilled {last:,} rows ({time.perf_counter() - started:.0f} s)", flush=True)
        # As autovacuum leaves a table at rest: statistics, the visibility map, and the trigram
        # indexes' GIN pending lists merged. A partition of a few thousand fresh rows otherwise
        # keeps its whole trigram index in the pending list, which every search reads linearly
        # (substring search ran 6 times slower in a run that started before autovacuum).
        conn.execute("VACUUM (ANALYZE) plate_detections")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    load_services_env()
    seconds = prefill(Settings.load().db.conninfo(), args.rows)
    print(f"{args.rows:,} rows in {seconds:.0f} s ({args.rows / seconds:,.0f} rows/s)")


if __name__ == "__main__":
    main()
