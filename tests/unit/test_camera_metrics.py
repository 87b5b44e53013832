from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from alpr_core import metrics
from alpr_core.db.cameras import CameraState
from alpr_core.metrics import CameraMetrics


def registered(*camera_ids: str) -> dict[str, CameraState]:
    state = CameraState("site-1", enabled=True, since_s=50.0)
    return dict.fromkeys(camera_ids, state)


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
    cameras.use_registry(registered("a", "b"))
    cameras.record(["a", "b", "x", "y", "a"], now_s=10.0)

    def events(camera_id: str) -> float | None:
        return registry.get_sample_value("alpr_camera_events_total", {"camera_id": camera_id})

    assert (events("a"), events("b"), events("other")) == (2.0, 1.0, 2.0)
    assert events("x") is None


def test_an_emptied_registry_falls_back_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "MAX_CAMERA_SERIES", 1)
    registry = CollectorRegistry()
    cameras = CameraMetrics(registry)
    cameras.use_registry(registered("a"))
    cameras.use_registry({})
    cameras.record(["x", "y"], now_s=10.0)

    def events(camera_id: str) -> float | None:
        return registry.get_sample_value("alpr_camera_events_total", {"camera_id": camera_id})

    assert (events("x"), events("other")) == (1.0, 1.0)


def test_every_registered_camera_is_exported_and_a_removed_one_goes() -> None:
    registry = CollectorRegistry()
    cameras = CameraMetrics(registry)
    off = CameraState("site-2", enabled=False, since_s=70.0)
    cameras.use_registry({**registered("a"), "b": off})

    def since(camera_id: str, site_id: str, enabled: str) -> float | None:
        labels = {"camera_id": camera_id, "site_id": site_id, "enabled": enabled}
        return registry.get_sample_value("alpr_camera_registered_since_timestamp_seconds", labels)

    assert (since("a", "site-1", "true"), since("b", "site-2", "false")) == (50.0, 70.0)
    cameras.use_registry({"b": CameraState("site-2", enabled=True, since_s=90.0)})
    assert (since("a", "site-1", "true"), since("b", "site-2", "false")) == (None, None)
    assert since("b", "site-2", "true") == 90.0
