"""The idempotent batch insert of plate reads into ``plate_detections``.

Rows are copied into a temporary table, then moved with ``INSERT ... ON CONFLICT DO NOTHING`` on
the natural key (event_id, timestamp), all in one transaction: a replayed batch inserts nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from alpr_core.events.model import PlateEvent

COLUMNS = (
    "event_id",
    "timestamp",
    "plate_text",
    "plate_normalized",
    "confidence",
    "region",
    "camera_id",
    "track_id",
    "image_path",
    "image_object_key",
    "image_content_type",
    "plate_url",
    "vehicle_url",
    "frame_url",
    "vehicle_type",
    "vehicle_make",
    "vehicle_model",
    "vehicle_color",
    "site",
    "host",
    "latency_ms",
    "extras",
    "unknown_fields",
    "schema_id",
)
_COLUMN_LIST = ", ".join(f'"{name}"' for name in COLUMNS)
_STAGING = "incoming_plate_detections"


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
            Jsonb(e.extras) if e.extras is not None else None,
            Jsonb(e.unknown_fields) if e.unknown_fields else None,
            self.schema_id,
        )


class DetectionWriter:
    """Writes batches of rows over one connection; knows which day partitions exist."""

    def __init__(self) -> None:
        self._days_ready: set[date] = set()

    def write(self, conn: psycopg.Connection[Any], rows: Sequence[DetectionRow]) -> int:
        """Insert ``rows`` in one transaction; return how many were new."""
        if not rows:
            return 0
        days = {row.event.captured_at.astimezone(UTC).date() for row in rows}
        with conn.transaction():
            self._ensure_partitions(conn, days)
            _create_staging(conn)
            with conn.cursor().copy(f"COPY {_STAGING} ({_COLUMN_LIST}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row.values())
            inserted = conn.execute(
                f"INSERT INTO plate_detections ({_COLUMN_LIST})"
                f" SELECT {_COLUMN_LIST} FROM {_STAGING}"
                ' ON CONFLICT (event_id, "timestamp") DO NOTHING'
            ).rowcount
        self._days_ready |= days
        return inserted

    def _ensure_partitions(self, conn: psycopg.Connection[Any], days: set[date]) -> None:
        missing = days - self._days_ready
        if missing:
            conn.execute("SELECT alpr_ensure_partitions(%s, %s)", (min(missing), max(missing)))


def _create_staging(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} ON COMMIT DELETE ROWS AS"
        f" SELECT {_COLUMN_LIST} FROM plate_detections WITH NO DATA"
    )
