"""The actual side: what PostgreSQL, the bucket, the dead-letter topic and the group's offsets
hold once the load has stopped, compared with the ledger."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import obstore
import psycopg
from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from obstore.exceptions import NotFoundError

from alpr_core.images.object_store import s3_store
from bench.chaos.ledger import Ledger, sha256
from bench.chaos.servers import Target

EXAMPLES = 5
EDGE_PREFIX = "edge/"
HEADER_REASON = "alpr.dlq.reason"
HEADER_PARTITION = "alpr.dlq.original.partition"
HEADER_OFFSET = "alpr.dlq.original.offset"


@dataclass(slots=True)
class Finding:
    """One line of the table: a count, whether it is exact, and a few example ids when not."""

    name: str
    value: str
    exact: bool | None  # None: informational
    examples: list[str] = field(default_factory=list)


def stored_rows(target: Target) -> dict[str, tuple[int, str | None]]:
    """event_id -> (rows, an image_object_key)."""
    with psycopg.connect(target.db.conninfo()) as conn:
        rows = conn.execute(
            "SELECT event_id, count(*), max(image_object_key) FROM plate_detections"
            " GROUP BY event_id"
        ).fetchall()
    return {str(event_id): (int(count), key) for event_id, count, key in rows}


def rows_findings(ledger: Ledger, rows: dict[str, tuple[int, str | None]]) -> list[Finding]:
    missing = [e for e in ledger.good if e not in rows]
    duplicated = [e for e, (count, _) in rows.items() if count > 1]
    stored_poison = [f"{e} ({k})" for e, k in ledger.poison_event_ids.items() if e in rows]
    by_channel = Counter(event.channel for event in ledger.good.values())
    sent = f"{len(ledger.good)} (kafka {by_channel['kafka']}, http {by_channel['http']})"
    return [
        Finding("good events sent and acknowledged", sent, None),
        Finding(
            "missing (sent, no row)",
            str(len(missing)),
            not missing,
            [ledger.where(e) for e in sorted(missing, key=ledger.where)[:EXAMPLES]],
        ),
        Finding(
            "duplicated (event_id with >1 row)",
            str(len(duplicated)),
            not duplicated,
            duplicated[:EXAMPLES],
        ),
        Finding(
            "poison stored as a row",
            str(len(stored_poison)),
            not stored_poison,
            stored_poison[:EXAMPLES],
        ),
    ]


def image_findings(
    ledger: Ledger, rows: dict[str, tuple[int, str | None]], target: Target
) -> list[Finding]:
    store = s3_store(target.object_store)
    wanted = {e: g.image_sha256 for e, g in ledger.good.items() if g.image_sha256 and e in rows}
    keys = {e: rows[e][1] for e in wanted}
    no_key = [e for e, key in keys.items() if key is None]
    with ThreadPoolExecutor(8) as pool:
        digests = dict(zip(keys, pool.map(lambda k: _digest(store, k), keys.values()), strict=True))
    unreadable = [e for e, d in digests.items() if d is None and keys[e] is not None]
    wrong = [_wrong(e, d, ledger) for e, d in digests.items() if d is not None and d != wanted[e]]
    listed = {str(m["path"]) for chunk in obstore.list(store) for m in chunk}
    named = {key for _, key in rows.values() if key}
    orphans = sorted(k for k in listed - named if not k.startswith(EDGE_PREFIX))
    readable = len(wanted) - len(no_key) - len(unreadable)
    return [
        Finding(
            "inline images stored and readable",
            f"{readable} of {len(wanted)}",
            readable == len(wanted),
            (no_key + unreadable)[:EXAMPLES],
        ),
        Finding(
            "images differing from the first sent", str(len(wrong)), not wrong, wrong[:EXAMPLES]
        ),
        Finding("orphan objects", str(len(orphans)), not orphans, orphans[:EXAMPLES]),
    ]


def _wrong(event_id: str, digest: str, ledger: Ledger) -> str:
    replayed = digest in ledger.replay_images.get(event_id, set())
    return f"{event_id} ({'a later replay' if replayed else 'no image sent'} matches)"


def _digest(store: obstore.store.S3Store, key: str | None) -> str | None:
    if key is None:
        return None
    try:
        return sha256(bytes(obstore.get(store, key).bytes()))
    except (NotFoundError, FileNotFoundError):
        return None


def dead_letters(target: Target) -> dict[tuple[int, int], str]:
    """(original partition, original offset) -> reason, for every dead letter."""
    consumer = _reader(target, f"chaos-dlq-reader-{uuid.uuid4().hex[:8]}")
    consumer.subscribe([target.kafka.dlq_topic])
    found: dict[tuple[int, int], str] = {}
    idle_until = time.monotonic() + 15
    while time.monotonic() < idle_until:
        message = consumer.poll(0.5)
        if message is None or message.error() is not None:
            continue
        headers = _headers(message)
        origin = (int(headers.get(HEADER_PARTITION, -1)), int(headers.get(HEADER_OFFSET, -1)))
        found[origin] = headers.get(HEADER_REASON, "?")
        idle_until = time.monotonic() + 5
    consumer.close()
    return found


def _headers(message: Message) -> dict[str, str]:
    raw = message.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return {key: _text(value) for key, value in pairs}


def _text(value: str | bytes | None) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value or ""


def _reader(target: Target, group: str) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": target.kafka.bootstrap_servers,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )


def poison_findings(ledger: Ledger, letters: dict[tuple[int, int], str]) -> list[Finding]:
    reasons: Counter[str] = Counter()
    absent: list[str] = []
    for origin, kind in ledger.poison_offsets.items():
        if origin in letters:
            reasons[f"{kind} -> {letters[origin]}"] += 1
        else:
            absent.append(f"{kind} at partition {origin[0]} offset {origin[1]}")
    per_reason = ", ".join(f"{k}: {n}" for k, n in sorted(reasons.items()))
    http = ", ".join(f"{k}: {n}" for k, n in sorted(ledger.http_poison_answers.items()))
    not_4xx = [k for k in ledger.http_poison_answers if not k.split(": ")[1].startswith("4")]
    bad_http = ledger.http_poison_accepted + not_4xx
    return [
        Finding("kafka poison sent", str(len(ledger.poison_offsets)), None),
        Finding("kafka poison dead-lettered (kind -> reason)", per_reason or "none", None),
        Finding("kafka poison not dead-lettered", str(len(absent)), not absent, absent[:EXAMPLES]),
        Finding("http poison answered (kind: status reason)", http or "none", None),
        Finding(
            "http poison accepted or not 4xx", str(len(bad_http)), not bad_http, bad_http[:EXAMPLES]
        ),
        Finding(
            "http good items rejected",
            str(len(ledger.http_good_rejected)),
            not ledger.http_good_rejected,
            ledger.http_good_rejected[:EXAMPLES],
        ),
    ]


def lag(target: Target) -> int:
    """Messages the group has not committed: end offsets minus committed offsets."""
    consumer = Consumer(
        {
            "bootstrap.servers": target.kafka.bootstrap_servers,
            "group.id": target.kafka.group_id,
            "enable.auto.commit": False,
        }
    )
    try:
        topic = consumer.list_topics(target.kafka.topic, timeout=10).topics[target.kafka.topic]
        parts = [TopicPartition(target.kafka.topic, p) for p in topic.partitions]
        committed = consumer.committed(parts, timeout=10)
        total = 0
        for part in committed:
            _, high = consumer.get_watermark_offsets(part, timeout=10)
            total += high - max(part.offset, 0)
        return total
    finally:
        consumer.close()


def pending_plate_texts(target: Target) -> int:
    with psycopg.connect(target.db.conninfo()) as conn:
        row = conn.execute("SELECT count(*) FROM plate_texts_pending").fetchone()
    return int(row[0]) if row else -1


def wait_for(probe: Callable[[], int], timeout_s: float) -> tuple[int, float]:
    """Poll ``probe()`` until it returns 0 or the timeout; (last value, seconds waited)."""
    started = time.monotonic()
    value = -1
    while time.monotonic() - started < timeout_s:
        try:
            value = int(probe())
        except (psycopg.Error, KafkaException):
            value = -1
        if value == 0:
            break
        time.sleep(1)
    return value, time.monotonic() - started
