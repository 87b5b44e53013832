"""The fuzzy-search dictionary's SQL (migrations 0005-0009) and the indexer on a hypertable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from alpr_core.db.plate_texts import index_pending_plates
from tests.integration.timescale.conftest import simulated_rows, write_rows

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.mark.parametrize(
    "indexed", [pytest.param(False, id="pending"), pytest.param(True, id="indexed")]
)
def test_fuzzy_plates_find_a_stored_plate_one_edit_away(conn: Conn, indexed: bool) -> None:
    noon_yesterday = datetime.now(UTC).replace(hour=12, minute=0) - timedelta(days=1)
    rows = simulated_rows(noon_yesterday, 60, seed=6)  # minutes of reads: one UTC day
    write_rows(conn, rows)
    if indexed:
        assert index_pending_plates(conn) > 0
    plate = rows[0].event.plate_normalized
    term = ("X" if plate[0] != "X" else "Y") + plate[1:]  # one substitution
    found = conn.execute("SELECT plate FROM alpr_fuzzy_plates(%s, 2, 50)", (term,)).fetchall()
    assert (plate,) in found
    days = conn.execute("SELECT count(*) FROM alpr_plate_days(%s)", (plate,)).fetchone()
    assert days == (1,)
    reads = conn.execute(
        "SELECT count(*) FROM plate_detections WHERE plate_normalized = %s", (plate,)
    ).fetchone()
    assert reads == (sum(1 for r in rows if r.event.plate_normalized == plate),)
