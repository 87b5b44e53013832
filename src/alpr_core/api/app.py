"""The FastAPI application: resources opened in the lifespan, routes, errors, metrics, CORS."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from wsgiref.simple_server import WSGIServer

from confluent_kafka.schema_registry import SchemaRegistryClient
from fastapi import Depends, FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
    start_http_server,
)
from prometheus_fastapi_instrumentator import Instrumentator
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from alpr_core.api.client_address import trusted_networks
from alpr_core.api.denials import audit_denial
from alpr_core.api.deps import IngestResources, Resources, current_key
from alpr_core.api.in_progress import InProgressMiddleware
from alpr_core.api.key_cache import KeyCache, listen_for_key_changes
from alpr_core.api.key_lookup import KeyLookup
from alpr_core.api.problems import install_problem_handlers
from alpr_core.api.routes import (
    alerts,
    audit,
    cameras,
    co_presence,
    corrections,
    events,
    health,
    history,
    passes,
    plates,
    read_pass,
    read_stream,
    stats,
    watchlists,
    webhooks,
)
from alpr_core.config import ApiSettings, Settings
from alpr_core.console import pages as console_pages
from alpr_core.events.avro import EventDecoder
from alpr_core.images.object_store import ObjectImageStore, edge_uploads_of, image_store
from alpr_core.ingest.rate_limit import RateLimiter
from alpr_core.ingest.service import EventIngest
from alpr_core.jobs import build_jobs
from alpr_core.kafka_clients import registry_client_config
from alpr_core.metrics import IngestMetrics
from alpr_core.policies import event_limits
from alpr_core.storage.sink_setup import detection_sink

DESCRIPTION = """Query the plate reads that alpr-core stored.

Every `/plates` endpoint needs an API key in the `X-API-Key` header (create one with
`alpr keys create`). Errors are RFC 9457 problem details. Every plate query is audited.
`POST /events` takes plate reads from cameras with an ingest key."""


# psycopg prepares a statement only when executed with ``prepare=True``: never by count, since a
# generic plan can turn a selective search into a walk of the time index (docs/decisions.md).
# (``prepare_threshold=None`` would disable ``prepare=True`` as well.)
EXPLICIT_PREPARE_ONLY: dict[str, Any] = {"prepare_threshold": 2**31 - 1}


def api_conninfo(settings: Settings, generic_plans: bool = False) -> str:
    """The API's connections: a statement timeout, so no request can hold the database. No JIT
    and no parallel workers: they serve long analytic queries, and an API query compiled by the JIT
    (any plan whose estimate passes ``jit_above_cost``, as a prepared one with a parameter for
    LIMIT does on a large table) compiles for far longer than it runs (docs/decisions.md#no-jit).

    ``generic_plans``: the statements the API prepares (the list, exact and fuzzy search, one
    read, the key and audit statements, each checked to have a good generic plan) run their
    generic plan every time. PostgreSQL's default keeps planning the list query anew on each
    execution (its generic plan, with ``LIMIT $1`` costed for 10 % of the table, looks worse
    than it is), and planning across the day partitions costs more than running it
    (docs/decisions.md#prepared-statements)."""
    options = (
        f"-c statement_timeout={settings.api.statement_timeout_ms}"
        " -c jit=off -c max_parallel_workers_per_gather=0"
    )
    if generic_plans:
        options += " -c plan_cache_mode=force_generic_plan"
    return f"{settings.db.conninfo()} options='{options}'"


def open_pool(settings: Settings) -> AsyncConnectionPool:
    # No check on checkout: it costs a round trip per request. A connection broken by a database
    # restart fails its request with a 503 problem, and the pool then replaces it.
    return AsyncConnectionPool(
        api_conninfo(settings, generic_plans=True),
        min_size=1,
        max_size=settings.api.pool_max_size,
        open=False,
        timeout=settings.api.pool_timeout_s,
        kwargs={"autocommit": True, **EXPLICIT_PREPARE_ONLY},
    )


def open_event_ingest(
    settings: Settings, images: ObjectImageStore, metrics: IngestMetrics
) -> tuple[EventIngest, ConnectionPool]:
    """HTTP ingest's pipeline: the storage service's decoder and sink over a small sync pool of
    their own (the sink is synchronous; requests run it in worker threads). The pool connects on
    the first post: an API that only serves queries holds no extra connection."""
    pool = ConnectionPool(
        api_conninfo(settings),
        min_size=0,
        max_size=2,
        open=False,
        check=ConnectionPool.check_connection,
    )
    pool.open(wait=False)
    registry = (
        SchemaRegistryClient(registry_client_config(settings.registry))
        if settings.registry.url
        else None
    )
    decoder = EventDecoder(registry, event_limits(settings))
    sink = detection_sink(settings, pool, images, metrics)
    return EventIngest(decoder, event_limits(settings), sink, metrics), pool


def tune_gc_for_requests() -> None:
    """Objects alive once the app has started live as long as it: the collector stops rescanning
    them (``freeze``), and collects young objects every 10,000 allocations instead of 700. A
    request allocates a few thousand, so the default ran a collection for nearly every request,
    which shows in tail latency (docs/decisions.md#gc-requests)."""
    gc.freeze()
    gc.set_threshold(10_000, 20, 100)


DENIAL_AUDITS_PER_S = 5.0  # audit rows of denied requests per client address
DENIAL_AUDITS_BURST = 50


def key_lookup(settings: ApiSettings, keys: KeyCache) -> KeyLookup:
    failures = RateLimiter(settings.failed_key_rate_per_s, settings.failed_key_burst)
    return KeyLookup(keys, failures)


# in this order: /plates/history and /plates/stream before /plates/{plate_id}
_ROUTES = (
    health,
    history,
    read_stream,
    plates,
    read_pass,
    corrections,
    audit,
    cameras,
    events,
    watchlists,
    alerts,
    passes,
    co_presence,
    stats,
    webhooks,
)


def create_app(settings: Settings) -> FastAPI:
    registry = CollectorRegistry()
    ingest_metrics = IngestMetrics(registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = open_pool(settings)
        await pool.open(wait=False)
        images = image_store(settings)
        keys = KeyCache(settings.api.key_cache_ttl_s, settings.api.failed_key_cache_s)
        listener = asyncio.create_task(listen_for_key_changes(api_conninfo(settings), keys))
        app.state.resources = Resources(
            pool,
            images,
            edge_uploads_of(settings),
            settings.api,
            key_lookup(settings.api, keys),
            trusted_networks(settings.api.trusted_proxies),
            RateLimiter(DENIAL_AUDITS_PER_S, DENIAL_AUDITS_BURST),
            settings.alert,
            api_conninfo(settings),
            asyncio.Semaphore(settings.api.alert_streams_max),
        )
        ingest, ingest_pool = open_event_ingest(settings, images, ingest_metrics)
        limiter = RateLimiter(settings.api.ingest_rate_per_s, settings.api.ingest_burst)
        app.state.ingest = IngestResources(ingest, limiter, ingest_metrics)
        # the plates of POST /events, and the audit log this process writes
        jobs = build_jobs(settings, index_plates=True, retention=None, keep_audit=True)
        jobs.start()
        metrics_server = _serve_metrics_port(settings.api, registry)
        tune_gc_for_requests()
        try:
            yield
        finally:
            gc.unfreeze()  # what the app held may now be collected (tests start many apps)
            if metrics_server:
                metrics_server.shutdown()
                metrics_server.server_close()
            jobs.stop()
            listener.cancel()
            await pool.close()
            ingest.close()
            ingest_pool.close()

    app = FastAPI(
        title="alpr-core query API", version="1", description=DESCRIPTION, lifespan=lifespan
    )
    install_problem_handlers(app, on_denied=audit_denial)
    for routes in _ROUTES:
        app.include_router(routes.router)
    if settings.api.console:
        console_pages.install(app)
    app.state.metrics_registry = registry
    _install_metrics(app, settings, registry)
    if settings.api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_origins,
            allow_methods=["GET"],
            allow_headers=["X-API-Key"],
        )
    return app


def app_from_environment() -> FastAPI:
    """The app of one uvicorn worker process (``API_WORKERS`` > 1): settings read in the worker."""
    from alpr_core.startup import load_settings  # noqa: PLC0415 - worker-only

    return create_app(load_settings("query-api"))


def _serve_metrics_port(settings: ApiSettings, registry: CollectorRegistry) -> WSGIServer | None:
    """``/metrics`` on ``API_METRICS_PORT`` alone, when set: an internal port that Prometheus
    scrapes and the proxy does not route (docs/decisions.md#metrics-port)."""
    if not settings.metrics_port:
        return None
    server, _thread = start_http_server(settings.metrics_port, settings.host, registry)
    return server


def _install_metrics(app: FastAPI, settings: Settings, registry: CollectorRegistry) -> None:
    """The design's http_requests_total, http_request_duration_seconds, http_requests_in_progress.

    The instrumentator's own in-progress gauge ignores the registry it is given (it registers in
    the process-global one), so that gauge is ours, in :mod:`alpr_core.api.in_progress`.
    """
    Instrumentator(excluded_handlers=["/metrics"], registry=registry).instrument(app)
    app.add_middleware(InProgressMiddleware, registry=registry)
    if settings.api.metrics_port:
        return  # served on its own port (_serve_metrics_port)
    guard = [] if settings.api.metrics_public else [Depends(current_key)]

    @app.get(
        "/metrics",
        include_in_schema=True,
        tags=["health"],
        dependencies=guard,
        response_class=Response,
        summary="Prometheus metrics",
    )
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
