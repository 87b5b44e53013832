"""Every denied request (401, 403, 429) leaves an audit row: who tried, from where, what.

Rows are written at a bounded rate per client address, so a flood of denials cannot turn into a
flood of writes; what is over that rate is logged with its count instead.
"""

from __future__ import annotations

import psycopg
import structlog
from psycopg_pool import PoolTimeout
from starlette.requests import Request

from alpr_core.api.audit import record_query
from alpr_core.api.deps import request_client, resources_of

log = structlog.get_logger("alpr.api.audit")
DENIED = frozenset({401, 403, 429})


async def audit_denial(request: Request, status: int) -> None:
    """Record that ``request`` was answered ``status``; never fails the answer itself."""
    resources = resources_of(request)
    if resources.denial_audits.take(request_client(request), 1) > 0:
        log.warning("denial not audited: over the rate for its address", status=status)
        return
    key = getattr(request.state, "api_key", None)
    try:
        async with resources.pool.connection() as conn:
            await record_query(conn, key, request, status, None)
    except (psycopg.Error, PoolTimeout) as error:
        log.warning("denial not audited: database unavailable", error=type(error).__name__)
