"""The rules of the audit chain's check, over blocks made here (the SQL is tested on the server
in tests/integration/test_audit_chain.py)."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from alpr_core.db.audit_chain import GENESIS, ChainHead, ChainLink, check_chain


def chain(length: int) -> list[ChainLink]:
    """``length`` blocks of ten rows each."""
    links: list[ChainLink] = []
    prev = GENESIS
    for seq in range(1, length + 1):
        digest = hashlib.sha256(prev + str(seq).encode()).digest()
        links.append(ChainLink(seq, prev, digest, True, 10 * seq - 9, 10 * seq))
        prev = digest
    return links


def head_of(links: list[ChainLink], expired_through: int = 0) -> ChainHead:
    last = links[-1]
    return ChainHead(last.seq, last.hash, expired_through)


def test_an_untouched_chain_holds() -> None:
    links = chain(20)
    result = check_chain(links, head_of(links))
    assert result.holds
    assert result.blocks == 20


@given(st.integers(min_value=2, max_value=19))
def test_a_block_deleted_from_the_middle_is_missing(place: int) -> None:
    links = chain(20)
    kept = [link for link in links if link.seq != place]
    result = check_chain(kept, head_of(links))
    assert result.problems == [f"blocks {place}..{place} are missing"]


@given(st.integers(min_value=1, max_value=20))
def test_a_block_whose_rows_changed_is_named(place: int) -> None:
    links = chain(20)
    links[place - 1] = links[place - 1]._replace(intact=False)
    assert check_chain(links, head_of(links)).problems == [
        f"rows {10 * place - 9}..{10 * place} (block {place}) were changed, deleted or added"
    ]


def test_a_rewritten_link_does_not_follow() -> None:
    links = chain(5)
    links[3] = links[3]._replace(prev=b"\x00" * 32)
    assert check_chain(links, head_of(links)).problems == [
        "block 4 does not follow the block before it"
    ]


@given(st.integers(min_value=1, max_value=5))
def test_the_newest_blocks_deleted_show_at_the_head(deleted: int) -> None:
    links = chain(20)
    result = check_chain(links[:-deleted], head_of(links))
    assert result.problems == [
        f"the chain ends at block {20 - deleted}, its head at 20: the newest are gone"
    ]


@given(st.integers(min_value=1, max_value=19))
def test_blocks_retention_reached_are_not_checked(expired_through: int) -> None:
    links = chain(20)
    straddling = links[expired_through - 1]._replace(intact=False)  # lost some rows
    kept = [straddling, *links[expired_through:]]
    assert check_chain(kept, head_of(links, expired_through)).holds
    assert not check_chain(kept, head_of(links, expired_through - 1)).holds


def test_an_emptied_log_is_missing_what_did_not_expire() -> None:
    links = chain(10)
    assert check_chain([], head_of(links, 10)).holds
    assert check_chain([], head_of(links, 4)).problems == ["blocks 5..10 are missing"]
