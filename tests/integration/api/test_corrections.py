"""Corrections, tags and notes against real PostgreSQL: a corrected read answers to its new
text everywhere (search, passes, history) and to its old one in search; the original is kept;
scopes hold; every change is audited; a replay changes nothing; retention deletes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key
from alpr_core.db.retention import apply_retention
from alpr_core.events.avro import DecodedEvent
from alpr_core.images.object_store import ObjectImageStore
from tests.integration.api.conftest import Keys, all_pages, as_key, store

NEW_TEXT = "QX 97 JWV"  # no simulated plate: the simulator draws letters and digits apart
NEW_PLATE = "QX97JWV"


@dataclass(frozen=True)
class Analysts:
    everywhere: str
    site_1: str
    site_2: str


@pytest.fixture
def analysts(settings: Settings) -> Analysts:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        return Analysts(
            create_key(conn, "analyst", "analyst")[1],
            create_key(conn, "site 1 analyst", "analyst", sites=["site-1"])[1],
            create_key(conn, "site 2 analyst", "analyst", sites=["site-2"])[1],
        )


def _read_at(stored: list[DecodedEvent], client: TestClient, token: str, site: str) -> Any:
    """A stored read of ``site``, as ``GET /plates/{id}`` shows it."""
    items = all_pages(client, token, "/plates", site=site, limit=100)
    return client.get(f"/plates/{items[0]['id']}", headers=as_key(token)).json()


def _correct(client: TestClient, token: str, read_id: int, text: str, **body: Any) -> Any:
    return client.post(
        f"/plates/{read_id}/corrections",
        json={"plate_text": text, **body},
        headers=as_key(token),
    )


def _found(client: TestClient, token: str, mode: str, term: str) -> list[int]:
    params: dict[str, Any] = {"plate_text": term, "mode": mode, "limit": 100}
    if mode == "fuzzy":
        response = client.get("/plates/search", params=params, headers=as_key(token))
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]
    return [item["id"] for item in all_pages(client, token, "/plates/search", **params)]


def test_a_correction_rewrites_the_read_and_keeps_what_it_read(
    client: TestClient, keys: Keys, analysts: Analysts, stored: list[DecodedEvent]
) -> None:
    read = _read_at(stored, client, keys.viewer, "site-1")
    answer = _correct(client, analysts.everywhere, read["id"], NEW_TEXT, reason="crop shows QX")
    assert answer.status_code == 201, answer.text
    corrected = answer.json()
    assert (corrected["plate_text"], corrected["plate_normalized"]) == ("QX 97 JWV", NEW_PLATE)
    [correction] = corrected["corrections"]
    assert correction["plate_text"] == read["plate_text"]
    assert correction["corrected_text"] == NEW_TEXT
    assert (correction["reason"], correction["key_name"]) == ("crop shows QX", "analyst")
    shown = client.get(f"/plates/{read['id']}", headers=as_key(keys.viewer)).json()
    assert shown == corrected

    again = _correct(client, analysts.everywhere, read["id"], "qx97-jwv")
    assert again.status_code == 409, "the same plate, written otherwise, changes nothing"
    back = _correct(client, analysts.everywhere, read["id"], read["plate_text"])
    assert back.status_code == 201
    texts = [(c["plate_text"], c["corrected_text"]) for c in back.json()["corrections"]]
    assert texts == [(read["plate_text"], NEW_TEXT), (NEW_TEXT, read["plate_text"])]


@pytest.mark.parametrize("mode", ["exact", "prefix", "wildcard", "fuzzy"])
def test_search_finds_a_corrected_read_by_either_text_once(
    client: TestClient, keys: Keys, analysts: Analysts, stored: list[DecodedEvent], mode: str
) -> None:
    read = _read_at(stored, client, keys.viewer, "site-1")
    before = read["plate_normalized"]
    # One edit away, so that every mode's term for one text may match the other too.
    after = before[:-1] + ("X" if before[-1] != "X" else "Y")
    others_before = set(_found(client, keys.viewer, "exact", before)) - {read["id"]}
    assert _correct(client, analysts.everywhere, read["id"], after).status_code == 201

    terms = {
        "exact": (before, after),
        "prefix": (before, after),
        "wildcard": (f"*{before[1:]}", f"*{after[1:]}"),
        "fuzzy": (before, after),
    }[mode]
    for term in terms:
        found = _found(client, keys.viewer, mode, term)
        assert found.count(read["id"]) == 1, (mode, term, found)
    assert set(_found(client, keys.viewer, "exact", before)) == others_before | {read["id"]}
    assert _found(client, keys.viewer, "exact", after) == [read["id"]]
    assert _found(client, keys.site_1_only, mode, terms[0]).count(read["id"]) == 1


def test_passes_and_history_use_the_corrected_text(
    client: TestClient, keys: Keys, analysts: Analysts, stored: list[DecodedEvent]
) -> None:
    read = _read_at(stored, client, keys.viewer, "site-1")
    assert _correct(client, analysts.everywhere, read["id"], NEW_TEXT).status_code == 201
    passes = all_pages(client, keys.viewer, "/passes", camera_id=read["camera_id"])
    [held] = [p for p in passes if p["plate_normalized"] == NEW_PLATE]
    at = datetime.fromisoformat(read["timestamp"])
    assert held["camera_id"] == read["camera_id"]
    assert (
        datetime.fromisoformat(held["first_seen"])
        <= at
        <= datetime.fromisoformat(held["last_seen"])
    )
    assert held["plate_normalized"] == NEW_PLATE
    history = client.get(
        "/plates/history",
        params={"plate_text": NEW_PLATE, "mode": "exact"},
        headers=as_key(keys.viewer),
    ).json()
    assert (history["passes"], [p["plate_normalized"] for p in history["plates"]]) == (
        1,
        [NEW_PLATE],
    )
    assert history["reads"] == held["read_count"]


def test_only_analysts_and_admins_change_reads_and_only_in_their_scope(
    client: TestClient, keys: Keys, analysts: Analysts, stored: list[DecodedEvent]
) -> None:
    site_2 = _read_at(stored, client, keys.viewer, "site-2")
    assert _correct(client, keys.viewer, site_2["id"], NEW_TEXT).status_code == 403
    assert _correct(client, analysts.site_1, site_2["id"], NEW_TEXT).status_code == 404
    for path, body in (("tags", {"tag": "seen"}), ("notes", {"text": "x"})):
        refused = client.post(
            f"/plates/{site_2['id']}/{path}", json=body, headers=as_key(analysts.site_1)
        )
        assert refused.status_code == 404
    unchanged = client.get(f"/plates/{site_2['id']}", headers=as_key(keys.viewer)).json()
    assert unchanged == site_2
    assert _correct(client, keys.admin, site_2["id"], NEW_TEXT).status_code == 201
    for text in ("- -", "A\x00B", "", "A" * 65, "\ufb03" * 20):
        assert _correct(client, keys.admin, site_2["id"], text).status_code == 422, text
    lone_surrogate = client.post(
        f"/plates/{site_2['id']}/corrections",
        content=b'{"plate_text": "A\\ud800B"}',
        headers=as_key(keys.admin) | {"content-type": "application/json"},
    )
    assert lone_surrogate.status_code == 422, lone_surrogate.text


def test_tags_and_notes_are_seen_where_their_read_was_made(
    client: TestClient, keys: Keys, analysts: Analysts, stored: list[DecodedEvent]
) -> None:
    """The same plate read at both sites (one read corrected into the other's plate): a tag or
    note made through the site-1 read is seen by keys of site 1 and by unscoped keys only."""
    site_1 = _read_at(stored, client, keys.viewer, "site-1")
    site_2 = _read_at(stored, client, keys.viewer, "site-2")
    plate = site_1["plate_normalized"]
    assert _correct(client, analysts.everywhere, site_2["id"], plate).status_code == 201

    tagged = client.post(
        f"/plates/{site_1['id']}/tags", json={"tag": "stolen"}, headers=as_key(analysts.site_1)
    )
    assert tagged.status_code == 201, tagged.text
    assert [t["tag"] for t in tagged.json()["tags"]] == ["stolen"]
    noted = client.post(
        f"/plates/{site_1['id']}/notes",
        json={"text": "Reported 3 Dec, case 44"},
        headers=as_key(analysts.site_1),
    )
    assert [(n["body"], n["key_name"]) for n in noted.json()["notes"]] == [
        ("Reported 3 Dec, case 44", "site 1 analyst")
    ]

    def shown(token: str, read_id: int) -> tuple[list[str], list[str]]:
        detail = client.get(f"/plates/{read_id}", headers=as_key(token)).json()
        return [t["tag"] for t in detail["tags"]], [n["body"] for n in detail["notes"]]

    assert shown(keys.viewer, site_2["id"]) == (["stolen"], ["Reported 3 Dec, case 44"])
    assert shown(analysts.site_2, site_2["id"]) == ([], [])
    assert shown(keys.site_1_only, site_1["id"]) == (["stolen"], ["Reported 3 Dec, case 44"])

    removal = f"/plates/{site_2['id']}/tags/stolen"
    assert client.delete(removal, headers=as_key(analysts.site_2)).status_code == 404
    assert client.delete(removal, headers=as_key(analysts.everywhere)).status_code == 204
    assert client.delete(removal, headers=as_key(analysts.everywhere)).status_code == 404
    assert shown(keys.viewer, site_1["id"])[0] == []


def test_every_change_is_audited(
    client: TestClient,
    keys: Keys,
    analysts: Analysts,
    stored: list[DecodedEvent],
    settings: Settings,
) -> None:
    read = _read_at(stored, client, keys.viewer, "site-1")
    site_2 = _read_at(stored, client, keys.viewer, "site-2")
    calls = [
        ("post", f"/plates/{read['id']}/corrections", {"plate_text": NEW_TEXT}, 201),
        ("post", f"/plates/{read['id']}/corrections", {"plate_text": NEW_TEXT}, 409),
        ("post", f"/plates/{read['id']}/tags", {"tag": "vip"}, 201),
        ("delete", f"/plates/{read['id']}/tags/vip", None, 204),
        ("post", f"/plates/{read['id']}/notes", {"text": "n"}, 201),
        ("post", f"/plates/{site_2['id']}/notes", {"text": "n"}, 404),
    ]
    for method, path, body, status in calls:
        answer = client.request(method, path, json=body, headers=as_key(analysts.site_1))
        assert answer.status_code == status, answer.text
    with psycopg.connect(settings.db.conninfo()) as conn:
        rows = conn.execute(
            "SELECT method, path, status FROM audit_log WHERE key_name = 'site 1 analyst'"
            " ORDER BY id"
        ).fetchall()
    assert rows == [(method.upper(), path, status) for method, path, _, status in calls]


def test_a_replay_leaves_a_corrected_read_as_corrected(
    client: TestClient,
    keys: Keys,
    analysts: Analysts,
    stored: list[DecodedEvent],
    settings: Settings,
    images: ObjectImageStore,
) -> None:
    read = _read_at(stored, client, keys.viewer, "site-1")
    corrected = _correct(client, analysts.everywhere, read["id"], NEW_TEXT).json()
    store(settings, images, stored)
    assert client.get(f"/plates/{read['id']}", headers=as_key(keys.viewer)).json() == corrected


def test_retention_deletes_corrections_tags_and_notes_with_their_reads(
    client: TestClient,
    keys: Keys,
    analysts: Analysts,
    stored: list[DecodedEvent],
    settings: Settings,
    images: ObjectImageStore,
) -> None:
    read = _read_at(stored, client, keys.viewer, "site-1")
    _correct(client, analysts.everywhere, read["id"], NEW_TEXT)
    for path, body in (("tags", {"tag": "vip"}), ("notes", {"text": "n"})):
        made = client.post(f"/plates/{read['id']}/{path}", json=body, headers=as_key(keys.admin))
        assert made.status_code == 201

    def left(conn: psycopg.Connection[Any]) -> list[int]:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM plate_corrections), (SELECT count(*) FROM plate_tags),"
            " (SELECT count(*) FROM plate_notes)"
        ).fetchone()
        assert row is not None
        return list(row)

    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        assert left(conn) == [1, 1, 1]
        kept = apply_retention(conn, images, timedelta(days=1), datetime.now(UTC))
        assert (kept.annotations_deleted, left(conn)) == (0, [1, 1, 1])
        later = datetime.now(UTC) + timedelta(days=3)
        result = apply_retention(conn, images, timedelta(days=1), later)
        assert (result.annotations_deleted, left(conn)) == (3, [0, 0, 0])
