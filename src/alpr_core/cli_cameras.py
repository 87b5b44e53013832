"""``alpr cameras add|list|enable|disable``: the camera registry
(docs/decisions.md#camera-registry)."""

from __future__ import annotations

from typing import Annotated

import psycopg
import typer

from alpr_core.db.cameras import Camera, CameraSpec, list_cameras, set_enabled, upsert_camera
from alpr_core.startup import load_settings

cameras_app = typer.Typer(
    help="Register cameras, list them, enable or disable them.", no_args_is_help=True
)

CameraId = Annotated[str, typer.Argument(help="The camera_id its reads carry.")]


def _connect() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(load_settings("alpr-cameras").db.conninfo(), autocommit=True)


@cameras_app.command("add")
def cameras_add(
    camera_id: CameraId,
    site: Annotated[str, typer.Option(help="The site the camera belongs to.")],
    name: Annotated[str | None, typer.Option(help="A name for people.")] = None,
    direction: Annotated[
        str | None, typer.Option(help="What it faces: a label or a heading, e.g. northbound.")
    ] = None,
    lat: Annotated[float | None, typer.Option(min=-90, max=90, help="Latitude.")] = None,
    lon: Annotated[float | None, typer.Option(min=-180, max=180, help="Longitude.")] = None,
) -> None:
    """Register a camera, or restate one (safe to repeat; leaves it enabled or disabled)."""
    if (lat is None) != (lon is None):
        raise typer.BadParameter("give --lat and --lon together")
    spec = CameraSpec(camera_id, site, name, direction, lat, lon)
    with _connect() as conn:
        camera = upsert_camera(conn, spec)
    typer.echo(f"registered {_line(camera)}")


@cameras_app.command("list")
def cameras_list() -> None:
    """List registered cameras, by site."""
    with _connect() as conn:
        for camera in list_cameras(conn):
            typer.echo(_line(camera))


@cameras_app.command("disable")
def cameras_disable(camera_id: CameraId) -> None:
    """Disable a camera: with INGEST_KNOWN_CAMERAS_ONLY, its reads are rejected."""
    _set_enabled(camera_id, enabled=False)


@cameras_app.command("enable")
def cameras_enable(camera_id: CameraId) -> None:
    """Enable a camera again."""
    _set_enabled(camera_id, enabled=True)


def _set_enabled(camera_id: str, *, enabled: bool) -> None:
    with _connect() as conn:
        found = set_enabled(conn, camera_id, enabled)
    if not found:
        typer.echo(f"no camera {camera_id!r}")
        raise typer.Exit(1)
    typer.echo(f"{'enabled' if enabled else 'disabled'} {camera_id}")


def _line(camera: Camera) -> str:
    state = "enabled " if camera.enabled else "disabled"
    place = f" at {camera.latitude},{camera.longitude}" if camera.latitude is not None else ""
    facing = f" facing {camera.direction}" if camera.direction else ""
    name = f" ({camera.name})" if camera.name else ""
    return f"{camera.camera_id}  site={camera.site_id}  {state}{name}{facing}{place}"
