"""The audit log's hash chain and retention on the real server (migration 0017): sealing, every
kind of tampering found by ``alpr audit verify``, months dropped without breaking the chain, and
the rows of an older database carried over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from alpr_core.cli import app
from alpr_core.config import Settings
from alpr_core.db.audit_chain import (
    SEAL_BATCH,
    expire_audit,
    seal_audit,
    set_audit_retention,
    verify_audit,
)
from alpr_core.db.migrate import migrate
from tests.integration.conftest import db_scalar

INSERT = (
    "INSERT INTO audit_log (at, key_name, method, path, params, status, result_count)"
    " VALUES (%s, 'test key', 'GET', '/plates/search', %s, 200, 1)"
)


def write_rows(settings: Settings, count: int, at: datetime | None = None) -> None:
    """``count`` audit rows, written (by default) long enough ago to be sealed: the sealer
    waits a minute after a row's statement began."""
    settled = datetime.now(UTC) - timedelta(minutes=2)
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        for n in range(count):
            params = psycopg.types.json.Jsonb({"plate_text": [f"AB{n}"]})
            conn.execute(INSERT, (at or settled, params))


def owner(settings: Settings) -> psycopg.Connection[Any]:
    return psycopg.connect(settings.db.conninfo(), autocommit=True)


def problems(settings: Settings) -> list[str]:
    with owner(settings) as conn:
        seal_audit(conn)
        return verify_audit(conn).problems


def blocks(settings: Settings, count: int) -> list[tuple[int, int]]:
    """``count`` blocks of three rows each, sealed: their id ranges."""
    for _ in range(count):
        write_rows(settings, 3)
        with owner(settings) as conn:
            assert seal_audit(conn) == 3
    rows = owner(settings).execute("SELECT first_id, last_id FROM audit_seals ORDER BY seq")
    return [(int(first), int(last)) for first, last in rows]


def test_sealed_rows_hold_and_each_change_is_found(settings: Settings) -> None:
    ranges = blocks(settings, 4)
    with owner(settings) as conn:
        result = verify_audit(conn)
    assert (result.holds, result.blocks, result.unsealed) == (True, 4, 0)
    second, fourth = ranges[1], ranges[3]

    with owner(settings) as conn:
        conn.execute("UPDATE audit_log SET params = '{}' WHERE id = %s", (second[0],))
    changed = f"rows {second[0]}..{second[1]} (block 2) were changed, deleted or added"
    assert problems(settings) == [changed]

    with owner(settings) as conn:
        conn.execute("DELETE FROM audit_log WHERE id = %s", (fourth[1],))
    assert problems(settings) == [
        changed,
        f"rows {fourth[0]}..{fourth[1]} (block 4) were changed, deleted or added",
    ]
    with owner(settings) as conn:
        conn.execute("DELETE FROM audit_seals WHERE seq IN (3, 4)")
    assert problems(settings) == [
        changed,
        "the chain ends at block 2, its head at 4: the newest are gone",
    ]


def test_a_backlog_is_sealed_block_by_block_with_rests_between(settings: Settings) -> None:
    with owner(settings) as conn:
        conn.execute(
            "INSERT INTO audit_log (at, key_name, method, path, status)"
            " SELECT now() - interval '2 minutes', 'test key', 'GET', '/plates', 200"
            " FROM generate_series(1, %s)",
            (2 * SEAL_BATCH + 1,),
        )
        rests: list[float] = []

        def rest(seconds: float) -> bool:
            rests.append(seconds)
            return len(rests) == 2  # stop after the second block

        assert seal_audit(conn, rest=rest) == 2 * SEAL_BATCH
        assert len(rests) == 2
        assert all(seconds > 0 for seconds in rests)
        assert seal_audit(conn) == 1, "the next run seals the rest"
        result = verify_audit(conn)
    assert (result.holds, result.blocks, result.unsealed) == (True, 3, 0)


def test_rows_join_the_chain_once_settled(settings: Settings) -> None:
    write_rows(settings, 3)
    assert problems(settings) == []
    write_rows(settings, 2, at=datetime.now(UTC))  # their statements began just now
    write_rows(settings, 4)  # settled, but after rows that are not: they wait for them
    with owner(settings) as conn:
        assert seal_audit(conn) == 0
        result = verify_audit(conn)
    assert (result.holds, result.blocks, result.unsealed) == (True, 1, 6)


def test_expired_months_and_stray_rows_go_and_the_chain_still_holds(settings: Settings) -> None:
    old = datetime.now(UTC) - timedelta(days=430)
    stray = datetime.now(UTC) - timedelta(days=800)  # no month partition: the default one
    with owner(settings) as conn:
        conn.execute("SELECT alpr_ensure_audit_partitions(%s, %s)", (old.date(), old.date()))
    write_rows(settings, 5, at=stray)
    write_rows(settings, 6, at=old)
    with owner(settings) as conn:
        seal_audit(conn)  # a block of the rows that will expire
    write_rows(settings, 7)
    with owner(settings) as conn:
        seal_audit(conn)
    old_month = f"audit_log_p{old:%Y%m}"
    assert db_scalar(settings, "SELECT count(*) FROM audit_log_default") == 5
    with owner(settings) as conn:
        set_audit_retention(conn, 365)
        assert expire_audit(conn) == 11
        result = verify_audit(conn)
    assert result.problems == []
    assert result.blocks == 1
    assert db_scalar(settings, "SELECT count(*) FROM audit_seals") == 1
    assert db_scalar(settings, f"SELECT count(*) FROM pg_class WHERE relname = '{old_month}'") == 0
    next_month = (datetime.now(UTC).replace(day=1) + timedelta(days=32)).strftime("%Y%m")
    assert db_scalar(settings, f"SELECT to_regclass('audit_log_p{next_month}') IS NOT NULL") == 1


def test_alpr_audit_verify_exits_1_on_a_broken_chain(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_NAME", settings.db.name)
    write_rows(settings, 4)
    runner = CliRunner()
    holds = runner.invoke(app, ["audit", "verify"])
    assert holds.exit_code == 0, holds.output
    assert "holds: 1 blocks, 0 rows unsealed" in holds.output
    with owner(settings) as conn:
        conn.execute("UPDATE audit_log SET status = 404")
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "were changed, deleted or added" in broken.output


def test_an_older_database_keeps_its_audit_rows(empty_database: Settings) -> None:
    migrate(empty_database.db.conninfo(), up_to=16)
    write_rows(empty_database, 3, at=datetime.now(UTC) - timedelta(days=40))
    write_rows(empty_database, 2)
    before = owner(empty_database).execute("SELECT id, at, params FROM audit_log ORDER BY id")
    rows_before = before.fetchall()
    migrate(empty_database.db.conninfo())
    after = owner(empty_database).execute("SELECT id, at, params FROM audit_log ORDER BY id")
    assert after.fetchall() == rows_before
    write_rows(empty_database, 1)
    newest = db_scalar(empty_database, "SELECT max(id) FROM audit_log")
    assert newest == max(int(row[0]) for row in rows_before) + 1
    assert problems(empty_database) == []
