"""The SQL of the co-presence searches (docs/decisions.md#co-presence): which vehicles travel
with a plate (convoy), and which plates were at several places in their time windows (stakeout).

Both find candidates among the reads, by the (camera, time) or (site, time) index bounded on both
sides, inside the key's scope: a read is where and when a vehicle was. A convoy's companions are
then counted by vehicle pass (its consensus plate), so a misread of a companion counts for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, LiteralString

from alpr_core.api.queries import scope_clause
from alpr_core.db.api_keys import ApiKey

MAX_TARGET_PASSES = 1000  # a convoy looks around at most this many passes of its plate
MAX_PLACES = 5
PlaceBy = Literal["camera", "site"]


def convoy_query(
    key: ApiKey,
    plate: str,
    since: datetime,
    until: datetime,
    window: timedelta,
    min_places: int,
    by: PlaceBy,
    limit: int,
) -> tuple[LiteralString, dict[str, Any]]:
    """The vehicles seen within ``window`` of a pass of ``plate`` (between ``since`` and
    ``until``) at the same camera, at ``min_places`` or more distinct cameras (or sites), most
    places first, then most passes together; each with the pairs of passes (the plate's, the
    companion's) as evidence. The first row of the result is a count of the plate's passes
    looked around (``companion`` NULL), so the caller knows whether ``MAX_TARGET_PASSES`` cut
    them."""
    params: dict[str, Any] = {
        "plate": plate,
        "since": since,
        "until": until,
        "window": window,
        "min_places": min_places,
        "limit": limit,
        "max_targets": MAX_TARGET_PASSES + 1,
    }
    target_scope: LiteralString = " AND ".join(["TRUE", *scope_clause(key, params)])
    place: LiteralString = "camera_id" if by == "camera" else "site"
    query: LiteralString = f"""
WITH target AS MATERIALIZED (
    SELECT id, camera_id, site, first_seen, last_seen FROM passes
    WHERE plate_normalized = %(plate)s AND first_seen < %(until)s AND last_seen >= %(since)s
      AND {target_scope}
    ORDER BY first_seen LIMIT %(max_targets)s
), near AS MATERIALIZED (
    SELECT t.id AS target_id, t.camera_id, t.site, t.first_seen AS target_first,
           t.last_seen AS target_last, r.plate_normalized, r.seen_at
    FROM (SELECT * FROM target ORDER BY first_seen LIMIT %(max_targets)s - 1) t
    CROSS JOIN LATERAL (
        SELECT plate_normalized, "timestamp" AS seen_at FROM plate_detections
        WHERE camera_id = t.camera_id AND "timestamp" >= t.first_seen - %(window)s
          AND "timestamp" <= t.last_seen + %(window)s AND {target_scope}
        OFFSET 0
    ) r
), paired AS (
    SELECT DISTINCT n.target_id, n.camera_id, n.site, n.target_first, n.target_last,
           c.id AS companion_id, c.plate_normalized, c.first_seen, c.last_seen
    FROM near n CROSS JOIN LATERAL (
        SELECT id, plate_normalized, first_seen, last_seen FROM passes
        WHERE camera_id = n.camera_id AND last_seen >= n.seen_at AND first_seen <= n.seen_at
          AND votes ? n.plate_normalized
        ORDER BY last_seen LIMIT 1
    ) c
    WHERE c.plate_normalized <> %(plate)s
), ranked AS (
    SELECT plate_normalized, count(DISTINCT {place}) AS places,
           count(DISTINCT target_id) AS passes_together
    FROM paired GROUP BY plate_normalized
    HAVING count(DISTINCT {place}) >= %(min_places)s
    ORDER BY places DESC, passes_together DESC, plate_normalized LIMIT %(limit)s
)
SELECT NULL AS companion, (SELECT count(*) FROM target) AS places, 0 AS passes_together,
       NULL::jsonb AS evidence, 0 AS rank
UNION ALL
SELECT r.plate_normalized, r.places, r.passes_together,
       (SELECT jsonb_agg(jsonb_build_object(
            'camera_id', p.camera_id, 'site', p.site,
            'target', jsonb_build_object(
                'id', p.target_id, 'first_seen', p.target_first, 'last_seen', p.target_last),
            'companion', jsonb_build_object(
                'id', p.companion_id, 'first_seen', p.first_seen, 'last_seen', p.last_seen))
            ORDER BY p.target_first, p.first_seen)
        FROM paired p WHERE p.plate_normalized = r.plate_normalized),
       row_number() OVER (ORDER BY r.places DESC, r.passes_together DESC, r.plate_normalized)
FROM ranked r
ORDER BY rank
"""
    return query, params


@dataclass(frozen=True, slots=True)
class Place:
    """A camera or a site, and a window of time there."""

    by: PlaceBy
    name: str
    since: datetime
    until: datetime


# The parameters of each place, by its position: constants, so the SQL is built from literals.
_PLACE_NAMES: tuple[LiteralString, ...] = ("place_0", "place_1", "place_2", "place_3", "place_4")
_PLACE_SINCE: tuple[LiteralString, ...] = ("since_0", "since_1", "since_2", "since_3", "since_4")
_PLACE_UNTIL: tuple[LiteralString, ...] = ("until_0", "until_1", "until_2", "until_3", "until_4")
_PLACE_INDEX: tuple[LiteralString, ...] = ("1", "2", "3", "4", "5")


def stakeout_query(
    key: ApiKey, places: list[Place], min_places: int, limit: int
) -> tuple[LiteralString, dict[str, Any]]:
    """The plates read at ``min_places`` or more of ``places`` (each a camera or site, in its
    window), most places first, with when each was seen at each place (1-based, in the
    order given)."""
    if not 2 <= len(places) <= MAX_PLACES:
        raise ValueError(f"a stakeout has 2 to {MAX_PLACES} places, not {len(places)}")
    params: dict[str, Any] = {"min_places": min_places, "limit": limit}
    scope: LiteralString = " AND ".join(["TRUE", *scope_clause(key, params)])
    branches: list[LiteralString] = []
    for i, place in enumerate(places):
        name, since, until = _PLACE_NAMES[i], _PLACE_SINCE[i], _PLACE_UNTIL[i]
        params |= {name: place.name, since: place.since, until: place.until}
        column: LiteralString = "camera_id" if place.by == "camera" else "site"
        branches.append(
            f'SELECT {_PLACE_INDEX[i]} AS place, plate_normalized, min("timestamp") AS first_seen,'
            ' max("timestamp") AS last_seen, count(*) AS reads FROM plate_detections'
            f' WHERE {column} = %({name})s AND "timestamp" >= %({since})s'
            f' AND "timestamp" < %({until})s AND {scope} GROUP BY plate_normalized'
        )
    seen: LiteralString = " UNION ALL ".join(branches)
    query: LiteralString = f"""
SELECT plate_normalized, count(*) AS places,
       jsonb_agg(jsonb_build_object('place', place, 'first_seen', first_seen,
                 'last_seen', last_seen, 'reads', reads) ORDER BY place) AS evidence
FROM ({seen}) AS seen
GROUP BY plate_normalized HAVING count(*) >= %(min_places)s
ORDER BY places DESC, plate_normalized LIMIT %(limit)s
"""
    return query, params
