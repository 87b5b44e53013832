"""/plates/search: exact, prefix, wildcard and OCR-aware fuzzy matching over real PostgreSQL."""

from __future__ import annotations

import random
import re
import string
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.events.avro import DecodedEvent
from alpr_core.events.parse import normalize_plate, parse_event
from alpr_core.images.object_store import ObjectImageStore, edge_uploads_of
from alpr_core.simulator.events import SimulatedRead, cameras, tracks
from alpr_core.simulator.plates import LOOKALIKE_GROUPS
from alpr_core.storage.sink import DetectionSink
from tests.integration.api.conftest import LIMITS, Keys, as_key

_FOLD = str.maketrans({c: g[0] for g in LOOKALIKE_GROUPS for c in g})


def _folded(text: str) -> str:
    return text.translate(_FOLD)


def _edits(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def _search(client: TestClient, token: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/plates/search", params={"limit": 1000, **params}, headers=as_key(token))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_exact_search_ignores_case_spaces_and_dashes(
    client: TestClient, keys: Keys, stored: list[DecodedEvent]
) -> None:
    target = stored[10].event.plate_normalized
    spelled = "-".join(target.lower())
    found = _search(client, keys.viewer, plate_text=spelled)
    assert {item["plate_normalized"] for item in found} == {target}
    assert len(found) == sum(d.event.plate_normalized == target for d in stored)


def test_prefix_and_wildcard_find_what_the_pattern_says(
    client: TestClient, keys: Keys, stored: list[DecodedEvent]
) -> None:
    plates = [d.event.plate_normalized for d in stored]
    prefix = plates[3][:3]
    found = _search(client, keys.viewer, plate_text=prefix, mode="prefix")
    assert sorted(i["plate_normalized"] for i in found) == sorted(
        p for p in plates if p.startswith(prefix)
    )

    target = plates[20]
    pattern = target[0] + "?" + target[2:5] + "*"
    regex = re.compile(re.escape(target[0]) + "." + re.escape(target[2:5]) + ".*")
    found = _search(client, keys.viewer, plate_text=pattern, mode="wildcard")
    assert sorted(i["plate_normalized"] for i in found) == sorted(
        p for p in plates if regex.fullmatch(p)
    )
    assert found


def test_fuzzy_search_finds_the_simulators_misreads_of_a_plate(
    client: TestClient, keys: Keys, simulated: list[SimulatedRead], stored: list[DecodedEvent]
) -> None:
    by_truth: dict[str, list[str]] = defaultdict(list)
    for read in simulated:
        by_truth[normalize_plate(read.true_plate)].append(read.record["event_id"])
    misread = [
        (truth, read)
        for read in simulated
        if (truth := normalize_plate(read.true_plate)) != read.record["plate"]["normalized_text"]
    ]
    assert misread, "the simulator made no misreads to look for"
    for truth, _ in misread[:10]:
        found = _search(client, keys.viewer, plate_text=truth, mode="fuzzy")
        found_ids = {item["event_id"] for item in found}
        close = {
            d.event.event_id
            for d in stored
            if _edits(_folded(d.event.plate_normalized), _folded(truth)) <= 2
        }
        lookalike_only = {
            d.event.event_id for d in stored if _folded(d.event.plate_normalized) == _folded(truth)
        }
        assert lookalike_only <= found_ids  # every look-alike misread is found
        assert found_ids == close  # every read within two edits, and nothing further
        assert found == sorted(found, key=lambda item: _rank(item, truth))  # closest first
        # a short page is the start of the ranking: the closest plates' reads, newest first
        assert _search(client, keys.viewer, plate_text=truth, mode="fuzzy", limit=3) == found[:3]


def _rank(item: dict[str, Any], term: str) -> tuple[int, int, str, float, int]:
    """Fuzzy results' order: folded distance, raw distance, plate, then newest first."""
    plate = item["plate_normalized"]
    newest = -datetime.fromisoformat(item["timestamp"]).timestamp()
    return _edits(_folded(plate), _folded(term)), _edits(plate, term), plate, newest, -item["id"]


def _random_edits(plate: str, count: int, rng: random.Random) -> str:
    chars = list(plate)
    for _ in range(count):
        position = rng.randrange(len(chars))
        kind = rng.choice(("substitute", "delete", "insert"))
        if kind == "substitute":
            chars[position] = rng.choice(string.ascii_uppercase + string.digits)
        elif kind == "delete" and len(chars) > 4:
            del chars[position]
        else:
            chars.insert(position, rng.choice(string.ascii_uppercase + string.digits))
    return "".join(chars)


def test_deletion_variants_meet_for_every_pair_within_two_edits(settings: Settings) -> None:
    """The fuzzy index's promise (migration 0005): keys two edits apart or closer share a
    deletion variant, wherever the edits fall; the trigram index it replaced missed a third of
    such pairs. Pairs further apart mostly do not meet, which keeps the candidates few."""
    rng = random.Random(7)
    plates = ["".join(rng.choices(string.ascii_uppercase + string.digits, k=7)) for _ in range(600)]
    pairs = [(plate, _random_edits(plate, n % 3, rng)) for n, plate in enumerate(plates)]
    far = [(plate, _random_edits(plate, 5, rng)) for plate in plates[:200]]
    with psycopg.connect(settings.db.conninfo()) as conn:
        rows = conn.execute(
            "SELECT levenshtein(a, b), alpr_deletion_variants(a) && alpr_deletion_variants(b)"
            " FROM unnest(%s::text[], %s::text[]) AS pair (a, b)",
            ([a for a, _ in pairs + far], [b for _, b in pairs + far]),
        ).fetchall()
    near = [meet for edits, meet in rows if edits <= 2]
    apart = [meet for edits, meet in rows if edits > 2]
    assert len(near) >= 500
    assert all(near)
    assert apart
    assert sum(apart) < len(apart) / 10


def test_fuzzy_ranks_a_lookalike_spelling_first(
    client: TestClient, keys: Keys, stored: list[DecodedEvent]
) -> None:
    target = next(d.event for d in stored if re.search(r"[0OB8S5]", d.event.plate_normalized))
    swap = str.maketrans("0OB8S5", "O0" + "8B" + "5S")
    query = target.plate_normalized.translate(swap)
    assert query != target.plate_normalized
    found = _search(client, keys.viewer, plate_text=query, mode="fuzzy")
    assert found[0]["plate_normalized"] in {
        d.event.plate_normalized
        for d in stored
        if _folded(d.event.plate_normalized) == _folded(target.plate_normalized)
    }


def test_search_applies_filters_and_the_keys_scope(
    client: TestClient, keys: Keys, stored: list[DecodedEvent]
) -> None:
    plates = [d.event.plate_normalized for d in stored]
    prefix = plates[0][:2]
    everywhere = _search(client, keys.viewer, plate_text=prefix, mode="prefix")
    site_2 = _search(client, keys.viewer, plate_text=prefix, mode="prefix", site="site-2")
    guard = _search(client, keys.site_1_only, plate_text=prefix, mode="prefix")
    assert {i["site"] for i in site_2} <= {"site-2"}
    assert {i["site"] for i in guard} <= {"site-1"}
    assert len(site_2) + len(guard) == len(everywhere)


def test_exact_results_page_with_a_cursor(
    client: TestClient, keys: Keys, stored: list[DecodedEvent]
) -> None:
    counts: dict[str, int] = defaultdict(int)
    for d in stored:
        counts[d.event.plate_normalized] += 1
    plate, count = max(counts.items(), key=lambda pair: pair[1])
    first = client.get(
        "/plates/search", params={"plate_text": plate, "limit": 1}, headers=as_key(keys.viewer)
    ).json()
    assert count >= 2
    second = client.get(
        "/plates/search",
        params={"plate_text": plate, "limit": 100, "cursor": first["next_cursor"]},
        headers=as_key(keys.viewer),
    ).json()
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == count


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"plate_text": "--"}, id="no letters or digits"),
        pytest.param({"plate_text": "A", "mode": "prefix"}, id="prefix of one"),
        pytest.param({"plate_text": "A*B*", "mode": "wildcard"}, id="wildcard without 3 in a row"),
        pytest.param({"plate_text": "AB1", "mode": "fuzzy"}, id="fuzzy under 4"),
        pytest.param({"plate_text": "ABC123", "mode": "soundex"}, id="unknown mode"),
        pytest.param({"plate_text": "ABC123", "mode": "fuzzy", "cursor": "x"}, id="fuzzy cursor"),
        pytest.param({}, id="no plate_text"),
    ],
)
def test_searches_that_cannot_use_an_index_are_refused(
    client: TestClient, keys: Keys, params: dict[str, str]
) -> None:
    response = client.get("/plates/search", params=params, headers=as_key(keys.viewer))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]


def test_fuzzy_ranks_plates_then_each_plates_reads_newest_first(
    settings: Settings, images: ObjectImageStore, keys: Keys
) -> None:
    """Closest plate first (folded, then raw distance), ties by plate; a plate's reads together,
    newest first, even when another plate as close was read in between."""
    now = datetime.now(UTC)
    reads = {"KLM1235": [1, 3], "KLM1236": [2, 4], "KLM1Z34": [6], "KLM1234": [5]}  # hours ago
    records = islice(tracks(random.Random(3), cameras(2), now, 0.0), 6)
    events = []
    for (plate, hours), read in zip(
        ((plate, hours) for plate, ago in reads.items() for hours in ago), records, strict=False
    ):
        read.record["plate"]["text"] = read.record["plate"]["normalized_text"] = plate
        read.record["captured_at"] = (now - timedelta(hours=hours)).isoformat()
        events.append(DecodedEvent(parse_event(read.record, LIMITS, now), 1))
    with ConnectionPool(settings.db.conninfo(), min_size=1, max_size=1) as pool:
        DetectionSink(pool, images, 1, edge_uploads_of(settings)).write(events)
    with TestClient(create_app(settings)) as client:
        found = _search(client, keys.viewer, plate_text="KLM1234", mode="fuzzy")
        first_two = _search(client, keys.viewer, plate_text="KLM1234", mode="fuzzy", limit=2)
    order = [(item["plate_normalized"], item["timestamp"]) for item in found]
    expected = [  # KLM1Z34 folds to KLM1234 but is one raw edit away
        (plate, (now - timedelta(hours=hours)).isoformat(timespec="microseconds"))
        for plate in ("KLM1234", "KLM1Z34", "KLM1235", "KLM1236")
        for hours in reads[plate]
    ]
    assert order == [(plate, at.replace("+00:00", "Z")) for plate, at in expected]
    assert first_two == found[:2]
