"""The one command-line entry point: ``alpr run|migrate|storage|api|keys|simulate|retention``.

Every command starts from the same settings; servers left unset are replaced by their embedded
stand-ins (an embedded PostgreSQL, an image directory) before the command runs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

import httpx
import psycopg
import typer

from alpr_core.all_in_one import RunOptions, run_all
from alpr_core.api.app import create_app
from alpr_core.api.serve import api_server, serve_until_signalled, serve_workers
from alpr_core.cli_audit import audit_app
from alpr_core.cli_cameras import cameras_app
from alpr_core.cli_passes import passes_app
from alpr_core.cli_stats import stats_app
from alpr_core.config import ServiceLoginSettings
from alpr_core.db.api_keys import ROLES, ApiKey, create_key, list_keys, revoke_key, rotate_key
from alpr_core.db.prepare import prepare_database
from alpr_core.db.retention import apply_retention
from alpr_core.images.buckets import ensure_bucket
from alpr_core.images.object_store import image_store
from alpr_core.simulator.edge_uploads import EdgeImageUploader
from alpr_core.simulator.http_publisher import HttpEventPublisher
from alpr_core.simulator.publisher import (
    Progress,
    ReadPublisher,
    SimulationPlan,
    kafka_publisher,
    run_simulation,
)
from alpr_core.startup import load_settings
from alpr_core.storage.service import run_storage

app = typer.Typer(
    help="alpr-core: store, serve and watch licence-plate reads.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command("run")
def run_command(
    simulate_rate: Annotated[
        float,
        typer.Option(
            help="Simulated events per second; 0 for no simulator. Without Kafka, the ingest"
            " rate limit (API_INGEST_RATE_PER_S) is raised to 1.5 times this if lower."
        ),
    ] = 50,
    cameras: Annotated[int, typer.Option(help="Number of simulated cameras.")] = 4,
    report_every: Annotated[float, typer.Option(help="Seconds between flow reports.")] = 5,
    listed_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of simulated vehicles carrying a plate from the watchlists' exact and"
            " fuzzy entries, so that alerts fire.",
        ),
    ] = 0.05,
) -> None:
    """Run everything in one process: storage path, query API, simulator (Ctrl-C stops)."""
    options = RunOptions(simulate_rate, cameras, report_every, listed_share)
    run_all(load_settings("alpr-run"), options, typer.echo)


@app.command("migrate")
def migrate_command() -> None:
    """Apply the database migrations that are missing (run before the services start), set the
    audit log's retention (AUDIT_RETENTION_DAYS), then make or update the services' logins whose
    passwords are set (DB_WRITER_PASSWORD, DB_READER_PASSWORD)."""
    prepared = prepare_database(load_settings("migrate"), ServiceLoginSettings())
    names = [m.name for m in prepared.applied]
    typer.echo(f"applied {len(prepared.applied)} migration(s): {names}")
    if prepared.logins:
        typer.echo(f"service logins: {', '.join(prepared.logins)}")


@app.command("storage")
def storage_command() -> None:
    """Run the storage service: Kafka → PostgreSQL + S3, metrics and /health on port 8002."""
    settings = load_settings("kafka-consumer")
    if not settings.kafka.enabled:
        raise typer.BadParameter(
            "KAFKA_BOOTSTRAP_SERVERS is not set. Without Kafka, events are posted to the API's"
            " POST /events (`alpr run` or `alpr api`)."
        )
    run_storage(settings)


@app.command("simulate")
def simulate_command(
    rate: Annotated[float, typer.Option(help="Events per second; 0 for as fast as possible.")] = 50,
    cameras: Annotated[int, typer.Option(help="Number of simulated cameras.")] = 4,
    duration: Annotated[float | None, typer.Option(help="Seconds to run.")] = None,
    count: Annotated[int | None, typer.Option(help="Events to send.")] = None,
    inline_share: Annotated[
        float, typer.Option(help="Share of version-2 events with an inline JPEG (0-1).")
    ] = 0.5,
    seed: Annotated[int | None, typer.Option(help="Random seed, for repeatable runs.")] = None,
    upload_edge_images: Annotated[
        bool, typer.Option(help="Upload version-1 crops to the bucket first, as edges do.")
    ] = True,
    api_url: Annotated[
        str, typer.Option(help="Without Kafka: the API that takes POST /events.")
    ] = "http://127.0.0.1:8000",
    api_key: Annotated[
        str, typer.Option(envvar="ALPR_API_KEY", help="Without Kafka: a key with the ingest role.")
    ] = "",
) -> None:
    """Publish synthetic plate reads like field edges do: through Kafka and the registry, or
    without Kafka, to the API's POST /events."""
    settings = load_settings("simulator")
    if duration is None and count is None:
        duration = 60.0
    plan = SimulationPlan(rate, cameras, duration, count, inline_share, seed)
    uploader = None
    if upload_edge_images:
        ensure_bucket(settings.object_store)
        uploader = EdgeImageUploader(image_store(settings), settings.object_store.bucket, seed)
    with httpx.Client(base_url=api_url, timeout=30) as client:
        publisher: ReadPublisher = (
            kafka_publisher(settings)
            if settings.kafka.enabled
            else HttpEventPublisher(client, api_key)
        )
        run_simulation(publisher, plan, on_progress=_print_progress, before_publish=uploader)


def _print_progress(progress: Progress) -> None:
    rate = progress.sent / progress.elapsed_s if progress.elapsed_s else 0.0
    v1, v2 = progress.version_counts[1], progress.version_counts[2]
    typer.echo(f"sent {progress.sent} events ({rate:.0f}/s; v1 {v1}, v2 {v2})", err=True)


keys = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys, name="keys")
app.add_typer(cameras_app, name="cameras")
app.add_typer(audit_app, name="audit")
app.add_typer(passes_app, name="passes")
app.add_typer(stats_app, name="stats")


_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str | None) -> timedelta | None:
    """``30d``, ``12h``, ``15m`` or ``90s``; None for no expiry."""
    if text is None:
        return None
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise typer.BadParameter(f"{text!r}: use a number and d, h, m or s, e.g. 90d")
    return timedelta(seconds=int(match[1]) * _UNIT_S[match[2]])


ExpiresIn = Annotated[
    str | None, typer.Option(help="The key stops working after this long, e.g. 90d or 12h.")
]


@keys.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    role: Annotated[
        str, typer.Option(help="viewer, analyst, admin, ingest or watchlist.")
    ] = "viewer",
    site: Annotated[list[str] | None, typer.Option(help="Limit the key to this site.")] = None,
    camera: Annotated[list[str] | None, typer.Option(help="Limit the key to this camera.")] = None,
    expires_in: ExpiresIn = None,
) -> None:
    """Create a key and print its token once (only a hash of it is stored)."""
    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}")
    with psycopg.connect(load_settings("alpr-keys").db.conninfo(), autocommit=True) as conn:
        key, token = create_key(conn, name, role, site, camera, _duration(expires_in))
    typer.echo(f"created key {key.id} ({key.role}) for {key.name}")
    typer.echo(token)


@keys.command("rotate")
def keys_rotate(
    key_id: Annotated[UUID, typer.Argument(help="The key to replace.")],
    grace: Annotated[str, typer.Option(help="How long the old key keeps working.")] = "0s",
    expires_in: ExpiresIn = None,
) -> None:
    """Make a new key with the old one's name, role and scope, and print its token once; the
    old key stops working after the grace period."""
    with psycopg.connect(load_settings("alpr-keys").db.conninfo(), autocommit=True) as conn:
        rotated = rotate_key(conn, key_id, _duration(grace) or timedelta(0), _duration(expires_in))
    if rotated is None:
        typer.echo(f"no valid key {key_id}")
        raise typer.Exit(1)
    key, token = rotated
    typer.echo(f"created key {key.id} ({key.role}) for {key.name}, replacing {key_id}")
    typer.echo(token)


@keys.command("list")
def keys_list() -> None:
    """List keys (never their tokens): state, expiry and when each was last used."""
    with psycopg.connect(load_settings("alpr-keys").db.conninfo(), autocommit=True) as conn:
        for key in list_keys(conn):
            typer.echo(f"{key.id}  {key.role:7} {_state(key):22} {key.name}{_scope(key)}")


def _state(key: ApiKey) -> str:
    now = datetime.now(UTC)
    if key.revoked_at:
        return f"revoked {key.revoked_at:%Y-%m-%d}"
    if key.expires_at:
        return f"{'expired' if key.expired(now) else 'expires'} {key.expires_at:%Y-%m-%d %H:%M}"
    used = f" used {key.last_used_at:%Y-%m-%d}" if key.last_used_at else ""
    return "active" + used


def _scope(key: ApiKey) -> str:
    scope = f" sites={key.sites}" if key.sites else ""
    return scope + (f" cameras={key.cameras}" if key.cameras else "")


@keys.command("revoke")
def keys_revoke(key_id: Annotated[UUID, typer.Argument(help="The key's id.")]) -> None:
    """Revoke a key at once; requests with it get 401 from then on."""
    with psycopg.connect(load_settings("alpr-keys").db.conninfo(), autocommit=True) as conn:
        revoked = revoke_key(conn, key_id)
    typer.echo(f"revoked {key_id}" if revoked else f"no active key {key_id}")
    if not revoked:
        raise typer.Exit(1)


@app.command("api")
def api_command() -> None:
    """Run the query API (port 8000): /plates, /docs, /metrics, /health, /ready."""
    settings = load_settings("query-api")
    if settings.api.workers > 1:
        serve_workers(settings.api)
    else:
        serve_until_signalled(api_server(create_app(settings), settings.api))


@app.command("retention")
def retention_command() -> None:
    """Delete rows and stored images older than RETENTION_DAYS, whole partitions at a time."""
    settings = load_settings("retention")
    images = image_store(settings)
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        result = apply_retention(
            conn, images, timedelta(days=settings.retention.days), datetime.now(UTC)
        )
    typer.echo(
        f"dropped {result.partitions_dropped} partition(s), "
        f"deleted {result.images_deleted} image(s) and {result.plate_texts_deleted} plate text(s)"
    )


def main() -> None:
    app()
