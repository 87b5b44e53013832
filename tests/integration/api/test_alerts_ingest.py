"""Watchlist matching on HTTP ingest, against the real PostgreSQL: a stored read of a listed
plate opens one alert per pass, with its outbox row in the same transaction; a replay, another
camera, another site or an expired entry behave as the lists say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.images.object_store import ObjectImageStore
from tests.integration.api.alerting import alerts, listed, post, read


def test_reads_of_one_pass_make_one_alert_and_a_replay_changes_nothing(
    alerting_client: TestClient, settings: Settings, ingest_token: str
) -> None:
    entry = listed(settings, "AB12CDE")
    first = read("AB12CDE")
    post(alerting_client, ingest_token, first, read("XY99ZZZ"))
    assert alerts(settings) == [(entry, "cam-001", 1, "new", 1, 1)]

    later = datetime.fromisoformat(first["captured_at"]) + timedelta(seconds=20)
    post(alerting_client, ingest_token, read("AB12CDE", at=later, track_id="another"))
    post(alerting_client, ingest_token, first)  # the first read again: a replay
    assert alerts(settings) == [(entry, "cam-001", 2, "new", 2, 1)]


def test_another_camera_or_a_later_pass_opens_another_alert(
    alerting_client: TestClient, settings: Settings, ingest_token: str
) -> None:
    entry = listed(settings, "AB12CDE")
    start = datetime.now(UTC) - timedelta(hours=3)
    post(alerting_client, ingest_token, read("AB12CDE", at=start, track_id="t1"))
    post(alerting_client, ingest_token, read("AB12CDE", camera="cam-002", at=start, track_id="t1"))
    post(
        alerting_client, ingest_token, read("AB12CDE", at=start + timedelta(hours=2), track_id="t2")
    )
    same_track = start + timedelta(minutes=30)  # past the window, but the pass's own track
    post(alerting_client, ingest_token, read("AB12CDE", at=same_track, track_id="t1"))
    assert [(a[0], a[1], a[2]) for a in alerts(settings)] == [
        (entry, "cam-001", 2),
        (entry, "cam-002", 1),
        (entry, "cam-001", 1),
    ]


def test_fuzzy_entries_match_look_alikes_and_restrictions_hold(
    alerting_client: TestClient, settings: Settings, ingest_token: str
) -> None:
    fuzzy = listed(settings, "AB12CDE", match_mode="fuzzy", max_distance=1)
    listed(settings, "CD34EFG", sites=["site-2"])
    listed(settings, "EF56GHI", cameras=["cam-009"])
    listed(settings, "GH78IJK", valid_until=datetime.now(UTC) - timedelta(minutes=5))
    post(
        alerting_client,
        ingest_token,
        read("A812CDF"),  # a look-alike and one edit
        read("CD34EFG"),  # the event factory's site is site-1
        read("EF56GHI"),
        read("GH78IJK", at=datetime.now(UTC) - timedelta(minutes=10)),
    )
    assert [a[0] for a in alerts(settings)] == [fuzzy]
    metrics = alerting_client.get("/metrics").text
    assert 'alpr_alerts_total{list="stolen",priority="critical"} 1.0' in metrics
    assert "alpr_alert_match_seconds_count 1.0" in metrics


def test_without_matching_no_alert_is_raised(
    settings: Settings, images: ObjectImageStore, ingest_token: str
) -> None:
    listed(settings, "AB12CDE")
    off = settings.model_copy(
        update={"alert": settings.alert.model_copy(update={"matching": False})}
    )
    with TestClient(create_app(off)) as client:
        post(client, ingest_token, read("AB12CDE"))
    assert alerts(settings) == []
