"""The per-process view of the camera registry: a set lookup per read, reloaded when stale."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from alpr_core.db.cameras import CameraState
from alpr_core.errors import RejectReason, TransientError
from alpr_core.storage.known_cameras import KnownCameras

ENABLED = CameraState("site-1", enabled=True, since_s=100.0)
REGISTRY = {"cam-1": ENABLED, "cam-2": CameraState("site-2", enabled=False, since_s=200.0)}


class Loads:
    """A registry that counts its loads and can be changed or made unreachable."""

    def __init__(self, states: Mapping[str, CameraState]) -> None:
        self.states = dict(states)
        self.count = 0
        self.down = False

    def __call__(self) -> Mapping[str, CameraState]:
        if self.down:
            raise TransientError("database: down")
        self.count += 1
        return self.states


class Clock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def known(loads: Loads, clock: Clock, *, enforce: bool = True, **kwargs: Any) -> KnownCameras:
    cameras = KnownCameras(loads, enforce=enforce, refresh_s=5.0, clock=clock, **kwargs)
    cameras.refresh_if_stale()
    return cameras


@pytest.mark.parametrize(
    ("camera_id", "refused"),
    [
        pytest.param("cam-1", False, id="registered and enabled"),
        pytest.param("cam-2", True, id="disabled"),
        pytest.param("cam-3", True, id="not registered"),
        pytest.param("", True, id="empty"),
        pytest.param("cam-1 ", True, id="near miss"),
        pytest.param("\x00" * 10_000, True, id="long and binary"),
        pytest.param(None, True, id="not text"),
        pytest.param(["cam-1"], True, id="unhashable"),
    ],
)
def test_only_registered_enabled_cameras_pass(camera_id: object, refused: bool) -> None:
    cameras = known(Loads(REGISTRY), Clock())
    refusal = cameras.refusal(camera_id)
    assert (refusal is not None) == refused
    if refusal is not None:
        assert refusal.reason == RejectReason.UNKNOWN_CAMERA


def test_without_enforcement_nothing_is_refused() -> None:
    cameras = known(Loads(REGISTRY), Clock(), enforce=False)
    assert cameras.refusal("cam-3") is None
    assert cameras.refusal("cam-2") is None


def test_the_view_is_reloaded_only_when_stale() -> None:
    loads, clock = Loads(REGISTRY), Clock()
    cameras = known(loads, clock)
    loads.states["cam-3"] = ENABLED
    clock.now_s = 4.9
    cameras.refresh_if_stale()
    assert (loads.count, cameras.refusal("cam-3") is None) == (1, False)
    clock.now_s = 5.0
    cameras.refresh_if_stale()
    assert (loads.count, cameras.refusal("cam-3") is None) == (2, True)


def test_a_failed_load_is_transient_and_retried_on_the_next_call() -> None:
    loads, clock = Loads(REGISTRY), Clock()
    cameras = known(loads, clock)
    loads.down = True
    clock.now_s = 10.0
    with pytest.raises(TransientError):
        cameras.refresh_if_stale()
    assert cameras.refusal("cam-1") is None  # the last view stays
    loads.down = False
    cameras.refresh_if_stale()
    assert loads.count == 2


def test_without_enforcement_a_failed_load_keeps_the_last_view_and_the_write() -> None:
    loads, clock = Loads(REGISTRY), Clock()
    seen: list[Mapping[str, CameraState]] = []
    cameras = known(loads, clock, enforce=False, on_load=seen.append)
    loads.down = True
    clock.now_s = 10.0
    cameras.refresh_if_stale()  # no exception
    assert seen == [REGISTRY]


def test_each_load_hands_every_registered_camera_to_the_metrics() -> None:
    seen: list[Mapping[str, CameraState]] = []
    known(Loads(REGISTRY), Clock(), on_load=seen.append)
    assert seen == [REGISTRY]
