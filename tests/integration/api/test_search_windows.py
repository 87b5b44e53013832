"""Broad searches (prefix, wildcard) walk newest-first time windows; pages must still hold exactly
the newest matches, in order, with no gap or repeat, whatever windows and partitions they cross."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.events.avro import DecodedEvent
from alpr_core.events.parse import parse_event
from alpr_core.images.object_store import ObjectImageStore, edge_uploads_of
from alpr_core.simulator.events import cameras, tracks
from alpr_core.storage.sink import DetectionSink
from tests.integration.api.conftest import LIMITS, Keys, all_pages, as_key

NOW = datetime.now(UTC)
MIDNIGHT = NOW.replace(hour=0, minute=0, second=0, microsecond=0)


def _times() -> list[datetime]:
    """Reads every 7 hours back 80 days (every window, old and new), one just ahead of now
    (within the allowed clock skew), and some exactly on window edges (midnight UTC)."""
    spread = [NOW - timedelta(hours=7 * i) for i in range(275)]
    edges = [MIDNIGHT - timedelta(days=days) for days in (0, 2, 6, 14, 30, 62)]
    return [NOW + timedelta(hours=2), *spread, *edges, *edges]


@pytest.fixture
def spread_client(settings: Settings, images: ObjectImageStore) -> Iterator[TestClient]:
    """Reads over 80 days written through the storage sink; every third plate starts PQR."""
    times = _times()
    reads = list(islice(tracks(random.Random(5), cameras(4), NOW, 0.0), len(times)))
    events = []
    for number, (read, at) in enumerate(zip(reads, times, strict=True)):
        record = read.record
        record["captured_at"] = at.isoformat()
        if number % 3 == 0:
            record["plate"]["text"] = record["plate"]["normalized_text"] = f"PQR{number:04d}"
        events.append(DecodedEvent(parse_event(record, LIMITS, NOW), 1))
    with ConnectionPool(settings.db.conninfo(), min_size=1, max_size=1) as pool:
        sink = DetectionSink(pool, images, 4, edge_uploads_of(settings))
        sink.write(events)
        sink.close()
    with TestClient(create_app(settings)) as client:
        yield client


def _expected(settings: Settings, where: str, params: tuple[Any, ...] = ()) -> list[int]:
    """The matching ids, newest first, from one plain query over the whole table."""
    with psycopg.connect(settings.db.conninfo()) as conn:
        rows = conn.execute(
            f"SELECT id FROM plate_detections WHERE {where}"
            ' ORDER BY "timestamp" DESC, id DESC'.encode(),
            params,
        ).fetchall()
    return [row[0] for row in rows]


def _all_pages(client: TestClient, token: str, **params: Any) -> list[int]:
    return [item["id"] for item in all_pages(client, token, "/plates/search", **params)]


@pytest.mark.parametrize(
    ("params", "where"),
    [
        pytest.param(
            {"plate_text": "PQR", "mode": "prefix"}, "plate_normalized LIKE 'PQR%%'", id="prefix"
        ),
        pytest.param(
            {"plate_text": "*QR0*", "mode": "wildcard"},
            "plate_normalized LIKE '%%QR0%%'",
            id="wildcard",
        ),
    ],
)
@pytest.mark.parametrize("limit", [1, 7, 1000])
def test_pages_of_a_broad_search_are_the_newest_matches_across_windows(
    spread_client: TestClient,
    settings: Settings,
    keys: Keys,
    params: dict[str, str],
    where: str,
    limit: int,
) -> None:
    expected = _expected(settings, where)
    assert len(expected) > 90  # matches in every window, the future and the window edges
    assert _all_pages(spread_client, keys.viewer, limit=limit, **params) == expected


def test_a_broad_search_within_a_time_range(
    spread_client: TestClient, settings: Settings, keys: Keys
) -> None:
    start, end = MIDNIGHT - timedelta(days=40), MIDNIGHT - timedelta(days=2)
    expected = _expected(
        settings, "plate_normalized LIKE 'PQR%%' AND \"timestamp\" BETWEEN %s AND %s", (start, end)
    )
    found = _all_pages(
        spread_client,
        keys.viewer,
        plate_text="PQR",
        mode="prefix",
        limit=9,
        start_time=start.isoformat(),
        end_time=end.isoformat(),
    )
    assert found == expected
    assert len(expected) > 30


@pytest.mark.parametrize(
    ("limit", "statements"),
    [(3, "the first fills the page"), (1000, "the second completes it")],
)
def test_a_broad_search_writes_one_audit_row_with_its_count(
    spread_client: TestClient, settings: Settings, keys: Keys, limit: int, statements: str
) -> None:
    """The audit row is written by whichever of the page's statements completes it."""
    params: dict[str, str | int] = {"plate_text": "PQR", "mode": "prefix", "limit": limit}
    response = spread_client.get("/plates/search", params=params, headers=as_key(keys.viewer))
    found = len(response.json()["items"])
    assert found == min(limit, len(_expected(settings, "plate_normalized LIKE 'PQR%%'")))
    with psycopg.connect(settings.db.conninfo()) as conn:
        audit = conn.execute(
            "SELECT path, params->'limit', result_count FROM audit_log ORDER BY id"
        ).fetchall()
    assert audit == [("/plates/search", [str(limit)], found)], statements
