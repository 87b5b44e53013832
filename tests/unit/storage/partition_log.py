"""A fake consumer over a few partitions of numbered messages, with the semantics the Kafka loop
relies on: an assignment starts at the committed offset, ``seek`` moves the fetch position,
paused partitions are not fetched, and a rebalance runs its callbacks inside ``poll`` or
``consume``.

Each message's value is ``b"partition:offset"``, so a sink can say which messages it stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.unit.storage.fakes import TOPIC, FakeMessage, FakeTopicPartition

Callback = Callable[[Any, list[FakeTopicPartition]], None]
PollAction = Callable[["PartitionLog"], None]


def position_of(value: bytes | None) -> tuple[int, int]:
    partition, offset = (value or b"").decode().split(":")
    return int(partition), int(offset)


class PartitionLog:
    def __init__(self, partitions: int, size: int, stored: set[tuple[int, int]]) -> None:
        self.partitions, self.size = partitions, size
        self.stored = stored  # what the sink has made durable: every commit is checked against it
        self.committed: dict[int, int] = {}
        self.overcommits: list[str] = []
        self.position: dict[int, int] = {}  # assigned partition -> next offset to return
        self.paused: set[int] = set()
        self.poll_actions: list[PollAction] = []  # one runs at each poll, in order
        self.consume_actions: list[PollAction] = []  # one runs inside each consume, in order
        self.when_drained: Callable[[], None] = lambda: None
        self._on_assign: Callback = lambda _c, _p: None
        self._on_revoke: Callback = lambda _c, _p: None

    # -- the group, as the test drives it -------------------------------------------------------

    def assign(self, partitions: list[int]) -> None:
        self._on_assign(self, _tps(partitions))
        for p in partitions:
            self.position[p] = self.committed.get(p, 0)

    def revoke(self, partitions: list[int]) -> None:
        self._on_revoke(self, _tps(partitions))
        for p in partitions:
            self.position.pop(p, None)
            self.paused.discard(p)

    # -- the Consumer calls the loop makes ------------------------------------------------------

    def subscribe(
        self, _topics: list[str], on_assign: Callback, on_revoke: Callback, on_lost: Callback
    ) -> None:
        self._on_assign, self._on_revoke = on_assign, on_revoke
        self.assign(list(range(self.partitions)))

    def consume(self, count: int, _timeout_s: float) -> list[FakeMessage]:
        """Round-robin over the assigned, unpaused partitions, one message each in turn; a
        rebalance due runs first, inside the call, as librdkafka serves it."""
        if self.consume_actions:
            self.consume_actions.pop(0)(self)
        out: list[FakeMessage] = []
        while len(out) < count:
            ready = [p for p in sorted(self.position, reverse=True) if self._fetchable(p)]
            if not ready:
                break
            for p in ready[: count - len(out)]:
                offset = self.position[p]
                out.append(FakeMessage(p, offset, _value=f"{p}:{offset}".encode()))
                self.position[p] = offset + 1
        if not out and not self.poll_actions and not self.consume_actions:
            self.when_drained()
        return out

    def poll(self, _timeout_s: float) -> None:
        if self.poll_actions:
            self.poll_actions.pop(0)(self)

    def commit(self, offsets: list[FakeTopicPartition], asynchronous: bool) -> None:
        for tp in offsets:
            gaps = [o for o in range(tp.offset) if (tp.partition, o) not in self.stored]
            if gaps:
                self.overcommits.append(f"p{tp.partition}:{tp.offset} before {gaps} were stored")
            self.committed[tp.partition] = tp.offset

    def assignment(self) -> list[FakeTopicPartition]:
        return _tps(sorted(self.position))

    def pause(self, partitions: list[FakeTopicPartition]) -> None:
        self.paused.update(tp.partition for tp in partitions)

    def resume(self, partitions: list[FakeTopicPartition]) -> None:
        self.paused.difference_update(tp.partition for tp in partitions)

    def seek(self, position: FakeTopicPartition) -> None:
        self.position[position.partition] = position.offset

    def close(self) -> None:
        pass

    def _fetchable(self, p: int) -> bool:
        return p not in self.paused and self.position[p] < self.size


def _tps(partitions: list[int]) -> list[FakeTopicPartition]:
    return [FakeTopicPartition(TOPIC, p) for p in partitions]
