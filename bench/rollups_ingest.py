"""Ingest with and without the hourly read counts of ``/stats`` (migration 0026's insert
trigger), side by side in one run (``bench.paired_ingest``): the storage service consumes the
same topic into fresh databases, in turns, with the trigger disabled and enabled (passes and
watchlist matching off in both).

    python -m bench.rollups_ingest --events 100000 --rounds 3
"""

from __future__ import annotations

import argparse

import psycopg

from alpr_core.config import Settings
from bench.paired_ingest import Config, paired_rounds, published, report

GOAL = 0.95  # counting reads may cost ingest at most a twentieth of its rate


def _plain(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "alert": settings.alert.model_copy(update={"matching": False}),
            "passes": settings.passes.model_copy(update={"tracking": False}),
        }
    )


def _without_counts(settings: Settings) -> None:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        conn.execute("ALTER TABLE plate_detections DISABLE TRIGGER plate_detections_roll_up")


def _counted(settings: Settings) -> str:
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute("SELECT coalesce(sum(reads), 0) FROM read_rollups").fetchone()
    assert row is not None
    return f"{int(row[0]):,} reads counted"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, taken in turns")
    args = parser.parse_args()
    base, _reads = published("rollups-ingest", args.events)
    plain = Config("uncounted", _plain, prepare=_without_counts, outcome=_counted)
    counted = Config("counted", _plain, outcome=_counted)
    without, with_counts = paired_rounds(base, plain, counted, args.events, args.rounds)
    print(f"\n## Ingest with the hourly read counts, {args.events:,} v1 events\n")
    print(f"Medians of {args.rounds} runs each, taken in turns.\n")
    report("read counts", without, with_counts, goal=GOAL, added_by="the counts")


if __name__ == "__main__":
    main()
