"""The SQL the plate endpoints run: filters, the key's scope, keyset pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, LiteralString

from alpr_core.api.cursor import Cursor
from alpr_core.api.search import NEWEST, PlateMatch
from alpr_core.api.time_windows import Window, newest_first
from alpr_core.db.api_keys import ApiKey

# A page's columns, by name: PlateSummary's fields, then the two that say whether (and where)
# there is an image (routes/plates.py turns them into `image_url`).
SUMMARY_COLUMNS: LiteralString = (
    'id, event_id, "timestamp", plate_text, plate_normalized, confidence, camera_id, track_id,'
    " site, image_path, image_object_key, plate_url"
)
DETAIL_COLUMNS: LiteralString = (
    SUMMARY_COLUMNS + ", region, vehicle_type, vehicle_make, vehicle_model, vehicle_color,"
    " vehicle_url, frame_url, host, latency_ms, extras, ingested_at"
)


# A read's direction of travel: ``extras.direction`` when it is a text (``direction_of``, which
# also keeps the passes' own column); any other JSON value is no direction.
READ_DIRECTION: LiteralString = (
    "(CASE WHEN jsonb_typeof(extras -> 'direction') = 'string' THEN extras ->> 'direction' END)"
)


@dataclass(frozen=True, slots=True)
class VehicleAttributes:
    """What the edge said about the vehicle; each one given must equal the row's, ignoring
    case. No index serves them: they narrow what the time, camera or plate predicate found
    (docs/decisions.md#attribute-filters)."""

    vehicle_type: str | None = None
    vehicle_make: str | None = None
    vehicle_model: str | None = None
    vehicle_color: str | None = None
    region: str | None = None
    direction: str | None = None

    def given(self) -> list[tuple[LiteralString, str]]:
        """(name, value) of each attribute asked for; the name is also its parameter's and, but
        for direction, its column's."""
        named: list[tuple[LiteralString, str | None]] = [
            ("vehicle_type", self.vehicle_type),
            ("vehicle_make", self.vehicle_make),
            ("vehicle_model", self.vehicle_model),
            ("vehicle_color", self.vehicle_color),
            ("region", self.region),
            ("direction", self.direction),
        ]
        return [(name, value) for name, value in named if value is not None]


@dataclass(frozen=True, slots=True)
class PlateFilters:
    start_time: datetime | None = None
    end_time: datetime | None = None
    camera_ids: list[str] = field(default_factory=list)
    site: str | None = None
    min_confidence: float | None = None
    vehicle: VehicleAttributes = VehicleAttributes()


def scope_clause(key: ApiKey, params: dict[str, Any]) -> list[LiteralString]:
    """What a key limited to some sites or cameras may see; nothing else, ever."""
    clauses: list[LiteralString] = []
    if key.sites is not None:
        clauses.append(_one_of("site", "scope_sites", key.sites, params))
    if key.cameras is not None:
        clauses.append(_one_of("camera_id", "scope_cameras", key.cameras, params))
    return clauses


def _one_of(
    column: LiteralString, name: LiteralString, values: list[str], params: dict[str, Any]
) -> LiteralString:
    """``column`` is one of ``values``: ``=`` for one value, whose generic plan reads the
    column's (column, time) index newest first, whether the value is common or rare; ``= ANY``
    for none or several, which only a plan made for the values serves well (``prepares``)."""
    params[name] = values[0] if len(values) == 1 else values
    return f"{column} = %({name})s" if len(values) == 1 else f"{column} = ANY(%({name})s)"


def filter_clause(
    filters: PlateFilters,
    params: dict[str, Any],
    time_column: LiteralString = '"timestamp"',
    confidence_column: LiteralString = "confidence",
    direction_column: LiteralString = READ_DIRECTION,
) -> list[LiteralString]:
    """The filters as SQL: of reads by default; a table with its own time, confidence or
    direction column (passes: when a pass began, its best read's confidence, its direction)
    names it."""
    clauses: list[LiteralString] = []
    if filters.start_time is not None:
        clauses.append(f"{time_column} >= %(start_time)s")
        params["start_time"] = filters.start_time
    if filters.end_time is not None:
        clauses.append(f"{time_column} <= %(end_time)s")
        params["end_time"] = filters.end_time
    if filters.camera_ids:
        clauses.append(_one_of("camera_id", "camera_ids", filters.camera_ids, params))
    if filters.site is not None:
        clauses.append("site = %(site)s")
        params["site"] = filters.site
    if filters.min_confidence is not None:
        clauses.append(f"{confidence_column} >= %(min_confidence)s")
        params["min_confidence"] = filters.min_confidence
    for name, value in filters.vehicle.given():
        column = direction_column if name == "direction" else name
        clauses.append(f"lower({column}) = lower(%({name})s)")
        params[name] = value
    return clauses


def prepares(
    match: PlateMatch | None, filters: PlateFilters, key: ApiKey, cursor: Cursor | None = None
) -> bool:
    """Whether a page's statement is prepared and run with its generic plan, or sent one-shot
    and planned for its values (``api/statements.py``). Searches are prepared: the plate
    decides their plan. A broad search (prefix, wildcard) only when its time windows count back
    from today: their day bounds are part of its text (``_in_windows``), so the same statement
    serves every first page all day, while the windows of a page past a cursor, or before an
    ``end_time``, start on that day and would mostly be prepared for one use (one more round
    trip, one more plan kept per connection). The list is prepared unless several cameras or
    sites (or none, for a key that may see none) restrict it, by its filters or the key's
    scope: for ``camera_id = ANY($1)`` the generic plan cannot tell a busy camera from one with
    few reads, and walks the time index filtering by camera, which for a camera without reads
    reads the whole table. One camera or site is ``= $1``, which the generic plan reads from
    its (camera, time) or (site, time) index (docs/query-plans.md)."""
    if match is not None:
        return not match.broad or (cursor is None and filters.end_time is None)
    restrictions = (filters.camera_ids or None, key.sites, key.cameras)
    return all(values is None or len(values) == 1 for values in restrictions)


def page_order(match: PlateMatch | None) -> LiteralString:
    """Newest first, or ranked for fuzzy matches."""
    return match.order_by if match is not None else NEWEST


# A broad search's first statement covers this many windows: the day so far and the six before.
FIRST_WINDOWS = 3

Statement = tuple[LiteralString, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class PageQuery:
    """One page of reads: the statements to run in order until ``limit + 1`` rows are found
    (the extra row says whether more follow), whether they run prepared, and their order."""

    statements: list[Statement]
    prepared: bool
    order_by: LiteralString
    limit: int


def page_query(
    key: ApiKey,
    filters: PlateFilters,
    cursor: Cursor | None,
    limit: int,
    match: PlateMatch | None = None,
    now: datetime | None = None,
) -> PageQuery:
    """The page ``key`` may see: ``filters``, past ``cursor``, narrowed by ``match``."""
    return PageQuery(
        page_queries(key, filters, cursor, limit, match, now),
        prepares(match, filters, key, cursor),
        page_order(match),
        limit,
    )


def page_queries(
    key: ApiKey,
    filters: PlateFilters,
    cursor: Cursor | None,
    limit: int,
    match: PlateMatch | None = None,
    now: datetime | None = None,
) -> list[Statement]:
    """The statements that fetch one page: newest first (or ranked, for fuzzy matches), past
    ``cursor``, ``limit + 1`` rows to know whether more follow. Run them in order until that
    many rows are found. One statement, except for a broad search: newest-first time windows
    counted back from the newest time asked for (``now`` when nothing else says), the newest
    week in one statement and the older windows in a second, which runs only when the first
    falls short. Most pages need only the first, and PostgreSQL then plans seven day partitions
    instead of every one (planning them all costs more than running the search,
    docs/decisions.md#time-windows)."""
    params: dict[str, Any] = {"limit": limit + 1}
    clauses = scope_clause(key, params) + filter_clause(filters, params)
    order_by = page_order(match)
    if match is not None:
        params.update(match.params)
    if cursor is not None:
        clauses.append('("timestamp", id) < (%(cursor_time)s, %(cursor_id)s)')
        params.update(cursor_time=cursor.timestamp, cursor_id=cursor.id)
    if match is not None and match.broad:
        bounds = (cursor.timestamp if cursor else None, filters.end_time, now or datetime.now(UTC))
        newest = min(t for t in bounds if t is not None)
        windows = newest_first(newest, filters.start_time)
        groups = [windows[:FIRST_WINDOWS], windows[FIRST_WINDOWS:]]
        return [
            _in_windows(clauses, match, order_by, group, dict(params)) for group in groups if group
        ]
    return [(_page_of(clauses, order_by, match), params)]


def _page_of(
    clauses: list[LiteralString], order_by: LiteralString, match: PlateMatch | None
) -> LiteralString:
    """The first ``limit`` rows in ``order_by``. A search finds its matches first, then sorts
    them: the ``OFFSET 0`` fence keeps the planner from walking the time index in order and
    filtering by plate, which it picks when it overestimates how common a plate prefix is, and
    which reads most of each partition for a page of a rare prefix
    (docs/decisions.md#search-sort)."""
    rows = _rows(clauses, match)
    if match is not None and match.ranked_plates is not None:
        return _ranked_page(rows, match.ranked_plates)
    if match is not None:
        rows = f"SELECT * FROM ({rows} OFFSET 0) AS matches"
    return f"{rows} ORDER BY {order_by} LIMIT %(limit)s"


def _rows(clauses: list[LiteralString], match: PlateMatch | None) -> LiteralString:
    """The reads that pass ``clauses`` and ``match``: by their text, and, for a search, by a
    text a correction took from them, unless their text is found anyway
    (docs/decisions.md#corrections). Corrections are few: the second branch reads a handful of
    ids from ``plate_corrections``, and for none at all, no partition."""
    if match is None:
        return f"SELECT {SUMMARY_COLUMNS} FROM plate_detections WHERE {_all(clauses)}"
    by_former_text: LiteralString = (
        f"id = ANY(ARRAY(SELECT read_id FROM plate_corrections WHERE {match.where}))"
    )
    found = _all([*clauses, match.where])
    corrected = _all([*clauses, by_former_text, f"NOT ({match.found})"])
    return (
        f"SELECT {SUMMARY_COLUMNS} FROM plate_detections WHERE {found}"
        f" UNION ALL SELECT {SUMMARY_COLUMNS} FROM plate_detections WHERE {corrected}"
    )


def _all(clauses: list[LiteralString]) -> LiteralString:
    return " AND ".join(clauses) if clauses else "TRUE"


def _ranked_page(rows: LiteralString, ranked_plates: LiteralString) -> LiteralString:
    """The reads of ``ranked_plates`` (as ``fp``, in rank order), plate after plate, each
    plate's newest first, until the page is full. ``rows`` reads one plate on one of its days
    (``pd``), from that day's partition only (PostgreSQL prunes the others for each pair). The
    loop keeps the plates' order, so PostgreSQL sorts each plate's reads alone and stops at the
    page's end instead of reading and sorting every match (migration 0009). The ``OFFSET 0``
    keeps the loop a loop: left free to flatten it, the planner can choose a hash join over a
    scan of every partition (docs/decisions.md#fuzzy-dictionary)."""
    return (
        f"SELECT matched.* FROM {ranked_plates} AS fp"
        " CROSS JOIN LATERAL alpr_plate_days(fp.plate) AS pd"
        f" CROSS JOIN LATERAL ({rows} OFFSET 0) AS matched"
        " ORDER BY fp.ocr_distance, fp.raw_distance, fp.plate,"
        ' matched."timestamp" DESC, matched.id DESC LIMIT %(limit)s'
    )


def _in_windows(
    clauses: list[LiteralString],
    match: PlateMatch,
    order_by: LiteralString,
    windows: list[Window],
    params: dict[str, Any],
) -> Statement:
    """One page from newest-first windows: ``UNION ALL`` runs its branches in order, and the
    outer LIMIT stops it once the page is full (no parallel plans: the API's connections turn
    them off). Each branch bounds "timestamp" with its days written as constants, not
    parameters: PostgreSQL then plans each branch for its own partitions only, and knows that
    they hold nothing else, even in a generic plan. With the bounds as parameters, a wildcard's
    generic plan ANDed the whole time index of each day into its trigram search
    (docs/decisions.md#window-constants)."""
    branches: list[LiteralString] = []
    for window in windows:
        bounds: list[LiteralString] = []
        if window.since is not None:
            bounds.append(f'"timestamp" >= {_day_constant(window.since)}')
        if window.until is not None:
            bounds.append(f'"timestamp" < {_day_constant(window.until)}')
        branches.append(f"({_page_of(clauses + bounds, order_by, match)})")
    union: LiteralString = " UNION ALL ".join(branches)
    return f"SELECT * FROM ({union}) AS newest_first LIMIT %(limit)s", params


def _day_constant(midnight: datetime) -> LiteralString:
    """A window edge (midnight UTC) as a SQL constant. Only digits of a date reach the text."""
    if midnight != datetime(midnight.year, midnight.month, midnight.day, tzinfo=UTC):
        raise ValueError(f"a window edge must be midnight UTC, not {midnight.isoformat()}")
    day = f"{midnight.year:04d}-{midnight.month:02d}-{midnight.day:02d}"
    return f"'{day} 00:00:00+00'::timestamptz"


def detail_query(key: ApiKey, plate_id: int) -> tuple[LiteralString, dict[str, Any]]:
    params: dict[str, Any] = {"id": plate_id}
    clauses: list[LiteralString] = ["id = %(id)s", *scope_clause(key, params)]
    where: LiteralString = " AND ".join(clauses)
    return f"SELECT {DETAIL_COLUMNS} FROM plate_detections WHERE {where}", params
