"""The camera registry: cameras an operator registered, each at one site, enabled or not.

Adding a camera is an upsert, safe to repeat; cameras are disabled, never deleted (stored reads
refer to them). See docs/decisions.md#camera-registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

import psycopg
from psycopg.rows import class_row

from alpr_core.db.api_keys import ApiKey

CAMERA_COLUMNS: LiteralString = (
    "camera_id, site_id, name, direction, latitude, longitude, enabled, created_at, updated_at"
)
_SPEC_COLUMNS: LiteralString = "site_id, name, direction, latitude, longitude"


@dataclass(frozen=True, slots=True)
class CameraSpec:
    """What an operator states about a camera; the registry adds the rest."""

    camera_id: str
    site_id: str
    name: str | None = None
    direction: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class Camera:
    camera_id: str
    site_id: str
    name: str | None
    direction: str | None
    latitude: float | None
    longitude: float | None
    enabled: bool
    created_at: datetime
    updated_at: datetime


def upsert_camera(conn: psycopg.Connection[Any], spec: CameraSpec) -> Camera:
    """Register ``spec`` or replace what was stated before; ``updated_at`` moves only when
    something changed, and ``enabled`` is left as it was."""
    conn.execute(
        f"INSERT INTO cameras (camera_id, {_SPEC_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)"
        f" ON CONFLICT (camera_id) DO UPDATE SET ({_SPEC_COLUMNS}, updated_at) ="
        " (EXCLUDED.site_id, EXCLUDED.name, EXCLUDED.direction, EXCLUDED.latitude,"
        " EXCLUDED.longitude, now())"
        " WHERE (cameras.site_id, cameras.name, cameras.direction, cameras.latitude,"
        " cameras.longitude) IS DISTINCT FROM (EXCLUDED.site_id, EXCLUDED.name,"
        " EXCLUDED.direction, EXCLUDED.latitude, EXCLUDED.longitude)",
        (spec.camera_id, spec.site_id, spec.name, spec.direction, spec.latitude, spec.longitude),
    )
    camera = get_camera(conn, spec.camera_id)
    assert camera is not None  # just written
    return camera


def get_camera(conn: psycopg.Connection[Any], camera_id: str) -> Camera | None:
    with conn.cursor(row_factory=class_row(Camera)) as cursor:
        return cursor.execute(
            f"SELECT {CAMERA_COLUMNS} FROM cameras WHERE camera_id = %s", (camera_id,)
        ).fetchone()


def list_cameras(conn: psycopg.Connection[Any]) -> list[Camera]:
    with conn.cursor(row_factory=class_row(Camera)) as cursor:
        return cursor.execute(
            f"SELECT {CAMERA_COLUMNS} FROM cameras ORDER BY site_id, camera_id"
        ).fetchall()


def set_enabled(conn: psycopg.Connection[Any], camera_id: str, enabled: bool) -> bool:
    """Enable or disable a camera; False when there is no such camera."""
    changed = conn.execute(
        "UPDATE cameras SET enabled = %s,"
        " updated_at = CASE WHEN enabled = %s THEN updated_at ELSE now() END"
        " WHERE camera_id = %s",
        (enabled, enabled, camera_id),
    ).rowcount
    return changed == 1


@dataclass(frozen=True, slots=True)
class CameraState:
    """What the services keep of a registered camera: its site, whether it is enabled, and when
    it was registered or last changed (Unix time)."""

    site_id: str
    enabled: bool
    since_s: float


def camera_states(conn: psycopg.Connection[Any]) -> dict[str, CameraState]:
    """Every registered camera, by id."""
    rows = conn.execute(
        "SELECT camera_id, site_id, enabled, extract(epoch FROM updated_at) FROM cameras"
    ).fetchall()
    return {
        str(camera_id): CameraState(str(site_id), bool(enabled), float(since))
        for camera_id, site_id, enabled, since in rows
    }


def visible_cameras_query(reader: ApiKey) -> tuple[LiteralString, dict[str, Any]]:
    """The cameras ``reader`` may see: a key limited to sites or cameras sees only those
    (docs/decisions.md#scopes), by the same SQL that reads them."""
    clauses: list[LiteralString] = []
    params: dict[str, Any] = {}
    if reader.sites is not None:
        clauses.append("site_id = ANY(%(scope_sites)s)")
        params["scope_sites"] = reader.sites
    if reader.cameras is not None:
        clauses.append("camera_id = ANY(%(scope_cameras)s)")
        params["scope_cameras"] = reader.cameras
    where: LiteralString = " AND ".join(clauses) if clauses else "TRUE"
    return f"SELECT {CAMERA_COLUMNS} FROM cameras WHERE {where}", params
