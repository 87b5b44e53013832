"""The four Grafana dashboards of the OVR-ALPR Core Services design, as code
(grafana-foundation-sdk).

``python -m alpr_dashboards`` (run from ``monitoring/grafana``, or ``scripts/dashboards``) writes
their JSON to ``monitoring/grafana/dashboards/``, which Grafana provisions. Edit the code, not the
JSON: tests/deploy/test_dashboards.py fails when the two differ.
"""
