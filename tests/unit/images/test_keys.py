from __future__ import annotations

import re

from alpr_core.events.parse import parse_event
from alpr_core.images.keys import plate_image_key
from tests.unit.factories import LIMITS, NOW, record


def test_keys_follow_the_seed_layout_and_name_the_event() -> None:
    event = parse_event(record(captured_at="2026-11-28T09:05:07.045+02:00"), LIMITS, NOW)
    key = plate_image_key(event, "jpg")
    assert key == ("2026/11/28/plate_20261128_070507_045_0b7c4f8e-3c1a-4d6b-9a55-1f0e2d3c4b5a.jpg")
    assert re.match(r"^\d{4}/\d{2}/\d{2}/plate_\d{8}_\d{6}_\d{3}_", key)


def test_the_same_event_always_gets_the_same_key_and_others_differ() -> None:
    first = parse_event(record(), LIMITS, NOW)
    again = parse_event(record(), LIMITS, NOW)
    other = parse_event(record(event_id="1b7c4f8e-3c1a-4d6b-9a55-1f0e2d3c4b5a"), LIMITS, NOW)
    assert plate_image_key(first, "jpg") == plate_image_key(again, "jpg")
    assert plate_image_key(first, "jpg") != plate_image_key(other, "jpg")
