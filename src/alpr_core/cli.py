"""The one command-line entry point: ``alpr migrate | storage | simulate | retention``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import psycopg
import typer
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient

from alpr_core.config import Settings
from alpr_core.db.migrate import migrate
from alpr_core.db.retention import apply_retention
from alpr_core.images.object_store import s3_image_store
from alpr_core.logs import configure_logging
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
    run_simulation(publisher, plan, on_progress=_print_progress)


def _print_progress(progress: Progress) -> None:
    rate = progress.sent / progress.elapsed_s if progress.elapsed_s else 0.0
    v1, v2 = progress.version_counts[1], progress.version_counts[2]
    typer.echo(f"sent {progress.sent} events ({rate:.0f}/s; v1 {v1}, v2 {v2})", err=True)


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
