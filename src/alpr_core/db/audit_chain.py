"""The audit log's retention and hash chain (migration 0017, docs/decisions.md#audit-chain).

Rows are sealed in turn after they are written: each gets its place in the chain, the hash
before it and its own hash over its columns. ``verify_audit`` walks the chain and reports every
row that was changed, every place that is missing (deleted) and a head that does not match the
last row (the newest rows deleted). Places that retention dropped are not missing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import psycopg

GENESIS = hashlib.sha256(b"").digest()  # the hash before the first place (migration 0017)
SEAL_BATCH = 5_000  # rows per sealing statement: short transactions, one lock on the head


def set_audit_retention(conn: psycopg.Connection[Any], days: int) -> None:
    """Keep audit rows ``days`` days (the owner alone may change it)."""
    conn.execute("UPDATE audit_policy SET retention_days = %s", (days,))


def seal_audit(conn: psycopg.Connection[Any]) -> int:
    """Seal every unsealed row, in batches; how many. ``conn`` in autocommit mode."""
    total = 0
    while True:
        row = conn.execute("SELECT alpr_seal_audit(%s)", (SEAL_BATCH,)).fetchone()
        sealed = int(row[0]) if row else 0
        total += sealed
        if sealed < SEAL_BATCH:
            return total


def expire_audit(conn: psycopg.Connection[Any]) -> int:
    """Drop the audit rows past the retention the owner set; how many went."""
    row = conn.execute("SELECT alpr_expire_audit()").fetchone()
    return int(row[0]) if row else 0


class ChainLink(NamedTuple):
    seq: int
    prev: bytes
    hash: bytes
    intact: bool  # the row's columns still give its hash
    id: int


@dataclass(frozen=True, slots=True)
class ChainHead:
    seq: int
    hash: bytes
    expired_through: int


@dataclass(slots=True)
class AuditVerification:
    rows: int = 0
    unsealed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return not self.problems


def verify_audit(conn: psycopg.Connection[Any]) -> AuditVerification:
    """Walk the whole chain, in order of place, in one snapshot of the server's rows."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        head_row = conn.execute("SELECT seq, hash, expired_through FROM audit_chain").fetchone()
        if head_row is None:
            return AuditVerification(problems=["the chain's head (audit_chain) is gone"])
        head = ChainHead(int(head_row[0]), bytes(head_row[1]), int(head_row[2]))
        unsealed = conn.execute("SELECT count(*) FROM audit_log WHERE seal_seq IS NULL").fetchone()
        with conn.cursor(name="audit_chain_walk") as cursor:
            cursor.itersize = 10_000
            cursor.execute(
                "SELECT seal_seq, seal_prev, seal_hash,"
                " seal_hash IS NOT DISTINCT FROM alpr_audit_digest(seal_prev, a), id"
                " FROM audit_log a WHERE seal_seq IS NOT NULL ORDER BY seal_seq"
            )
            result = check_chain((_link(row) for row in cursor), head)
    result.unsealed = int(unsealed[0]) if unsealed else 0
    return result


def _link(row: tuple[Any, ...]) -> ChainLink:
    return ChainLink(int(row[0]), bytes(row[1]), bytes(row[2]), bool(row[3]), int(row[4]))


def check_chain(links: Iterable[ChainLink], head: ChainHead) -> AuditVerification:
    """The rules of ``verify_audit`` over links in order of place."""
    result = AuditVerification()
    last: ChainLink | None = None
    for link in links:
        result.rows += 1
        if not link.intact:
            result.problems.append(f"row {link.id} (place {link.seq}) was changed")
        expected = (last.seq if last else 0) + 1
        if link.seq > expected and link.seq - 1 > head.expired_through:
            first_missing = max(expected, head.expired_through + 1)
            result.problems.append(f"places {first_missing}..{link.seq - 1} are missing")
        elif link.seq == expected and link.prev != (last.hash if last else GENESIS):
            result.problems.append(f"place {link.seq} does not follow the place before it")
        elif link.seq < expected:
            result.problems.append(f"place {link.seq} appears twice")
        last = link
    if last is None:
        if head.seq > head.expired_through:
            result.problems.append(f"places {head.expired_through + 1}..{head.seq} are missing")
    elif last.seq != head.seq or last.hash != head.hash:
        result.problems.append(
            f"the chain ends at place {last.seq}, its head at {head.seq}: the newest rows are gone"
            if last.seq < head.seq
            else f"the chain's head does not match place {last.seq}"
        )
    return result
