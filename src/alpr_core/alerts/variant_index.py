"""Items indexed by the deletion variants of their keys, looked up for many keys at once
(docs/decisions.md#watchlist-matching).

Two keys within d edits always share a variant with at most d characters deleted from each, so
looking up a key's variants finds every item within d edits (and some further away, for the
caller to check). A read's variants are most of matching's cost, so a batch's keys are cut
together, in numpy: the keys of one length form a matrix of character codes, each set of deleted
positions is one column selection whose rows are that variant of every key, packed six bits a
character into one 64-bit integer; all of them are sorted and looked up together with a binary
search in the sorted packed variants of the index. Python sees only the variants found. Keys
that do not pack (longer than ten characters, or characters other than A-Z and 0-9) are looked
up one by one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")
Columns = npt.NDArray[np.intp]
Packed = npt.NDArray[np.uint64]
PACKABLE = re.compile(r"[0-9A-Z]{0,10}")  # 36 characters in 6 bits, 10 of them in 64
_CODES = np.zeros(256, dtype=np.uint64)
_CODES[np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)] = np.arange(
    1, 37, dtype=np.uint64
)
_SHIFTS = np.arange(10, dtype=np.uint64) * np.uint64(6)


def deletion_variants(key: str, deletions: int) -> set[str]:
    """``key`` with up to ``deletions`` (0 to 2) characters deleted, itself included."""
    return {key[:i] + key[i + 1 : j] + key[j + 1 :] for i, j in _cuts(len(key), deletions)}


@cache
def _cuts(length: int, deletions: int) -> tuple[tuple[int, int], ...]:
    """The (i, j) such that ``key[:i] + key[i + 1 : j] + key[j + 1 :]`` deletes each set of up
    to ``deletions`` positions: j = length deletes i alone, i = j = length nothing."""
    ones = [(i, length) for i in range(length)] if deletions >= 1 else []
    twos = [(i, j) for i in range(length) for j in range(i + 1, length)] if deletions >= 2 else []
    return ((length, length), *ones, *twos)


@cache
def _kept_columns(length: int, deletions: int) -> tuple[Columns, ...]:
    """For each cut of :func:`_cuts`, the positions it keeps."""
    return tuple(
        np.array([c for c in range(length) if c not in (i, j)], dtype=np.intp)
        for i, j in _cuts(length, deletions)
    )


def _pack(codes: Packed) -> Packed:
    """Rows of character codes (1-36, none zero) as one integer each: distinct rows of up to
    ten characters, whatever their lengths, pack to distinct integers."""
    if not codes.shape[1]:
        return np.zeros(codes.shape[0], dtype=np.uint64)
    shifted = codes << _SHIFTS[: codes.shape[1]]
    return np.bitwise_or.reduce(shifted, axis=1)  # type: ignore[no-any-return]


class VariantIndex(Generic[T]):
    def __init__(self, batch_from: int = 16) -> None:
        """``batch_from``: the fewest keys of one length cut together; fewer are cut one by one,
        which is quicker for a handful."""
        self._items: dict[bytes, list[tuple[T, str]]] = defaultdict(list)
        self._batch_from = batch_from
        self._packed: Packed = np.zeros(0, dtype=np.uint64)  # sorted
        self._packed_items: list[list[tuple[T, str]]] = []  # in the order of _packed
        self._packed_stale = False

    def __bool__(self) -> bool:
        return bool(self._items)

    def add(self, item: T, key: str, deletions: int) -> None:
        for variant in deletion_variants(key, deletions):
            self._items[variant.encode()].append((item, key))
        self._packed_stale = True

    def sharing(self, keys: Sequence[str], deletions: int) -> list[list[tuple[T, str]]]:
        """For each of ``keys``, the (item, item's key) pairs that share a variant of up to
        ``deletions`` deleted characters with it; a pair may come more than once."""
        found: list[list[tuple[T, str]]] = [[] for _ in keys]
        if not self._items:
            return found
        self.pack()
        rows_of_length: dict[int, list[int]] = defaultdict(list)
        for row, key in enumerate(keys):
            if PACKABLE.fullmatch(key):
                rows_of_length[len(key)].append(row)
            else:
                found[row] += self._share_one(key, deletions)
        for length, rows in rows_of_length.items():
            if len(rows) >= self._batch_from:
                self._share_of_length(keys, rows, length, deletions, found)
            else:
                for row in rows:
                    found[row] += self._share_one(keys[row], deletions)
        return found

    def pack(self) -> None:
        """Pack the variants added since the last call, a length at a time, and sort them: done
        by the first look-up if not before (call it once the index is built)."""
        if not self._packed_stale:
            return
        by_length: dict[int, list[bytes]] = defaultdict(list)
        for variant in self._items:
            if PACKABLE.fullmatch(variant.decode()):
                by_length[len(variant)].append(variant)
        packed_parts, variants = [], []
        for length, group in by_length.items():
            matrix = np.frombuffer(b"".join(group), dtype=np.uint8).reshape(len(group), length)
            packed_parts.append(_pack(_CODES[matrix]))
            variants += group
        packed = np.concatenate(packed_parts) if packed_parts else np.zeros(0, dtype=np.uint64)
        order = np.argsort(packed, kind="stable")
        self._packed = packed[order]
        self._packed_items = [self._items[variants[i]] for i in order.tolist()]
        self._packed_stale = False

    def _share_one(self, key: str, deletions: int) -> list[tuple[T, str]]:
        shared: list[tuple[T, str]] = []
        for variant in deletion_variants(key, deletions):
            shared += self._items.get(variant.encode(), ())
        return shared

    def _share_of_length(
        self,
        keys: Sequence[str],
        rows: list[int],
        length: int,
        deletions: int,
        found: list[list[tuple[T, str]]],
    ) -> None:
        if not self._packed.size:
            return
        text = "".join(keys[row] for row in rows).encode("ascii")
        codes = _CODES[np.frombuffer(text, dtype=np.uint8)].reshape(len(rows), length)
        # every variant of every key in one sorted array: a sorted search walks the index in
        # order, where one search per variant would jump about it
        variants = np.concatenate(
            [_pack(codes[:, kept]) for kept in _kept_columns(length, deletions)]
        )
        order = np.argsort(variants)
        variants = variants[order]
        at = np.minimum(np.searchsorted(self._packed, variants), self._packed.size - 1)
        for position in np.flatnonzero(self._packed[at] == variants).tolist():
            row = rows[int(order[position]) % len(rows)]
            found[row] += self._packed_items[int(at[position])]
