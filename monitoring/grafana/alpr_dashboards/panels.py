"""Shared builders: datasources by provisioned uid, and panels with our defaults."""

from __future__ import annotations

from grafana_foundation_sdk.builders import (
    dashboard,
    logs,
    loki,
    prometheus,
    stat,
    table,
    timeseries,
)
from grafana_foundation_sdk.models.dashboard import DashboardCursorSync, DataSourceRef
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

PROMETHEUS = DataSourceRef(type_val="prometheus", uid="prometheus")
LOKI = DataSourceRef(type_val="loki", uid="loki")


def new_dashboard(uid: str, title: str, description: str) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["alpr"])
        .time("now-6h", "now")
        .refresh("30s")
        .timezone("browser")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .readonly()
    )


def promql(expr: str, legend: str = "") -> prometheus.Dataquery:
    query = prometheus.Dataquery().expr(expr).datasource(PROMETHEUS)
    return query.legend_format(legend) if legend else query


def ref_id(index: int) -> str:
    """Grafana names a panel's queries A, B, C..."""
    return chr(ord("A") + index)


def graph(title: str, unit: str, *queries: prometheus.Dataquery) -> timeseries.Panel:
    panel = timeseries.Panel().title(title).unit(unit).datasource(PROMETHEUS).span(12).height(8)
    for index, query in enumerate(queries):
        panel = panel.with_target(query.ref_id(ref_id(index)))
    return panel


def number(title: str, unit: str, query: prometheus.Dataquery) -> stat.Panel:
    panel = stat.Panel().title(title).unit(unit).datasource(PROMETHEUS).span(4).height(4)
    return panel.with_target(query.ref_id(ref_id(0)))


def rows(title: str, unit: str, expr: str) -> table.Panel:
    """A table of ``expr``'s series now: one row per series, its labels as columns."""
    query = promql(expr).instant().format(PromQueryFormat.TABLE).ref_id(ref_id(0))
    return (
        table.Panel()
        .title(title)
        .unit(unit)
        .datasource(PROMETHEUS)
        .span(12)
        .height(8)
        .with_target(query)
    )


def log_lines(title: str, expr: str) -> logs.Panel:
    query = loki.Dataquery().expr(expr).datasource(LOKI).ref_id(ref_id(0))
    return logs.Panel().title(title).datasource(LOKI).span(24).height(14).with_target(query)
