from __future__ import annotations

from alpr_core.events.avro import DecodedEvent
from alpr_core.events.parse import parse_event
from alpr_core.storage.batch import Batch
from tests.unit.factories import LIMITS, NOW, record
from tests.unit.storage.fakes import BAD, FakeMessage

DECODED = DecodedEvent(parse_event(record(), LIMITS, NOW), schema_id=1)


def test_offsets_to_commit_are_one_past_the_last_message_of_each_partition() -> None:
    batch = Batch(max_events=10, max_time_s=1.0)
    batch.add(FakeMessage(0, 5), DECODED, now=0.0)
    batch.add(FakeMessage(0, 6), BAD, now=0.1)
    batch.add(FakeMessage(1, 40), DECODED, now=0.2)
    assert batch.next_offsets == {("plates", 0): 7, ("plates", 1): 41}
    assert (len(batch.accepted), len(batch.rejected)) == (2, 1)


def test_a_batch_is_due_when_full_or_old_enough() -> None:
    batch = Batch(max_events=2, max_time_s=1.0)
    assert not batch.is_due(now=100.0)
    batch.add(FakeMessage(0, 1), DECODED, now=10.0)
    assert not batch.is_due(now=10.5)
    assert batch.is_due(now=11.0)
    batch.add(FakeMessage(0, 2), DECODED, now=10.1)
    assert batch.is_full()
    assert batch.room() == 0


def test_dropping_a_partition_forgets_its_messages_and_offsets() -> None:
    batch = Batch(max_events=10, max_time_s=1.0)
    batch.add(FakeMessage(0, 1), DECODED, now=0.0)
    batch.add(FakeMessage(1, 2), BAD, now=0.0)
    batch.add(FakeMessage(1, 3), DECODED, now=0.0)
    batch.drop_partitions([("plates", 1)])
    assert len(batch) == 1
    assert batch.next_offsets == {("plates", 0): 2}


def test_clear_starts_a_new_batch() -> None:
    batch = Batch(max_events=10, max_time_s=1.0)
    batch.add(FakeMessage(0, 1), DECODED, now=5.0)
    batch.clear()
    assert len(batch) == 0
    assert batch.started_at is None
    assert batch.next_offsets == {}
