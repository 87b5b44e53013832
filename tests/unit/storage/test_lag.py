from __future__ import annotations

import json

from prometheus_client import CollectorRegistry

from alpr_core.metrics import StorageMetrics
from alpr_core.storage.lag import record_lag


def test_lag_is_read_per_partition_from_librdkafka_statistics() -> None:
    stats = {
        "topics": {
            "alpr.plates.detected": {
                "partitions": {
                    "0": {"consumer_lag": 12},
                    "1": {"consumer_lag": -1},
                    "-1": {"consumer_lag": 99},
                    "2": {"consumer_lag": 0},
                }
            }
        }
    }
    registry = CollectorRegistry()
    metrics = StorageMetrics(registry)

    record_lag(metrics.consumer_lag, json.dumps(stats))

    def lag(partition: str) -> float | None:
        return registry.get_sample_value(
            "alpr_consumer_lag_messages",
            {"topic": "alpr.plates.detected", "partition": partition},
        )

    assert (lag("0"), lag("2")) == (12, 0)
    assert lag("1") is None  # unknown lag is not reported as a number
    assert lag("-1") is None  # the internal "unassigned" partition is ignored
