"""The API process's CPU time per request, under wrk at fixed concurrency.

    python -m bench.api_cpu --keep-db bench_10m_fleet --only list exact

Throughput on this VM moves by a quarter from run to run, more than a small change to the API
can; CPU time per request moves much less. Starts `alpr api` (one worker) over a database kept
by ``bench.api_load --keep-db``, warms each scenario up, then runs wrk ``--repeats`` times and
divides the process's CPU time by the requests it answered. To compare two versions of the
code, run this alternately with ``PYTHONPATH=<other checkout>/src:.``.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import tempfile

import psutil
import psycopg

from alpr_core.db.api_keys import create_key
from bench.api_load import (
    sample_cameras,
    sample_plates,
    scenarios,
    start_api,
    stored_image_ids,
)
from bench.resources import free_port, kept_settings, load_services_env


def _wrk(base: str, path: str, script: str, clients: int, seconds: int) -> int:
    """Requests answered in ``seconds``."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "-s", script, base + path],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]


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
    every = scenarios(sample_plates(settings, 500), stored_image_ids(settings),
                      sample_cameras(settings))  # fmt: skip
    chosen = [scenario for scenario in every if scenario.name in args.only]
    port = free_port()
    api = start_api(settings, port, 1)
    process = psutil.Process(api.pid)
    base = f"http://127.0.0.1:{port}"
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
            script.write(f'wrk.headers["X-API-Key"] = "{token}"\n')
            script.flush()
            for scenario in chosen:
                path = scenario.page(random.Random(3)).path
                _wrk(base, path, script.name, args.clients, 2)  # warm up
                for _ in range(args.repeats):
                    before = process.cpu_times()
                    answered = _wrk(base, path, script.name, args.clients, args.seconds)
                    after = process.cpu_times()
                    cpu = after.user + after.system - before.user - before.system
                    rate = answered / args.seconds
                    per_request = 1000 * cpu / answered
                    print(f"{scenario.name}: {rate:,.0f} requests/s,"
                          f" API CPU {per_request:.3f} ms per request", flush=True)  # fmt: skip
    finally:
        api.terminate()
        api.wait(30)


if __name__ == "__main__":
    main()
