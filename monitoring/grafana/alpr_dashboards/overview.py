"""ALPR Overview: the pipeline end to end, at a glance."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models.dashboard import DataTransformerConfig

from alpr_dashboards.panels import graph, new_dashboard, number, promql, rows

API = 'job="query-api"'
# Every registered camera (its site and whether it is enabled), with the seconds since its last
# durable event over all jobs; +Inf for a camera with no event in the recording rule's window.
REGISTERED_CAMERAS = (
    "time() - ("
    "alpr:camera_last_event_timestamp_seconds:max"
    " + on (camera_id) group_right () (0 * alpr:camera_registered_since_timestamp_seconds:max)"
    " or (0 * alpr:camera_registered_since_timestamp_seconds:max - Inf)"
    ")"
)


def build() -> dashboard.Dashboard:
    return (
        new_dashboard("alpr-overview", "ALPR Overview", "Events in, rows and images out, the API.")
        .with_row(dashboard.Row("Now"))
        .with_panel(
            number("Events in /s", "ops", promql("sum(rate(alpr_messages_consumed_total[5m]))"))
        )
        .with_panel(
            number("Rows stored /s", "ops", promql("sum(rate(alpr_database_writes_total[5m]))"))
        )
        .with_panel(number("Consumer lag", "short", promql("sum(alpr:consumer_lag_messages:sum)")))
        .with_panel(
            number(
                "API requests /s", "reqps", promql(f"sum(rate(http_requests_total{{{API}}}[5m]))")
            )
        )
        .with_panel(
            number("Targets up", "short", promql("sum(up) / count(up)")).unit("percentunit")
        )
        .with_panel(
            number(
                "Alerts firing", "short", promql('count(ALERTS{alertstate="firing"}) or vector(0)')
            )
        )
        .with_row(dashboard.Row("Pipeline"))
        .with_panel(
            graph(
                "Events through the pipeline",
                "ops",
                promql("sum(rate(alpr_messages_consumed_total[5m]))", "consumed"),
                promql("sum(rate(alpr_database_writes_total[5m]))", "stored"),
                promql("sum(rate(alpr_duplicate_events_total[5m]))", "replays skipped"),
                promql("sum(rate(alpr_events_dead_lettered_total[5m]))", "dead-lettered"),
            )
        )
        .with_panel(
            graph(
                "Dead letters and errors by reason",
                "ops",
                promql(
                    "sum by (reason) (rate(alpr_events_dead_lettered_total[5m]))", "DLQ {{reason}}"
                ),
                promql(
                    "sum by (reason) (rate(alpr_processing_errors_total[5m]))", "error {{reason}}"
                ),
            )
        )
        .with_panel(
            graph(
                "Events per camera",
                "ops",
                promql("sum by (camera_id) (rate(alpr_camera_events_total[5m]))", "{{camera_id}}"),
            )
        )
        .with_panel(
            graph(
                "Seconds each watched camera has been quiet",
                "s",
                promql("time() - alpr:camera_quiet_since_timestamp_seconds", "{{camera_id}}"),
            )
        )
        .with_panel(
            rows(
                "Registered cameras",
                "s",
                REGISTERED_CAMERAS,
            ).with_transformation(
                DataTransformerConfig(
                    id_val="organize",
                    options={
                        "excludeByName": {"Time": True},
                        "indexByName": {"camera_id": 0, "site_id": 1, "enabled": 2, "Value": 3},
                        "renameByName": {
                            "site_id": "site",
                            "Value": "seconds since last event",
                        },
                    },
                )
            )
        )
        .with_row(dashboard.Row("Query API"))
        .with_panel(
            graph(
                "API responses by status",
                "reqps",
                promql(f"sum by (status) (rate(http_requests_total{{{API}}}[5m]))", "{{status}}"),
            )
        )
        .with_panel(
            graph(
                "API latency",
                "s",
                promql(
                    "histogram_quantile(0.5, sum by (le) "
                    f"(rate(http_request_duration_highr_seconds_bucket{{{API}}}[5m])))",
                    "p50",
                ),
                promql(
                    "histogram_quantile(0.99, sum by (le) "
                    f"(rate(http_request_duration_highr_seconds_bucket{{{API}}}[5m])))",
                    "p99",
                ),
            )
        )
        .with_row(dashboard.Row("Watchlist alerts"))
        .with_panel(
            graph(
                "Alerts opened and delivered",
                "ops",
                promql("sum by (priority) (rate(alpr_alerts_total[5m]))", "opened {{priority}}"),
                promql(
                    "sum by (channel, outcome) (rate(alpr_alert_deliveries_total[5m]))",
                    "{{channel}} {{outcome}}",
                ),
                promql("sum(rate(alpr_webhooks_disabled_total[5m]))", "webhooks switched off"),
            )
        )
        .with_panel(
            graph(
                "Undelivered alerts",
                "short",
                promql("max(alpr_alert_deliveries_pending)", "waiting"),
            )
        )
        .with_panel(
            graph(
                "Oldest undelivered alert",
                "s",
                promql("max(alpr_alert_delivery_oldest_pending_seconds)", "age"),
            )
        )
        .with_panel(
            graph(
                "Matching a stored batch",
                "s",
                promql(
                    "histogram_quantile(0.99, sum by (le) "
                    "(rate(alpr_alert_match_seconds_bucket[5m])))",
                    "p99",
                ),
            )
        )
    )
