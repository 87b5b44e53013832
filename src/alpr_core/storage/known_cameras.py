"""The camera registry as each process sees it: the ids in ``cameras``, reloaded when stale, so
checking a read's camera is a set lookup, not a query (docs/decisions.md#camera-registry).

With ``enforce`` (``INGEST_KNOWN_CAMERAS_ONLY``), a read from a camera that is not registered, or
is disabled, is refused as ``unknown_camera``. Either way each load is handed to ``on_load``, so
the per-camera metrics label registered cameras alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

import psycopg
import structlog
from psycopg_pool import ConnectionPool, PoolTimeout

from alpr_core.db.cameras import CameraState, camera_states
from alpr_core.errors import RejectedEvent, RejectReason, TransientError

REFRESH_S = 5.0  # how stale a process's view of the registry may get
_UNKNOWN_DETAIL = "camera_id is not a registered, enabled camera"
log = structlog.get_logger("alpr.storage")


class KnownCameras:
    def __init__(
        self,
        load: Callable[[], Mapping[str, CameraState]],
        *,
        enforce: bool,
        on_load: Callable[[Mapping[str, CameraState]], None] = lambda _registered: None,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``load``: every registered camera by id; it raises TransientError when the registry
        cannot be read now."""
        self._load = load
        self._enforce = enforce
        self._on_load = on_load
        self._refresh_s = refresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._enabled: frozenset[str] = frozenset()
        self._loaded_at: float | None = None

    def refresh_if_stale(self) -> None:
        """Reload when the view is older than ``refresh_s`` (one thread loads, others wait).
        A failed load raises when enforcing; otherwise only the metrics depend on the view, so
        the last one is kept and the write goes on."""
        if not self._stale():
            return
        with self._lock:
            if not self._stale():
                return
            try:
                states = self._load()
            except (TransientError, psycopg.Error) as error:
                if self._enforce:
                    raise
                log.warning("camera registry unreadable", error_class=type(error).__name__)
                self._loaded_at = self._clock()
                return
            self._enabled = frozenset(camera for camera, state in states.items() if state.enabled)
            self._loaded_at = self._clock()
            self._on_load(states)

    def refusal(self, camera_id: object) -> RejectedEvent | None:
        """The rejection for a read of ``camera_id``, or None when it may be stored."""
        if not self._enforce:
            return None
        known = isinstance(camera_id, str) and camera_id in self._enabled
        return None if known else RejectedEvent(RejectReason.UNKNOWN_CAMERA, _UNKNOWN_DETAIL)

    def _stale(self) -> bool:
        loaded_at = self._loaded_at
        return loaded_at is None or self._clock() - loaded_at >= self._refresh_s


def registry_loader(pool: ConnectionPool) -> Callable[[], Mapping[str, CameraState]]:
    """Read the registry through ``pool``; an unreachable database is transient."""

    def load() -> Mapping[str, CameraState]:
        try:
            with pool.connection() as conn:
                return camera_states(conn)
        except (psycopg.OperationalError, PoolTimeout) as error:
            raise TransientError(f"database: {error}") from error

    return load
