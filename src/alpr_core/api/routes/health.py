"""Liveness and readiness: open to all, no plate data."""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.concurrency import run_in_threadpool

from alpr_core.api.deps import ResourcesDep
from alpr_core.api.schemas import Health, Readiness
from alpr_core.errors import TransientError

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Liveness: the process answers")
async def health() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    summary="Readiness: PostgreSQL and the object store answer",
    responses={
        200: {"model": Readiness, "description": "Everything the API needs answers."},
        503: {"model": Readiness, "description": "Something the API needs is down."},
    },
)
async def ready(request: Request, resources: ResourcesDep) -> JSONResponse:
    """Checked at most once per ``API_READY_CACHE_S``; answers in between come from memory, so
    probing readiness cannot load the database."""
    cached: _Checked | None = getattr(request.app.state, "ready", None)
    now = time.monotonic()
    if cached is None or now - cached.at >= resources.settings.ready_cache_s:
        cached = request.app.state.ready = _Checked(now, await _readiness(resources))
    healthy = cached.body.status == "ready"
    return JSONResponse(cached.body.model_dump(), status_code=200 if healthy else 503)


@dataclass(frozen=True, slots=True)
class _Checked:
    at: float
    body: Readiness


async def _readiness(resources: ResourcesDep) -> Readiness:
    checks = {
        "database": await _database_check(resources),
        "object_store": await _object_store_check(resources),
    }
    healthy = all(state == "ok" for state in checks.values())
    return Readiness(status="ready" if healthy else "not ready", checks=checks)


async def _database_check(resources: ResourcesDep) -> str:
    try:
        async with resources.pool.connection(timeout=2) as conn:
            await conn.execute("SELECT 1")
    except (psycopg.OperationalError, PoolTimeout) as error:
        return f"down: {type(error).__name__}"
    return "ok"


async def _object_store_check(resources: ResourcesDep) -> str:
    try:
        await run_in_threadpool(resources.images.count, "__readiness__/")
    except TransientError as error:
        return f"down: {error}"
    return "ok"
