"""Fixtures for the tests of the TimescaleDB path, against PGlite with TimescaleDB
(``infra/timescale.sh``, started by ``infra/services.sh up``; see
docs/decisions.md#timescaledb-in-webassembly).

The writer writes small batches here: a multi-row INSERT of 100 rows, replayed over rows already
stored, crashed the WebAssembly backend once ("unreachable"), and the server with it.

That server is one in-memory backend that serves one connection at a time, so a test holds at
most one connection at once and closes it before the next. It has one database: each test first
drops what the migrations made (the extensions stay: TimescaleDB cannot be loaded again in the
same backend), then applies the migrations afresh.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice

import psycopg
import pytest

from alpr_core.db.detections import DetectionRow, DetectionWriter
from alpr_core.db.migrate import Migration, migrate
from alpr_core.events.parse import EventLimits, parse_event
from alpr_core.images.keys import plate_image_key
from alpr_core.images.store import ImageStore
from alpr_core.simulator.events import cameras, tracks

LIMITS = EventLimits(1_048_576, timedelta(days=1), timedelta(days=90))

# Every table (partitions go with theirs) and function in public that no extension owns: what
# the migrations created.
_DROP_MIGRATED = """
DO $drop$
DECLARE
    object record;
BEGIN
    FOR object IN
        SELECT c.oid::regclass::text AS name FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
          AND NOT c.relispartition  -- partitions go with their table
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS %s CASCADE', object.name);
    END LOOP;
    FOR object IN
        SELECT p.oid::regprocedure::text AS name FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', object.name);
    END LOOP;
END
$drop$
"""


def timescale_conninfo() -> str:
    port = os.environ.get("TIMESCALE_PORT")
    if not port:
        pytest.fail("TIMESCALE_PORT is not set: run `infra/services.sh up`", pytrace=False)
    # PGlite accepts any user and password, but the client must send one.
    return psycopg.conninfo.make_conninfo(
        host="127.0.0.1", port=port, dbname="alpr_db", user="alpr", password="timescale"
    )


@pytest.fixture
def conninfo(services_env: dict[str, str]) -> str:
    """The TimescaleDB server, emptied and migrated for this test."""
    info = timescale_conninfo()
    with psycopg.connect(info, autocommit=True) as conn:
        conn.execute(_DROP_MIGRATED)
    return info


@pytest.fixture
def migrated(conninfo: str) -> list[Migration]:
    """The migrations this test applied (all of them: the database was emptied)."""
    return migrate(conninfo)


@pytest.fixture
def conn(
    migrated: list[Migration], conninfo: str
) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """The test's one connection, in autocommit mode (as retention needs)."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        yield connection


def simulated_rows(start: datetime, count: int, seed: int) -> list[DetectionRow]:
    """``count`` simulated reads from ``start`` on, half with inline images, as the storage sink
    turns them into rows (its image key for an inline image)."""
    reads = islice(tracks(random.Random(seed), cameras(6, sites=2), start, 0.5), count)
    events = [parse_event(read.record, LIMITS, datetime.now(UTC)) for read in reads]
    return [
        DetectionRow(
            event,
            1,
            plate_image_key(event, event.plate_image.extension) if event.plate_image else None,
        )
        for event in events
    ]


def store_images(images: ImageStore, rows: list[DetectionRow]) -> None:
    """Images first, as the sink stores them."""
    for row in rows:
        if row.image_object_key and row.event.plate_image:
            image = row.event.plate_image
            images.put(row.image_object_key, image.data, image.content_type)


PASS_GAP = timedelta(seconds=60)


def write_rows(
    conn: psycopg.Connection[tuple[object, ...]], rows: list[DetectionRow], batch: int = 20
) -> int:
    """The project's writer on its INSERT path (COPY closes the connection on PGlite), keeping
    passes."""
    writer = DetectionWriter(use_copy=False, pass_gap=PASS_GAP)
    return sum(writer.write(conn, rows[i : i + batch]).inserted for i in range(0, len(rows), batch))
