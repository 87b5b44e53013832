"""``GET /convoy`` and ``GET /stakeout``: vehicles that travel with a plate, and plates that were
at several places in their time windows (docs/decisions.md#co-presence). Searches: the same
roles, scope, purpose rule and audit as ``/plates/search``."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from alpr_core.api.audit import record_query
from alpr_core.api.deps import ReaderKey, resources_of
from alpr_core.api.params import checked_range, require_purpose
from alpr_core.api.plate_query import NO_NUL, openapi_parameters, purpose_field, read_query
from alpr_core.api.problems import Problem, problem_responses
from alpr_core.api.statements import fetch_rows
from alpr_core.db.co_presence import (
    MAX_PLACES,
    MAX_TARGET_PASSES,
    Place,
    PlaceBy,
    convoy_query,
    stakeout_query,
)
from alpr_core.events.parse import normalize_plate

router = APIRouter(tags=["investigation"])


class _Search(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    purpose: str | None = purpose_field()
    limit: int = Field(default=50, ge=1, le=200, description="Results at most.")


class ConvoyQuery(_Search):
    plate_text: str = Field(
        min_length=1, max_length=40, pattern=NO_NUL, description="The plate to travel with."
    )
    start_time: datetime = Field(description="ISO 8601; a time without a zone means UTC.")
    end_time: datetime = Field(description="ISO 8601; a time without a zone means UTC.")
    window_s: int = Field(
        default=60, ge=1, le=3600, description="Seen within this many seconds of the plate."
    )
    min_places: int = Field(default=2, ge=1, le=50, description="At this many places or more.")
    by: PlaceBy = Field(default="camera", description="A place is a camera, or a site.")


class PassTimes(BaseModel):
    id: int = Field(description="The pass, as `/passes` lists it.")
    first_seen: datetime
    last_seen: datetime


class Together(BaseModel):
    camera_id: str
    site: str | None
    target: PassTimes = Field(description="The plate's pass.")
    companion: PassTimes = Field(description="The companion's pass.")


class Companion(BaseModel):
    plate_normalized: str = Field(description="The companion's consensus plate.")
    places: int = Field(description="Distinct cameras (or sites) shared.")
    passes_together: int = Field(description="Passes of the plate it was seen near.")
    evidence: list[Together]


class Convoy(BaseModel):
    plate_normalized: str
    target_passes: int = Field(description="The plate's passes looked around.")
    more_target_passes: bool = Field(
        description=f"The plate had more than {MAX_TARGET_PASSES} passes in the range; the "
        "first were looked around."
    )
    companions: list[Companion]


@router.get(
    "/convoy",
    response_model=Convoy,
    summary="Vehicles seen with a plate at several places",
    responses=problem_responses(401, 403, 422),
    openapi_extra={"parameters": openapi_parameters(ConvoyQuery)},
)
async def convoy(request: Request, key: ReaderKey) -> Convoy:
    """The vehicles read within `window_s` of a pass of `plate_text` at the same camera, at
    `min_places` or more distinct cameras (or sites, `by=site`), between `start_time` and
    `end_time`: most places shared first, each with the pairs of passes as evidence."""
    resources = resources_of(request)
    query = read_query(ConvoyQuery, request)
    require_purpose(resources.settings.require_purpose, query.purpose)
    since, until = checked_range(
        query.start_time, query.end_time, resources.settings.max_range_days
    )
    plate = normalize_plate(query.plate_text)
    sql, params = convoy_query(
        key,
        plate,
        since,
        until,
        timedelta(seconds=query.window_s),
        query.min_places,
        query.by,
        query.limit,
    )
    async with resources.pool.connection() as conn:
        rows = await fetch_rows(conn, sql, params, prepared=False)
        await record_query(conn, key, request, 200, len(rows) - 1)
    targets = int(rows[0]["places"])
    return Convoy(
        plate_normalized=plate,
        target_passes=min(targets, MAX_TARGET_PASSES),
        more_target_passes=targets > MAX_TARGET_PASSES,
        companions=[
            Companion(
                plate_normalized=row["companion"],
                places=row["places"],
                passes_together=row["passes_together"],
                evidence=row["evidence"],
            )
            for row in rows[1:]
        ],
    )


_PLACE = re.compile(r"^(camera|site):([^@\x00]{1,200})@([^/]+)/([^/]+)$")
_PLACE_FORM = "camera:<id>@<start>/<end> or site:<id>@<start>/<end>, times in ISO 8601"


class StakeoutQuery(_Search):
    place: Annotated[
        list[Annotated[str, Field(max_length=300, pattern=NO_NUL)]],
        Field(
            min_length=2,
            max_length=MAX_PLACES,
            description=f"Repeat 2 to {MAX_PLACES} times: {_PLACE_FORM} "
            "(e.g. `camera:cam-001@2026-12-05T10:00:00Z/2026-12-05T11:00:00Z`).",
            examples=[["camera:cam-001@2026-12-05T10:00Z/2026-12-05T11:00Z"]],
        ),
    ]
    min_places: int | None = Field(
        default=None,
        ge=1,
        le=MAX_PLACES,
        description="At this many places or more; all by default.",
    )


class PlacePresence(BaseModel):
    place: int = Field(description="The place's position in the request, from 1.")
    first_seen: datetime
    last_seen: datetime
    reads: int


class PlateAtPlaces(BaseModel):
    plate_normalized: str
    places: int
    evidence: list[PlacePresence]


class Stakeout(BaseModel):
    plates: list[PlateAtPlaces] = Field(description="Most places first.")


@router.get(
    "/stakeout",
    response_model=Stakeout,
    summary="Plates read at several places, each in its own time window",
    responses=problem_responses(401, 403, 422),
    openapi_extra={"parameters": openapi_parameters(StakeoutQuery)},
)
async def stakeout(request: Request, key: ReaderKey) -> Stakeout:
    """The plates read at all the places given (or at `min_places` of them), each place a
    camera or a site with a window of time."""
    resources = resources_of(request)
    query = read_query(StakeoutQuery, request)
    require_purpose(resources.settings.require_purpose, query.purpose)
    places = [_place(text, resources.settings.max_range_days) for text in query.place]
    wanted = query.min_places or len(places)
    if wanted > len(places):
        raise Problem(422, "Too many places asked for", "min_places exceeds the places given.")
    sql, params = stakeout_query(key, places, wanted, query.limit)
    async with resources.pool.connection() as conn:
        rows = await fetch_rows(conn, sql, params, prepared=False)
        await record_query(conn, key, request, 200, len(rows))
    return Stakeout(plates=[PlateAtPlaces(**row) for row in rows])


def _place(text: str, max_range_days: int) -> Place:
    match = _PLACE.match(text)
    if match is None:
        raise Problem(422, "Invalid place", f"A place is {_PLACE_FORM}.")
    try:
        start, end = datetime.fromisoformat(match[3]), datetime.fromisoformat(match[4])
    except ValueError as error:
        raise Problem(422, "Invalid place", f"A place is {_PLACE_FORM}.") from error
    since, until = checked_range(start, end, max_range_days)
    by: PlaceBy = "camera" if match[1] == "camera" else "site"
    return Place(by, match[2], since, until)
