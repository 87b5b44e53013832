"""Make a batch of accepted events durable: inline images first, then rows in one transaction.

Both steps are safe to replay: image keys derive from the event, and the insert skips rows whose
natural key is already stored. Failures surface as :class:`TransientError` for the caller to retry.

A row PostgreSQL refuses for its data (a NUL character, a JSON escape it cannot store) would
otherwise fail its whole batch forever. The batch is then split in halves, each written in its
own transaction, down to the rows that cannot be stored; those come back as ``unstorable`` for
the caller to dead-letter, and every other row is stored. Rows of a day that retention has
dropped come back the same way, as ``past_retention`` (``db/detections.py``). Before any write,
reads whose ``plate_url`` borrows another camera's object, and reads the camera registry refuses
(``unknown_camera``), come back so too.

The result names the durable reads (replays included, so that a batch written again after a
failure still raises its alerts); :meth:`DetectionSink.raise_alerts` hands them to the watchlist
matcher, when there is one, as a step of its own: HTTP ingest calls it before answering, the Kafka
path while the next batch is written, and both before the offsets or the answer say "stored".
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from alpr_core.alerts.recorder import AlertRecorder
from alpr_core.db.detections import DetectionRow, DetectionWriter, WriteResult, images_in_use
from alpr_core.errors import RejectedEvent, RejectReason, TransientError
from alpr_core.events.avro import DecodedEvent
from alpr_core.events.model import PlateEvent
from alpr_core.images.keys import plate_image_key
from alpr_core.images.ownership import EdgeUploads
from alpr_core.images.store import ImageStore
from alpr_core.storage.known_cameras import KnownCameras


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
    durable: tuple[PlateEvent, ...] = ()  # the reads now stored, whether new or replayed


class DetectionSink:
    def __init__(
        self,
        pool: ConnectionPool,
        images: ImageStore,
        upload_threads: int,
        edge_uploads: EdgeUploads,
        retention: timedelta | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        cameras: KnownCameras | None = None,
        alerts: AlertRecorder | None = None,
        pass_gap: timedelta | None = None,
        plate_sketches: bool = True,
    ) -> None:
        """``retention``: rows older than this are refused; None keeps every row.
        ``pass_gap``: reads join vehicle passes with this gap; None keeps no passes.
        ``plate_sketches``: reads are added to the unique-plate sketches.
        ``cameras``: the registry, which may refuse reads of unknown cameras; None checks none.
        ``alerts``: matches stored reads against the watchlists; None matches none."""
        self._pool = pool
        self._alerts = alerts
        self._cameras = cameras
        self._images = images
        self._edge = edge_uploads
        self._uploads = ThreadPoolExecutor(upload_threads, thread_name_prefix="image-upload")
        self._writer = DetectionWriter(
            retention, now, pass_gap=pass_gap, plate_sketches=plate_sketches
        )

    def write(self, events: Sequence[DecodedEvent]) -> SinkResult:
        rows = [_row(decoded) for decoded in events]
        borrowed = self._borrowed_images(rows) | self._unknown_cameras(rows)
        positions = _first_of_each_read(rows, skip=borrowed.keys())
        storable = [rows[index] for index in positions]
        stored = self._store_images(storable)
        inserted, unstorable = self._insert_or_split(storable, first_index=0)
        if inserted < len(storable):
            stored -= self._remove_unused_images(storable)
        refused_here = {u.index for u in unstorable}
        durable = tuple(row.event for i, row in enumerate(storable) if i not in refused_here)
        refused = [Unstorable(positions[u.index], u.error) for u in unstorable]
        return SinkResult(inserted, stored, _by_index(refused + list(borrowed.values())), durable)

    def raise_alerts(self, durable: Sequence[PlateEvent]) -> None:
        """Match stored reads against the watchlists and record their alerts (TransientError
        when the database is down: call again, nothing is recorded twice)."""
        if self._alerts is not None and durable:
            self._alerts.record(durable)

    def close(self) -> None:
        self._uploads.shutdown(wait=True)

    def _borrowed_images(self, rows: Sequence[DetectionRow]) -> dict[int, Unstorable]:
        """Rows whose ``plate_url`` names an object in our bucket that is not theirs."""
        borrowed = {}
        for index, row in enumerate(rows):
            event = row.event
            url = event.images.plate_url
            if self._edge.in_bucket(url) and not self._edge.owned_key(
                url, event.camera_id, event.site
            ):
                detail = "plate_url names an object in our bucket that this read does not own"
                error = RejectedEvent(RejectReason.IMAGE_NOT_OWNED, detail)
                borrowed[index] = Unstorable(index, error)
        return borrowed

    def _unknown_cameras(self, rows: Sequence[DetectionRow]) -> dict[int, Unstorable]:
        """Rows the camera registry refuses (docs/decisions.md#camera-registry)."""
        if self._cameras is None:
            return {}
        self._cameras.refresh_if_stale()
        refusals = ((i, self._cameras.refusal(row.event.camera_id)) for i, row in enumerate(rows))
        return {i: Unstorable(i, error) for i, error in refusals if error is not None}

    def _store_images(self, rows: Sequence[DetectionRow]) -> int:
        """Put each inline image unless its key is taken: a replay never replaces the first
        read's image. Returns how many objects this call created."""
        uploads = [
            self._uploads.submit(
                self._images.put_new, row.image_object_key, image.data, image.content_type
            )
            for row in rows
            if row.image_object_key and (image := row.event.plate_image)
        ]
        # result() re-raises the first TransientError; the whole step is retried
        return sum(upload.result() for upload in uploads)

    def _remove_unused_images(self, rows: Sequence[DetectionRow]) -> int:
        """Delete the images of ``rows`` that no stored read names (rows that were refused, or
        replays whose first read had no such image), so no object outlives every row."""
        keyed = [row for row in rows if row.image_object_key and row.event.plate_image]
        if not keyed:
            return 0
        try:
            with self._pool.connection() as conn:
                used = images_in_use(conn, keyed)
        except (psycopg.OperationalError, PoolTimeout) as error:
            raise TransientError(f"database: {error}") from error
        unused = [row.image_object_key for row in keyed if row.image_object_key not in used]
        return self._images.delete_many([key for key in unused if key])

    def _insert_or_split(
        self, rows: Sequence[DetectionRow], first_index: int
    ) -> tuple[int, list[Unstorable]]:
        try:
            return _with_past_retention(self._insert(rows), first_index)
        except _REFUSED_DATA as error:
            if len(rows) == 1:
                detail = f"database refused the row: {type(error).__name__}"
                return 0, [Unstorable(first_index, RejectedEvent(RejectReason.UNSTORABLE, detail))]
        half = len(rows) // 2
        left, left_bad = self._insert_or_split(rows[:half], first_index)
        right, right_bad = self._insert_or_split(rows[half:], first_index + half)
        return left + right, left_bad + right_bad

    def _insert(self, rows: Sequence[DetectionRow]) -> WriteResult:
        try:
            with self._pool.connection() as conn:
                return self._writer.write(conn, rows)
        except (psycopg.OperationalError, PoolTimeout) as error:
            raise TransientError(f"database: {error}") from error


# Errors about the rows themselves (SQLSTATE classes 22 and 23); a replay's unique violations
# and a day partition dropped by retention never get here, the writer handles them.
_REFUSED_DATA = (psycopg.DataError, psycopg.IntegrityError)


def _with_past_retention(result: WriteResult, first_index: int) -> tuple[int, list[Unstorable]]:
    detail = "its day was dropped by retention"
    error = RejectedEvent(RejectReason.PAST_RETENTION, detail)
    return result.inserted, [Unstorable(first_index + i, error) for i in result.past_retention]


def _first_of_each_read(rows: Sequence[DetectionRow], skip: Collection[int]) -> list[int]:
    """The positions of the rows to write: the first of each natural key (event_id, captured
    at) in the batch. A replay in the same batch is a duplicate of the first, whose image and
    row are the ones stored, whichever upload would have finished first."""
    seen: set[tuple[str, datetime]] = set()
    positions = []
    for index, row in enumerate(rows):
        key = (row.event.event_id, row.event.captured_at)
        if index not in skip and key not in seen:
            seen.add(key)
            positions.append(index)
    return positions


def _by_index(unstorable: list[Unstorable]) -> tuple[Unstorable, ...]:
    return tuple(sorted(unstorable, key=lambda entry: entry.index))


def _row(decoded: DecodedEvent) -> DetectionRow:
    image = decoded.event.plate_image
    key = plate_image_key(decoded.event, image.extension) if image else None
    return DetectionRow(decoded.event, decoded.schema_id, key)
