"""The one command-line entry point: ``alpr migrate|storage|api|keys|simulate|retention``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

import psycopg
import typer
import uvicorn
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.db.api_keys import ROLES, create_key, list_keys, revoke_key
from alpr_core.db.migrate import migrate
from alpr_core.db.retention import apply_retention
from alpr_core.images.buckets import ensure_bucket
from alpr_core.images.object_store import s3_image_store
from alpr_core.logs import configure_logging
from alpr_core.simulator.edge_uploads import EdgeImageUploader
from alpr_core.simulator.publisher import EventPublisher, Progress, SimulationPlan, run_simulation
from alpr_core.storage.service import run_storage

app = typer.Typer(
    help="alpr-core: store, serve and watch licence-plate reads.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _settings() -> Settings:
    settings = Settings.load()
    configure_logging(settings.log.level, settings.log.plate_text)
    return settings


@app.command("migrate")
def migrate_command() -> None:
    """Apply the database migrations that are missing (run before the services start)."""
    applied = migrate(_settings().db.conninfo())
    typer.echo(f"applied {len(applied)} migration(s): {[m.name for m in applied]}")


@app.command("storage")
def storage_command() -> None:
    """Run the storage service: Kafka → PostgreSQL + S3, metrics and /health on port 8002."""
    run_storage(_settings())


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
) -> None:
    """Publish synthetic plate reads like field edges do, through Kafka and the registry."""
    settings = _settings()
    if duration is None and count is None:
        duration = 60.0
    publisher = EventPublisher(
        Producer({"bootstrap.servers": settings.kafka.bootstrap_servers, "linger.ms": 20}),
        SchemaRegistryClient({"url": settings.registry.url}),
        settings.kafka.topic,
    )
    plan = SimulationPlan(rate, cameras, duration, count, inline_share, seed)
    uploader = None
    if upload_edge_images:
        ensure_bucket(settings.object_store)
        uploader = EdgeImageUploader(
            s3_image_store(settings.object_store), settings.object_store.bucket, seed
        )
    run_simulation(publisher, plan, on_progress=_print_progress, before_publish=uploader)


def _print_progress(progress: Progress) -> None:
    rate = progress.sent / progress.elapsed_s if progress.elapsed_s else 0.0
    v1, v2 = progress.version_counts[1], progress.version_counts[2]
    typer.echo(f"sent {progress.sent} events ({rate:.0f}/s; v1 {v1}, v2 {v2})", err=True)


keys = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys, name="keys")


@keys.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    role: Annotated[str, typer.Option(help="viewer, admin or ingest.")] = "viewer",
    site: Annotated[list[str] | None, typer.Option(help="Limit the key to this site.")] = None,
    camera: Annotated[list[str] | None, typer.Option(help="Limit the key to this camera.")] = None,
) -> None:
    """Create a key and print its token once (only a hash of it is stored)."""
    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}")
    with psycopg.connect(_settings().db.conninfo(), autocommit=True) as conn:
        key, token = create_key(conn, name, role, site, camera)
    typer.echo(f"created key {key.id} ({key.role}) for {key.name}")
    typer.echo(token)


@keys.command("list")
def keys_list() -> None:
    """List keys (never their tokens)."""
    with psycopg.connect(_settings().db.conninfo(), autocommit=True) as conn:
        for key in list_keys(conn):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            scope = f" sites={key.sites}" if key.sites else ""
            scope += f" cameras={key.cameras}" if key.cameras else ""
            typer.echo(f"{key.id}  {key.role:7} {state:18} {key.name}{scope}")


@keys.command("revoke")
def keys_revoke(key_id: Annotated[UUID, typer.Argument(help="The key's id.")]) -> None:
    """Revoke a key at once; requests with it get 401 from then on."""
    with psycopg.connect(_settings().db.conninfo(), autocommit=True) as conn:
        revoked = revoke_key(conn, key_id)
    typer.echo(f"revoked {key_id}" if revoked else f"no active key {key_id}")
    if not revoked:
        raise typer.Exit(1)


@app.command("api")
def api_command() -> None:
    """Run the query API (port 8000): /plates, /docs, /metrics, /health, /ready."""
    settings = _settings()
    uvicorn.run(create_app(settings), host=settings.api.host, port=settings.api.port,
                log_config=None, access_log=False)  # fmt: skip


@app.command("retention")
def retention_command() -> None:
    """Delete rows and stored images older than RETENTION_DAYS, whole partitions at a time."""
    settings = _settings()
    images = s3_image_store(settings.object_store)
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        result = apply_retention(
            conn, images, timedelta(days=settings.retention.days), datetime.now(UTC)
        )
    typer.echo(
        f"dropped {result.partitions_dropped} partition(s), "
        f"deleted {result.images_deleted} image(s)"
    )


def main() -> None:
    app()
