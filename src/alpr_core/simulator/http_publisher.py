"""Post simulated reads to ``POST /events`` in JSON batches, as a site without Kafka does."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import httpx

_HONOURED_STATUS = 429


class HttpEventPublisher:
    """Batches reads (up to ``batch_size``, or ``max_wait_s`` old) into one POST each.

    A 429 answer is honoured: the batch is sent again after the ``Retry-After`` it names.
    """

    def __init__(
        self,
        client: httpx.Client,
        api_key: str,
        batch_size: int = 50,
        max_wait_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._headers = {"X-API-Key": api_key}
        self._batch_size = batch_size
        self._max_wait_s = max_wait_s
        self._clock = clock
        self._pending: list[dict[str, Any]] = []
        self._oldest_at = 0.0

    def publish(self, record: dict[str, Any]) -> int:
        """Queue one record; return the schema version it corresponds to."""
        if not self._pending:
            self._oldest_at = self._clock()
        self._pending.append(as_json_event(record))
        if (
            len(self._pending) >= self._batch_size
            or self._clock() - self._oldest_at >= self._max_wait_s
        ):
            self._send()
        return 2 if record.get("plate_image") is not None else 1

    def flush(self, timeout_s: float = 30.0) -> int:  # noqa: ARG002 - each POST has its timeout
        self._send()
        return 0

    def _send(self) -> None:
        if not self._pending:
            return
        while True:
            response = self._client.post("/events", json=self._pending, headers=self._headers)
            if response.status_code != _HONOURED_STATUS:
                break
            time.sleep(float(response.headers.get("Retry-After", "1")))
        response.raise_for_status()
        self._pending = []


def as_json_event(record: dict[str, Any]) -> dict[str, Any]:
    """A PlateEvent record as ``POST /events`` takes it in JSON: the image in base64."""
    image = record.get("plate_image")
    if image is None:
        return record
    return {**record, "plate_image": base64.b64encode(image).decode("ascii")}
