"""Ingest with and without vehicle passes, side by side in one run (``bench.paired_ingest``):
the storage service consumes the same topic of simulated tracks (several reads per vehicle)
into fresh databases, in turns, with ``PASS_TRACKING`` off and on (watchlist matching off in
both). The goal: passes cost ingest at most 15 % of its rate (docs/benchmarks.md).

    python -m bench.passes_ingest --events 100000 --rounds 5
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import psycopg

from alpr_core.config import Settings
from bench.paired_ingest import Config, paired_rounds, published, report

GOAL = 0.85


def _tracking(on: bool) -> Callable[[Settings], Settings]:
    def configure(settings: Settings) -> Settings:
        return settings.model_copy(
            update={
                "alert": settings.alert.model_copy(update={"matching": False}),
                "passes": settings.passes.model_copy(update={"tracking": on}),
            }
        )

    return configure


def _passes(settings: Settings) -> str:
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute("SELECT count(*), coalesce(sum(read_count), 0) FROM passes").fetchone()
    assert row is not None
    return f"{int(row[0]):,} passes of {int(row[1]):,} reads"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5, help="runs of each, taken in turns")
    args = parser.parse_args()
    base, _reads = published("passes-ingest", args.events)
    plain = Config("plain", _tracking(False))
    passes = Config("passes", _tracking(True), outcome=_passes)
    without, with_passes = paired_rounds(base, plain, passes, args.events, args.rounds)
    print(f"\n## Ingest with vehicle passes, {args.events:,} v1 events\n")
    print(f"Medians of {args.rounds} runs each, taken in turns.\n")
    report("passes", without, with_passes, goal=GOAL, added_by="passes")


if __name__ == "__main__":
    main()
