"""``POST /events``: HTTP ingest of plate reads, for sites without Kafka and for any camera.

Checks in order, cheapest first: the key (401/403), the key's rate limit (429), the content type
(415), the body size (413), the body (400/422), the number of events (413), the rate limit for
that many events (429). Then every item is decoded and validated like a Kafka message and the
good ones are stored through the storage sink (idempotent on event_id): 202 with what was
accepted and a problem per rejected item, or 422 when no item was good.
"""

from __future__ import annotations

import math
from typing import Any
from uuid import UUID

import structlog
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from alpr_core.api.deps import IngestDep, IngestKey, IngestResources, ResourcesDep
from alpr_core.api.ingest_body import (
    AVRO,
    JSON,
    MULTIPART,
    body_items,
    check_media_type,
    read_capped,
)
from alpr_core.api.problems import Problem, problem_responses
from alpr_core.api.schemas import AcceptedEvent, IngestReport, RejectedItem
from alpr_core.db.api_keys import ApiKey
from alpr_core.errors import RejectReason, TransientError
from alpr_core.ingest.service import IngestResult, ItemRejection

log = structlog.get_logger("alpr.api.ingest")
router = APIRouter(tags=["ingest"])
RETRY_AFTER_UNAVAILABLE_S = 5

_EVENT_SCHEMA = {
    "type": "object",
    "description": "A PlateEvent as JSON: the fields of plate_event_v2.avsc, `plate_image` "
    "base64. Required: event_id, captured_at, camera_id, track_id, plate {text, "
    "normalized_text, confidence}, vehicle {}, images {}, node {}.",
}
_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        JSON: {
            "schema": {
                "oneOf": [
                    _EVENT_SCHEMA,
                    {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "oneOf": [
                                _EVENT_SCHEMA,
                                {
                                    "type": "string",
                                    "format": "byte",
                                    "description": (
                                        "One Avro message in the Confluent wire format, base64."
                                    ),
                                },
                            ]
                        },
                    },
                ]
            }
        },
        **{kind: {"schema": {"type": "string", "format": "binary"}} for kind in AVRO},
        MULTIPART: {
            "schema": {
                "type": "object",
                "required": ["event"],
                "properties": {
                    "event": {"type": "string", "description": "A PlateEvent as JSON."},
                    "image": {"type": "string", "format": "binary", "description": "JPEG or PNG."},
                },
            }
        },
    },
}


@router.post(
    "/events",
    status_code=202,
    response_model=IngestReport,
    responses=problem_responses(400, 401, 403, 413, 415, 422, 429, 503),
    openapi_extra={"requestBody": _REQUEST_BODY},
    summary="Post plate reads (one, or a batch)",
)
async def post_events(
    request: Request, resources: ResourcesDep, ingest: IngestDep, key: IngestKey
) -> IngestReport:
    """Needs an ingest key. Idempotent on `event_id`: a replay stores nothing twice."""
    settings = resources.settings
    _check_rate(ingest, key, 1, take=False)
    kind = check_media_type(request.headers.get("content-type"))
    body = await read_capped(request, settings.ingest_max_body_bytes)
    items = await body_items(kind, request.headers, body, settings.ingest_max_events)
    _check_rate(ingest, key, len(items), take=True)
    try:
        result = await run_in_threadpool(ingest.events.ingest, items, key)
    except TransientError as error:
        log.warning("ingest failed; a dependency is down", key=key.name, error=str(error))
        retry_after = {"Retry-After": str(RETRY_AFTER_UNAVAILABLE_S)}
        raise Problem(
            503, "Unavailable", "Storage is unavailable; try again later.", headers=retry_after
        ) from error
    _log(key, result)
    return _report(result)


def _check_rate(ingest: IngestResources, key: ApiKey, events: int, *, take: bool) -> None:
    limiter = ingest.limiter
    wait_s = limiter.take(key.id, events) if take else limiter.peek(key.id, events)
    if wait_s == 0:
        return
    if math.isinf(wait_s):
        raise Problem(413, "Too many events", f"{events} events exceed this key's burst limit.")
    ingest.metrics.throttled.inc()
    raise Problem(
        429,
        "Too many requests",
        "This key is over its event rate; slow down.",
        headers={"Retry-After": str(math.ceil(wait_s))},
    )


def _report(result: IngestResult) -> IngestReport:
    rejected = [_rejected_item(rejection) for rejection in result.rejected]
    if not result.accepted:
        summary = "; ".join(f"[{item.index}] {item.detail}" for item in rejected[:10])
        raise Problem(
            422, "No event accepted", summary, rejected=[item.model_dump() for item in rejected]
        )
    return IngestReport(
        accepted=[
            AcceptedEvent(index=i, event_id=UUID(d.event.event_id)) for i, d in result.accepted
        ],
        rejected=rejected,
        stored=result.stored.rows_inserted,
        duplicates=result.duplicates,
    )


def _rejected_item(rejection: ItemRejection) -> RejectedItem:
    forbidden = rejection.error.reason == RejectReason.OUT_OF_SCOPE
    return RejectedItem(
        title="Forbidden event" if forbidden else "Invalid event",
        status=403 if forbidden else 422,
        detail=rejection.error.detail,
        index=rejection.index,
        event_id=rejection.event_id,
        reason=str(rejection.error.reason),
    )


def _log(key: ApiKey, result: IngestResult) -> None:
    """Counts and reasons only: no plate text."""
    reasons = sorted({str(rejection.error.reason) for rejection in result.rejected})
    log.debug(
        "events ingested",
        key=key.name,
        accepted=len(result.accepted),
        stored=result.stored.rows_inserted,
        rejected=len(result.rejected),
        reasons=reasons,
    )
