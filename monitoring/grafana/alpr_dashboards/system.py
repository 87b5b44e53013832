"""System Performance: containers (cAdvisor) and Prometheus itself."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard, timeseries

from alpr_dashboards.panels import graph, new_dashboard, promql

OURS = 'name=~"alpr-.+"'  # the compose project's containers (alpr-kafka, alpr-kafka-consumer-1...)


def per_container(title: str, unit: str, expr: str) -> timeseries.Panel:
    return graph(title, unit, promql(f"sum by (name) ({expr})", "{{name}}"))


def build() -> dashboard.Dashboard:
    return (
        new_dashboard(
            "alpr-system", "System Performance", "CPU, memory, network, disk per container."
        )
        .with_row(dashboard.Row("Containers"))
        .with_panel(
            per_container(
                "CPU (cores)", "short", f"rate(container_cpu_usage_seconds_total{{{OURS}}}[5m])"
            )
        )
        .with_panel(
            per_container(
                "Memory (working set)", "bytes", f"container_memory_working_set_bytes{{{OURS}}}"
            )
        )
        .with_panel(
            per_container(
                "Network received",
                "Bps",
                f"rate(container_network_receive_bytes_total{{{OURS}}}[5m])",
            )
        )
        .with_panel(
            per_container(
                "Network sent", "Bps", f"rate(container_network_transmit_bytes_total{{{OURS}}}[5m])"
            )
        )
        .with_panel(
            per_container(
                "Disk writes", "Bps", f"rate(container_fs_writes_bytes_total{{{OURS}}}[5m])"
            )
        )
        .with_panel(per_container("Disk used", "bytes", f"container_fs_usage_bytes{{{OURS}}}"))
        .with_row(dashboard.Row("Scraping"))
        .with_panel(graph("Targets up", "short", promql("up", "{{job}} {{instance}}")))
        .with_panel(
            graph("Scrape duration", "s", promql("scrape_duration_seconds", "{{job}} {{instance}}"))
        )
        .with_panel(
            graph("Prometheus series in memory", "short", promql("prometheus_tsdb_head_series"))
        )
    )
