"""The SQL of ``GET /stats`` (docs/decisions.md#stats): reads per hour or day, per camera, site
or in all, from ``read_rollups`` (migration 0026), inside the key's scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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


def reads_series_query(
    key: ApiKey, hours: StatsRange, bucket: Bucket, by: StatsBy, filters: StatsFilters
) -> tuple[LiteralString, dict[str, Any]]:
    """Reads and their mean confidence per ``bucket`` (UTC) and per ``by``, oldest first."""
    params: dict[str, Any] = {"since": hours.since, "until": hours.until, "bucket": bucket}
    clauses: list[LiteralString] = ["hour >= %(since)s", "hour < %(until)s"]
    clauses += scope_clause(key, params)
    if filters.camera_ids:
        clauses.append("camera_id = ANY(%(camera_ids)s)")
        params["camera_ids"] = filters.camera_ids
    if filters.site is not None:
        clauses.append("site = %(site)s")
        params["site"] = filters.site
    where: LiteralString = " AND ".join(clauses)
    query: LiteralString = (
        f"SELECT at, camera_id, site, sum(reads)::bigint AS reads,"
        " sum(confidence_sum) / sum(reads) AS mean_confidence"
        f" FROM (SELECT date_trunc(%(bucket)s, hour, 'UTC') AS at, {_GROUPS[by]},"
        f" reads, confidence_sum FROM read_rollups WHERE {where}) AS rolled"
        " GROUP BY at, camera_id, site ORDER BY at, camera_id NULLS FIRST, site NULLS FIRST"
    )
    return query, params
