"""Liveness and readiness: open to all, no plate data."""

from __future__ import annotations

import psycopg
from fastapi import APIRouter
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
    response_model=Readiness,
    summary="Readiness: PostgreSQL and the object store answer",
    responses={503: {"model": Readiness, "description": "Something the API needs is down."}},
)
async def ready(resources: ResourcesDep) -> JSONResponse:
    checks = {
        "database": await _database_check(resources),
        "object_store": await _object_store_check(resources),
    }
    healthy = all(state == "ok" for state in checks.values())
    body = Readiness(status="ready" if healthy else "not ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)


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
