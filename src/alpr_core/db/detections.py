"""The idempotent batch insert of plate reads into ``plate_detections``.

The common case, a batch of new events, is one ``COPY`` straight into the table, inside a
savepoint. When any row is already stored (a replay, or another consumer that wrote the same
events after a rebalance), the unique key (event_id, timestamp) refuses the COPY, the savepoint
rolls it back, and the batch goes the careful way: ``COPY`` into a temporary table, then
``INSERT ... ON CONFLICT DO NOTHING``. Either way it is one transaction, and a replayed batch
inserts nothing. The fast path costs the database less per row (docs/decisions.md#insert).

The same transaction records the batch's plates for the fuzzy-search dictionary
(``db/plate_texts.py``) and adds its new reads to their vehicle passes (``db/passes.py``).

Retention may drop a day partition the writer made earlier (its cache of ready days is then
stale). A row whose day is before the first day retention keeps is never stored: it comes back
as past retention. For the other rows, a missing partition is recreated and the batch retried,
a bounded number of times, since retention can drop it again between the two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg.errors import CheckViolation, UniqueViolation
from psycopg.types.json import Jsonb
from pydantic_core import to_json  # JSON in Rust, faster than json.dumps

from alpr_core.db.passes import pass_read, update_passes
from alpr_core.db.plate_sketches import add_to_sketches
from alpr_core.db.plate_texts import record_plate_texts
from alpr_core.errors import TransientError
from alpr_core.events.model import PlateEvent

# Each column of DetectionRow.values() with the type COPY renders it as, fixed once instead of
# looked up for every value (event ids are canonical text; PostgreSQL parses them into uuid).
_COPY_COLUMNS = (
    ("event_id", "text"),
    ("timestamp", "timestamptz"),
    ("plate_text", "text"),
    ("plate_normalized", "text"),
    ("confidence", "float8"),
    ("region", "text"),
    ("camera_id", "text"),
    ("track_id", "text"),
    ("image_path", "text"),
    ("image_object_key", "text"),
    ("image_content_type", "text"),
    ("plate_url", "text"),
    ("vehicle_url", "text"),
    ("frame_url", "text"),
    ("vehicle_type", "text"),
    ("vehicle_make", "text"),
    ("vehicle_model", "text"),
    ("vehicle_color", "text"),
    ("site", "text"),
    ("host", "text"),
    ("latency_ms", "int4"),
    ("extras", "jsonb"),
    ("unknown_fields", "jsonb"),
    ("schema_id", "int4"),
)
COLUMNS = tuple(name for name, _type in _COPY_COLUMNS)
_COPY_TYPES = [copy_type for _name, copy_type in _COPY_COLUMNS]
_COLUMN_LIST = ", ".join(f'"{name}"' for name in COLUMNS)
_STAGING = "incoming_plate_detections"
# Tries of one batch while its day partitions keep disappearing under it.
PARTITION_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class DetectionRow:
    """One event as it will be stored, with the key of the image we stored for it, if any."""

    event: PlateEvent
    schema_id: int | None
    image_object_key: str | None

    def values(self) -> tuple[Any, ...]:
        e = self.event
        image = e.plate_image
        return (
            e.event_id,
            e.captured_at,
            e.plate_text,
            e.plate_normalized,
            e.confidence,
            e.region,
            e.camera_id,
            e.track_id,
            self.image_object_key or e.images.plate_url,
            self.image_object_key,
            image.content_type if image else None,
            e.images.plate_url,
            e.images.vehicle_url,
            e.images.frame_url,
            e.vehicle.type,
            e.vehicle.make,
            e.vehicle.model,
            e.vehicle.color,
            e.site,
            e.host,
            e.latency_ms,
            Jsonb(e.extras, dumps=to_json) if e.extras is not None else None,
            Jsonb(e.unknown_fields, dumps=to_json) if e.unknown_fields else None,
            self.schema_id,
        )


@dataclass(frozen=True, slots=True)
class WriteResult:
    """How many rows were new, and the indexes of the rows not stored: past retention."""

    inserted: int
    past_retention: tuple[int, ...] = ()


def first_day_kept(keep: timedelta, now: datetime) -> date:
    """The oldest UTC day retention keeps at ``now``: it drops only whole days before it."""
    return (now - keep).astimezone(UTC).date()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DetectionWriter:
    """Writes batches of rows over one connection; knows which day partitions exist.

    With ``keep`` (the retention period), rows of days retention drops are refused. With
    ``pass_gap``, new reads join their passes (``db/passes.py``); None keeps no passes. With
    ``plate_sketches``, new reads enter the unique-plate sketches (``db/plate_sketches.py``)."""

    def __init__(
        self,
        keep: timedelta | None = None,
        now: Callable[[], datetime] = _utc_now,
        *,
        use_copy: bool = True,
        pass_gap: timedelta | None = None,
        plate_sketches: bool = True,
    ) -> None:
        self._days_ready: set[date] = set()
        self._keep = keep
        self._now = now
        self._use_copy = use_copy  # False: INSERT only, for servers without COPY (PGlite)
        self._pass_gap = pass_gap
        self._plate_sketches = plate_sketches

    def write(self, conn: psycopg.Connection[Any], rows: Sequence[DetectionRow]) -> WriteResult:
        """Insert the rows inside retention in one transaction; report the others."""
        for _attempt in range(PARTITION_ATTEMPTS):
            kept, past = self._split_by_retention(rows)
            try:
                return WriteResult(self._write(conn, kept), past)
            except CheckViolation as error:
                if error.diag.constraint_name is not None:
                    raise  # a CHECK constraint refused a row; no partition is missing
                self._days_ready -= _days_of(kept)  # retention dropped one: make it again
        raise TransientError("day partitions were dropped while a batch was being written")

    def _split_by_retention(
        self, rows: Sequence[DetectionRow]
    ) -> tuple[list[DetectionRow], tuple[int, ...]]:
        if self._keep is None:
            return list(rows), ()
        first = first_day_kept(self._keep, self._now())
        past = tuple(i for i, row in enumerate(rows) if _day(row) < first)
        return [row for row in rows if _day(row) >= first], past

    def _write(self, conn: psycopg.Connection[Any], rows: Sequence[DetectionRow]) -> int:
        if not rows:
            return 0
        days = _days_of(rows)
        new: Sequence[DetectionRow]
        with conn.transaction():
            self._ensure_partitions(conn, days)
            try:
                with conn.transaction():
                    if not self._use_copy:
                        new = _insert_values(conn, rows)
                    else:
                        _copy(conn, "plate_detections", rows)
                        new = rows
            except UniqueViolation:
                new = _insert_new_only(conn, rows)
            record_plate_texts(
                conn, ((r.event.plate_normalized, r.event.captured_at) for r in rows)
            )
            if self._pass_gap is not None:
                update_passes(
                    conn,
                    [pass_read(row.event) for row in new],
                    self._pass_gap,
                    use_copy=self._use_copy,
                )
            if self._plate_sketches:
                add_to_sketches(conn, [row.event for row in new])
        self._days_ready |= days
        return len(new)

    def _ensure_partitions(self, conn: psycopg.Connection[Any], days: set[date]) -> None:
        missing = days - self._days_ready
        if missing:
            conn.execute("SELECT alpr_ensure_partitions(%s, %s)", (min(missing), max(missing)))


def _day(row: DetectionRow) -> date:
    return row.event.captured_at.astimezone(UTC).date()


def _days_of(rows: Sequence[DetectionRow]) -> set[date]:
    return {_day(row) for row in rows}


def _copy(conn: psycopg.Connection[Any], table: str, rows: Sequence[DetectionRow]) -> int:
    with conn.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({_COLUMN_LIST}) FROM STDIN") as copy:
            copy.set_types(_COPY_TYPES)
            for row in rows:
                copy.write_row(row.values())
        return cursor.rowcount


def _insert_new_only(
    conn: psycopg.Connection[Any], rows: Sequence[DetectionRow]
) -> list[DetectionRow]:
    conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} ON COMMIT DELETE ROWS AS"
        f" SELECT {_COLUMN_LIST} FROM plate_detections WITH NO DATA"
    )
    _copy(conn, _STAGING, rows)
    return _inserted(
        rows,
        conn.execute(
            f"INSERT INTO plate_detections ({_COLUMN_LIST})"
            f" SELECT {_COLUMN_LIST} FROM {_STAGING}"
            f' ON CONFLICT (event_id, "timestamp") DO NOTHING {_RETURNING_KEY}'
        ),
    )


def _insert_values(
    conn: psycopg.Connection[Any], rows: Sequence[DetectionRow]
) -> list[DetectionRow]:
    """The rows as one multi-row ``INSERT ... ON CONFLICT DO NOTHING``: no COPY, same outcome."""
    values = ", ".join(["(" + ", ".join(["%s"] * len(COLUMNS)) + ")"] * len(rows))
    params = [value for row in rows for value in row.values()]
    return _inserted(
        rows,
        conn.execute(
            f"INSERT INTO plate_detections ({_COLUMN_LIST}) VALUES {values}"
            f' ON CONFLICT (event_id, "timestamp") DO NOTHING {_RETURNING_KEY}',
            params,
        ),
    )


_RETURNING_KEY = 'RETURNING event_id::text, "timestamp"'


def _inserted(
    rows: Sequence[DetectionRow], keys: Iterable[tuple[str, datetime]]
) -> list[DetectionRow]:
    """The rows an ``INSERT ... RETURNING`` of their keys stored, each key once."""
    stored = set(keys)
    new = []
    for row in rows:
        key = (row.event.event_id, row.event.captured_at)
        if key in stored:
            stored.discard(key)
            new.append(row)
    return new


def images_in_use(conn: psycopg.Connection[Any], rows: Sequence[DetectionRow]) -> set[str]:
    """The image keys of ``rows`` that a stored read names (found by each row's natural key)."""
    found = conn.execute(
        "SELECT image_object_key FROM plate_detections"
        ' WHERE (event_id, "timestamp") IN'
        " (SELECT * FROM unnest(%s::uuid[], %s::timestamptz[]))"
        " AND image_object_key = ANY(%s)",
        (
            [row.event.event_id for row in rows],
            [row.event.captured_at for row in rows],
            [row.image_object_key for row in rows],
        ),
    ).fetchall()
    return {key for (key,) in found}
