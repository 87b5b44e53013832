"""``GET /stats``: reads per hour or day, per camera, per site or in all, from the hourly
rollups (docs/decisions.md#stats); inside the key's scope, audited, and as a file with
``format=csv|ndjson``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, LiteralString

from fastapi import APIRouter, Request, Response
from psycopg import AsyncConnection
from pydantic import BaseModel, ConfigDict, Field

from alpr_core.api.audit import record_query
from alpr_core.api.cursor import Cursor
from alpr_core.api.deps import ReaderKey, resources_of
from alpr_core.api.export import Export, ExportFormat, export_response, export_responses
from alpr_core.api.params import as_utc, checked_range
from alpr_core.api.plate_query import NO_NUL, openapi_parameters, read_query
from alpr_core.api.problems import problem_responses
from alpr_core.api.statements import fetch_rows
from alpr_core.db.stats import (
    Bucket,
    StatsBy,
    StatsFilters,
    StatsRange,
    camera_health_query,
    reads_series_query,
)

router = APIRouter(tags=["stats"])
DEFAULT_DAYS = 7


class StatsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    start_time: datetime | None = Field(
        default=None, description=f"ISO 8601; {DEFAULT_DAYS} days before `end_time` by default."
    )
    end_time: datetime | None = Field(default=None, description="ISO 8601; now by default.")
    bucket: Bucket = Field(default="day", description="Count per UTC `hour` or `day`.")
    by: StatsBy = Field(default="camera", description="Per `camera`, per `site`, or `all`.")
    camera_id: list[Annotated[str, Field(max_length=200, pattern=NO_NUL)]] | None = Field(
        default=None, max_length=100, description="Only these cameras; repeat for several."
    )
    site: str | None = Field(default=None, max_length=200, pattern=NO_NUL)
    format: ExportFormat = Field(
        default=ExportFormat.JSON, description="`json`, or a file: `csv`, `ndjson`."
    )


class StatsRow(BaseModel):
    at: datetime = Field(description="The bucket's start (UTC).")
    camera_id: str | None
    site: str | None
    reads: int
    mean_confidence: float


class Stats(BaseModel):
    start_time: datetime = Field(description="The first hour counted.")
    end_time: datetime = Field(description="The end of the last hour counted (exclusive).")
    bucket: Bucket
    by: StatsBy
    reads: int = Field(description="All the reads counted.")
    series: list[StatsRow] = Field(description="Oldest first; buckets without reads are left out.")


@router.get(
    "/stats",
    response_model=Stats,
    summary="Reads per hour or day, per camera, site or in all",
    responses=export_responses() | problem_responses(401, 403, 422),
    openapi_extra={"parameters": openapi_parameters(StatsQuery)},
)
async def stats(request: Request, key: ReaderKey) -> Stats | Response:
    """Counted from hourly rollups, so times are whole UTC hours: the range covers the hours
    that hold `start_time` through `end_time`."""
    resources = resources_of(request)
    query = read_query(StatsQuery, request)
    end = as_utc(query.end_time) or datetime.now(UTC)
    start = as_utc(query.start_time) or end - timedelta(days=DEFAULT_DAYS)
    since, until = checked_range(start, end, resources.settings.max_range_days, strict=False)
    hours = StatsRange.covering(since, until)
    filters = StatsFilters(list(query.camera_id or []), query.site)
    sql, params = reads_series_query(key, hours, query.bucket, query.by, filters)
    if query.format is not ExportFormat.JSON:
        return await export_response(request, key, _export(sql, params), query.format)
    async with resources.pool.connection() as conn:
        rows = await fetch_rows(conn, sql, params, prepared=False)
        await record_query(conn, key, request, 200, len(rows))
    return Stats(
        start_time=hours.since,
        end_time=hours.until,
        bucket=query.bucket,
        by=query.by,
        reads=sum(int(row["reads"]) for row in rows),
        series=[StatsRow(**row) for row in rows],
    )


class CameraHealth(BaseModel):
    camera_id: str
    site: str | None
    last_read: datetime | None = Field(description="Null: no read in the last eight days.")
    reads_24h: int = Field(description="Reads in the last 24 hours (whole hours).")
    usual_24h: float = Field(description="Its mean reads per 24 hours over the 7 days before.")
    rate: float | None = Field(
        description="`reads_24h` ÷ `usual_24h`: far below 1, the camera may be failing; null "
        "without a usual rate."
    )
    mean_confidence_24h: float | None


class CamerasHealth(BaseModel):
    at: datetime
    cameras: list[CameraHealth] = Field(
        description="Cameras read in the last eight days, and registered cameras (enabled)."
    )


@router.get(
    "/stats/cameras",
    response_model=CamerasHealth,
    summary="Each camera's health: last read, rate against its usual rate, mean confidence",
    responses=problem_responses(401, 403),
)
async def camera_health(request: Request, key: ReaderKey) -> CamerasHealth:
    """From the hourly rollups, inside the key's scope; audited."""
    resources = resources_of(request)
    now = datetime.now(UTC)
    sql, params = camera_health_query(key, now)
    async with resources.pool.connection() as conn:
        rows = await fetch_rows(conn, sql, params, prepared=False)
        await record_query(conn, key, request, 200, len(rows))
    return CamerasHealth(at=now, cameras=[_health(row) for row in rows])


def _health(row: dict[str, Any]) -> CameraHealth:
    usual = float(row["usual_24h"])
    return CameraHealth(
        camera_id=row["camera_id"],
        site=row["site"],
        last_read=row["last_read"],
        reads_24h=int(row["reads_24h"]),
        usual_24h=usual,
        rate=int(row["reads_24h"]) / usual if usual > 0 else None,
        mean_confidence_24h=row["mean_confidence_24h"],
    )


def _export(sql: LiteralString, params: dict[str, Any]) -> Export:
    """The series as one chunk: a few thousand rows at most (hours by cameras)."""

    async def rows(conn: AsyncConnection[Any], _after: Cursor | None, _limit: int) -> list[Any]:
        return await fetch_rows(conn, sql, params, prepared=False)

    async def count(conn: AsyncConnection[Any], _most: int) -> int:
        return len(await rows(conn, None, 0))

    columns = list(StatsRow.model_fields)
    return Export("stats", columns, rows, lambda found: found, None, count)
