"""``GET /stats``: reads and passes per hour or day, per camera, per site or in all, from the
rollups (docs/decisions.md#stats); inside the key's scope, audited, and as a file with
``format=csv|ndjson``."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, LiteralString

from fastapi import APIRouter, Request, Response
from psycopg import AsyncConnection
from pydantic import BaseModel, ConfigDict, Field

from alpr_core.api.audit import record_query
from alpr_core.api.cursor import Cursor
from alpr_core.api.deps import ReaderKey, resources_of
from alpr_core.api.export import Export, ExportFormat, export_response, export_responses
from alpr_core.api.params import as_utc, checked_range, require_purpose
from alpr_core.api.plate_query import NO_NUL, openapi_parameters, purpose_field, read_query
from alpr_core.api.problems import problem_responses
from alpr_core.api.statements import fetch_rows
from alpr_core.db.api_keys import ApiKey
from alpr_core.db.plate_sketches import SketchUnion
from alpr_core.db.stats import (
    Bucket,
    StatsBy,
    StatsFilters,
    StatsRange,
    camera_health_query,
    reads_series_query,
    sketches_query,
    top_plates_query,
)

router = APIRouter(tags=["stats"])
Row = dict[str, Any]
DEFAULT_DAYS = 7
TOP_PLATES_DEFAULT = timedelta(days=1)
TOP_PLATES_MAX_DAYS = 31


class _Counted(BaseModel):
    """Which reads are counted: when, and where."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    start_time: datetime | None = Field(
        default=None, description=f"ISO 8601; {DEFAULT_DAYS} days before `end_time` by default."
    )
    end_time: datetime | None = Field(default=None, description="ISO 8601; now by default.")
    camera_id: list[Annotated[str, Field(max_length=200, pattern=NO_NUL)]] | None = Field(
        default=None, max_length=100, description="Only these cameras; repeat for several."
    )
    site: str | None = Field(default=None, max_length=200, pattern=NO_NUL)

    def hours(
        self, max_range_days: int, default: timedelta = timedelta(days=DEFAULT_DAYS)
    ) -> StatsRange:
        """The whole hours asked for: ``default`` before ``end_time`` (now) when no start."""
        end = as_utc(self.end_time) or datetime.now(UTC)
        start = as_utc(self.start_time) or end - default
        since, until = checked_range(start, end, max_range_days, strict=False)
        return StatsRange.covering(since, until)

    def filters(self) -> StatsFilters:
        return StatsFilters(list(self.camera_id or []), self.site)


class StatsQuery(_Counted):
    bucket: Bucket = Field(default="day", description="Count per UTC `hour` or `day`.")
    by: StatsBy = Field(default="camera", description="Per `camera`, per `site`, or `all`.")
    format: ExportFormat = Field(
        default=ExportFormat.JSON, description="`json`, or a file: `csv`, `ndjson`."
    )


class StatsRow(BaseModel):
    at: datetime = Field(description="The bucket's start (UTC).")
    camera_id: str | None
    site: str | None
    reads: int
    mean_confidence: float | None = Field(description="Of its reads; null when it has none.")
    passes: int = Field(description="Passes whose first read is in the bucket.")
    unique_plates: int | None = Field(
        description="Distinct plates read (an estimate: exact for a few hundred, within 3.2 %"
        " at 95 % beyond); days only, null for hours."
    )


class UniquePlates(BaseModel):
    estimate: int
    lower_bound: int = Field(description="95 % of estimates fall between the bounds.")
    upper_bound: int


class Stats(BaseModel):
    start_time: datetime = Field(description="The first hour counted.")
    end_time: datetime = Field(description="The end of the last hour counted (exclusive).")
    bucket: Bucket
    by: StatsBy
    reads: int = Field(description="All the reads counted.")
    passes: int = Field(description="All the passes counted.")
    unique_plates: UniquePlates = Field(
        description="Distinct plates read over the whole UTC days the range touches."
    )
    series: list[StatsRow] = Field(
        description="Oldest first; buckets without reads or passes are left out."
    )


@router.get(
    "/stats",
    response_model=Stats,
    summary="Reads and passes per hour or day, per camera, site or in all",
    responses=export_responses() | problem_responses(401, 403, 422),
    openapi_extra={"parameters": openapi_parameters(StatsQuery)},
)
async def stats(request: Request, key: ReaderKey) -> Stats | Response:
    """Counted from hourly rollups, so times are whole UTC hours: the range covers the hours
    that hold `start_time` through `end_time`."""
    resources = resources_of(request)
    query = read_query(StatsQuery, request)
    hours = query.hours(resources.settings.max_range_days)
    series = StatsSeries(key, hours, query.bucket, query.by, query.filters())
    if query.format is not ExportFormat.JSON:
        return await export_response(request, key, series.export(), query.format)
    async with resources.pool.connection() as conn:
        rows, uniques = await series.rows(conn)
        await record_query(conn, key, request, 200, len(rows))
    return Stats(
        start_time=hours.since,
        end_time=hours.until,
        bucket=query.bucket,
        by=query.by,
        reads=sum(int(row["reads"]) for row in rows),
        passes=sum(int(row["passes"]) for row in rows),
        unique_plates=_unique_plates(uniques),
        series=[StatsRow(**row) for row in rows],
    )


def _unique_plates(union: SketchUnion) -> UniquePlates:
    found = union.unique_plates()
    return UniquePlates(
        estimate=round(found.estimate),
        lower_bound=math.floor(found.lower_bound),
        upper_bound=math.ceil(found.upper_bound),
    )


@dataclass(frozen=True, slots=True)
class StatsSeries:
    """The rows of ``/stats``: counts from the rollups, unique plates per day from the
    sketches."""

    key: ApiKey
    hours: StatsRange
    bucket: Bucket
    by: StatsBy
    filters: StatsFilters

    async def rows(self, conn: AsyncConnection[Any]) -> tuple[list[Row], SketchUnion]:
        """The series, and the union of every sketch in it."""
        sql, params = reads_series_query(self.key, self.hours, self.bucket, self.by, self.filters)
        rows = await fetch_rows(conn, sql, params, prepared=False)
        sql, params = sketches_query(self.key, self.hours, self.filters)
        everything, per_group = (
            SketchUnion(),
            defaultdict[tuple[Any, ...], SketchUnion](SketchUnion),
        )
        cursor = await conn.execute(sql, params)
        for day, camera_id, site, uniques in await cursor.fetchall():
            everything.add(uniques)
            per_group[self._group(day, camera_id, site)].add(uniques)
        for row in rows:
            union = per_group.get((row["at"], row["camera_id"], row["site"]))
            if union is None or self.bucket != "day":
                row["unique_plates"] = None
            else:
                row["unique_plates"] = round(union.unique_plates().estimate)
        return rows, everything

    def _group(self, day: date, camera_id: str, site: str | None) -> tuple[Any, ...]:
        at = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return (
            at,
            camera_id if self.by == "camera" else None,
            site if self.by in ("camera", "site") else None,
        )

    def export(self) -> Export:
        """The series as one chunk: a few thousand rows at most (hours by cameras)."""

        async def rows(conn: AsyncConnection[Any], _after: Cursor | None, _limit: int) -> list[Row]:
            return (await self.rows(conn))[0]

        async def count(conn: AsyncConnection[Any], _most: int) -> int:
            return len(await rows(conn, None, 0))

        columns = list(StatsRow.model_fields)
        return Export("stats", columns, rows, lambda found: found, None, count)


class TopPlatesQuery(_Counted):
    start_time: datetime | None = Field(
        default=None, description="ISO 8601; a day before `end_time` by default."
    )
    limit: int = Field(default=20, ge=1, le=100, description="Plates at most.")
    purpose: str | None = purpose_field()


class TopPlate(BaseModel):
    plate_normalized: str
    passes: int = Field(description="Its passes that began in the range.")
    reads: int = Field(description="The reads of those passes.")
    first_seen: datetime
    last_seen: datetime


class TopPlates(BaseModel):
    start_time: datetime = Field(description="The first hour counted.")
    end_time: datetime = Field(description="The end of the last hour counted (exclusive).")
    unique_plates: UniquePlates = Field(
        description="Distinct plates read over the whole UTC days the range touches."
    )
    plates: list[TopPlate] = Field(description="The plates with the most passes, most first.")


@router.get(
    "/stats/plates",
    response_model=TopPlates,
    summary="Unique plates, and the plates seen most often",
    responses=problem_responses(401, 403, 422),
    openapi_extra={"parameters": openapi_parameters(TopPlatesQuery)},
)
async def top_plates(request: Request, key: ReaderKey) -> TopPlates:
    """The plates with the most passes (a vehicle's repeat reads at one camera are one pass)
    beginning in the range, counted exactly from the passes, with the unique plates of the
    range's days; inside the key's scope. A search: audited, and with API_REQUIRE_PURPOSE it
    needs a `purpose`. A day by default, at most 31: the count reads every pass in the range."""
    resources = resources_of(request)
    query = read_query(TopPlatesQuery, request)
    require_purpose(resources.settings.require_purpose, query.purpose)
    max_days = min(TOP_PLATES_MAX_DAYS, resources.settings.max_range_days)
    hours = query.hours(max_days, TOP_PLATES_DEFAULT)
    async with resources.pool.connection() as conn:
        plates, union = await top_plates_rows(conn, key, hours, query.filters(), query.limit)
        await record_query(conn, key, request, 200, len(plates))
    return TopPlates(
        start_time=hours.since,
        end_time=hours.until,
        unique_plates=_unique_plates(union),
        plates=[TopPlate(**row) for row in plates],
    )


async def top_plates_rows(
    conn: AsyncConnection[Any], key: ApiKey, hours: StatsRange, filters: StatsFilters, limit: int
) -> tuple[list[Row], SketchUnion]:
    """The plates with the most passes in ``hours``, and the sketches of its days merged."""
    sql, params = top_plates_query(key, hours, filters, limit)
    plates = await fetch_rows(conn, sql, params, prepared=False)
    return plates, await _sketches(conn, sketches_query(key, hours, filters))


async def _sketches(
    conn: AsyncConnection[Any], query: tuple[LiteralString, dict[str, Any]]
) -> SketchUnion:
    union = SketchUnion()
    cursor = await conn.execute(*query)
    for _day, _camera, _site, uniques in await cursor.fetchall():
        union.add(uniques)
    return union


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
