"""The SQL of ``/passes`` (docs/decisions.md#passes): pages of passes inside the key's scope, with
the id and image columns of each pass's best read, which may have expired before its pass."""

from __future__ import annotations

from datetime import datetime
from typing import Any, LiteralString

from alpr_core.api.queries import SUMMARY_COLUMNS, PlateFilters, filter_clause, scope_clause
from alpr_core.db.api_keys import ApiKey

PAGE_COLUMNS: LiteralString = (
    "id, camera_id, site, first_seen, last_seen, read_count, plate_text, plate_normalized,"
    " best_confidence, direction, region, vehicle_type, vehicle_make, vehicle_model,"
    " vehicle_color, best_event_id, best_at"
)
_BEST_READ: LiteralString = (
    " LEFT JOIN LATERAL (SELECT d.id AS best_plate_id, d.image_object_key, d.plate_url"
    '   FROM plate_detections d WHERE d.event_id = p.best_event_id AND d."timestamp" = p.best_at'
    " ) best ON TRUE"
)


def pass_filter_clauses(filters: PlateFilters, params: dict[str, Any]) -> list[LiteralString]:
    """``/plates``'s filters on a pass: its times are when it began, its confidence its best
    read's; its direction is its own column."""
    return filter_clause(filters, params, "first_seen", "best_confidence", "direction")


def passes_page_query(
    key: ApiKey,
    filters: PlateFilters,
    after: tuple[datetime, int] | None,
    limit: int,
    plates: list[str] | None = None,
) -> tuple[LiteralString, dict[str, Any]]:
    """Newest pass first; ``limit + 1`` rows, so the caller knows whether a page follows.
    ``plates``: only the passes of these consensus plates."""
    rows, params = passes_rows_query(key, filters, after, limit, plates)
    order: LiteralString = " ORDER BY p.first_seen DESC, p.id DESC"
    return f"SELECT p.*, best.* FROM ({rows}) p{_BEST_READ}{order}", params


def passes_rows_query(
    key: ApiKey,
    filters: PlateFilters,
    after: tuple[datetime, int] | None,
    limit: int,
    plates: list[str] | None = None,
) -> tuple[LiteralString, dict[str, Any]]:
    """The passes of :func:`passes_page_query`, without their best reads."""
    params: dict[str, Any] = {"limit": limit + 1}
    clauses = ["TRUE", *scope_clause(key, params), *pass_filter_clauses(filters, params)]
    if plates is not None:
        clauses.append("plate_normalized = ANY(%(plates)s)")
        params["plates"] = plates
    if after is not None:
        clauses.append("(first_seen, id) < (%(after_seen)s, %(after_id)s)")
        params |= {"after_seen": after[0], "after_id": after[1]}
    where: LiteralString = " AND ".join(clauses)
    query: LiteralString = (
        f"SELECT {PAGE_COLUMNS} FROM passes WHERE {where}"
        " ORDER BY first_seen DESC, id DESC LIMIT %(limit)s"
    )
    return query, params


def read_pass_query(
    key: ApiKey, camera_id: str, at: datetime, read_keys: list[str]
) -> tuple[LiteralString, dict[str, Any]]:
    """The pass a read at ``camera_id`` and ``at`` with these keys (``grouping.PassRead.keys``)
    belongs to: the pass of that camera whose span holds it and that holds one of its keys."""
    params: dict[str, Any] = {"camera": camera_id, "at": at, "keys": read_keys}
    clauses: list[LiteralString] = [
        "camera_id = %(camera)s",
        "first_seen <= %(at)s",
        "last_seen >= %(at)s",
        "keys ?| %(keys)s",
        *scope_clause(key, params),
    ]
    where: LiteralString = " AND ".join(clauses)
    rows: LiteralString = (
        f"SELECT {PAGE_COLUMNS}, keys FROM passes WHERE {where}"
        " ORDER BY read_count DESC, id LIMIT 1"
    )
    return f"SELECT p.*, best.* FROM ({rows}) p{_BEST_READ}", params


def pass_reads_query(
    key: ApiKey, camera_id: str, first: datetime, last: datetime, pass_keys: list[str], limit: int
) -> tuple[LiteralString, dict[str, Any]]:
    """The reads of a pass, oldest first: at its camera, in its span, with one of its keys."""
    params: dict[str, Any] = {
        "camera": camera_id,
        "first": first,
        "last": last,
        "keys": pass_keys,
        "limit": limit,
    }
    clauses: list[LiteralString] = [
        "camera_id = %(camera)s",
        '"timestamp" BETWEEN %(first)s AND %(last)s',
        "(('t:' || track_id) = ANY(%(keys)s)"
        " OR ('p:' || alpr_ocr_key(plate_normalized)) = ANY(%(keys)s))",
        *scope_clause(key, params),
    ]
    where: LiteralString = " AND ".join(clauses)
    query: LiteralString = (
        f"SELECT {SUMMARY_COLUMNS} FROM plate_detections WHERE {where}"
        ' ORDER BY "timestamp", id LIMIT %(limit)s'
    )
    return query, params
