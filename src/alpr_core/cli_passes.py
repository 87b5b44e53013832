"""``alpr passes rebuild``: make the vehicle passes again from the stored reads
(docs/decisions.md#passes)."""

from __future__ import annotations

import time
from datetime import timedelta

import typer

from alpr_core.db.passes import rebuild_passes
from alpr_core.startup import load_settings

passes_app = typer.Typer(help="Vehicle passes.", no_args_is_help=True)


@passes_app.command("rebuild")
def passes_rebuild() -> None:
    """Delete every pass and make them again from every stored read, in time order, with
    PASS_GAP_S. Run it once after an upgrade that brings passes to a database that already holds
    reads, with the storage service stopped (reads stored meanwhile would count twice)."""
    settings = load_settings("alpr-passes")
    started = time.perf_counter()
    reads, passes = rebuild_passes(settings.db.conninfo(), timedelta(seconds=settings.passes.gap_s))
    seconds = time.perf_counter() - started
    typer.echo(f"{passes} passes from {reads} reads in {seconds:.0f} s")
