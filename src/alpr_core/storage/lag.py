"""Consumer lag from librdkafka's statistics, reported every ``statistics.interval.ms``."""

from __future__ import annotations

import json
from collections.abc import Iterator

from prometheus_client import Gauge


def partition_lags(stats_json: str) -> Iterator[tuple[str, int, int]]:
    """(topic, partition, lag) for each assigned partition whose lag is known."""
    stats = json.loads(stats_json)
    for topic, topic_stats in stats.get("topics", {}).items():
        for partition, partition_stats in topic_stats.get("partitions", {}).items():
            lag = partition_stats.get("consumer_lag", -1)
            if int(partition) >= 0 and lag >= 0:
                yield topic, int(partition), lag


def record_lag(gauge: Gauge, stats_json: str) -> None:
    for topic, partition, lag in partition_lags(stats_json):
        gauge.labels(topic=topic, partition=str(partition)).set(lag)
