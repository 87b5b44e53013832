"""/watchlists against the real PostgreSQL: lists and entries made, read, changed and deleted by
the keys that may, inside their sites only, every request audited."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key
from tests.integration.api.conftest import as_key
from tests.integration.conftest import db_scalar


@dataclass(frozen=True)
class ListKeys:
    keeper: str
    site_1: str
    camera_only: str
    viewer: str


@pytest.fixture
def keys(settings: Settings) -> ListKeys:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        return ListKeys(
            create_key(conn, "keeper", "watchlist")[1],
            create_key(conn, "site 1 keeper", "watchlist", sites=["site-1"])[1],
            create_key(conn, "camera keeper", "admin", cameras=["cam-1"])[1],
            create_key(conn, "viewer", "viewer")[1],
        )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def new_list(client: TestClient, token: str, **fields: Any) -> Any:
    body = {"name": "Stolen", "owner": "Control room", **fields}
    response = client.post("/watchlists", json=body, headers=as_key(token))
    assert response.status_code == 201, response.text
    return response.json()


def test_a_list_and_its_entries_round_trip(client: TestClient, keys: ListKeys) -> None:
    made = new_list(client, keys.keeper, priority="critical", sites=["site-1"])
    assert (made["priority"], made["sites"], made["retention_days"]) == (
        "critical",
        ["site-1"],
        365,
    )
    entries = f"/watchlists/{made['id']}/entries"
    exact = {"plate": "ab-12 cde", "reason": "stolen", "reference": "case 7"}
    fuzzy = {"plate": "XY34ZZZ", "match_mode": "fuzzy", "max_distance": 1}
    wildcard = {"plate": "ab1?3*", "match_mode": "wildcard", "hours_of_week": [5, 3, 5]}
    created = [
        client.post(entries, json=body, headers=as_key(keys.keeper))
        for body in (exact, fuzzy, wildcard)
    ]
    assert [r.status_code for r in created] == [201, 201, 201]
    forms = [r.json()["plate_normalized"] for r in created]
    assert forms == ["AB12CDE", "XY34ZZZ", "AB1?3*"]
    assert created[2].json()["hours_of_week"] == [3, 5]

    again = client.post(entries, json=exact, headers=as_key(keys.keeper))
    assert again.status_code == 409

    first = client.get(f"{entries}?limit=2", headers=as_key(keys.keeper)).json()
    rest = client.get(
        f"{entries}?limit=2&cursor={first['next_cursor']}", headers=as_key(keys.keeper)
    ).json()
    ids = [e["id"] for e in first["items"] + rest["items"]]
    assert sorted(ids) == sorted(r.json()["id"] for r in created)
    assert rest["next_cursor"] is None

    entry = created[0].json()
    replaced = client.put(
        f"{entries}/{entry['id']}",
        json={**exact, "valid_until": "2030-01-01T00:00:00Z"},
        headers=as_key(keys.keeper),
    )
    assert replaced.status_code == 200
    assert replaced.json()["valid_until"].startswith("2030-01-01")
    clash = client.put(
        f"{entries}/{entry['id']}", json=fuzzy | {"max_distance": 0}, headers=as_key(keys.keeper)
    )
    assert clash.status_code == 409

    assert client.delete(f"{entries}/{entry['id']}", headers=as_key(keys.keeper)).status_code == 204
    assert (
        client.delete(f"/watchlists/{made['id']}", headers=as_key(keys.keeper)).status_code == 204
    )
    gone = client.get(f"/watchlists/{made['id']}", headers=as_key(keys.keeper))
    assert gone.status_code == 404


def test_every_request_is_audited_without_the_body(
    client: TestClient, keys: ListKeys, settings: Settings
) -> None:
    made = new_list(client, keys.keeper)
    client.post(
        f"/watchlists/{made['id']}/entries", json={"plate": "SECRET1"}, headers=as_key(keys.keeper)
    )
    client.patch(f"/watchlists/{made['id']}", json={"name": "x"}, headers=as_key(keys.keeper))
    audited = db_scalar(
        settings,
        "SELECT count(*) FROM audit_log WHERE path LIKE '/watchlists%%' AND key_name = 'keeper'",
    )
    assert audited == 3
    leaked = db_scalar(
        settings, "SELECT count(*) FROM audit_log WHERE params::text LIKE '%SECRET%'"
    )
    assert leaked == 0


def test_a_site_key_holds_only_its_sites_lists(client: TestClient, keys: ListKeys) -> None:
    mine = new_list(client, keys.site_1, sites=["site-1"])
    everyones = new_list(client, keys.keeper)  # sites: null, every site's
    theirs = new_list(client, keys.keeper, sites=["site-1", "site-2"])

    seen = client.get("/watchlists", headers=as_key(keys.site_1)).json()["items"]
    assert [item["id"] for item in seen] == [mine["id"]]
    for other in (everyones, theirs):
        answer = client.get(f"/watchlists/{other['id']}", headers=as_key(keys.site_1))
        assert answer.status_code == 404
    for sites in (None, ["site-2"], ["site-1", "site-2"]):
        made = client.post(
            "/watchlists",
            json={"name": "n", "owner": "o", "sites": sites},
            headers=as_key(keys.site_1),
        )
        assert made.status_code == 403
        widened = client.patch(
            f"/watchlists/{mine['id']}", json={"sites": sites}, headers=as_key(keys.site_1)
        )
        assert widened.status_code == 403
    assert client.get("/watchlists", headers=as_key(keys.camera_only)).json()["items"] == []


def test_readers_of_plates_cannot_touch_lists(client: TestClient, keys: ListKeys) -> None:
    assert client.get("/watchlists", headers=as_key(keys.viewer)).status_code == 403
    assert client.get("/watchlists").status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"plate": "A"}, id="exact too short"),
        pytest.param({"plate": "ABC", "match_mode": "fuzzy"}, id="fuzzy too short"),
        pytest.param({"plate": "A*B", "match_mode": "wildcard"}, id="wildcard too loose"),
        pytest.param({"plate": "AB12CD", "max_distance": 1}, id="distance without fuzzy"),
        pytest.param({"plate": "AB12CD", "match_mode": "fuzzy", "max_distance": 3}, id="far"),
        pytest.param({"plate": "AB12CD", "hours_of_week": [168]}, id="hour out of the week"),
        pytest.param(
            {
                "plate": "AB12CD",
                "valid_from": "2030-01-02T00:00:00Z",
                "valid_until": "2030-01-01T00:00:00Z",
            },
            id="ends before it starts",
        ),
        pytest.param({"plate": "AB12CD", "valid_from": "2030-01-02T00:00:00"}, id="naive time"),
        pytest.param({"plate": "AB12CD", "colour": "red"}, id="unknown field"),
        pytest.param({"plate": "AB12CD", "cameras": []}, id="empty restriction"),
        pytest.param({"plate": "AB12CD", "reason": "a\x00b"}, id="NUL in text"),
        pytest.param({"plate": "AB12CD", "sites": ["site\x00"]}, id="NUL in a label"),
    ],
)
def test_bad_entries_are_422_problems(
    client: TestClient, keys: ListKeys, body: dict[str, Any]
) -> None:
    made = new_list(client, keys.keeper)
    answer = client.post(
        f"/watchlists/{made['id']}/entries", json=body, headers=as_key(keys.keeper)
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def csv_import(client: TestClient, token: str, list_id: str, text: str, **params: Any) -> Any:
    return client.post(
        f"/watchlists/{list_id}/entries.csv",
        content=text.encode(),
        params=params,
        headers=as_key(token) | {"content-type": "text/csv"},
    )


def test_a_csv_import_is_idempotent_and_its_export_reads_back(
    client: TestClient, keys: ListKeys
) -> None:
    made = new_list(client, keys.keeper)
    text = (
        "plate,match_mode,max_distance,reason,reference,cameras,hours_of_week,valid_until\n"
        "AB12CDE,exact,,stolen,case 1,cam-1;cam-2,1;2,2030-01-01T00:00:00Z\n"
        'XY34ZZZ,fuzzy,1,"wanted, armed",case 2,,,\n'
        "AB1?3*,wildcard,,,,,,\n"
    )
    first = csv_import(client, keys.keeper, made["id"], text)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "rejected": [],
    }
    again = csv_import(client, keys.keeper, made["id"], text).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)

    exported = client.get(f"/watchlists/{made['id']}/entries.csv", headers=as_key(keys.keeper))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text.count("\r\n") == 4
    round_trip = csv_import(client, keys.keeper, made["id"], exported.text).json()
    assert (round_trip["unchanged"], round_trip["created"], round_trip["updated"]) == (3, 0, 0)

    changed = text.replace("stolen,case 1", "recovered,case 1")
    assert csv_import(client, keys.keeper, made["id"], changed).json()["updated"] == 1
    stored = client.get(f"/watchlists/{made['id']}/entries", headers=as_key(keys.keeper)).json()
    by_plate = {entry["plate"]: entry for entry in stored["items"]}
    assert by_plate["AB12CDE"]["reason"] == "recovered"
    assert by_plate["AB12CDE"]["cameras"] == ["cam-1", "cam-2"]
    assert by_plate["AB12CDE"]["hours_of_week"] == [1, 2]
    assert by_plate["XY34ZZZ"]["reason"] == "wanted, armed"


def test_replace_deletes_what_the_file_lacks_and_refuses_a_file_with_bad_lines(
    client: TestClient, keys: ListKeys
) -> None:
    made = new_list(client, keys.keeper)
    csv_import(client, keys.keeper, made["id"], "plate\nAB12CDE\nXY34ZZZ\n")
    refused = csv_import(client, keys.keeper, made["id"], "plate\nAB12CDE\nX\n", replace=True)
    assert refused.status_code == 422
    assert refused.json()["rejected"][0]["line"] == 3
    kept = client.get(f"/watchlists/{made['id']}/entries", headers=as_key(keys.keeper)).json()
    assert len(kept["items"]) == 2
    replaced = csv_import(client, keys.keeper, made["id"], "plate\nAB12CDE\n", replace=True)
    assert replaced.json()["deleted"] == 1
    left = client.get(f"/watchlists/{made['id']}/entries", headers=as_key(keys.keeper)).json()
    assert [entry["plate"] for entry in left["items"]] == ["AB12CDE"]


def test_bad_lines_are_reported_and_the_good_ones_land(
    client: TestClient, keys: ListKeys, settings: Settings
) -> None:
    made = new_list(client, keys.keeper)
    answer = csv_import(
        client, keys.keeper, made["id"], "plate,max_distance\nAB12CDE\nX\nCD34EFG,7\nAB12CDE\n"
    )
    assert answer.status_code == 200
    report = answer.json()
    assert report["created"] == 1
    assert [line["line"] for line in report["rejected"]] == [3, 4, 5]
    assert "repeats" in report["rejected"][2]["errors"][0]
    none_good = csv_import(client, keys.keeper, made["id"], "plate\nX\n")
    assert none_good.status_code == 422
    with psycopg.connect(settings.db.conninfo()) as conn:
        audited = conn.execute(
            "SELECT status, result_count FROM audit_log WHERE path LIKE '%entries.csv' ORDER BY id"
        ).fetchall()
    assert audited == [(200, 1), (422, 0)]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        pytest.param(b"plate\nAB12CDE\n", "application/json", 415, id="not CSV"),
        pytest.param(b"\xff\xfe\x00", "text/csv", 422, id="not UTF-8"),
        pytest.param(b"plate,colour\nAB12CDE,red\n", "text/csv", 422, id="unknown column"),
        pytest.param(b'plate\n"AB12CDE\n', "text/csv", 200, id="open quote to the end"),
        pytest.param(b"plate\n" + b"AB12CDE\n" * 400, "text/csv", 413, id="too large"),
    ],
)
def test_unreadable_files_are_problems(
    settings: Settings, keys: ListKeys, content: bytes, content_type: str, status: int
) -> None:
    small = settings.model_copy(
        update={"api": settings.api.model_copy(update={"watchlist_import_max_bytes": 2048})}
    )
    with TestClient(create_app(small)) as client:
        made = new_list(client, keys.keeper)
        answer = client.post(
            f"/watchlists/{made['id']}/entries.csv",
            content=content,
            headers=as_key(keys.keeper) | {"content-type": content_type},
        )
    assert answer.status_code == status, answer.text
    if status != 200:
        assert answer.headers["content-type"].startswith("application/problem+json")
