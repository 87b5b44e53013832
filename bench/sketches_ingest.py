"""Ingest with and without the unique-plate sketches of ``/stats`` (``STATS_PLATE_SKETCHES``),
side by side in one run (``bench.paired_ingest``): the storage service consumes the same topic
into fresh databases, in turns, with the sketches off and on (passes and watchlist matching off
in both).

    python -m bench.sketches_ingest --events 100000 --rounds 3
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import psycopg

from alpr_core.config import Settings
from bench.paired_ingest import Config, paired_rounds, published, report

GOAL = 0.95  # counting unique plates may cost ingest at most a twentieth of its rate


def _sketching(on: bool) -> Callable[[Settings], Settings]:
    def configure(settings: Settings) -> Settings:
        return settings.model_copy(
            update={
                "alert": settings.alert.model_copy(update={"matching": False}),
                "passes": settings.passes.model_copy(update={"tracking": False}),
                "stats": settings.stats.model_copy(update={"plate_sketches": on}),
            }
        )

    return configure


def _sketches(settings: Settings) -> str:
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute("SELECT count(*) FROM plate_sketches").fetchone()
    assert row is not None
    return f"{int(row[0]):,} sketches"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, taken in turns")
    args = parser.parse_args()
    base, _reads = published("sketches-ingest", args.events)
    plain = Config("unsketched", _sketching(False), outcome=_sketches)
    sketched = Config("sketched", _sketching(True), outcome=_sketches)
    without, with_sketches = paired_rounds(base, plain, sketched, args.events, args.rounds)
    print(f"\n## Ingest with the unique-plate sketches, {args.events:,} v1 events\n")
    print(f"Medians of {args.rounds} runs each, taken in turns.\n")
    report("plate sketches", without, with_sketches, goal=GOAL, added_by="the sketches")


if __name__ == "__main__":
    main()
