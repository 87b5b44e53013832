from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from alpr_core.flow_report import FlowReporter, metric_total


def test_totals_add_up_across_registries_and_labels() -> None:
    first, second = CollectorRegistry(), CollectorRegistry()
    Counter("alpr_database_writes", "rows", registry=first).inc(5)
    Counter("alpr_database_writes", "rows", registry=second).inc(7)
    dead = Counter("alpr_events_dead_lettered", "dlq", ["reason"], registry=second)
    dead.labels(reason="a").inc(2)
    dead.labels(reason="b").inc(1)
    assert metric_total([first, second], "alpr_database_writes_total") == 12
    assert metric_total([first, second], "alpr_events_dead_lettered_total") == 3


def test_the_line_reports_the_rate_since_the_last_one() -> None:
    registry = CollectorRegistry()
    writes = Counter("alpr_database_writes", "rows", registry=registry)
    reporter = FlowReporter([registry])
    reporter.line(now=100.0)
    writes.inc(1000)
    assert reporter.line(now=102.0) == "500 events/s stored; 1,000 stored, 0 dead-lettered"
