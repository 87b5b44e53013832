"""Least privilege in PostgreSQL: the storage service's and the API's logins (migration 0016,
``db/roles.py``) do their work, and the server refuses them everything else."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import errors
from psycopg_pool import ConnectionPool

from alpr_core.api.app import create_app
from alpr_core.config import DatabaseSettings, Settings
from alpr_core.db.audit_chain import verify_audit
from alpr_core.db.plate_texts import index_pending_plates
from alpr_core.db.retention import apply_retention
from alpr_core.db.roles import ServiceLogin, ensure_login
from alpr_core.events.avro import DecodedEvent
from alpr_core.events.parse import parse_event
from alpr_core.images.object_store import ObjectImageStore, edge_uploads_of
from alpr_core.jobs.audit import AuditKeeper
from alpr_core.simulator.events import SimulatedRead
from alpr_core.storage.known_cameras import KnownCameras, registry_loader
from alpr_core.storage.sink import DetectionSink
from tests.integration.api.conftest import LIMITS, Keys, as_key
from tests.integration.api.test_events import event
from tests.integration.conftest import admin_conninfo, db_scalar


@dataclass(frozen=True)
class Logins:
    owner: Settings
    writer: Settings
    reader: Settings


def _as(settings: Settings, user: str) -> Settings:
    db: DatabaseSettings = settings.db.model_copy(update={"user": user})
    return settings.model_copy(update={"db": db})


@pytest.fixture
def logins(settings: Settings) -> Iterator[Logins]:
    suffix = uuid.uuid4().hex[:8]
    made = [
        ServiceLogin(f"alpr_storage_{suffix}", "writer-secret", "alpr_writer"),
        ServiceLogin(f"alpr_api_{suffix}", "reader-secret", "alpr_reader"),
    ]
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        for login in made:
            ensure_login(conn, login)
    try:
        yield Logins(settings, _as(settings, made[0].user), _as(settings, made[1].user))
    finally:
        with psycopg.connect(admin_conninfo(settings), autocommit=True) as conn:
            for login in made:
                conn.execute(f'DROP ROLE IF EXISTS "{login.user}"')


def _refused(settings: Settings, statement: str) -> None:
    with (
        psycopg.connect(settings.db.conninfo(), autocommit=True) as conn,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        conn.execute(statement.encode())


def _runs(settings: Settings, statement: str) -> None:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        conn.execute(statement.encode())


def _todays_partition(owner: Settings) -> str:
    today = datetime.now(UTC).date()
    with psycopg.connect(owner.db.conninfo(), autocommit=True) as conn:
        conn.execute("SELECT alpr_ensure_partitions(%s, %s)", (today, today))
    return f"plate_detections_p{today:%Y%m%d}"


def test_a_login_is_made_once_and_belongs_to_its_group_alone(settings: Settings) -> None:
    user = f"alpr_moved_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
            ensure_login(conn, ServiceLogin(user, "first", "alpr_writer"))
            ensure_login(conn, ServiceLogin(user, "second", "alpr_reader"))
            groups = conn.execute(
                "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
                " JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
                (user,),
            ).fetchall()
            secret = conn.execute(
                "SELECT rolcreaterole OR rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = %s",
                (user,),
            ).fetchone()
        assert groups == [("alpr_reader",)]
        assert secret == (False,)
    finally:
        with psycopg.connect(admin_conninfo(settings), autocommit=True) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{user}"')


def test_the_api_serves_audits_and_ingests_as_the_reader(
    logins: Logins, stored: list[DecodedEvent], keys: Keys, images: ObjectImageStore
) -> None:
    audited_before = db_scalar(logins.owner, "SELECT count(*) FROM audit_log")
    with TestClient(create_app(logins.reader)) as client:
        page = client.get("/plates?limit=5", headers=as_key(keys.viewer))
        posted = client.post("/events", json=[event()], headers=as_key(keys.ingest))
    assert page.status_code == 200
    assert len(page.json()["items"]) == 5
    assert posted.status_code == 202, posted.text
    assert posted.json()["stored"] == 1
    assert db_scalar(logins.owner, "SELECT count(*) FROM audit_log") > audited_before
    assert db_scalar(logins.owner, "SELECT count(*) FROM plate_detections") == len(stored) + 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET status = 200",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE plate_detections SET confidence = 0",  # only a read's text may be corrected
        "DELETE FROM plate_detections",
        "UPDATE api_keys SET role = 'admin'",
        "INSERT INTO api_keys (name, key_hash, role) VALUES ('x', '\\x00', 'admin')",
        "INSERT INTO cameras (camera_id, site_id) VALUES ('cam-x', 'site-x')",
        "SELECT alpr_drop_expired_partition(now() + interval '1 day', 'public', 'api_keys')",
        "DROP TABLE plate_detections",
        "UPDATE audit_policy SET retention_days = 1",
        "UPDATE audit_chain SET seq = 0",
        "DELETE FROM audit_seals",
        "SELECT alpr_ensure_audit_partitions(current_date, current_date + 3000)",
        "DROP TABLE audit_log_default",
    ],
)
def test_the_reader_is_refused_outside_its_rights(logins: Logins, statement: str) -> None:
    _refused(logins.reader, statement)


def test_the_reader_may_append_audit_rows_and_mark_a_key_used(logins: Logins) -> None:
    _runs(
        logins.reader,
        "INSERT INTO audit_log (key_name, method, path, status) VALUES"
        " ('k', 'GET', '/plates', 200)",
    )
    _runs(logins.reader, "UPDATE api_keys SET last_used_at = now()")
    with psycopg.connect(logins.reader.db.conninfo(), autocommit=True) as conn:
        index_pending_plates(conn)  # the API keeps the dictionary of the reads it stores


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT count(*) FROM audit_log",
        "INSERT INTO audit_log (key_name, method, path, status) VALUES ('k', 'GET', '/', 200)",
        "SELECT count(*) FROM api_keys",
        "UPDATE plate_detections SET plate_text = 'X'",
        "DELETE FROM plate_detections",
        "TRUNCATE plate_detections",
        "UPDATE cameras SET enabled = false",
    ],
)
def test_the_writer_is_refused_outside_its_rights(logins: Logins, statement: str) -> None:
    _refused(logins.writer, statement)


def test_the_writer_drops_only_expired_partitions(logins: Logins) -> None:
    partition = _todays_partition(logins.owner)
    _refused(logins.writer, f'DROP TABLE "{partition}"')
    _refused(
        logins.writer,
        f"SELECT alpr_drop_expired_partition(now() - interval '1 day', 'public', '{partition}')",
    )
    _refused(
        logins.writer,
        "SELECT alpr_drop_expired_partition(now() + interval '1 day', 'public', 'api_keys')",
    )


def test_retention_runs_as_the_writer(logins: Logins, images: ObjectImageStore) -> None:
    old_day = datetime.now(UTC).date() - timedelta(days=40)
    with psycopg.connect(logins.owner.db.conninfo(), autocommit=True) as conn:
        conn.execute("SELECT alpr_ensure_partitions(%s, %s)", (old_day, old_day))
    old = f"plate_detections_p{old_day:%Y%m%d}"
    with psycopg.connect(logins.writer.db.conninfo(), autocommit=True) as conn:
        result = apply_retention(conn, images, timedelta(days=30), datetime.now(UTC))
    assert result.partitions_dropped >= 1
    assert db_scalar(logins.owner, f"SELECT count(*) FROM pg_class WHERE relname = '{old}'") == 0


def test_the_storage_path_writes_and_indexes_as_the_writer(
    logins: Logins, simulated: list[SimulatedRead], images: ObjectImageStore
) -> None:
    events = [DecodedEvent(parse_event(r.record, LIMITS, datetime.now(UTC)), 1) for r in simulated]
    with ConnectionPool(logins.writer.db.conninfo(), min_size=1, max_size=1) as pool:
        cameras = KnownCameras(registry_loader(pool), enforce=False)
        sink = DetectionSink(pool, images, 8, edge_uploads_of(logins.writer), cameras=cameras)
        sink.write(events)
        sink.close()
        with pool.connection() as conn:
            conn.autocommit = True
            indexed = index_pending_plates(conn)
    assert db_scalar(logins.owner, "SELECT count(*) FROM plate_detections") == len(events)
    assert indexed > 0
    assert db_scalar(logins.owner, "SELECT count(*) FROM plate_texts") > 0


def test_the_api_seals_and_expires_the_audit_log_as_the_reader(logins: Logins) -> None:
    _runs(
        logins.reader,
        "INSERT INTO audit_log (at, key_name, method, path, status)"
        " VALUES (now() - interval '2 minutes', 'k', 'GET', '/', 200)",
    )
    AuditKeeper(logins.reader.db.conninfo(), interval_s=1).run_once()
    with psycopg.connect(logins.owner.db.conninfo(), autocommit=True) as conn:
        result = verify_audit(conn)
    assert (result.holds, result.blocks, result.unsealed) == (True, 1, 0)
