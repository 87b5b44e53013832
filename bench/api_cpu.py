"""The API process's CPU time per request, under wrk at fixed concurrency.

    python -m bench.api_cpu --keep-db bench_10m_fleet --only list exact

Throughput on this VM moves by a quarter from run to run, more than a small change to the API
can; CPU time per request moves much less. Starts `alpr api` (one worker) over a database kept
by ``bench.api_load --keep-db``, then loads each scenario ``--repeats`` times as
``bench.api_load`` does (``through_api``: wrk over the scenario's varied paths, after a
warm-up), and prints the requests answered and the CPU the API and PostgreSQL spent on each.
To compare two versions of the code, run this alternately with
``PYTHONPATH=<other checkout>/src:.``.
"""

from __future__ import annotations

import argparse
import shutil

import psycopg

from alpr_core.db.api_keys import create_key
from bench.api_load import (
    api_and_database,
    sample_cameras,
    sample_plates,
    scenarios,
    start_api,
    stored_image_ids,
    through_api,
)
from bench.resources import free_port, kept_settings, load_services_env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep-db", metavar="NAME", required=True)
    parser.add_argument("--only", nargs="+", default=["list", "exact"], metavar="SCENARIO")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench.api_cpu needs wrk: apt-get install -y wrk")
    load_services_env()
    settings = kept_settings(args.keep_db)
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        _key, token = create_key(conn, "bench-cpu", "viewer")
    every = scenarios(
        sample_plates(settings, 500), stored_image_ids(settings), sample_cameras(settings)
    )
    chosen = [scenario for scenario in every if scenario.name in args.only]
    port = free_port()
    api = start_api(settings, port, 1)
    servers = api_and_database(api)
    try:
        for scenario in chosen:
            for _ in range(args.repeats):
                result = through_api(
                    f"http://127.0.0.1:{port}", token, scenario, args.clients, args.seconds, servers
                )
                print(
                    f"{scenario.name}: {result.rate:,.0f} requests/s,"
                    f" API CPU {result.cpu_ms['api']:.3f} ms per request,"
                    f" PostgreSQL {result.cpu_ms['postgres']:.3f}",
                    flush=True,
                )
    finally:
        api.terminate()
        api.wait(30)


if __name__ == "__main__":
    main()
