"""Make a batch of accepted events durable: inline images first, then rows in one transaction.

Both steps are safe to replay: image keys derive from the event, and the insert skips rows whose
natural key is already stored. Failures surface as :class:`TransientError` for the caller to retry.

A row PostgreSQL refuses for its data (a NUL character, a JSON escape it cannot store) would
otherwise fail its whole batch forever. The batch is then split in halves, each written in its
own transaction, down to the rows that cannot be stored; those come back as ``unstorable`` for
the caller to dead-letter, and every other row is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from alpr_core.db.detections import DetectionRow, DetectionWriter
from alpr_core.errors import RejectedEvent, RejectReason, TransientError
from alpr_core.events.avro import DecodedEvent
from alpr_core.images.keys import plate_image_key
from alpr_core.images.store import ImageStore


@dataclass(frozen=True, slots=True)
class Unstorable:
    """The event at ``index`` of the written batch, which the database refused for its data."""

    index: int
    error: RejectedEvent


@dataclass(frozen=True, slots=True)
class SinkResult:
    rows_inserted: int
    images_stored: int
    unstorable: tuple[Unstorable, ...] = ()


class DetectionSink:
    def __init__(self, pool: ConnectionPool, images: ImageStore, upload_threads: int) -> None:
        self._pool = pool
        self._images = images
        self._uploads = ThreadPoolExecutor(upload_threads, thread_name_prefix="image-upload")
        self._writer = DetectionWriter()

    def write(self, events: Sequence[DecodedEvent]) -> SinkResult:
        rows = [_row(decoded) for decoded in events]
        stored = self._store_images(rows)
        inserted, unstorable = self._insert_or_split(rows, first_index=0)
        return SinkResult(inserted, stored, tuple(unstorable))

    def close(self) -> None:
        self._uploads.shutdown(wait=True)

    def _store_images(self, rows: Sequence[DetectionRow]) -> int:
        uploads = [
            self._uploads.submit(
                self._images.put, row.image_object_key, image.data, image.content_type
            )
            for row in rows
            if row.image_object_key and (image := row.event.plate_image)
        ]
        for upload in uploads:
            upload.result()  # re-raises the first TransientError; the whole step is retried
        return len(uploads)

    def _insert_or_split(
        self, rows: Sequence[DetectionRow], first_index: int
    ) -> tuple[int, list[Unstorable]]:
        try:
            return self._insert(rows), []
        except _REFUSED_DATA as error:
            if len(rows) == 1:
                detail = f"database refused the row: {type(error).__name__}"
                return 0, [Unstorable(first_index, RejectedEvent(RejectReason.UNSTORABLE, detail))]
        half = len(rows) // 2
        left, left_bad = self._insert_or_split(rows[:half], first_index)
        right, right_bad = self._insert_or_split(rows[half:], first_index + half)
        return left + right, left_bad + right_bad

    def _insert(self, rows: Sequence[DetectionRow]) -> int:
        try:
            with self._pool.connection() as conn:
                return self._writer.write(conn, rows)
        except (psycopg.OperationalError, PoolTimeout) as error:
            raise TransientError(f"database: {error}") from error


# Errors about the rows themselves (SQLSTATE classes 22 and 23); a replay's unique violations
# never get here, the writer handles them.
_REFUSED_DATA = (psycopg.DataError, psycopg.IntegrityError)


def _row(decoded: DecodedEvent) -> DetectionRow:
    image = decoded.event.plate_image
    key = plate_image_key(decoded.event, image.extension) if image else None
    return DetectionRow(decoded.event, decoded.schema_id, key)
