"""The Avro record of an alert delivery: any payload the database builds encodes under the
registered schema and reads back the same."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import fastavro
from hypothesis import given
from hypothesis import strategies as st

from alpr_core.alerts.alert_record import alert_record, alert_schema_text

SCHEMA = fastavro.parse_schema(json.loads(alert_schema_text()))
text = st.text(max_size=40)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
entries = st.none() | st.fixed_dictionaries(
    {
        "id": st.uuids().map(str),
        "plate": text,
        "match_mode": st.sampled_from(["exact", "fuzzy", "wildcard"]),
        "reason": text,
        "reference": text,
    }
)


@st.composite
def payloads(draw: st.DrawFn) -> dict[str, Any]:
    """As db/alert_delivery.py builds them: JSON, timestamps as ISO 8601 text."""
    first, last = sorted([draw(moments), draw(moments)])
    return {
        "type": "alert.opened",
        "delivery": draw(st.integers(1, 2**62)),
        "alert": {
            "id": draw(st.integers(1, 2**62)),
            "priority": draw(st.sampled_from(["info", "warning", "critical"])),
            "status": "new",
            "plate_text": draw(text),
            "plate_normalized": draw(text),
            "camera_id": draw(text),
            "site": draw(st.none() | text),
            "track_id": draw(text),
            "first_seen": first.isoformat(),
            "last_seen": last.isoformat(),
            "read_count": draw(st.integers(1, 2**31 - 1)),
        },
        "watchlist": {"id": str(draw(st.uuids())), "name": draw(text)},
        "entry": draw(entries),
    }


@given(payloads())
def test_a_payload_round_trips_through_the_schema(payload: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, SCHEMA, alert_record(payload))
    buffer.seek(0)
    back = fastavro.schemaless_reader(buffer, SCHEMA, SCHEMA)
    assert isinstance(back, dict)
    alert = payload["alert"]
    assert back["delivery"] == payload["delivery"]
    assert back["alert_id"] == alert["id"]
    assert back["plate_text"] == alert["plate_text"]
    assert back["site"] == alert["site"]
    assert back["first_seen"] == datetime.fromisoformat(alert["first_seen"])
    assert back["last_seen"] == datetime.fromisoformat(alert["last_seen"])
    assert back["watchlist_id"] == uuid.UUID(payload["watchlist"]["id"])
    entry = payload["entry"]
    if entry is None:
        assert back["entry"] is None
    else:
        assert back["entry"]["id"] == uuid.UUID(entry["id"])
        assert back["entry"]["reason"] == entry["reason"]
