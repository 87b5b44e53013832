"""The SQL of ``GET /stats`` (docs/decisions.md#stats): reads and passes per hour or day, per
camera, site or in all, from ``read_rollups`` and ``pass_rollups`` (migrations 0026, 0028),
inside the key's scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, LiteralString

from alpr_core.api.queries import scope_clause
from alpr_core.db.api_keys import ApiKey

Bucket = Literal["hour", "day"]
StatsBy = Literal["camera", "site", "all"]

_GROUPS: dict[StatsBy, LiteralString] = {
    "camera": "camera_id, site",
    "site": "NULL::text AS camera_id, site",
    "all": "NULL::text AS camera_id, NULL::text AS site",
}


@dataclass(frozen=True, slots=True)
class StatsRange:
    """Whole UTC hours: ``since`` inclusive, ``until`` exclusive."""

    since: datetime
    until: datetime

    @classmethod
    def covering(cls, start: datetime, end: datetime) -> StatsRange:
        """The hours that hold ``start`` through ``end``."""
        since = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        last = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        return cls(since, last + timedelta(hours=1))


@dataclass(frozen=True, slots=True)
class StatsFilters:
    camera_ids: list[str] = field(default_factory=list)
    site: str | None = None


def _place_clauses(
    key: ApiKey, filters: StatsFilters, params: dict[str, Any]
) -> list[LiteralString]:
    """The key's scope and the filters, over a table of camera_id and site."""
    clauses = scope_clause(key, params)
    if filters.camera_ids:
        clauses.append("camera_id = ANY(%(camera_ids)s)")
        params["camera_ids"] = filters.camera_ids
    if filters.site is not None:
        clauses.append("site = %(site)s")
        params["site"] = filters.site
    return clauses


def sketch_days(hours: StatsRange) -> tuple[date, date]:
    """The first and last UTC day that ``hours`` touch: sketches are kept per day."""
    return hours.since.date(), (hours.until - timedelta(microseconds=1)).date()


def sketches_query(
    key: ApiKey, hours: StatsRange, filters: StatsFilters
) -> tuple[LiteralString, dict[str, Any]]:
    """The unique-plate sketches (migration 0029) of the UTC days that ``hours`` touch, inside
    the key's scope: day, camera, site, sketch."""
    first, last = sketch_days(hours)
    params: dict[str, Any] = {"first_day": first, "last_day": last}
    clauses: list[LiteralString] = ["day >= %(first_day)s", "day <= %(last_day)s"]
    clauses += _place_clauses(key, filters, params)
    where: LiteralString = " AND ".join(clauses)
    return f"SELECT day, camera_id, site, uniques FROM plate_sketches WHERE {where}", params


def top_plates_query(
    key: ApiKey, hours: StatsRange, filters: StatsFilters, limit: int
) -> tuple[LiteralString, dict[str, Any]]:
    """The ``limit`` plates (passes' consensus, so corrections count) with the most passes
    beginning in ``hours``, inside the key's scope: exact, counted from the passes."""
    params: dict[str, Any] = {"since": hours.since, "until": hours.until, "limit": limit}
    clauses: list[LiteralString] = ["first_seen >= %(since)s", "first_seen < %(until)s"]
    clauses += _place_clauses(key, filters, params)
    where: LiteralString = " AND ".join(clauses)
    query: LiteralString = (
        "SELECT plate_normalized, count(*) AS passes, sum(read_count)::bigint AS reads,"
        " min(first_seen) AS first_seen, max(last_seen) AS last_seen"
        f" FROM passes WHERE {where} GROUP BY plate_normalized"
        " ORDER BY count(*) DESC, plate_normalized LIMIT %(limit)s"
    )
    return query, params


def reads_series_query(
    key: ApiKey, hours: StatsRange, bucket: Bucket, by: StatsBy, filters: StatsFilters
) -> tuple[LiteralString, dict[str, Any]]:
    """Reads, their mean confidence and passes (by the hour of their first read) per
    ``bucket`` (UTC) and per ``by``, oldest first; buckets with neither are left out."""
    params: dict[str, Any] = {"since": hours.since, "until": hours.until, "bucket": bucket}
    clauses: list[LiteralString] = ["hour >= %(since)s", "hour < %(until)s"]
    clauses += _place_clauses(key, filters, params)
    where: LiteralString = " AND ".join(clauses)
    at: LiteralString = f"date_trunc(%(bucket)s, hour, 'UTC') AS at, {_GROUPS[by]}"
    query: LiteralString = (
        "SELECT at, camera_id, site, sum(reads)::bigint AS reads,"
        " sum(confidence_sum) / nullif(sum(reads), 0) AS mean_confidence,"
        " sum(passes)::bigint AS passes"
        f" FROM (SELECT {at}, reads, confidence_sum, 0 AS passes FROM read_rollups WHERE {where}"
        f" UNION ALL SELECT {at}, 0, 0, passes FROM pass_rollups WHERE {where}) AS rolled"
        " GROUP BY at, camera_id, site HAVING sum(reads) > 0 OR sum(passes) > 0"
        " ORDER BY at, camera_id NULLS FIRST, site NULLS FIRST"
    )
    return query, params


def camera_health_query(key: ApiKey, now: datetime) -> tuple[LiteralString, dict[str, Any]]:
    """Each camera the key may see that read in the last eight days or is registered and
    enabled: its reads in the last 24 hours against its daily mean over the seven days before,
    their mean confidence, and its last read (found in its newest counted hour)."""
    day_ago = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    params: dict[str, Any] = {"day_ago": day_ago, "week_before": day_ago - timedelta(days=7)}
    scope: LiteralString = " AND ".join(["TRUE", *scope_clause(key, params)])
    query: LiteralString = f"""
WITH counted AS (
    SELECT camera_id, site,
           coalesce(sum(reads) FILTER (WHERE hour >= %(day_ago)s), 0) AS reads_24h,
           coalesce(sum(reads) FILTER (WHERE hour < %(day_ago)s), 0) AS reads_week_before,
           sum(confidence_sum) FILTER (WHERE hour >= %(day_ago)s) AS confidence_24h,
           max(hour) AS last_hour
    FROM read_rollups WHERE hour >= %(week_before)s AND {scope}
    GROUP BY camera_id, site
), registered AS (
    SELECT camera_id, site
    FROM (SELECT camera_id, site_id AS site FROM cameras WHERE enabled) AS enabled_cameras
    WHERE {scope}
), every_camera AS (
    SELECT coalesce(c.camera_id, r.camera_id) AS camera_id, coalesce(c.site, r.site) AS site,
           coalesce(c.reads_24h, 0) AS reads_24h,
           coalesce(c.reads_week_before, 0) AS reads_week_before,
           c.confidence_24h, c.last_hour
    FROM counted c FULL JOIN registered r
      ON r.camera_id = c.camera_id AND coalesce(r.site, '') = coalesce(c.site, '')
)
SELECT camera_id, site, reads_24h, reads_week_before / 7.0 AS usual_24h,
       confidence_24h / nullif(reads_24h, 0) AS mean_confidence_24h,
       (SELECT max("timestamp") FROM plate_detections p
        WHERE p.camera_id = e.camera_id AND p.site IS NOT DISTINCT FROM e.site
          AND p."timestamp" >= e.last_hour
          AND p."timestamp" < e.last_hour + interval '1 hour') AS last_read
FROM every_camera e ORDER BY camera_id, site NULLS FIRST
"""
    return query, params
