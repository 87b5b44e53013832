"""Logs Explorer: every service's logs from Loki, by service and level."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard, loki, timeseries

from alpr_dashboards.panels import LOKI, log_lines, new_dashboard, ref_id

SELECTOR = '{service=~"$service", level=~"$level"}'


def variables() -> list[
    dashboard.QueryVariable | dashboard.CustomVariable | dashboard.TextBoxVariable
]:
    return [
        dashboard.QueryVariable("service")
        .label("Service")
        .datasource(LOKI)
        .query("label_values(service)")
        .multi(True)
        .include_all(True)
        .all_value(".+"),
        dashboard.CustomVariable("level")
        .label("Level")
        .values("debug,info,warning,error,critical")
        .multi(True)
        .include_all(True)
        .all_value(".*"),
        dashboard.TextBoxVariable("search").label("Search (regex)").default_value(""),
    ]


def volume() -> timeseries.Panel:
    query = (
        loki.Dataquery()
        .expr(f"sum by (service, level) (count_over_time({SELECTOR} |~ `$search` [$__interval]))")
        .legend_format("{{service}} {{level}}")
        .datasource(LOKI)
        .ref_id(ref_id(0))
    )
    return (
        timeseries.Panel().title("Log lines").datasource(LOKI).span(24).height(6).with_target(query)
    )


def build() -> dashboard.Dashboard:
    board = new_dashboard("alpr-logs", "Logs Explorer", "Logs of every container, from Loki.")
    for variable in variables():
        board = board.with_variable(variable)
    return (
        board.with_panel(volume())
        .with_panel(log_lines("Logs", f"{SELECTOR} |~ `$search`"))
        .with_panel(log_lines("Errors", '{service=~"$service", level=~"error|critical"}'))
    )
