"""What vehicle passes cost the writer alone, without Kafka or decoding: the storage writer
(``DetectionWriter``) writes the same simulated reads (several per vehicle, eight cameras) in
batches into fresh databases, in turns, with passes off and on; each run's CPU per read of
this process (the writer's Python) and of PostgreSQL. ``bench.passes_ingest`` measures the whole
service; this one says which side the passes' cost is on, with less of the noise.

    python -m bench.passes_writer --events 100000 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg

from alpr_core.db.detections import DetectionRow, DetectionWriter
from alpr_core.events.parse import EventLimits, parse_event
from bench.ingest import records
from bench.resources import CpuMeter, ServerProcesses, database, fresh_settings, load_services_env

GAP = timedelta(seconds=60)  # PASS_GAP_S's default


def one_run(rows: list[DetectionRow], passes: bool, batch: int) -> dict[str, float]:
    """CPU µs per read of this process and of PostgreSQL, writing ``rows`` in batches."""
    settings = fresh_settings("passes-writer")
    with database(settings), psycopg.connect(settings.db.conninfo()) as conn:
        writer = DetectionWriter(pass_gap=GAP if passes else None, plate_sketches=False)
        meter = CpuMeter(ServerProcesses.find())
        meter.start()
        started = time.perf_counter()
        for first in range(0, len(rows), batch):
            writer.write(conn, rows[first : first + batch])
        seconds = time.perf_counter() - started
        meter.stop()
    used = {
        "writer (this process)": meter.used["bench process"],
        "postgres": meter.used["postgres"],
    }
    per_read = {part: 1e6 * cpu / len(rows) for part, cpu in used.items()}
    label = "passes" if passes else "plain"
    print(f"{label}: {len(rows) / seconds:,.0f} reads/s, CPU µs per read {per_read}", flush=True)
    return per_read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=5_000, help="reads a transaction")
    args = parser.parse_args()
    load_services_env()
    limits = EventLimits(
        max_image_bytes=1 << 20, max_clock_skew=timedelta(days=1), max_age=timedelta(days=3650)
    )
    now = datetime.now(UTC)
    rows = [DetectionRow(parse_event(r, limits, now), 1, None) for r in records("v1", args.events)]
    runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    for _ in range(args.rounds):
        for passes in (False, True):
            runs[passes].append(one_run(rows, passes, args.batch))
    print(
        f"\n## Passes in the writer alone, {args.events:,} reads in batches of {args.batch:,},"
        f" medians of {args.rounds}\n"
    )
    print("| part | without, µs per read | with, µs per read | added by passes |")
    print("|---|---:|---:|---:|")
    totals = {}
    for passes in (False, True):
        totals[passes] = statistics.median(sum(run.values()) for run in runs[passes])
    for part in runs[False][0]:
        without = statistics.median(run[part] for run in runs[False])
        with_passes = statistics.median(run[part] for run in runs[True])
        print(f"| {part} | {without:.1f} | {with_passes:.1f} | +{with_passes - without:.1f} |")
    print(
        f"| both | {totals[False]:.1f} | {totals[True]:.1f} | +{totals[True] - totals[False]:.1f} |"
    )


if __name__ == "__main__":
    main()
