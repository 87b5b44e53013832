"""Simulated reads stored as the storage service stores them (crops, rows, passes), for the
benchmarks that need a database with data in it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import islice

from psycopg_pool import ConnectionPool

from alpr_core.config import Settings
from alpr_core.events.avro import DecodedEvent
from alpr_core.events.parse import EventLimits, parse_event
from alpr_core.images.buckets import ensure_bucket
from alpr_core.images.object_store import edge_uploads_of, s3_image_store
from alpr_core.simulator.events import cameras, tracks
from alpr_core.storage.sink import DetectionSink

_LIMITS = EventLimits(1_048_576, timedelta(days=1), timedelta(days=90))


def store_simulated(
    settings: Settings,
    count: int,
    *,
    fleet: int,
    start: datetime,
    inline_share: float,
    seed: int,
    batch: int = 2_000,
) -> None:
    """``count`` reads of simulated tracks at ``fleet`` cameras from ``start``, ``inline_share``
    of them with a crop, through the storage sink in batches of ``batch``."""
    ensure_bucket(settings.object_store)
    reads = islice(tracks(random.Random(seed), cameras(fleet), start, inline_share), count)
    events = [DecodedEvent(parse_event(r.record, _LIMITS, datetime.now(UTC)), 1) for r in reads]
    with ConnectionPool(settings.db.conninfo(), min_size=1, max_size=1) as pool:
        sink = DetectionSink(
            pool,
            s3_image_store(settings.object_store),
            16,
            edge_uploads_of(settings),
            pass_gap=timedelta(seconds=settings.passes.gap_s),
        )
        for first in range(0, len(events), batch):
            sink.write(events[first : first + batch])
        sink.close()
