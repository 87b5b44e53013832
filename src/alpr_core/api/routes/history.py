"""``GET /plates/history``: what is known of a plate, from its vehicle passes: first and last
seen, counts per camera, site and day, and the latest passes with their crops
(docs/decisions.md#plate-history). A search: the same roles, scope, purpose rule and audit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from psycopg import AsyncConnection
from pydantic import BaseModel, Field

from alpr_core.api.audit import record_query
from alpr_core.api.deps import ReaderKey, resources_of
from alpr_core.api.params import require_purpose
from alpr_core.api.plate_query import (
    PlateFilterQuery,
    PlateTermQuery,
    openapi_parameters,
    read_query,
)
from alpr_core.api.problems import problem_responses
from alpr_core.api.queries import PlateFilters
from alpr_core.api.routes.passes import PassSummary, pass_summary
from alpr_core.api.search import PlateMatch, plate_match
from alpr_core.api.statements import fetch_rows
from alpr_core.db.api_keys import ApiKey
from alpr_core.db.pass_views import passes_page_query
from alpr_core.db.plate_history import (
    MAX_PLATES,
    HistoryTallies,
    Tally,
    history_tallies,
    matching_plates,
)

router = APIRouter(prefix="/plates", tags=["plates"])


class PlateHistoryQuery(PlateFilterQuery, PlateTermQuery):
    latest: int = Field(default=10, ge=0, le=100, description="How many of the latest passes.")


class Seen(BaseModel):
    passes: int
    reads: int
    first_seen: datetime
    last_seen: datetime


S = TypeVar("S", bound=Seen)


class CameraSeen(Seen):
    camera_id: str
    site: str | None


class SiteSeen(Seen):
    site: str | None


class DaySeen(Seen):
    day: date = Field(description="The UTC day the passes began.")


class PlateSeen(Seen):
    plate_normalized: str


class PlateHistory(BaseModel):
    first_seen: datetime | None
    last_seen: datetime | None
    passes: int
    reads: int
    plates: list[PlateSeen] = Field(description="The plates the term matched, most passes first.")
    more_plates: bool = Field(
        description=f"The term matched more than {MAX_PLATES} plates; these are the first."
    )
    cameras: list[CameraSeen] = Field(description="Most passes first.")
    sites: list[SiteSeen] = Field(description="Most passes first.")
    timeline: list[DaySeen] = Field(description="Days with passes, oldest first.")
    latest_passes: list[PassSummary]


@router.get(
    "/history",
    response_model=PlateHistory,
    summary="A plate's history, from its vehicle passes",
    responses=problem_responses(401, 403, 422),
    openapi_extra={"parameters": openapi_parameters(PlateHistoryQuery)},
)
async def plate_history(request: Request, key: ReaderKey) -> PlateHistory:
    """Every search mode, and `/plates`' filters (`start_time` and `end_time` bound when a pass
    began). Passes are matched by their consensus plate. A broad term covers its first
    100 plates (`more_plates` says when there were more)."""
    resources = resources_of(request)
    query = read_query(PlateHistoryQuery, request)
    require_purpose(resources.settings.require_purpose, query.purpose)
    filters = query.filters(resources.settings.max_range_days)
    match = plate_match(query.mode, query.plate_text)
    async with resources.pool.connection() as conn:
        plates, tallies, rows = await history_of(conn, key, request, match, filters, query.latest)
    total = tallies.total
    passes = total.passes if total else 0
    return PlateHistory(
        first_seen=total.first_seen if total else None,
        last_seen=total.last_seen if total else None,
        passes=passes,
        reads=total.reads if total else 0,
        plates=_most_first(
            PlateSeen(plate_normalized=plate, **_seen(t)) for plate, t in tallies.plates.items()
        ),
        more_plates=len(plates) > MAX_PLATES,
        cameras=_most_first(
            CameraSeen(camera_id=camera, site=site, **_seen(t))
            for (camera, site), t in tallies.cameras.items()
        ),
        sites=_most_first(_sites(tallies.cameras)),
        timeline=[DaySeen(day=day, **_seen(t)) for day, t in sorted(tallies.days.items())],
        latest_passes=[pass_summary(row, request) for row in rows[: query.latest]],
    )


async def history_of(
    conn: AsyncConnection[Any],
    key: ApiKey,
    request: Request | None,
    match: PlateMatch,
    filters: PlateFilters,
    latest: int,
) -> tuple[list[str], HistoryTallies, list[dict[str, Any]]]:
    """The plates ``match`` finds, their tallies in the key's scope, and the rows of their
    ``latest`` passes; then the audit row of ``request`` (None: the statements alone, as a
    benchmark's ceiling runs them)."""
    plates = await matching_plates(conn, match)
    tallies = await history_tallies(conn, key, plates[:MAX_PLATES], filters)
    rows = []
    if latest and tallies.total is not None:
        sql, params = passes_page_query(key, filters, None, latest, plates[:MAX_PLATES])
        rows = await fetch_rows(conn, sql, params, prepared=False)
    if request is not None:
        passes = tallies.total.passes if tallies.total else 0
        await record_query(conn, key, request, 200, passes)
    return plates, tallies, rows


def _seen(tally: Tally) -> dict[str, Any]:
    return asdict(tally)


def _most_first(items: Iterable[S]) -> list[S]:
    return sorted(items, key=lambda item: -item.passes)


def _sites(cameras: dict[tuple[str, str | None], Tally]) -> list[SiteSeen]:
    sites: dict[str | None, Tally] = {}
    for (_camera, site), t in cameras.items():
        known = sites.get(site)
        sites[site] = (
            Tally(
                known.passes + t.passes,
                known.reads + t.reads,
                min(known.first_seen, t.first_seen),
                max(known.last_seen, t.last_seen),
            )
            if known
            else t
        )
    return [SiteSeen(site=site, **_seen(t)) for site, t in sites.items()]
