"""The consume pipeline as a chain of steps: decode → batch → write → commit.

Every step has the same small contract (:class:`Step`) and is given the next one in its
constructor, as in arroyo. A step that cannot take more for now raises :class:`MessageRejected`;
the Kafka loop then pauses its partitions and polls until it can.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from alpr_core.storage.messages import TopicPartitionKey

T_contra = TypeVar("T_contra", contravariant=True)


class MessageRejected(Exception):  # noqa: N818 - arroyo's name for "try later"
    """Backpressure: the step is full; submit the same item again once ``ready()`` is true."""

    def __init__(self, ready: Callable[[], bool]) -> None:
        super().__init__("step busy")
        self.ready = ready


class Step(Protocol[T_contra]):
    def submit(self, item: T_contra) -> None:
        """Take ``item`` or raise :class:`MessageRejected`."""

    def poll(self) -> None:
        """Do the work that is due (flush a batch, commit a finished write); never blocks long."""

    def join(self, timeout_s: float | None) -> None:
        """Pass on and finish what the step holds; ``timeout_s`` bounds a wait without polling
        (in a rebalance callback), None waits polling (at shutdown)."""

    def forget(self, partitions: Iterable[TopicPartitionKey]) -> None:
        """Drop what the step holds of revoked partitions: their new owner re-reads it."""

    def close(self) -> None: ...
