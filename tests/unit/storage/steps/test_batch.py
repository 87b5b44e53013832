"""Batch step: flush on size or time, backpressure when the writer is busy, revoked partitions."""

from __future__ import annotations

import pytest

from alpr_core.storage.batch import Batch
from alpr_core.storage.messages import Assignment
from alpr_core.storage.steps import MessageRejected
from alpr_core.storage.steps.batch import BatchStep
from tests.unit.storage.fakes import BAD, TOPIC, FakeMessage, decoded
from tests.unit.storage.steps.recording import RecordingStep

GOOD = decoded()


class Clock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def step(max_events: int = 2) -> tuple[BatchStep, RecordingStep[Batch], Clock]:
    owned = Assignment()
    owned.add([(TOPIC, 0), (TOPIC, 1)])
    last, clock = RecordingStep[Batch](), Clock()
    return BatchStep(max_events, 1.0, last, owned, clock), last, clock


def test_a_full_batch_is_passed_on_with_its_offsets() -> None:
    batch, last, _ = step()
    batch.submit((FakeMessage(0, 5), GOOD))
    assert last.items == []
    batch.submit((FakeMessage(1, 9), BAD))
    assert [b.next_offsets for b in last.items] == [{(TOPIC, 0): 6, (TOPIC, 1): 10}]


def test_an_old_enough_batch_is_passed_on_at_poll() -> None:
    batch, last, clock = step()
    batch.submit((FakeMessage(0, 5), GOOD))
    batch.poll()
    assert last.items == []
    clock.now_s = 1.0
    batch.poll()
    assert len(last.items) == 1


def test_a_full_batch_refuses_more_while_the_writer_is_busy() -> None:
    batch, last, _ = step()
    last.busy = True
    batch.submit((FakeMessage(0, 1), GOOD))
    batch.submit((FakeMessage(0, 2), GOOD))  # full; kept, since the writer is busy
    with pytest.raises(MessageRejected):
        batch.submit((FakeMessage(0, 3), GOOD))
    last.busy = False
    batch.submit((FakeMessage(0, 3), GOOD))
    assert [b.next_offsets for b in last.items] == [{(TOPIC, 0): 3}]


def test_an_old_enough_batch_refuses_more_while_the_writer_is_busy() -> None:
    batch, last, clock = step(max_events=10)
    last.busy = True
    batch.submit((FakeMessage(0, 1), GOOD))
    clock.now_s = 1.0
    with pytest.raises(MessageRejected):
        batch.submit((FakeMessage(0, 2), GOOD))


def test_messages_of_partitions_not_owned_or_forgotten_are_never_passed_on() -> None:
    batch, last, clock = step(max_events=10)
    batch.submit((FakeMessage(0, 1), GOOD))
    batch.submit((FakeMessage(7, 1), GOOD))  # not assigned (revoked while decoding)
    batch.submit((FakeMessage(1, 1), GOOD))
    batch.forget([(TOPIC, 1)])
    clock.now_s = 5.0
    batch.poll()
    assert [b.next_offsets for b in last.items] == [{(TOPIC, 0): 2}]
    assert last.forgotten == [(TOPIC, 1)]
