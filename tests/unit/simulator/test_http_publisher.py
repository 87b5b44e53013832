from __future__ import annotations

import base64
import json

import httpx

from alpr_core.simulator.http_publisher import HttpEventPublisher
from tests.unit.factories import record


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _recording(bodies: list[list[dict[str, object]]], statuses: list[int]) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.headers["X-API-Key"] == "k"
        bodies.append(json.loads(request.content))
        status = statuses.pop(0) if statuses else 202
        return httpx.Response(status, headers={"Retry-After": "0"})

    return httpx.Client(base_url="http://api", transport=httpx.MockTransport(handle))


def test_reads_are_posted_in_batches_by_size_then_on_flush() -> None:
    bodies: list[list[dict[str, object]]] = []
    publisher = HttpEventPublisher(_recording(bodies, []), "k", batch_size=3, clock=Clock())
    for _ in range(7):
        publisher.publish(record())
    assert [len(body) for body in bodies] == [3, 3]
    publisher.flush()
    assert [len(body) for body in bodies] == [3, 3, 1]


def test_a_batch_is_sent_once_its_oldest_read_waited_long_enough() -> None:
    bodies: list[list[dict[str, object]]] = []
    clock = Clock()
    publisher = HttpEventPublisher(
        _recording(bodies, []), "k", batch_size=100, max_wait_s=0.5, clock=clock
    )
    publisher.publish(record())
    clock.now = 0.4
    publisher.publish(record())
    assert bodies == []
    clock.now = 0.6
    publisher.publish(record())
    assert [len(body) for body in bodies] == [3]


def test_images_travel_in_base64_and_a_429_is_retried() -> None:
    bodies: list[list[dict[str, object]]] = []
    publisher = HttpEventPublisher(_recording(bodies, [429]), "k", batch_size=1, clock=Clock())
    assert publisher.publish(record(plate_image=b"\xff\xd8jpeg")) == 2
    assert len(bodies) == 2  # refused once, then accepted
    assert base64.b64decode(str(bodies[1][0]["plate_image"])) == b"\xff\xd8jpeg"
