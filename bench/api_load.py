"""The query API under load, against the same SQL run directly through psycopg (the ceiling).

    python -m bench.api_load --rows 1000000 --then-rows 10000000 --clients 16 --seconds 15

Fills a fresh database (bench.prefill) and makes the passes of its reads (as ``alpr passes
rebuild`` does), stores 500 reads with inline images through the storage sink, starts `alpr api`
(one uvicorn worker) in its own process, and for each scenario (list, camera, vehicle
attributes, exact, prefix, substring, fuzzy, image, passes, a plate's history, convoy,
stakeout, statistics) runs a fixed number of concurrent clients for a fixed time (closed loop:
the maximum throughput), first through HTTP, then the same SQL through psycopg with as many
connections: the statements the API runs, its audit row included (the ceiling), and the page's
query alone. Prints requests/s, p50 and p99, and the API's share of each.

After each scenario's closed loop, open-loop runs (bench.open_loop) offer a constant arrival rate
at shares of that maximum (``--open-loop-shares``, 50 % and 80 % by default) and print p50, p99
and p99.9 at each, with the p99 goal read at 50 %. The plans: bench.plans.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx
import psutil
import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request

from alpr_core.api.app import EXPLICIT_PREPARE_ONLY, api_conninfo
from alpr_core.api.audit import record_query
from alpr_core.api.queries import PlateFilters, VehicleAttributes, page_queries, page_query
from alpr_core.api.routes.history import history_of
from alpr_core.api.routes.passes import passes_page_rows
from alpr_core.api.routes.stats import StatsSeries, top_plates_rows
from alpr_core.api.search import MatchMode, PlateMatch, plate_match
from alpr_core.api.statements import fetch_audited_page, fetch_page_rows, fetch_rows
from alpr_core.config import Settings
from alpr_core.db.api_keys import ApiKey, create_key
from alpr_core.db.co_presence import Place, convoy_query, stakeout_query
from alpr_core.db.pass_views import passes_page_query
from alpr_core.db.passes import rebuild_passes
from alpr_core.db.plate_sketches import rebuild_sketches
from alpr_core.db.stats import StatsFilters, StatsRange
from bench.open_loop import OpenLoopResult, report_open_loop, run_open_loop
from bench.percentiles import percentile
from bench.prefill import prefill
from bench.resources import (
    ServerProcesses,
    cpu_delta,
    database,
    free_port,
    fresh_settings,
    kept_settings,
    load_services_env,
    row_count,
)
from bench.stored_reads import store_simulated
from bench.vegeta import vegeta_binary

WARM_UP_S = 2  # unmeasured load before each measurement
_UNSCOPED = ApiKey(UUID(int=0), "bench", "viewer", None, None, datetime.now(UTC), None)


@dataclass(frozen=True)
class Result:
    name: str
    rate: float
    p50_ms: float
    p99_ms: float
    failed: int = 0  # non-2xx/3xx answers and client timeouts (wrk's 2 s)
    # CPU milliseconds per request, by process ("api", "postgres", "wrk"), through the API only
    cpu_ms: dict[str, float] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, name: str, seconds: float, latencies_ms: list[float]) -> Result:
        p50, p99 = (percentile(latencies_ms, q) for q in (0.5, 0.99))
        return cls(name, len(latencies_ms) / seconds, p50, p99)


# The statements of a page other than a read page, as the route runs them (its audit row
# included when a key is given): the ceiling of /passes and /plates/history.
Statements = Callable[[AsyncConnection[Any], ApiKey | None, Request], Awaitable[object]]


@dataclass(frozen=True)
class Page:
    """One request of a scenario: its path, and the plate match the API makes of it (or, for
    the investigation routes, the statements it runs)."""

    path: str
    match: PlateMatch | None = None
    filters: PlateFilters = dataclasses.field(default_factory=PlateFilters)
    pages: bool = True  # the ceiling runs its SQL (images: only through the API)
    statements: Statements | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    page: Callable[[random.Random], Page]


def store_images(settings: Settings, count: int) -> list[int]:
    start = datetime.now(UTC) - timedelta(minutes=30)
    store_simulated(
        settings, count, fleet=4, start=start, inline_share=1.0, seed=9, batch=max(1, count)
    )
    return stored_image_ids(settings)


def ensure_passes(settings: Settings) -> None:
    """Make the passes of the prefilled reads (``bench.prefill`` writes rows, not passes) when
    the passes do not hold every read."""
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute("SELECT coalesce(sum(read_count), 0) FROM passes").fetchone()
    if row is not None and int(row[0]) == row_count(settings):
        return
    print("making the passes of the stored reads ...", flush=True)
    started = time.perf_counter()
    reads, passes = rebuild_passes(settings.db.conninfo(), timedelta(seconds=settings.passes.gap_s))
    took = time.perf_counter() - started
    print(f"{passes:,} passes of {reads:,} reads in {took:.0f} s", flush=True)


def ensure_sketches(settings: Settings) -> None:
    """Make the unique-plate sketches of the prefilled reads when there are none."""
    with psycopg.connect(settings.db.conninfo()) as conn:
        if conn.execute("SELECT 1 FROM plate_sketches LIMIT 1").fetchone() is not None:
            return
    print("making the plate sketches of the stored reads ...", flush=True)
    started = time.perf_counter()
    reads, sketches = rebuild_sketches(settings.db.conninfo())
    took = time.perf_counter() - started
    print(f"{sketches:,} sketches of {reads:,} reads in {took:.0f} s", flush=True)


def stored_image_ids(settings: Settings) -> list[int]:
    with psycopg.connect(settings.db.conninfo()) as conn:
        rows = conn.execute("SELECT id FROM plate_detections WHERE image_object_key IS NOT NULL")
        return [row[0] for row in rows.fetchall()]


def sample_plates(settings: Settings, count: int) -> list[str]:
    with psycopg.connect(settings.db.conninfo()) as conn:
        rows = conn.execute(
            "SELECT plate_normalized FROM plate_detections TABLESAMPLE SYSTEM (1) LIMIT %s",
            (count,),
        ).fetchall()
    return [row[0] for row in rows]


def sample_cameras(settings: Settings) -> list[str]:
    with psycopg.connect(settings.db.conninfo()) as conn:
        rows = conn.execute(
            "SELECT DISTINCT camera_id FROM plate_detections TABLESAMPLE SYSTEM (1)"
        ).fetchall()
    return [row[0] for row in rows]


@dataclass(frozen=True)
class SearchTerm:
    """How a search scenario makes its term from a stored plate."""

    mode: MatchMode
    term: Callable[[str], str]


def search_term(scenario: str) -> SearchTerm:
    terms = {
        "exact": SearchTerm(MatchMode.EXACT, lambda plate: plate),
        "prefix": SearchTerm(MatchMode.PREFIX, lambda plate: plate[:3]),
        "substring": SearchTerm(MatchMode.WILDCARD, lambda plate: f"*{plate[2:5]}*"),
    }
    return terms[scenario]


# The vehicle types and colours bench.prefill writes, each combination on a twentieth of reads.
_PREFILL_TYPES = ("car", "suv", "van", "truck")
_PREFILL_COLORS = ("white", "black", "silver", "blue", "red")


def _lookalike(plate: str) -> str:
    return plate.translate(str.maketrans("0O1I8B5S2Z", "O0I1B8S5Z2"))


@dataclass(frozen=True)
class RecentPasses:
    """Plates with three or more passes in the data's last day, for convoy and stakeout: each
    plate's first three passes as (camera, first read), and the newest pass's start."""

    newest: datetime
    passes: dict[str, list[tuple[str, datetime]]]


def recent_passes(settings: Settings, plates: int = 2000) -> RecentPasses:
    with psycopg.connect(settings.db.conninfo()) as conn:
        newest_row = conn.execute("SELECT max(first_seen) FROM passes").fetchone()
        newest = newest_row[0] if newest_row and newest_row[0] else datetime.now(UTC)
        rows = conn.execute(
            "SELECT plate_normalized, (array_agg(camera_id ORDER BY first_seen))[1:3],"
            " (array_agg(first_seen ORDER BY first_seen))[1:3] FROM passes"
            " WHERE first_seen > %s - interval '1 day' GROUP BY 1 HAVING count(*) >= 3"
            " ORDER BY 1 LIMIT %s",
            (newest, plates),
        ).fetchall()
    return RecentPasses(newest, {row[0]: list(zip(row[1], row[2], strict=True)) for row in rows})


def co_presence_scenarios(recent: RecentPasses) -> list[Scenario]:
    """A convoy of a plate over the data's last day (a minute's window, two cameras), a
    stakeout of three places (the cameras of a plate's three passes, an hour around each), and
    the statistics of the data's last week, per camera and day."""
    plates = sorted(recent.passes)
    until = recent.newest + timedelta(seconds=1)
    since = until - timedelta(days=1)

    def convoy(rng: random.Random) -> Page:
        plate = rng.choice(plates)

        async def statements(
            conn: AsyncConnection[Any], key: ApiKey | None, request: Request
        ) -> None:
            sql, params = convoy_query(
                key or _UNSCOPED, plate, since, until, timedelta(seconds=60), 2, "camera", 50
            )
            rows = await fetch_rows(conn, sql, params, prepared=False)
            if key is not None:  # the query alone: no audit row
                await record_query(conn, key, request, 200, len(rows) - 1)

        window = f"start_time={_iso(since)}&end_time={_iso(until)}"
        return Page(f"/convoy?plate_text={plate}&{window}", statements=statements)

    def stakeout(rng: random.Random) -> Page:
        places = [
            Place("camera", camera, at - timedelta(minutes=30), at + timedelta(minutes=30))
            for camera, at in recent.passes[rng.choice(plates)]
        ]

        async def statements(
            conn: AsyncConnection[Any], key: ApiKey | None, request: Request
        ) -> None:
            sql, params = stakeout_query(key or _UNSCOPED, places, len(places), 50)
            rows = await fetch_rows(conn, sql, params, prepared=False)
            if key is not None:
                await record_query(conn, key, request, 200, len(rows))

        query = "&".join(
            f"place={quote(f'camera:{p.name}@{_iso(p.since)}/{_iso(p.until)}')}" for p in places
        )
        return Page(f"/stakeout?{query}", statements=statements)

    def stats(_rng: random.Random) -> Page:
        hours = StatsRange.covering(until - timedelta(days=7), until)

        async def statements(
            conn: AsyncConnection[Any], key: ApiKey | None, request: Request
        ) -> None:
            series = StatsSeries(key or _UNSCOPED, hours, "day", "camera", StatsFilters())
            rows, _uniques = await series.rows(conn)
            if key is not None:
                await record_query(conn, key, request, 200, len(rows))

        week = f"start_time={_iso(hours.since)}&end_time={_iso(until)}"
        return Page(f"/stats?{week}&bucket=day&by=camera", statements=statements)

    def top_plates(_rng: random.Random) -> Page:
        hours = StatsRange.covering(until - timedelta(days=1), until)

        async def statements(
            conn: AsyncConnection[Any], key: ApiKey | None, request: Request
        ) -> None:
            scope = key or _UNSCOPED
            plates, _ = await top_plates_rows(conn, scope, hours, StatsFilters(), 20)
            if key is not None:
                await record_query(conn, key, request, 200, len(plates))

        day = f"start_time={_iso(hours.since)}&end_time={_iso(until)}"
        return Page(f"/stats/plates?{day}&purpose=bench", statements=statements)

    return [
        Scenario("convoy", convoy),
        Scenario("stakeout", stakeout),
        Scenario("stats", stats),
        Scenario("top_plates", top_plates),
    ]


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def scenarios(plates: list[str], image_ids: list[int], camera_ids: list[str]) -> list[Scenario]:
    def search(mode: MatchMode, text: str) -> Page:
        query = f"mode={mode.value}&plate_text={quote(text)}"
        return Page(f"/plates/search?{query}&limit=50", plate_match(mode, text))

    def pick(rng: random.Random) -> str:
        return rng.choice(plates)

    def searched(name: str) -> Scenario:
        kind = search_term(name)
        return Scenario(name, lambda rng: search(kind.mode, kind.term(pick(rng))))

    def camera(rng: random.Random) -> Page:
        chosen = rng.choice(camera_ids)
        return Page(
            f"/plates?camera_id={chosen}&limit=50", filters=PlateFilters(camera_ids=[chosen])
        )

    def attributes(rng: random.Random) -> Page:
        kind, color = rng.choice(_PREFILL_TYPES), rng.choice(_PREFILL_COLORS)
        vehicle = VehicleAttributes(vehicle_type=kind, vehicle_color=color)
        return Page(
            f"/plates?vehicle_type={kind}&vehicle_color={color}&limit=50",
            filters=PlateFilters(vehicle=vehicle),
        )

    async def passes_page(conn: AsyncConnection[Any], key: ApiKey | None, request: Request) -> None:
        if key is None:  # the query alone
            sql, params = passes_page_query(_UNSCOPED, PlateFilters(), None, 50)
            await fetch_rows(conn, sql, params, prepared=False)
        else:
            await passes_page_rows(conn, key, request, PlateFilters(), None, 50)

    def history(rng: random.Random) -> Page:
        plate = pick(rng)

        async def statements(
            conn: AsyncConnection[Any], key: ApiKey | None, request: Request
        ) -> None:
            match = plate_match(MatchMode.EXACT, plate)
            audited = request if key is not None else None  # the query alone: no audit row
            await history_of(conn, key or _UNSCOPED, audited, match, PlateFilters(), 10)

        return Page(f"/plates/history?plate_text={quote(plate)}", statements=statements)

    return [
        Scenario("list", lambda _rng: Page("/plates?limit=50")),
        Scenario("camera", camera),
        Scenario("attributes", attributes),
        *(searched(name) for name in ("exact", "prefix", "substring")),
        Scenario("fuzzy", lambda rng: search(MatchMode.FUZZY, _lookalike(pick(rng)))),
        Scenario("image", lambda rng: Page(f"/plates/{rng.choice(image_ids)}/image", pages=False)),
        Scenario("passes", lambda _rng: Page("/passes?limit=50", statements=passes_page)),
        Scenario("history", history),
    ]


async def drive(
    clients: int, seconds: float, call: Callable[[random.Random], Awaitable[None]]
) -> tuple[int, float, list[float]]:
    """Run ``clients`` loops of ``call`` for ``seconds``; return count, wall time, latencies."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await call(rng)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return len(latencies), time.perf_counter() - started, latencies


_WRK_SCRIPT = """
local paths = {%s}
local i = 0
wrk.headers["X-API-Key"] = "%s"
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


def scenario_paths(scenario: Scenario, count: int = 2000) -> list[str]:
    """The paths a load generator cycles through: a different plate (or camera, or image) per
    request, the same ones in every run."""
    rng = random.Random(11)
    return [scenario.page(rng).path for _ in range(count)]


def through_api(
    base: str,
    token: str,
    scenario: Scenario,
    clients: int,
    seconds: float,
    servers: ServerProcesses,
) -> Result:
    """Load from wrk (C, two threads), so the load generator is not what is measured. ``servers``
    (the API's process among them) give the CPU each process spent per request."""
    if shutil.which("wrk") is None:
        raise SystemExit("bench.api_load needs wrk: apt-get install -y wrk")
    paths = ", ".join(f'"{path}"' for path in scenario_paths(scenario))
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_WRK_SCRIPT % (paths, token))
        script.flush()
        for duration in (WARM_UP_S, seconds):  # the first seconds after a start run slow
            before = servers.cpu_seconds()
            out = subprocess.run(
                [
                    "wrk",
                    "-t2",
                    f"-c{clients}",
                    f"-d{duration:.0f}s",
                    "--latency",
                    "-s",
                    script.name,
                    base,
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            used = cpu_delta(before, servers.cpu_seconds())
    failed = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|timeout):? (\d+)", out))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    p50, p99 = (_ms(re.search(rf"\s{q}%\s+([\d.]+\w+)", out)[1]) for q in (50, 99))  # type: ignore[index]
    answered = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    # wrk is this process's child: its CPU is counted as this process's once it has exited
    cpu_ms = {
        name: 1000 * used[source] / max(answered, 1)
        for name, source in (("api", "api"), ("postgres", "postgres"), ("wrk", "bench process"))
    }
    return Result(f"{scenario.name} (API)", rate, p50, p99, failed, cpu_ms)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _request_of(path: str) -> Request:
    """The request the audit row records, as the API would see ``path`` from a local client: the
    audit reads the client's address, and the trusted proxies from the app's resources."""
    route, _, query = path.partition("?")
    app = SimpleNamespace(state=SimpleNamespace(resources=SimpleNamespace(trusted_proxies=())))
    scope = {
        "type": "http",
        "method": "GET",
        "path": route,
        "query_string": query.encode(),
        "headers": [],
        "client": ("127.0.0.1", 40000),
        "app": app,
    }
    return Request(scope)


async def through_sql(
    settings: Settings, scenario: Scenario, clients: int, seconds: float, *, audited: ApiKey | None
) -> Result:
    """The page's SQL through psycopg, with the API's connection settings and client code:
    with ``audited`` (the API's key), exactly the statements the API runs, its audit row
    included; else the page's query alone."""
    pool = AsyncConnectionPool(  # the API's connection settings
        api_conninfo(settings, generic_plans=True),
        min_size=clients,
        max_size=clients,
        open=False,
        kwargs={"autocommit": True, **EXPLICIT_PREPARE_ONLY},
    )
    await pool.open(wait=True)
    failed = 0

    async def call(rng: random.Random) -> None:
        nonlocal failed
        page = scenario.page(rng)
        query = page_query(_UNSCOPED, page.filters, None, 50, page.match)
        async with pool.connection() as conn:
            try:  # as the API runs them
                if page.statements is not None:
                    await page.statements(conn, audited, _request_of(page.path))
                elif audited:
                    await fetch_audited_page(conn, query, audited, _request_of(page.path))
                else:
                    await fetch_page_rows(conn, query)
            except psycopg.errors.QueryCanceled:  # the API's statement timeout, as the API
                failed += 1

    try:
        await drive(clients, WARM_UP_S, call)  # each connection prepares its statements
        failed = 0
        _count, wall, latencies = await drive(clients, seconds, call)
    finally:
        await pool.close()
    result = Result.of(f"{scenario.name} (SQL)", wall, latencies)
    return dataclasses.replace(result, failed=failed)


def start_api(
    settings: Settings, port: int, workers: int, pool_size: int = 16
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **settings.as_environment(),
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "API_POOL_MAX_SIZE": str(max(1, pool_size // workers)),
        "LOG_LEVEL": "WARNING",
        "API_WORKERS": str(workers),
    }
    process = subprocess.Popen([sys.executable, "-m", "alpr_core", "api"], env=env)
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the API did not become ready")


def api_and_database(api: subprocess.Popen[bytes]) -> ServerProcesses:
    """The processes whose CPU ``through_api`` counts: the API (its workers with it) and
    PostgreSQL."""
    postgres = ServerProcesses.find().roots["postgres"]
    return ServerProcesses({"postgres": postgres, "api": psutil.Process(api.pid)})


def _check_fuzzy_finds(settings: Settings, plates: list[str]) -> None:
    """A fuzzy search for a stored plate must find it: a database whose fuzzy dictionary was not
    filled would answer every search at once, with nothing."""
    [(query, params)] = page_queries(
        _UNSCOPED, PlateFilters(), None, 50, plate_match(MatchMode.FUZZY, plates[0])
    )
    with psycopg.connect(settings.db.conninfo()) as conn:
        if not conn.execute(query, params).fetchall():
            raise RuntimeError(f"fuzzy search finds nothing for {plates[0]}: plate_days empty?")


def run_round(
    settings: Settings,
    rows: int,
    args: argparse.Namespace,
    key: ApiKey,
    token: str,
    image_ids: list[int],
) -> None:
    plates = sample_plates(settings, 2000)
    _check_fuzzy_finds(settings, plates)
    port = free_port()
    api = start_api(settings, port, args.api_workers, args.pool_size)
    servers = api_and_database(api)
    results: list[tuple[Result, Result | None, Result | None]] = []
    open_loop: list[OpenLoopResult] = []
    base = f"http://127.0.0.1:{port}"
    try:
        every = scenarios(plates, image_ids, sample_cameras(settings))
        every += co_presence_scenarios(recent_passes(settings))
        for scenario in every:
            if args.only and scenario.name not in args.only:
                continue
            via_api = through_api(base, token, scenario, args.clients, args.seconds, servers)
            paths = scenario_paths(scenario)
            open_loop += run_open_loop(
                scenario.name,
                base,
                token,
                paths,
                via_api.rate,
                args.open_loop_shares,
                args.open_loop_seconds,
            )
            sql, alone = None, None
            if scenario.page(random.Random(0)).pages:
                sql, alone = (
                    asyncio.run(
                        through_sql(settings, scenario, args.clients, args.seconds, audited=audited)
                    )
                    for audited in (key, None)
                )
            results.append((via_api, sql, alone))
    finally:
        api.terminate()
        api.wait(30)
    report(rows, args, results)
    max_rates = {api.name.removesuffix(" (API)"): api.rate for api, _sql, _alone in results}
    report_open_loop(rows, args.open_loop_seconds, max_rates, open_loop)
    sys.stdout.flush()


def report(
    rows: int, args: argparse.Namespace, results: list[tuple[Result, Result | None, Result | None]]
) -> None:
    """The ceiling is the API's own statements, audit row included; "query alone" leaves the
    audit row out, as an earlier ceiling did."""
    print(f"\n## {rows:,} rows, {args.clients} concurrent clients, {args.seconds:.0f} s each\n")
    print(
        "| scenario | API req/s | API p50 ms | API p99 ms | API failed | SQL req/s | SQL p99 ms"
        " | SQL failed | API/SQL | query alone req/s | API/alone |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for api, sql, alone in results:
        name = api.name.removesuffix(" (API)")
        cells = "- | - | - | - | - | -"
        if sql and alone:
            cells = (
                f"{sql.rate:,.0f} | {sql.p99_ms:.1f} | {sql.failed} | "
                f"{api.rate / sql.rate:.2f} | {alone.rate:,.0f} | "
                f"{api.rate / alone.rate:.2f}"
            )
        print(
            f"| {name} | {api.rate:,.0f} | {api.p50_ms:.1f} | {api.p99_ms:.1f} | {api.failed} |"
            f" {cells} |"
        )
    report_cpu([api for api, _sql, _alone in results], args.api_workers)


def report_cpu(results: list[Result], workers: int) -> None:
    """CPU per request through the API, and the rates it allows: the machine's cores divided by
    every process's CPU per request, and the API's workers (each one core at most) divided by
    the API's. No scenario can run faster than the lower of the two on this machine."""
    cores = os.cpu_count() or 1
    print(f"\nCPU per request through the API (ms), and the rates it allows on {cores} cores:\n")
    print(
        "| scenario | API | PostgreSQL | wrk | all | cores ÷ all, req/s"
        " | API workers ÷ API, req/s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for result in results:
        cpu = result.cpu_ms
        every = sum(cpu.values())
        print(
            f"| {result.name.removesuffix(' (API)')} | {cpu['api']:.3f} |"
            f" {cpu['postgres']:.3f} | {cpu['wrk']:.3f} | {every:.3f} |"
            f" {1000 * cores / every:,.0f} | {1000 * workers / cpu['api']:,.0f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--then-rows", type=int, default=None, help="fill up to this many, rerun")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--pool-size",
        type=int,
        default=16,
        help="the API's database connections, shared by its workers",
    )
    parser.add_argument(
        "--open-loop-shares",
        type=float,
        nargs="+",
        default=[0.5, 0.8],
        metavar="SHARE",
        help="constant arrival rates to run, as shares of the closed-loop maximum",
    )
    parser.add_argument(
        "--open-loop-seconds", type=float, default=None, help="length of each (default: --seconds)"
    )
    parser.add_argument("--only", nargs="+", metavar="SCENARIO", help="run just these scenarios")
    parser.add_argument("--keep-db", metavar="NAME", help="fill database NAME once, reuse it later")
    args = parser.parse_args()
    args.open_loop_seconds = args.open_loop_seconds or args.seconds
    vegeta_binary()  # built before anything is measured, when missing
    load_services_env()
    settings = kept_settings(args.keep_db) if args.keep_db else fresh_settings("api")
    with database(settings, keep=bool(args.keep_db)):
        present = row_count(settings)
        if present < args.rows:
            print(f"prefilling {args.rows - present:,} rows ...", flush=True)
            prefill(settings.db.conninfo(), args.rows - present, first_row=present + 1)
        ensure_passes(settings)
        ensure_sketches(settings)
        image_ids = stored_image_ids(settings) or store_images(settings, 500)
        with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
            # Each run starts from an empty audit log, so that the autovacuum of a log grown
            # over earlier runs on a kept database does not run during the measurements.
            conn.execute("TRUNCATE audit_log")
            key, token = create_key(conn, "bench", "viewer")
        run_round(settings, args.rows, args, key, token, image_ids)
        if args.then_rows:
            print(f"prefilling up to {args.then_rows:,} rows ...", flush=True)
            prefill(settings.db.conninfo(), args.then_rows - args.rows, first_row=args.rows + 1)
            ensure_passes(settings)
            ensure_sketches(settings)
            run_round(settings, args.then_rows, args, key, token, image_ids)


if __name__ == "__main__":
    main()
