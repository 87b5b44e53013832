"""Alerts posted to the lists' webhooks, signed (``signing.py``), with the outbox id as the
idempotency key; a 2xx answer is a delivery."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx

from alpr_core.alerts.signing import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from alpr_core.db.alert_delivery import ChannelName, DueDelivery


class WebhookChannel:
    def __init__(
        self, *, timeout_s: float, concurrency: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._clock = clock
        self._http = httpx.Client(timeout=timeout_s, follow_redirects=False)
        self._senders = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook")

    @property
    def name(self) -> ChannelName:
        return "webhook"

    def send(self, deliveries: Sequence[DueDelivery]) -> list[str | None]:
        return list(self._senders.map(self._post, deliveries))

    def close(self) -> None:
        self._senders.shutdown(wait=True)
        self._http.close()

    def _post(self, delivery: DueDelivery) -> str | None:
        assert delivery.url is not None  # a webhook's delivery has its url and secret
        assert delivery.secret is not None
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        timestamp = int(self._clock())
        headers = {
            "Content-Type": "application/json",
            DELIVERY_HEADER: str(delivery.outbox_id),
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(delivery.secret, timestamp, body),
        }
        try:
            answer = self._http.post(delivery.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return type(error).__name__
        return None if answer.is_success else f"HTTP {answer.status_code}"
