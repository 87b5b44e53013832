"""Watchlist matching in the storage service, from Kafka: reads consumed again by a new consumer
group (a replay) raise the alerts of the entries listed since, and a second replay changes no
alert, alert read or outbox row."""

from __future__ import annotations

import psycopg

from alpr_core.config import Settings
from alpr_core.db.alerts import entries_version
from alpr_core.images.object_store import ObjectImageStore
from tests.integration.conftest import db_scalar, running_storage, wait_until
from tests.integration.helpers import simulate

N = 200
COUNTS = (
    "SELECT (SELECT count(*) FROM alerts) * 1000000 + (SELECT count(*) FROM alert_reads) * 1000"
    " + (SELECT count(*) FROM alert_outbox)"
)


def _group(settings: Settings, suffix: str) -> Settings:
    kafka = settings.kafka.model_copy(update={"group_id": f"{settings.kafka.group_id}-{suffix}"})
    alert = settings.alert.model_copy(update={"refresh_s": 0})
    return settings.model_copy(update={"kafka": kafka, "alert": alert})


LIST = {"list": "l", "priority": "warning"}


def test_consumed_reads_raise_alerts_once(settings: Settings, images: ObjectImageStore) -> None:
    simulate(settings, N, inline_share=0.0, seed=11)
    with running_storage(settings):
        wait_until(lambda: db_scalar(settings, "SELECT count(*) FROM plate_detections") == N)
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        plate, reads = conn.execute(
            "SELECT plate_normalized, count(*) FROM plate_detections"
            " GROUP BY plate_normalized ORDER BY count(*) DESC, plate_normalized LIMIT 1"
        ).fetchone() or ("", 0)
        conn.execute(
            "WITH l AS (INSERT INTO watchlists (name, priority, owner)"
            " VALUES ('l', 'warning', 'o') RETURNING id)"
            " INSERT INTO watchlist_entries (watchlist_id, plate, plate_normalized, match_mode)"
            " SELECT id, %s, %s, 'exact' FROM l",
            (plate, plate),
        )
    assert reads > 0

    with running_storage(_group(settings, "replay")) as replay:
        wait_until(
            lambda: db_scalar(settings, "SELECT count(*) FROM alert_reads") == reads,
            what=f"{reads} reads of {plate} in alerts",
        )
        wait_until(lambda: replay.metric("alpr_duplicate_events_total") == N, what="the replay")
    alerts = db_scalar(settings, "SELECT count(*) FROM alerts")
    assert 1 <= alerts <= reads
    assert replay.metric("alpr_alerts_total", LIST) == alerts
    assert db_scalar(settings, "SELECT count(*) FROM alert_outbox") == alerts
    before = db_scalar(settings, COUNTS)

    with running_storage(_group(settings, "again")) as again:
        wait_until(lambda: again.metric("alpr_duplicate_events_total") == N, what="replay 2")
    assert again.metric("alpr_alerts_total", LIST) == 0
    assert db_scalar(settings, COUNTS) == before


def test_every_change_to_the_lists_changes_the_version(settings: Settings) -> None:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        seen = [entries_version(conn)]
        row = conn.execute(
            "INSERT INTO watchlists (name, priority, owner) VALUES ('v', 'info', 'o') RETURNING id"
        ).fetchone()
        assert row is not None
        changes = [
            (
                "INSERT INTO watchlist_entries (watchlist_id, plate, plate_normalized, match_mode)"
                " VALUES (%s, 'AB12CDE', 'AB12CDE', 'exact')",
                (row[0],),
            ),
            ("UPDATE watchlist_entries SET reason = 'stolen'", ()),
            ("UPDATE watchlists SET name = 'w'", ()),
            ("DELETE FROM watchlist_entries", ()),
            ("DELETE FROM watchlists", ()),
        ]
        seen.append(entries_version(conn))
        for statement, params in changes:
            conn.execute(statement, params)
            seen.append(entries_version(conn))
    assert len(set(seen)) == len(seen)
