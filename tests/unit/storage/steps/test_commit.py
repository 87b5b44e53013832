"""Commit step: only partitions owned now are committed."""

from __future__ import annotations

from typing import cast

from confluent_kafka import Consumer
from prometheus_client import CollectorRegistry

from alpr_core.metrics import StorageMetrics
from alpr_core.storage.backoff import Backoff
from alpr_core.storage.health import Liveness
from alpr_core.storage.messages import Assignment
from alpr_core.storage.retry import Retry
from alpr_core.storage.steps.commit import CommitStep
from tests.unit.storage.fakes import TOPIC, FakeConsumer


def step(registry: CollectorRegistry) -> tuple[CommitStep, FakeConsumer, Assignment]:
    consumer, owned, metrics = FakeConsumer([]), Assignment(), StorageMetrics(registry)
    retry = Retry(Backoff(0.1, 0.1), lambda _s: None, lambda: False, metrics, Liveness())
    commit = CommitStep(cast(Consumer, consumer), owned, retry, metrics, lambda: False)
    return commit, consumer, owned


def test_offsets_of_partitions_no_longer_owned_are_not_committed() -> None:
    registry = CollectorRegistry()
    commit, consumer, owned = step(registry)
    owned.add([(TOPIC, 0), (TOPIC, 1)])
    owned.remove([(TOPIC, 1)])
    commit.submit({(TOPIC, 0): 5, (TOPIC, 1): 9})
    commit.submit({(TOPIC, 1): 12})
    assert consumer.committed == [{(TOPIC, 0): 5}]
    assert registry.get_sample_value("alpr_offsets_committed_total") == 1
