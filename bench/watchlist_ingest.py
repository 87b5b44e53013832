"""Ingest with and without watchlist matching, side by side in one run (``bench.paired_ingest``):
the storage service consumes the same topic into fresh databases, in turns, with
``ALERT_MATCHING`` off, and on with
``--entries`` active entries (a tenth fuzzy, the rest exact; ``--hits`` of them are plates the
topic holds, so alerts are written too). The goal: with matching, at least 90 % of the rate
without (docs/benchmarks.md).

    python -m bench.watchlist_ingest --events 100000 --entries 100000
"""

from __future__ import annotations

import argparse
import random
import string
from collections.abc import Callable
from typing import Any

import psycopg

from alpr_core.config import Settings
from alpr_core.events.parse import normalize_plate
from bench.paired_ingest import Config, paired_rounds, published, report
from bench.resources import admin_conninfo

GOAL = 0.90


def entry_rows(
    count: int, hits: list[str], distances: list[int], rng: random.Random
) -> list[tuple[Any, ...]]:
    """(plate, match mode, max distance): ``hits`` first, then random plates of the same
    shape; every tenth fuzzy, its distance one of ``distances``."""
    rows = []
    for index in range(count):
        plate = (
            hits[index]
            if index < len(hits)
            else "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(7))
        )
        fuzzy = index % 10 == 9
        rows.append((plate, "fuzzy" if fuzzy else "exact", rng.choice(distances) if fuzzy else 0))
    return rows


def fill_watchlist(settings: Settings, rows: list[tuple[Any, ...]]) -> None:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO watchlists (name, priority, owner) VALUES ('bench', 'warning', 'bench')"
            " RETURNING id"
        ).fetchone()
        assert row is not None
        with conn.cursor().copy(
            "COPY watchlist_entries (watchlist_id, plate, plate_normalized, match_mode,"
            " max_distance, reference) FROM STDIN"
        ) as copy:
            for index, (plate, mode, distance) in enumerate(rows):
                copy.write_row((row[0], plate, plate, mode, distance, str(index)))
        # as lists filled long before: no autovacuum of the new rows during the measured run
        conn.execute("VACUUM (ANALYZE) watchlists, watchlist_entries")
    # nor a checkpoint of their pages and WAL
    with psycopg.connect(admin_conninfo(settings), autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def _alerts(settings: Settings) -> str:
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute("SELECT count(*) FROM alerts").fetchone()
    return f"{int(row[0]) if row else 0} alerts"


def _matching(on: bool) -> Callable[[Settings], Settings]:
    """Matching on or off, passes off in both, so that the ratio is matching's alone (the
    alerts' delivery is bench.latency's to measure)."""

    def configure(settings: Settings) -> Settings:
        return settings.model_copy(
            update={
                "alert": settings.alert.model_copy(update={"matching": on, "kafka_topic": ""}),
                "passes": settings.passes.model_copy(update={"tracking": False}),
            }
        )

    return configure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--hits", type=int, default=100, help="entries that match published reads")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, taken in turns")
    parser.add_argument(
        "--fuzzy-distances",
        type=int,
        nargs="+",
        default=[1, 2],
        help="a fuzzy entry's max_distance, drawn from these",
    )
    args = parser.parse_args()
    base, reads = published("watchlist-ingest", args.events)
    rng = random.Random(3)
    plates = sorted({normalize_plate(read["plate"]["text"]) for read in reads})
    hits = rng.sample(plates, min(args.hits, len(plates)))
    entries = entry_rows(args.entries, hits, args.fuzzy_distances, rng)
    plain = Config("plain", _matching(False))
    lists = Config(
        "lists", _matching(True), lambda settings: fill_watchlist(settings, entries), _alerts
    )
    without, with_lists = paired_rounds(base, plain, lists, args.events, args.rounds)
    print(f"\n## Ingest with watchlist matching, {args.events:,} v1 events\n")
    distances = " or ".join(map(str, args.fuzzy_distances))
    print(
        f"{args.entries:,} entries (a tenth fuzzy, within {distances} edits), {args.hits} of them"
        f" plates in the topic; medians of {args.rounds} runs each, taken in turns.\n"
    )
    report("matching", without, with_lists, goal=GOAL, added_by="matching")


if __name__ == "__main__":
    main()
