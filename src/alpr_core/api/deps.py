"""What the routes depend on: the process's resources, and the key of the request's token."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool

from alpr_core.api.client_address import Network, client_address
from alpr_core.api.key_lookup import API_KEY_HEADER, KeyLookup
from alpr_core.api.problems import Problem
from alpr_core.config import AlertSettings, ApiSettings
from alpr_core.db.api_keys import SELECT_AND_TOUCH, ApiKey
from alpr_core.db.console_sessions import session_of
from alpr_core.images.object_store import ObjectImageStore
from alpr_core.images.ownership import EdgeUploads
from alpr_core.ingest.rate_limit import RateLimiter
from alpr_core.ingest.service import EventIngest
from alpr_core.metrics import IngestMetrics

SESSION_COOKIE = "alpr_session"  # the browser console's session (docs/decisions.md#console)
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_api_key_header = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="An API key from `alpr keys create`."
)


@dataclass(frozen=True, slots=True)
class Resources:
    """Opened in the app's lifespan; one per process."""

    pool: AsyncConnectionPool
    images: ObjectImageStore
    edge_uploads: EdgeUploads
    settings: ApiSettings
    keys: KeyLookup
    trusted_proxies: tuple[Network, ...]
    denial_audits: RateLimiter  # audit rows of denied requests, per client address
    alert: AlertSettings
    conninfo: str  # for connections of their own (the alert stream's LISTEN)
    alert_streams: asyncio.Semaphore  # open alert streams, at most API_ALERT_STREAMS_MAX


def resources_of(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


async def get_resources(request: Request) -> Resources:  # async: no trip to the thread pool
    return resources_of(request)


ResourcesDep = Annotated[Resources, Depends(get_resources)]
Token = Annotated[str | None, Security(_api_key_header)]


def request_client(request: Request) -> str | None:
    """The request's client address (``client_address.py``), worked out once per request, and
    only by what needs it: a failed key lookup, an audit row."""
    state = request.state
    if not hasattr(state, "client_address"):
        state.client_address = client_address(request, resources_of(request).trusted_proxies)
    address: str | None = state.client_address
    return address


async def current_key(request: Request, token: Token) -> ApiKey:
    """The key of the request's token (kept on ``request.state`` for the audit of a denial).
    Looking it up borrows a pooled connection only on a cache miss, and returns it before the
    route borrows its own: a request never holds two, which would deadlock once the pool is
    shared out."""
    resources = resources_of(request)
    session_token = request.cookies.get(SESSION_COOKIE) if token is None else None
    if session_token and resources.settings.console:
        key = await _session_key(request, resources, session_token)
    else:
        key = await key_of_token(request, token)
    request.state.api_key = key
    return key


async def key_of_token(request: Request, token: str | None) -> ApiKey:
    """The valid key of an API token (401 when there is none)."""
    resources = resources_of(request)

    async def select(digest: bytes) -> ApiKey | None:
        async with resources.pool.connection() as conn:
            return await _select_key(conn, digest)

    return await resources.keys.key_of(token, lambda: request_client(request), select)


async def _session_key(request: Request, resources: Resources, token: str) -> ApiKey:
    """The key of a console session (docs/decisions.md#console), looked up on every request so
    that a revoked key's sessions end at once; a change needs the session's CSRF token in the
    ``X-CSRF-Token`` header."""
    async with resources.pool.connection() as conn:
        session = await session_of(conn, token)
    if session is None:
        raise Problem(401, "Session ended", "The console session has expired or ended; sign in.")
    if request.method not in SAFE_METHODS and not secrets.compare_digest(
        request.headers.get(CSRF_HEADER, ""), session.csrf_token
    ):
        detail = f"A change made with a console session needs its {CSRF_HEADER} header."
        raise Problem(403, "CSRF token missing or wrong", detail)
    return session.key


async def _select_key(conn: AsyncConnection[Any], digest: bytes) -> ApiKey | None:
    cursor = conn.cursor(row_factory=class_row(ApiKey))
    await cursor.execute(SELECT_AND_TOUCH, (digest,), prepare=True)
    return await cursor.fetchone()


def key_with_role(*roles: str, refusal: str) -> Callable[[Request, str | None], Awaitable[ApiKey]]:
    """A dependency: the request's key when its role is one of ``roles``, else a 403 saying
    ``refusal`` (``{role}``: the key's role). One dependency per route, not two: each costs every
    request. None holds a query connection past the key check (``current_key``)."""

    async def key_of_role(request: Request, token: Token) -> ApiKey:
        key = await current_key(request, token)
        if key.role not in roles:
            raise Problem(403, "Forbidden", refusal.format(role=key.role))
        return key

    return key_of_role


ReaderKey = Annotated[
    ApiKey,
    Depends(
        key_with_role("viewer", "analyst", "admin", refusal="A {role} key cannot read plates.")
    ),
]
AnalystKey = Annotated[
    ApiKey,
    Depends(
        key_with_role("analyst", "admin", refusal="A {role} key cannot correct or annotate reads.")
    ),
]
AdminKey = Annotated[
    ApiKey,
    Depends(key_with_role("admin", refusal="Only admin keys may read the audit log and cameras.")),
]
WatchlistKey = Annotated[
    ApiKey,
    Depends(key_with_role("admin", "watchlist", refusal="A {role} key cannot manage watchlists.")),
]
IngestKey = Annotated[
    ApiKey,
    Depends(key_with_role("ingest", refusal="A {role} key cannot post events; use an ingest key.")),
]


@dataclass(frozen=True, slots=True)
class IngestResources:
    """HTTP ingest's parts: the pipeline (opened in the lifespan) and the per-key rate limit."""

    events: EventIngest
    limiter: RateLimiter
    metrics: IngestMetrics


async def get_ingest(request: Request) -> IngestResources:
    ingest: IngestResources = request.app.state.ingest
    return ingest


IngestDep = Annotated[IngestResources, Depends(get_ingest)]
