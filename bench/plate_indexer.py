"""How long the background plate indexer takes to empty a backlog of new plates: one chunk per
tick (as before it drained until empty, ``--budget-s 0``) against draining each tick until the
backlog is empty (the default budget).

    python -m bench.plate_indexer --plates 100000
"""

from __future__ import annotations

import argparse
import time

import psycopg

from alpr_core.config import Settings
from alpr_core.jobs.plate_indexer import TICK_BUDGET_S, PlateIndexer
from bench.resources import database, fresh_settings, load_services_env

# Distinct 8-character plates: i * an odd constant is a bijection modulo 2^32.
_BACKLOG = """
INSERT INTO plate_texts_pending (plate_normalized, day)
SELECT upper(lpad(to_hex((i * 2654435761) %% 4294967296), 8, '0')), current_date
FROM generate_series(1, %s) AS i
"""


def _fill(conninfo: str, plates: int) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("TRUNCATE plate_texts, plate_days, plate_texts_pending")
        conn.execute(_BACKLOG, (plates,))
        conn.execute("VACUUM (ANALYZE) plate_texts_pending")


def _pending(conn: psycopg.Connection[tuple[object, ...]]) -> bool:
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM plate_texts_pending)").fetchone()
    return bool(row and row[0])


def drain_seconds(conninfo: str, plates: int, budget_s: float) -> float:
    """Seconds from the indexer's start until no plate is pending (its first tick is one
    interval in)."""
    _fill(conninfo, plates)
    indexer = PlateIndexer(conninfo, interval_s=1.0, tick_budget_s=budget_s)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        started = time.perf_counter()
        indexer.start()
        while _pending(conn):
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
    indexer.stop()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plates", type=int, default=100_000)
    budgets = f"tick budgets to compare (default 0 and {TICK_BUDGET_S})"
    parser.add_argument("--budget-s", type=float, action="append", help=budgets)
    args = parser.parse_args()
    load_services_env()
    settings: Settings = fresh_settings("plate-indexer")
    with database(settings):
        for budget_s in args.budget_s or [0.0, TICK_BUDGET_S]:
            seconds = drain_seconds(settings.db.conninfo(), args.plates, budget_s)
            rate = args.plates / seconds
            print(
                f"tick budget {budget_s:g} s: {args.plates:,} plates drained in {seconds:.1f} s"
                f" ({rate:,.0f} plates/s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
