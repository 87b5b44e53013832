"""``alpr run``: the storage path, the query API and the edge simulator in one process.

With Kafka configured the storage consumer runs and the simulator publishes to the topic; without
it, events arrive at ``POST /events`` and the simulator posts there. Either way the person
running it gets the API's address, ``curl`` lines with a fresh key, and a line every few seconds
saying what flows. Ctrl-C (or SIGTERM) lets uvicorn finish the requests in flight (a 202 means
stored), then the consumer commits its last batch, and the keys made for this run are revoked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from itertools import takewhile

import httpx
import psycopg
import structlog
import uvicorn
from prometheus_client import CollectorRegistry

from alpr_core.api.app import create_app
from alpr_core.api.serve import api_server, serve_until_signalled
from alpr_core.config import ServiceLoginSettings, Settings
from alpr_core.db.api_keys import create_key, revoke_key
from alpr_core.db.prepare import prepare_database
from alpr_core.flow_report import FlowReporter
from alpr_core.images.buckets import ensure_bucket
from alpr_core.images.object_store import image_store
from alpr_core.jobs import build_jobs
from alpr_core.jobs.alert_dispatch import DeliveryMetrics
from alpr_core.metrics import StorageMetrics
from alpr_core.simulator.edge_uploads import EdgeImageUploader
from alpr_core.simulator.http_publisher import HttpEventPublisher
from alpr_core.simulator.listed_plates import ListedPlates
from alpr_core.simulator.publisher import (
    ReadPublisher,
    SimulationPlan,
    kafka_publisher,
    run_simulation,
    simulated_reads,
)
from alpr_core.storage.service import build_storage

log = structlog.get_logger("alpr.run")
Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class RunOptions:
    simulate_rate_per_s: float  # 0: no simulator
    simulate_cameras: int
    report_every_s: float
    listed_share: float = 0.05  # of simulated vehicles carrying a plate from the watchlists


@dataclass(frozen=True, slots=True)
class RunKeys:
    viewer: str
    ingest: str
    watchlist: str


def run_all(settings: Settings, options: RunOptions, echo: Echo) -> None:
    prepare_database(settings, ServiceLoginSettings())
    ensure_bucket(settings.object_store)  # HTTP ingest stores images; with S3 the bucket must exist
    settings = _room_for_the_simulator(settings, options.simulate_rate_per_s)
    app = create_app(settings)
    server = api_server(app, settings.api)
    stopping = threading.Event()
    storage_registry = CollectorRegistry()
    flow = FlowReporter(app.state.metrics_registry, storage_registry)
    with ExitStack() as stack:
        stack.callback(lambda: echo(f"stopped. This run: {flow.line(time.monotonic())}"))
        keys = stack.enter_context(_keys_for_this_run(settings))
        stack.enter_context(_storage_path(settings, storage_registry))
        base_url = f"http://{_reachable(settings.api.host)}:{settings.api.port}"
        if options.simulate_rate_per_s > 0:
            feeder = _simulator(settings, options, base_url, keys.ingest, server, stopping)
            stack.callback(feeder.join)
        reporter = _reporter(flow, options.report_every_s, echo, stopping)
        stack.callback(reporter.join)
        greeter = _once_serving(server, stopping, lambda: _greet(echo, settings, base_url, keys))
        stack.callback(greeter.join)
        serve_until_signalled(server)
        stopping.set()
        echo("stopping: finishing the requests and the batch in flight")


def _room_for_the_simulator(settings: Settings, rate_per_s: float) -> Settings:
    """The simulator posts with one ingest key: let that key post at its rate, with room."""
    needed = rate_per_s * 1.5
    if settings.kafka.enabled or needed <= settings.api.ingest_rate_per_s:
        return settings
    api = settings.api.model_copy(update={"ingest_rate_per_s": needed})
    return settings.model_copy(update={"api": api})


@contextmanager
def _keys_for_this_run(settings: Settings) -> Iterator[RunKeys]:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        viewer, viewer_token = create_key(conn, "alpr run: you", "viewer")
        ingest, ingest_token = create_key(conn, "alpr run: simulator", "ingest")
        keeper, keeper_token = create_key(conn, "alpr run: your watchlists", "watchlist")
    try:
        yield RunKeys(viewer_token, ingest_token, keeper_token)
    finally:
        with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
            for key in (viewer, ingest, keeper):
                revoke_key(conn, key.id)


@contextmanager
def _storage_path(settings: Settings, registry: CollectorRegistry) -> Iterator[None]:
    """The Kafka consumer when Kafka is configured (it runs retention too), else retention alone:
    events then come through the API's ``POST /events``."""
    if settings.kafka.enabled:
        service = build_storage(settings, registry, serve_http=True)
        thread = threading.Thread(target=service.run, name="storage")
        thread.start()
        try:
            yield
        finally:
            service.stop()
            thread.join()
        return
    jobs = build_jobs(
        settings,
        index_plates=False,
        retention=(image_store(settings), StorageMetrics(registry)),
        deliver_alerts=DeliveryMetrics(registry),
    )
    jobs.start()
    try:
        yield
    finally:
        jobs.stop()


def _simulator(
    settings: Settings,
    options: RunOptions,
    base_url: str,
    ingest_token: str,
    server: uvicorn.Server,
    stopping: threading.Event,
) -> threading.Thread:
    def should_stop() -> bool:  # uvicorn's own signal handler sets should_exit
        return stopping.is_set() or server.should_exit

    def feed() -> None:
        if not _wait_until_serving(server, stopping):
            return
        with httpx.Client(base_url=base_url, timeout=30) as client:
            publisher: ReadPublisher = (
                kafka_publisher(settings)
                if settings.kafka.enabled
                else HttpEventPublisher(client, ingest_token)
            )
            try:
                _feed(settings, options, publisher, should_stop)
            except httpx.HTTPError as error:  # the API is going away under us: stop feeding
                if not should_stop():
                    log.error("simulator stopped", error=str(error))

    thread = threading.Thread(target=feed, name="simulator", daemon=True)
    thread.start()
    return thread


def _wait_until_serving(server: uvicorn.Server, stopping: threading.Event) -> bool:
    """True once the API listens; False if the run stops first."""
    while not server.started:
        if stopping.is_set() or server.should_exit:
            return False
        stopping.wait(0.1)
    return True


def _once_serving(
    server: uvicorn.Server, stopping: threading.Event, action: Callable[[], None]
) -> threading.Thread:
    """Runs ``action`` once the API listens, so that what it prints can be tried at once."""

    def run() -> None:
        if _wait_until_serving(server, stopping):
            action()

    thread = threading.Thread(target=run, name="greeter", daemon=True)
    thread.start()
    return thread


def _feed(
    settings: Settings,
    options: RunOptions,
    publisher: ReadPublisher,
    should_stop: Callable[[], bool],
) -> None:
    plan = SimulationPlan(options.simulate_rate_per_s, options.simulate_cameras, None, None, 0.5)
    listed = ListedPlates(settings.db.conninfo())
    reads = takewhile(
        lambda _: not should_stop(), simulated_reads(plan, listed, options.listed_share)
    )
    uploader = EdgeImageUploader(image_store(settings), settings.object_store.bucket)
    run_simulation(publisher, plan, reads=reads, before_publish=uploader)


def _reporter(
    flow: FlowReporter, every_s: float, echo: Echo, stopping: threading.Event
) -> threading.Thread:
    def report() -> None:
        flow.line(time.monotonic())
        while not stopping.wait(every_s):
            echo(flow.line(time.monotonic()))

    thread = threading.Thread(target=report, name="flow-report", daemon=True)
    thread.start()
    return thread


def _reachable(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - a comparison


def _greet(echo: Echo, settings: Settings, base_url: str, keys: RunKeys) -> None:
    header = f'-H "X-API-Key: {keys.viewer}"'
    kafka = settings.kafka.bootstrap_servers or "none (events arrive at POST /events)"
    database = settings.db.host
    if database.startswith("/"):  # a Unix socket: the embedded server
        database = f"embedded, in {settings.local.postgres_dir()}"
    images = settings.object_store.endpoint or str(
        settings.local.images_dir(settings.object_store.bucket)
    )
    echo(f"alpr-core is running. Kafka: {kafka}; PostgreSQL: {database}; images: {images}")
    echo(f"API docs:  {base_url}/docs")
    if settings.api.console:
        echo(f"Console:   {base_url}/console/  (sign in with the viewer key below)")
    echo("Try (this viewer key works while this runs):")
    echo(f'  curl {header} "{base_url}/plates?limit=5"')
    echo(f'  curl {header} "{base_url}/plates/search?plate_text=AB1&mode=prefix"')
    echo(f'  curl {header} -o plate.jpg "{base_url}/plates/1/image"')
    echo(f'  curl {header} "{base_url}/passes?limit=5"   # reads of one vehicle as one pass')
    keeper = f'-H "X-API-Key: {keys.watchlist}" -H "Content-Type: application/json"'
    echo("Watch for a plate (this watchlist key works while this runs; the simulator drives")
    echo("listed plates past the cameras now and then):")
    echo(f'  curl {keeper} -d \'{{"name": "Demo", "owner": "me"}}\' {base_url}/watchlists')
    echo(f'  curl {keeper} -d \'{{"plate": "AB12CDE"}}\' {base_url}/watchlists/<id>/entries')
    echo(f'  curl -N {header} "{base_url}/alerts/stream"   # alerts as they open')
    echo("Ctrl-C stops everything cleanly.")
