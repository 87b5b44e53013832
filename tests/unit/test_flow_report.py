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


def test_the_line_reports_the_rate_since_the_last_one_and_both_kinds_of_bad_events() -> None:
    api, storage = CollectorRegistry(), CollectorRegistry()
    http_writes = Counter("alpr_database_writes", "rows", registry=api)
    kafka_writes = Counter("alpr_database_writes", "rows", registry=storage)
    Counter("alpr_processing_errors", "bad", ["reason"], registry=api).labels("x").inc(3)
    Counter("alpr_events_dead_lettered", "dlq", ["reason"], registry=storage).labels("y").inc(2)
    reporter = FlowReporter(api, storage)
    reporter.line(now=100.0)
    http_writes.inc(600)
    kafka_writes.inc(400)
    assert reporter.line(now=102.0) == (
        "500 events/s stored; 1,000 stored, 2 dead-lettered, 3 rejected over HTTP"
    )
