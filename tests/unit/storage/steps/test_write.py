"""Write step: a few batches in flight, offsets passed on in order and only once durable, revoked
ones dropped."""

from __future__ import annotations

from concurrent.futures import Future
from typing import cast

import pytest
from prometheus_client import CollectorRegistry

from alpr_core.metrics import StorageMetrics
from alpr_core.storage.batch import Batch
from alpr_core.storage.batch_writer import BatchWriter
from alpr_core.storage.results import Stored
from alpr_core.storage.steps import MessageRejected
from alpr_core.storage.steps.write import Offsets, WriteStep
from tests.unit.storage.fakes import TOPIC, FakeMessage, decoded
from tests.unit.storage.steps.recording import RecordingStep


class FakeWriter:
    def __init__(self) -> None:
        self.futures: list[Future[Stored]] = []

    def submit(self, _batch: Batch) -> Future[Stored]:
        self.futures.append(Future())
        return self.futures[-1]

    def finish(self, index: int = -1) -> None:
        self.futures[index].set_result(Stored(1))


def batch(*offsets: tuple[int, int]) -> Batch:
    result = Batch(10, 1.0)
    for partition, offset in offsets:
        result.add(FakeMessage(partition, offset), decoded(), now=0.0)
    return result


def step(in_flight: int = 1) -> tuple[WriteStep, RecordingStep[Offsets], FakeWriter]:
    writer, last = FakeWriter(), RecordingStep[Offsets]()
    metrics = StorageMetrics(CollectorRegistry())
    write = WriteStep(
        cast(BatchWriter, writer),
        last,
        metrics,
        lambda _s, _u: None,
        lambda: False,
        in_flight=in_flight,
    )
    return write, last, writer


def test_offsets_go_on_only_once_the_batch_is_durable() -> None:
    write, last, writer = step()
    write.submit(batch((0, 4)))
    write.poll()
    assert last.items == []
    writer.finish()
    write.poll()
    assert last.items == [{(TOPIC, 0): 5}]


def test_a_second_batch_waits_for_the_first() -> None:
    write, _, writer = step()
    write.submit(batch((0, 4)))
    with pytest.raises(MessageRejected) as busy:
        write.submit(batch((0, 5)))
    assert not busy.value.ready()
    writer.finish()
    assert busy.value.ready()
    write.submit(batch((0, 5)))
    assert len(writer.futures) == 2


def test_two_in_flight_pass_their_offsets_on_in_order() -> None:
    write, last, writer = step(in_flight=2)
    write.submit(batch((0, 4)))
    write.submit(batch((0, 5)))
    with pytest.raises(MessageRejected):
        write.submit(batch((0, 6)))
    writer.finish(1)  # the second is durable first: its offsets wait for the first's
    write.poll()
    assert last.items == []
    writer.finish(0)
    write.poll()
    assert last.items == [{(TOPIC, 0): 5}, {(TOPIC, 0): 6}]


def test_a_revoke_waits_for_every_batch_in_flight() -> None:
    write, last, writer = step(in_flight=2)
    write.submit(batch((0, 4)))
    write.submit(batch((1, 8)))
    writer.finish(0)
    write.join(0.0)  # the second is not durable: nothing may be passed on as if it were
    assert last.items == []
    writer.finish(1)
    write.join(0.0)
    assert last.items == [{(TOPIC, 0): 5}, {(TOPIC, 1): 9}]


def test_a_revoked_partition_of_the_batch_in_flight_is_never_passed_on() -> None:
    write, last, writer = step()
    write.submit(batch((0, 4), (1, 8)))
    write.forget([(TOPIC, 1)])
    writer.finish()
    write.poll()
    assert last.items == [{(TOPIC, 0): 5}]


def test_a_revoke_that_times_out_passes_nothing_on() -> None:
    write, last, _ = step()
    write.submit(batch((0, 4)))
    write.join(0.0)
    assert last.items == []
    assert last.joins == []
