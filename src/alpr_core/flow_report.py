"""What flows through a running system, from its Prometheus registries: one line every few
seconds for the person watching ``alpr run``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

STORED = "alpr_database_writes_total"
DEAD_LETTERED = "alpr_events_dead_lettered_total"  # the consumer's bad events
REJECTED = "alpr_processing_errors_total"  # in the API's registry: bad items posted to /events


def metric_total(registries: Sequence[CollectorRegistry], sample_name: str) -> float:
    """The sum of every sample called ``sample_name`` (all label values) in ``registries``."""
    return sum(
        sample.value
        for registry in registries
        for family in registry.collect()
        for sample in family.samples
        if sample.name == sample_name
    )


@dataclass(slots=True)
class FlowReporter:
    """Reads the API's registry (HTTP ingest) and the storage consumer's."""

    api: CollectorRegistry
    storage: CollectorRegistry
    last_stored: float = 0.0
    last_at: float | None = None

    def line(self, now: float) -> str:
        stored = metric_total([self.api, self.storage], STORED)
        dead = metric_total([self.storage], DEAD_LETTERED)
        rejected = metric_total([self.api], REJECTED)
        elapsed = now - self.last_at if self.last_at is not None else 0.0
        rate = (stored - self.last_stored) / elapsed if elapsed > 0 else 0.0
        self.last_stored, self.last_at = stored, now
        return (
            f"{rate:,.0f} events/s stored; {stored:,.0f} stored, {dead:,.0f} dead-lettered,"
            f" {rejected:,.0f} rejected over HTTP"
        )
