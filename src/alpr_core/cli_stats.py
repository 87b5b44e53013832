"""``alpr stats rebuild``: make the plate sketches of ``GET /stats`` again from the stored reads
(docs/decisions.md#plate-sketches)."""

from __future__ import annotations

import time

import typer

from alpr_core.db.plate_sketches import rebuild_sketches
from alpr_core.startup import load_settings

stats_app = typer.Typer(help="Statistics.", no_args_is_help=True)


@stats_app.command("rebuild")
def stats_rebuild() -> None:
    """Delete the unique- and frequent-plate sketches and make them again from every stored
    read. Run it once after the upgrade that brings them to a database that already holds
    reads, with the storage service stopped (reads stored meanwhile would count twice)."""
    settings = load_settings("alpr-stats")
    started = time.perf_counter()
    reads, sketches = rebuild_sketches(settings.db.conninfo())
    seconds = time.perf_counter() - started
    typer.echo(f"{sketches} sketches from {reads} reads in {seconds:.0f} s")
