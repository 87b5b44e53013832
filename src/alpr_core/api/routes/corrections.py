"""Corrections, tags and notes (docs/decisions.md#corrections): an ``analyst`` or ``admin`` key
corrects a read's misread plate text, and tags and annotates its plate. Each change is made
through a read the key may see (any other is answered as missing), audited, and answered with
the read as ``GET /plates/{id}`` shows it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from psycopg import AsyncConnection
from pydantic import BaseModel, ConfigDict, Field

from alpr_core.api.audit import record_query
from alpr_core.api.deps import AnalystKey, resources_of
from alpr_core.api.plate_query import NO_NUL
from alpr_core.api.problems import Problem, problem_responses
from alpr_core.api.routes.plates import PlateId, plate_detail, visible_row
from alpr_core.api.schemas import PlateDetail
from alpr_core.db import annotations as plate_notes
from alpr_core.db.api_keys import ApiKey
from alpr_core.db.corrections import correct_read
from alpr_core.events.parse import MAX_PLATE_TEXT_CHARS, normalize_plate
from alpr_core.images.ownership import EdgeUploads

router = APIRouter(prefix="/plates", tags=["corrections"])
_ANSWERS = problem_responses(401, 403, 404, 409, 422)
TAG_PATTERN = r"^[a-z0-9][a-z0-9_.:-]{0,63}$"
TagName = Annotated[str, Field(pattern=TAG_PATTERN, examples=["stolen"])]


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plate_text: str = Field(
        min_length=1, max_length=MAX_PLATE_TEXT_CHARS, pattern=NO_NUL, examples=["AB12 CDE"]
    )
    reason: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)


class TagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tag: TagName = Field(description="Lower-case letters, digits, and _ . : - after the first.")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000, pattern=NO_NUL)


def _missing(plate_id: int) -> Problem:
    return Problem(404, "Not found", f"There is no plate read {plate_id}.")


@router.post(
    "/{plate_id}/corrections",
    status_code=201,
    response_model=PlateDetail,
    responses=_ANSWERS,
    summary="Correct a read's plate text",
)
async def correct(
    request: Request, key: AnalystKey, plate_id: PlateId, body: CorrectionIn
) -> PlateDetail:
    """The read takes the corrected text: search, history, passes and statistics use it from
    now on. The text it had stays in `corrections`, and a search for it still finds the read."""
    corrected = normalize_plate(body.plate_text)
    if not 0 < len(corrected) <= MAX_PLATE_TEXT_CHARS:
        detail = f"A plate text needs 1-{MAX_PLATE_TEXT_CHARS} letters or digits."
        raise Problem(422, "Not a plate", detail)
    resources = resources_of(request)
    async with resources.pool.connection() as conn:
        change = await correct_read(
            conn, key, plate_id, (body.plate_text.strip(), corrected), body.reason
        )
        status = 404 if change is None else 409 if change.before == change.after else 201
        await record_query(conn, key, request, status, 1 if status == 201 else 0)
        if change is None:
            raise _missing(plate_id)
        if status == 409:
            raise Problem(409, "Unchanged", "The read already has this text.")
        return await _answer(conn, key, plate_id, resources.edge_uploads)


@router.post(
    "/{plate_id}/tags",
    status_code=201,
    response_model=PlateDetail,
    responses=_ANSWERS,
    summary="Tag a read's plate",
)
async def tag(request: Request, key: AnalystKey, plate_id: PlateId, body: TagIn) -> PlateDetail:
    """The tag is kept at the read's camera and site: keys that may see them see it."""

    async def add(conn: AsyncConnection[Any], read: plate_notes.PlacedRead) -> None:
        await plate_notes.add_tag(conn, key, read, body.tag)

    return await _annotate(request, key, plate_id, add)


@router.delete(
    "/{plate_id}/tags/{tag}",
    status_code=204,
    response_class=Response,
    responses=_ANSWERS,
    summary="Remove a tag from a read's plate",
)
async def untag(
    request: Request,
    key: AnalystKey,
    plate_id: PlateId,
    tag: Annotated[str, Path(pattern=TAG_PATTERN)],
) -> Response:
    """Removed wherever the key may see it on the plate."""
    resources = resources_of(request)
    async with resources.pool.connection() as conn:
        read = await _placed(conn, key, plate_id, request)
        removed = await plate_notes.remove_tag(conn, key, read.plate_normalized, tag)
        await record_query(conn, key, request, 204 if removed else 404, removed)
    if not removed:
        raise Problem(404, "Not found", "The plate has no such tag that this key may see.")
    return Response(status_code=204)


@router.post(
    "/{plate_id}/notes",
    status_code=201,
    response_model=PlateDetail,
    responses=_ANSWERS,
    summary="Write a note on a read's plate",
)
async def note(request: Request, key: AnalystKey, plate_id: PlateId, body: NoteIn) -> PlateDetail:
    """Notes are kept, never edited, at the read's camera and site."""

    async def add(conn: AsyncConnection[Any], read: plate_notes.PlacedRead) -> None:
        await plate_notes.add_note(conn, key, read, body.text)

    return await _annotate(request, key, plate_id, add)


async def _annotate(
    request: Request,
    key: ApiKey,
    plate_id: int,
    add: Callable[[AsyncConnection[Any], plate_notes.PlacedRead], Awaitable[None]],
) -> PlateDetail:
    """``add`` a tag or note through the read, if the key may see it; audited either way."""
    resources = resources_of(request)
    async with resources.pool.connection() as conn:
        read = await _placed(conn, key, plate_id, request)
        await add(conn, read)
        await record_query(conn, key, request, 201, 1)
        return await _answer(conn, key, plate_id, resources.edge_uploads)


async def _placed(
    conn: AsyncConnection[Any], key: ApiKey, plate_id: int, request: Request
) -> plate_notes.PlacedRead:
    """The read's plate, camera and site, if the key may see it; else a 404, audited."""
    row = await visible_row(conn, key, plate_id)
    if row is None:
        await record_query(conn, key, request, 404, 0)
        raise _missing(plate_id)
    return plate_notes.PlacedRead(row["plate_normalized"], row["camera_id"], row["site"])


async def _answer(
    conn: AsyncConnection[Any], key: ApiKey, plate_id: int, edge: EdgeUploads
) -> PlateDetail:
    row = await visible_row(conn, key, plate_id)
    if row is None:  # removed by retention in between
        raise _missing(plate_id)
    return await plate_detail(conn, key, row, edge)
