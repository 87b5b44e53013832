"""``alpr audit verify``: check the audit log's hash chain (docs/decisions.md#audit-chain)."""

from __future__ import annotations

import psycopg
import typer

from alpr_core.db.audit_chain import seal_audit, verify_audit
from alpr_core.startup import load_settings

audit_app = typer.Typer(help="Check the audit log.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    seal_first: bool = typer.Option(
        True, help="Seal the rows written since the last seal, so the check covers them too."
    ),
) -> None:
    """Walk the hash chain; exit 1 and name each changed, deleted or missing row if it breaks."""
    with psycopg.connect(load_settings("alpr-audit").db.conninfo(), autocommit=True) as conn:
        if seal_first:
            seal_audit(conn)
        result = verify_audit(conn)
    for problem in result.problems:
        typer.echo(f"BROKEN: {problem}")
    verdict = "holds" if result.holds else "is broken"
    typer.echo(
        f"the audit chain {verdict}: {result.blocks} blocks, {result.unsealed} rows unsealed"
    )
    if not result.holds:
        raise typer.Exit(1)
