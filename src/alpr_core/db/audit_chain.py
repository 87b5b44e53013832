"""The audit log's retention and hash chain (migration 0017, docs/decisions.md#audit-chain).

Rows are sealed in blocks after they are written: each block is one row of ``audit_seals`` with
its id range, the hash before it and its own hash over its rows' columns. ``verify_audit`` walks
the blocks and reports each whose rows were changed, deleted or added, every missing block, and
a head past the last block (the newest seals deleted). Blocks retention reached are not checked.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import psycopg

GENESIS = hashlib.sha256(b"").digest()  # the hash before the first block (migration 0017)
SEAL_BATCH = 500  # ids per block at most: a block holds a core only briefly (see SEAL_DUTY)
# A sealer that has a backlog rests between blocks, so that it takes at most this share of one
# database backend's time: a backlog is hashed as a trickle beside the API's queries, not as one
# burst that holds a core (docs/decisions.md#audit-chain).
SEAL_DUTY = 0.25


def set_audit_retention(conn: psycopg.Connection[Any], days: int) -> None:
    """Keep audit rows ``days`` days (the owner alone may change it)."""
    conn.execute("UPDATE audit_policy SET retention_days = %s", (days,))


def seal_audit(
    conn: psycopg.Connection[Any], rest: Callable[[float], bool] = lambda _: False
) -> int:
    """Seal every settled unsealed row, a block at a time; how many. ``conn`` in autocommit.

    After a block, ``rest(seconds)`` is called to keep the sealer within ``SEAL_DUTY``; it
    returns True to stop early (the rest is sealed by the next call)."""
    total = 0
    while True:
        started = time.monotonic()
        row = conn.execute("SELECT alpr_seal_audit(%s)", (SEAL_BATCH,)).fetchone()
        sealed = int(row[0]) if row else 0
        if not sealed:
            return total
        total += sealed
        if rest((time.monotonic() - started) * (1 - SEAL_DUTY) / SEAL_DUTY):
            return total


def expire_audit(conn: psycopg.Connection[Any]) -> int:
    """Drop the audit rows past the retention the owner set; how many went."""
    row = conn.execute("SELECT alpr_expire_audit()").fetchone()
    return int(row[0]) if row else 0


class ChainLink(NamedTuple):
    """One block: its place, the hash before it, its hash, whether its rows still give that
    hash, and the ids it covers."""

    seq: int
    prev: bytes
    hash: bytes
    intact: bool
    first_id: int
    last_id: int


@dataclass(frozen=True, slots=True)
class ChainHead:
    seq: int
    hash: bytes
    expired_through: int


@dataclass(slots=True)
class AuditVerification:
    blocks: int = 0
    unsealed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return not self.problems


def verify_audit(conn: psycopg.Connection[Any]) -> AuditVerification:
    """Walk the whole chain, in order of place, in one snapshot of the server's rows."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        head_row = conn.execute(
            "SELECT seq, hash, expired_through, last_id FROM audit_chain"
        ).fetchone()
        if head_row is None:
            return AuditVerification(problems=["the chain's head (audit_chain) is gone"])
        head = ChainHead(int(head_row[0]), bytes(head_row[1]), int(head_row[2]))
        unsealed = conn.execute(
            "SELECT count(*) FROM audit_log WHERE id > %s", (int(head_row[3]),)
        ).fetchone()
        with conn.cursor(name="audit_chain_walk") as cursor:
            cursor.itersize = 1_000
            cursor.execute(
                "SELECT seq, prev, hash,"
                " hash = alpr_audit_block_hash(prev, first_id, last_id), first_id, last_id"
                " FROM audit_seals ORDER BY seq"
            )
            result = check_chain((_link(row) for row in cursor), head)
    result.unsealed = int(unsealed[0]) if unsealed else 0
    return result


def _link(row: tuple[Any, ...]) -> ChainLink:
    return ChainLink(
        int(row[0]), bytes(row[1]), bytes(row[2]), bool(row[3]), int(row[4]), int(row[5])
    )


def check_chain(links: Iterable[ChainLink], head: ChainHead) -> AuditVerification:
    """The rules of ``verify_audit`` over blocks in order of place. A block at or before
    ``head.expired_through`` may have lost rows to retention: neither its rows nor its link to
    the block before are checked."""
    result = AuditVerification()
    last: ChainLink | None = None
    for link in links:
        result.blocks += 1
        vouched = link.seq > head.expired_through
        if vouched and not link.intact:
            result.problems.append(
                f"rows {link.first_id}..{link.last_id} (block {link.seq}) were changed, deleted"
                " or added"
            )
        expected = (last.seq if last else 0) + 1
        if link.seq > expected and link.seq - 1 > head.expired_through:
            first_missing = max(expected, head.expired_through + 1)
            result.problems.append(f"blocks {first_missing}..{link.seq - 1} are missing")
        elif link.seq == expected and vouched and link.prev != (last.hash if last else GENESIS):
            result.problems.append(f"block {link.seq} does not follow the block before it")
        elif link.seq < expected:
            result.problems.append(f"block {link.seq} appears twice")
        last = link
    if last is None:
        if head.seq > head.expired_through:
            result.problems.append(f"blocks {head.expired_through + 1}..{head.seq} are missing")
    elif last.seq != head.seq or last.hash != head.hash:
        result.problems.append(
            f"the chain ends at block {last.seq}, its head at {head.seq}: the newest are gone"
            if last.seq < head.seq
            else f"the chain's head does not match block {last.seq}"
        )
    return result
