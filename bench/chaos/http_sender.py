"""POST /events from its own thread, so the open-loop scheduler never waits on an answer.

Each item carries what it is (good, or which poison); the answer is booked in the ledger. A 503,
a 429 or a refused connection is retried until the deadline: only acknowledged reads count."""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.chaos.ledger import GoodEvent, Ledger

BATCH_ITEMS = 50
BATCH_WAIT_S = 0.2
RETRY_S = 1.0


@dataclass(frozen=True, slots=True)
class HttpItem:
    body: dict[str, Any]
    event_id: str
    good: GoodEvent | None  # None: poison
    poison_kind: str = ""


class HttpSender(threading.Thread):
    def __init__(self, base_url: str, api_key: str, ledger: Ledger) -> None:
        super().__init__(name="http-sender", daemon=True)
        self._client = httpx.Client(base_url=base_url, timeout=60, headers={"X-API-Key": api_key})
        self._ledger = ledger
        self.items: queue.Queue[HttpItem] = queue.Queue()
        self.give_up_at = float("inf")
        self.done = threading.Event()

    def run(self) -> None:
        while not (self.done.is_set() and self.items.empty()):
            batch = self._collect()
            if batch:
                self._send(batch)
        self._client.close()

    def _collect(self) -> list[HttpItem]:
        batch: list[HttpItem] = []
        deadline = time.monotonic() + BATCH_WAIT_S
        while len(batch) < BATCH_ITEMS and (left := deadline - time.monotonic()) > 0:
            try:
                batch.append(self.items.get(timeout=left))
            except queue.Empty:
                break
        return batch

    def _send(self, batch: list[HttpItem]) -> None:
        while time.monotonic() < self.give_up_at:
            try:
                response = self._client.post("/events", json=[item.body for item in batch])
            except httpx.TransportError:
                time.sleep(RETRY_S)
                continue
            if response.status_code in (202, 422):
                self._book(batch, response.json())
                return
            time.sleep(RETRY_S)
        for _item in batch:
            self._ledger.unacknowledged["http"] += 1

    def _book(self, batch: list[HttpItem], answer: dict[str, Any]) -> None:
        accepted = {entry["index"] for entry in answer.get("accepted", [])}
        rejected = {entry["index"]: entry for entry in answer.get("rejected", [])}
        for index, item in enumerate(batch):
            if index in accepted:
                self._accepted(item)
            else:
                self._rejected(item, rejected.get(index, {}))

    def _accepted(self, item: HttpItem) -> None:
        if item.good is not None:
            self._ledger.acknowledge_good(item.event_id, item.good)
        else:
            self._ledger.http_poison_accepted.append(f"{item.poison_kind} {item.event_id}")

    def _rejected(self, item: HttpItem, problem: dict[str, Any]) -> None:
        status, reason = problem.get("status", 0), problem.get("reason", "?")
        if item.good is not None:
            self._ledger.http_good_rejected.append(f"{item.event_id} {status} {reason}")
        else:
            self._ledger.http_poison_answers[f"{item.poison_kind}: {status} {reason}"] += 1
