"""Kafka & Database: the storage service's consumer, batches, writes and retention."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard, timeseries

from alpr_dashboards.panels import graph, new_dashboard, promql


def quantiles(title: str, unit: str, metric: str) -> timeseries.Panel:
    def q(quantile: str) -> str:
        return f"histogram_quantile({quantile}, sum by (le) (rate({metric}_bucket[5m])))"

    return graph(title, unit, promql(q("0.5"), "p50"), promql(q("0.99"), "p99"))


def build() -> dashboard.Dashboard:
    return (
        new_dashboard(
            "alpr-kafka-db", "Kafka & Database", "Storage service: Kafka in, rows and images out."
        )
        .with_row(dashboard.Row("Kafka"))
        .with_panel(
            graph("Lag by topic", "short", promql("alpr:consumer_lag_messages:sum", "{{topic}}"))
        )
        .with_panel(
            graph(
                "Lag by partition",
                "short",
                promql(
                    "max by (topic, partition) (alpr_consumer_lag_messages)",
                    "{{topic}} [{{partition}}]",
                ),
            )
        )
        .with_panel(
            graph(
                "Consumed per replica",
                "ops",
                promql(
                    "sum by (instance) (rate(alpr_messages_consumed_total[5m]))", "{{instance}}"
                ),
            )
        )
        .with_panel(
            graph(
                "Partitions and pauses per replica",
                "short",
                promql("alpr_assigned_partitions", "{{instance}} partitions"),
                promql("alpr_consumer_paused", "{{instance}} paused"),
            )
        )
        .with_panel(
            graph(
                "Offset commits",
                "ops",
                promql("sum(rate(alpr_offsets_committed_total[5m]))", "commits"),
            )
        )
        .with_panel(
            graph(
                "Transient failures by step",
                "ops",
                promql("sum by (step) (rate(alpr_transient_failures_total[5m]))", "{{step}}"),
            )
        )
        .with_row(dashboard.Row("Batches and database"))
        .with_panel(quantiles("Batch size", "short", "alpr_batch_size_events"))
        .with_panel(quantiles("Batch flush time", "s", "alpr_batch_duration_seconds"))
        .with_panel(
            graph(
                "Rows and images written",
                "ops",
                promql("sum(rate(alpr_database_writes_total[5m]))", "rows inserted"),
                promql("sum(rate(alpr_duplicate_events_total[5m]))", "replays skipped"),
                promql("sum(rate(alpr_images_stored_total[5m]))", "images stored"),
            )
        )
        .with_panel(
            graph(
                "Retention",
                "short",
                promql(
                    "sum(increase(alpr_retention_partitions_dropped_total[1d]))",
                    "partitions dropped / day",
                ),
                promql(
                    "sum(increase(alpr_retention_images_deleted_total[1d]))", "images deleted / day"
                ),
            )
        )
        .with_panel(
            graph(
                "Since retention last ran",
                "s",
                promql("time() - max(alpr_retention_last_run_timestamp_seconds)", "seconds"),
            )
        )
    )
