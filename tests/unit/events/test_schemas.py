"""Version 2 of the PlateEvent schema is compatible both ways with version 1."""

from __future__ import annotations

import io
import json
from typing import Any

import fastavro

from alpr_core.events.avro import schema_text
from tests.unit.factories import image_bytes, record


def _roundtrip(value: dict[str, Any], writer_version: int, reader_version: int) -> dict[str, Any]:
    writer = fastavro.parse_schema(json.loads(schema_text(writer_version)))
    reader = fastavro.parse_schema(json.loads(schema_text(reader_version)))
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, writer, value)
    buffer.seek(0)
    decoded = fastavro.schemaless_reader(buffer, writer, reader)
    assert isinstance(decoded, dict)
    return decoded


def test_both_versions_name_the_same_record() -> None:
    for version in (1, 2):
        schema = json.loads(schema_text(version))
        assert (schema["namespace"], schema["name"]) == ("com.alpr.events", "PlateEvent")


def test_a_v2_reader_reads_v1_events_with_no_image() -> None:
    decoded = _roundtrip(record(), writer_version=1, reader_version=2)
    assert decoded["plate_image"] is None
    assert decoded["plate"]["normalized_text"] == "AB12CDE"


def test_a_v1_reader_reads_v2_events_and_skips_the_image() -> None:
    decoded = _roundtrip(record(plate_image=image_bytes()), writer_version=2, reader_version=1)
    assert "plate_image" not in decoded
    assert decoded["event_id"] == record()["event_id"]


def test_v2_only_adds_optional_fields_with_defaults() -> None:
    v1 = {f["name"] for f in json.loads(schema_text(1))["fields"]}
    added = [f for f in json.loads(schema_text(2))["fields"] if f["name"] not in v1]
    assert [f["name"] for f in added] == ["plate_image"]
    assert all("default" in f for f in added)
