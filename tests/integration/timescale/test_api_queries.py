"""The API's plate queries on a TimescaleDB hypertable: the list, every search mode and a key's
scope, built by ``api/queries.py`` and run by ``api/statements.py`` (prepared or not, as the API
runs them) over the wire, and checked against the rows written."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from alpr_core.api.queries import PageQuery, PlateFilters, page_query
from alpr_core.api.search import MatchMode, plate_match
from alpr_core.api.statements import fetch_page_rows
from alpr_core.db.api_keys import ApiKey
from alpr_core.db.corrections import CorrectedRead, correct_read
from alpr_core.db.detections import DetectionRow
from alpr_core.db.migrate import Migration
from alpr_core.db.plate_texts import index_pending_plates
from tests.integration.timescale.conftest import simulated_rows, write_rows

LIMIT = 50


def key(sites: list[str] | None = None) -> ApiKey:
    return ApiKey(uuid.uuid4(), "test", "viewer", sites, None, datetime.now(UTC), None)


@pytest.fixture
def stored(conninfo: str, migrated: list[Migration]) -> list[DetectionRow]:
    """Two days of reads, over two day chunks, in the fuzzy-search dictionary; the connection
    is closed again (the server serves one at a time)."""
    rows = simulated_rows(datetime.now(UTC) - timedelta(hours=30), 160, seed=11)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        write_rows(conn, rows)
        index_pending_plates(conn)
    return rows


def run(conninfo: str, page: PageQuery) -> list[dict[str, Any]]:
    async def fetch() -> list[dict[str, Any]]:
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            return await fetch_page_rows(conn, page)

    return asyncio.run(fetch())


def newest_first(rows: list[DetectionRow]) -> list[str]:
    ordered = sorted(rows, key=lambda r: r.event.captured_at, reverse=True)
    return [str(r.event.event_id) for r in ordered]


def event_ids(found: list[dict[str, Any]]) -> list[str]:
    return [str(row["event_id"]) for row in found]


def test_the_list_pages_newest_first_within_a_scope(
    conninfo: str, stored: list[DetectionRow]
) -> None:
    everything = run(conninfo, page_query(key(), PlateFilters(), None, LIMIT))
    assert event_ids(everything) == newest_first(stored)[: LIMIT + 1]
    site = stored[0].event.site
    assert site is not None
    scoped = run(conninfo, page_query(key([site]), PlateFilters(), None, LIMIT))
    assert (
        event_ids(scoped) == newest_first([r for r in stored if r.event.site == site])[: LIMIT + 1]
    )


@pytest.mark.parametrize("mode", [MatchMode.EXACT, MatchMode.PREFIX, MatchMode.WILDCARD])
def test_searches_find_exactly_the_matching_reads(
    conninfo: str, stored: list[DetectionRow], mode: MatchMode
) -> None:
    plate = stored[7].event.plate_normalized
    term = {
        MatchMode.EXACT: plate,
        MatchMode.PREFIX: plate[:3],
        MatchMode.WILDCARD: f"*{plate[2:5]}*",
    }[mode]
    wanted: dict[MatchMode, Callable[[str], bool]] = {
        MatchMode.EXACT: lambda text: text == plate,
        MatchMode.PREFIX: lambda text: text.startswith(plate[:3]),
        MatchMode.WILDCARD: lambda text: plate[2:5] in text,
    }
    page = page_query(key(), PlateFilters(), None, LIMIT, plate_match(mode, term))
    found = run(conninfo, page)
    expected = newest_first([r for r in stored if wanted[mode](r.event.plate_normalized)])
    assert event_ids(found) == expected[: LIMIT + 1]
    assert found


def test_fuzzy_search_finds_every_read_of_the_plate_one_edit_away(
    conninfo: str, stored: list[DetectionRow]
) -> None:
    plate = stored[3].event.plate_normalized
    term = ("Q" if plate[0] != "Q" else "W") + plate[1:]
    page = page_query(key(), PlateFilters(), None, LIMIT, plate_match(MatchMode.FUZZY, term))
    found = run(conninfo, page)
    assert found
    reads_of_plate = {str(r.event.event_id) for r in stored if r.event.plate_normalized == plate}
    assert reads_of_plate <= set(event_ids(found))


@pytest.mark.parametrize("mode", list(MatchMode))
def test_a_corrected_read_is_found_by_either_text_on_a_hypertable(
    conninfo: str, stored: list[DetectionRow], mode: MatchMode
) -> None:
    """A correction updates a row of the hypertable (and the read's pass) as on PostgreSQL;
    every search mode finds the read by its corrected text and by the one it had, once."""
    read = stored[5].event
    before = read.plate_normalized
    after = before[:-1] + ("X" if before[-1] != "X" else "Y")

    async def correct() -> CorrectedRead | None:
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            cursor = await conn.execute(
                "SELECT id FROM plate_detections WHERE event_id = %s", (read.event_id,)
            )
            row = await cursor.fetchone()
            assert row is not None
            return await correct_read(conn, key(), int(row[0]), (after, after), "test")

    assert asyncio.run(correct()) == CorrectedRead(before, after)
    for text in (before, after):
        term = f"*{text[1:]}" if mode is MatchMode.WILDCARD else text
        page = page_query(key(), PlateFilters(), None, LIMIT, plate_match(mode, term))
        assert event_ids(run(conninfo, page)).count(str(read.event_id)) == 1, (mode, text)
