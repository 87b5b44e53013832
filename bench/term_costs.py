"""What each search term of a run costs PostgreSQL alone: the page query of each term
``bench.api_load`` would send, run in turn on one connection, timed, with the slowest listed.

    python -m bench.term_costs --keep-db bench_10m_fleet --mode substring --terms 2000

Tells a tail made by a few expensive terms (slow here too) from one made by load or a stall
(fast here, slow only under load).
"""

from __future__ import annotations

import argparse
import random
import time

import psycopg

from alpr_core.api.queries import PlateFilters, page_query
from alpr_core.api.search import plate_match
from bench.api_load import _UNSCOPED, sample_plates, search_term
from bench.percentiles import percentile
from bench.resources import kept_settings, load_services_env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep-db", required=True, help="a database bench.api_load kept")
    parser.add_argument("--mode", choices=["exact", "prefix", "substring"], default="substring")
    parser.add_argument("--terms", type=int, default=2000)
    parser.add_argument("--slowest", type=int, default=10)
    args = parser.parse_args()
    load_services_env()
    settings = kept_settings(args.keep_db)
    plates = sample_plates(settings, args.terms * 2)
    rng = random.Random(11)
    kind, terms = search_term(args.mode), [rng.choice(plates) for _ in range(args.terms)]
    timed: list[tuple[float, str, int]] = []
    with psycopg.connect(settings.db.conninfo()) as conn:
        conn.execute("SET max_parallel_workers_per_gather = 0")  # as the API's connections
        for plate in terms:
            term = kind.term(plate)
            page = page_query(_UNSCOPED, PlateFilters(), None, 50, plate_match(kind.mode, term))
            started, statements = time.perf_counter(), 0
            found = 0
            for sql, params in page.statements:
                found += len(conn.execute(sql, params).fetchall())
                statements += 1
                if found > page.limit:
                    break
            timed.append(((time.perf_counter() - started) * 1000, term, statements))
    latencies = sorted(ms for ms, _, _ in timed)
    print(f"{args.mode}, {len(timed)} terms: p50 {percentile(latencies, 0.5):.1f} ms,", end=" ")
    print(f"p99 {percentile(latencies, 0.99):.1f} ms, max {latencies[-1]:.1f} ms")
    for ms, term, statements in sorted(timed, reverse=True)[: args.slowest]:
        print(f"  {ms:7.1f} ms  {term}  ({statements} statement{'s' if statements > 1 else ''})")


if __name__ == "__main__":
    main()
