"""Publishing and reading helpers shared by the integration tests."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from confluent_kafka import Consumer, Message, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.simulator.publisher import EventPublisher, Progress, SimulationPlan, run_simulation
from alpr_core.storage.messages import header_list
from tests.integration.conftest import wait_until


def publisher(settings: Settings) -> EventPublisher:
    return EventPublisher(
        Producer({"bootstrap.servers": settings.kafka.bootstrap_servers, "linger.ms": 5}),
        SchemaRegistryClient({"url": settings.registry.url}),
        settings.kafka.topic,
    )


def simulate(settings: Settings, count: int, inline_share: float = 0.5, seed: int = 1) -> Progress:
    plan = SimulationPlan(
        rate_per_s=0,
        cameras=4,
        duration_s=None,
        max_events=count,
        inline_image_share=inline_share,
        seed=seed,
    )
    return run_simulation(publisher(settings), plan)


def read_topic(
    settings: Settings, topic: str, expected: int, timeout_s: float = 30.0
) -> list[Message]:
    """Read ``topic`` from the start until ``expected`` messages or the timeout."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka.bootstrap_servers,
            "group.id": f"reader-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[Message] = []
    try:
        deadline = time.monotonic() + timeout_s
        while len(messages) < expected and time.monotonic() < deadline:
            messages += [m for m in consumer.consume(100, 0.5) if m.error() is None]
    finally:
        consumer.close()
    return messages


def headers_of(message: Message) -> dict[str, str]:
    found = header_list(message.headers())
    return {key: value.decode() if isinstance(value, bytes) else str(value) for key, value in found}


@contextmanager
def running_api(settings: Settings, port: int) -> Iterator[str]:
    """The API on a real port, served by uvicorn in a thread."""
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="api-under-test")
    thread.start()
    try:
        wait_until(lambda: server.started, timeout_s=30, what="API started")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def event_stream(url: str, headers: dict[str, str]) -> Iterator[list[dict[str, Any]]]:
    """The Server-Sent Events of an open stream, as they arrive, in a list (comments left out)."""
    events: list[dict[str, Any]] = []
    client = httpx.Client(timeout=httpx.Timeout(5, read=None))
    response = client.send(client.build_request("GET", url, headers=headers), stream=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")

    def read_events() -> None:
        event: dict[str, Any] = {}
        try:
            for line in response.iter_lines():
                if not line:
                    if event:
                        events.append(event)
                    event = {}
                elif not line.startswith(":"):
                    field, _, value = line.partition(": ")
                    event[field] = value
        except httpx.HTTPError:
            pass  # closed by the test

    reader = threading.Thread(target=read_events, daemon=True)
    reader.start()
    try:
        yield events
    finally:
        response.close()
        client.close()
        reader.join(timeout=5)
