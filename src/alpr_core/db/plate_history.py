"""The SQL of ``GET /plates/history`` (docs/decisions.md#plate-history): the plates a search
term matches, then one aggregate over their passes inside the key's scope, grouped four ways
(all, per camera, per day, per plate)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, LiteralString

from psycopg import AsyncConnection

from alpr_core.api.queries import PlateFilters, scope_clause
from alpr_core.api.search import PlateMatch
from alpr_core.db.api_keys import ApiKey
from alpr_core.db.pass_views import pass_filter_clauses

MAX_PLATES = 100  # plates one history covers at most (a broad term lists the first)


async def matching_plates(conn: AsyncConnection[Any], match: PlateMatch) -> list[str]:
    """The plates ``match`` finds among the stored reads (fuzzy: the closest first), at most
    ``MAX_PLATES`` + 1, so the caller knows whether more match. Which of them the key may
    see is the aggregate's to decide: this list is never shown."""
    params = match.params | {"max_plates": MAX_PLATES + 1}
    if match.ranked_plates is not None:
        query: LiteralString = f"SELECT fp.plate FROM {match.ranked_plates} AS fp"
    else:
        query = (
            f"SELECT DISTINCT plate_normalized FROM plate_detections WHERE {match.where}"
            " LIMIT %(max_plates)s"
        )
    cursor = await conn.execute(query, params)
    return [str(row[0]) for row in await cursor.fetchall()]


@dataclass(frozen=True, slots=True)
class Tally:
    passes: int
    reads: int
    first_seen: datetime
    last_seen: datetime


@dataclass(slots=True)
class HistoryTallies:
    total: Tally | None = None  # None: no pass
    cameras: dict[tuple[str, str | None], Tally] = field(default_factory=dict)
    days: dict[date, Tally] = field(default_factory=dict)
    plates: dict[str, Tally] = field(default_factory=dict)


_DAY: LiteralString = "(first_seen AT TIME ZONE 'UTC')::date"


async def history_tallies(
    conn: AsyncConnection[Any], key: ApiKey, plates: list[str], filters: PlateFilters
) -> HistoryTallies:
    """Passes and reads of ``plates`` the key may see: in all, per camera, per UTC day (of the
    pass's first read) and per plate."""
    params: dict[str, Any] = {"plates": plates}
    clauses = [
        "plate_normalized = ANY(%(plates)s)",
        *scope_clause(key, params),
        *pass_filter_clauses(filters, params),
    ]
    where: LiteralString = " AND ".join(clauses)
    cursor = await conn.execute(
        f"SELECT GROUPING(camera_id, site, {_DAY}, plate_normalized), camera_id, site, {_DAY},"
        " plate_normalized, count(*), sum(read_count), min(first_seen), max(last_seen)"
        f" FROM passes WHERE {where}"
        f" GROUP BY GROUPING SETS ((), (camera_id, site), ({_DAY}), (plate_normalized))",
        params,
    )
    tallies = HistoryTallies()
    for grouping, camera, site, day, plate, passes, reads, first, last in await cursor.fetchall():
        if not passes:
            continue  # the grand total of no pass
        tally = Tally(int(passes), int(reads), first, last)
        if grouping == 0b1111:
            tallies.total = tally
        elif grouping == 0b0011:
            tallies.cameras[(camera, site)] = tally
        elif grouping == 0b1101:
            tallies.days[day] = tally
        elif grouping == 0b1110:
            tallies.plates[plate] = tally
    return tallies
