"""The MQTT topics and messages of alert delivery, with Home Assistant's discovery conventions
(``<discovery prefix>/<component>/<node id>/<object id>/config``, retained).

Each alert is published once, at QoS 1, to ``<prefix>/alerts/<priority>`` as the webhook's JSON
plus ``event_type: alert_opened``. Home Assistant sees one ``event`` entity per priority, on a
device named after the client id, available while ``<prefix>/status`` says ``online`` (the
client's will says ``offline``).
"""

from __future__ import annotations

import re
from typing import Any

PRIORITIES = ("info", "warning", "critical")
EVENT_TYPE = "alert_opened"
ONLINE, OFFLINE = "online", "offline"


def status_topic(prefix: str) -> str:
    return f"{prefix}/status"


def alert_topic(prefix: str, priority: str) -> str:
    return f"{prefix}/alerts/{priority}"


def alert_message(payload: dict[str, Any]) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE} | payload


def node_id(client_id: str) -> str:
    """The client id as a discovery node id, which allows letters, digits, ``_`` and ``-``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", client_id) or "alpr-core"


def discovery_messages(
    prefix: str, discovery_prefix: str, client_id: str
) -> list[tuple[str, dict[str, Any]]]:
    """(topic, config) of each entity, to publish retained; none without a discovery prefix."""
    if not discovery_prefix:
        return []
    node = node_id(client_id)
    device = {
        "identifiers": [node],
        "name": client_id,
        "manufacturer": "alpr-core",
        "model": "ALPR backend",
    }
    return [
        (
            f"{discovery_prefix}/event/{node}/alerts_{priority}/config",
            {
                "name": f"{priority.capitalize()} watchlist alert",
                "unique_id": f"{node}_alerts_{priority}",
                "state_topic": alert_topic(prefix, priority),
                "event_types": [EVENT_TYPE],
                "availability_topic": status_topic(prefix),
                "payload_available": ONLINE,
                "payload_not_available": OFFLINE,
                "device": device,
            },
        )
        for priority in PRIORITIES
    ]
