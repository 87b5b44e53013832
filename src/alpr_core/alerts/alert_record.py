"""An alert delivery as the Avro record of ``schemas/alert_v1.avsc`` (topic ``alpr.alerts``).

The delivery's payload is the JSON the webhooks get (db/alert_delivery.py); this maps it to the
schema's flat fields, with timestamps as datetimes for its ``timestamp-micros``.
"""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files
from typing import Any


def alert_schema_text() -> str:
    return (files("alpr_core.alerts") / "schemas" / "alert_v1.avsc").read_text()


def alert_record(payload: dict[str, Any]) -> dict[str, Any]:
    alert = payload["alert"]
    entry = payload["entry"]
    return {
        "delivery": payload["delivery"],
        "type": payload["type"],
        "alert_id": alert["id"],
        "priority": alert["priority"],
        "status": alert["status"],
        "plate_text": alert["plate_text"],
        "plate_normalized": alert["plate_normalized"],
        "camera_id": alert["camera_id"],
        "site": alert["site"],
        "track_id": alert["track_id"],
        "first_seen": datetime.fromisoformat(alert["first_seen"]),
        "last_seen": datetime.fromisoformat(alert["last_seen"]),
        "read_count": alert["read_count"],
        "watchlist_id": payload["watchlist"]["id"],
        "watchlist_name": payload["watchlist"]["name"],
        "entry": None
        if entry is None
        else {key: entry[key] for key in ("id", "plate", "match_mode", "reason", "reference")},
    }
