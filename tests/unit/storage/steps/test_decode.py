"""Decode step: outcomes passed on, rejections counted once, registry outages retried."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import pytest
from prometheus_client import CollectorRegistry

from alpr_core.errors import RejectedEvent, TransientError
from alpr_core.events.avro import DecodedEvent, EventDecoder
from alpr_core.metrics import EventRecorder, StorageMetrics
from alpr_core.storage.backoff import Backoff
from alpr_core.storage.health import Liveness
from alpr_core.storage.retry import Retry
from alpr_core.storage.steps import MessageRejected
from alpr_core.storage.steps.decode import Decoded, DecodeStep
from tests.unit.storage.fakes import BAD, TOPIC, FakeMessage, decoded
from tests.unit.storage.steps.recording import RecordingStep

GOOD = decoded()


class FakeDecoder:
    """b"good" decodes; b"down" fails transiently once; anything else is rejected."""

    def __init__(self) -> None:
        self.calls = 0
        self.down = 1

    def decode(self, value: bytes | None, _now: datetime) -> DecodedEvent:
        self.calls += 1
        if value == b"down" and self.down:
            self.down -= 1
            raise TransientError("registry down")
        if value in (b"good", b"down"):
            return GOOD
        raise BAD


def step(registry: CollectorRegistry) -> tuple[DecodeStep, RecordingStep[Decoded], FakeDecoder]:
    metrics = StorageMetrics(registry)
    retry = Retry(Backoff(0.1, 0.1), lambda _s: None, lambda: False, metrics, Liveness())
    decoder, last = FakeDecoder(), RecordingStep[Decoded]()
    first = DecodeStep(cast(EventDecoder, decoder), retry, EventRecorder(metrics), last)
    return first, last, decoder


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(b"good", GOOD, id="a good message passes its event on"),
        pytest.param(b"bad", BAD, id="a bad one passes its rejection on"),
        pytest.param(b"down", GOOD, id="a registry outage is retried"),
    ],
)
def test_each_message_passes_on_its_outcome(
    value: bytes, expected: DecodedEvent | RejectedEvent
) -> None:
    registry = CollectorRegistry()
    first, last, _ = step(registry)
    message = FakeMessage(0, 3, _value=value)
    first.submit(message)
    assert last.items == [(message, expected)]
    assert registry.get_sample_value("alpr_messages_consumed_total") == 1
    rejected = registry.get_sample_value("alpr_processing_errors_total", {"reason": "undecodable"})
    assert rejected == (1 if expected is BAD else None)


def test_a_message_refused_for_now_is_not_decoded_nor_counted_again() -> None:
    registry = CollectorRegistry()
    first, last, decoder = step(registry)
    message = FakeMessage(0, 3, _value=b"bad")
    last.busy = True
    with pytest.raises(MessageRejected):
        first.submit(message)
    last.busy = False
    first.submit(message)
    assert decoder.calls == 1
    assert registry.get_sample_value("alpr_messages_consumed_total") == 1
    assert len(last.items) == 1


def test_forgetting_a_partition_drops_the_message_carried_for_it() -> None:
    first, last, decoder = step(CollectorRegistry())
    last.busy = True
    with pytest.raises(MessageRejected):
        first.submit(FakeMessage(1, 3, _value=b"good"))
    first.forget([(TOPIC, 1)])
    last.busy = False
    first.submit(FakeMessage(1, 3, _value=b"good"))  # re-fetched: a new message object
    assert decoder.calls == 2
    assert last.forgotten == [(TOPIC, 1)]
