from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from alpr_core import metrics
from alpr_core.metrics import CameraMetrics


def test_cameras_past_the_cap_share_one_other_series(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "MAX_CAMERA_SERIES", 2)
    registry = CollectorRegistry()
    cameras = CameraMetrics(registry)
    cameras.record(["a", "b", "c", "d", "a", "d"], now_s=10.0)

    def events(camera_id: str) -> float | None:
        return registry.get_sample_value("alpr_camera_events_total", {"camera_id": camera_id})

    assert (events("a"), events("b"), events("other")) == (2.0, 1.0, 3.0)
    assert events("c") is None
    assert events("d") is None


def test_with_a_registry_only_registered_cameras_get_a_series() -> None:
    registry = CollectorRegistry()
    cameras = CameraMetrics(registry)
    cameras.use_registry(frozenset({"a", "b"}))
    cameras.record(["a", "b", "x", "y", "a"], now_s=10.0)

    def events(camera_id: str) -> float | None:
        return registry.get_sample_value("alpr_camera_events_total", {"camera_id": camera_id})

    assert (events("a"), events("b"), events("other")) == (2.0, 1.0, 2.0)
    assert events("x") is None


def test_an_emptied_registry_falls_back_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "MAX_CAMERA_SERIES", 1)
    registry = CollectorRegistry()
    cameras = CameraMetrics(registry)
    cameras.use_registry(frozenset({"a"}))
    cameras.use_registry(frozenset())
    cameras.record(["x", "y"], now_s=10.0)

    def events(camera_id: str) -> float | None:
        return registry.get_sample_value("alpr_camera_events_total", {"camera_id": camera_id})

    assert (events("x"), events("other")) == (1.0, 1.0)
