"""Items indexed by the deletion variants of their keys, looked up for many keys at once
(docs/decisions.md#watchlist-matching).

Two keys within d edits always share a variant with at most d characters deleted from each, so
looking up a key's variants finds every item within d edits (and some further away, for the
caller to check). A read's variants are most of matching's cost, so a batch's keys are cut
together: the keys of one length form a matrix of bytes, and each set of deleted positions is
one column selection whose rows are that variant of every key, checked against the index with a
set intersection; only the rows of a batch are then scanned for the variants found.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from itertools import compress
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")
Columns = npt.NDArray[np.intp]


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


class VariantIndex(Generic[T]):
    def __init__(self, batch_from: int = 16) -> None:
        """``batch_from``: the fewest keys of one length cut together; fewer are cut one by one,
        which is quicker for a handful."""
        self._items: dict[bytes, list[tuple[T, str]]] = defaultdict(list)
        self._batch_from = batch_from

    def __bool__(self) -> bool:
        return bool(self._items)

    def add(self, item: T, key: str, deletions: int) -> None:
        for variant in deletion_variants(key, deletions):
            self._items[variant.encode()].append((item, key))

    def sharing(self, keys: Sequence[str], deletions: int) -> list[list[tuple[T, str]]]:
        """For each of ``keys``, the (item, item's key) pairs that share a variant of up to
        ``deletions`` deleted characters with it; a pair may come more than once."""
        found: list[list[tuple[T, str]]] = [[] for _ in keys]
        if not self._items:
            return found
        rows_of_length: dict[int, list[int]] = defaultdict(list)
        for row, key in enumerate(keys):
            if key.isascii():  # one byte per character is what the matrix needs
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
        text = "".join(keys[row] for row in rows).encode("ascii")
        matrix = np.frombuffer(text, dtype=np.uint8).reshape(len(rows), length)
        for kept in _kept_columns(length, deletions):
            if not kept.size:  # every character deleted: the empty variant
                shared = self._items.get(b"", [])
                for row in rows:
                    found[row] += shared
                continue
            column = np.ascontiguousarray(matrix[:, kept]).view(f"S{kept.size}").ravel()
            variants: list[bytes] = column.tolist()
            common = self._items.keys() & variants
            if not common:
                continue
            pairs = zip(rows, variants, strict=True)
            for row, variant in compress(pairs, map(common.__contains__, variants)):
                found[row] += self._items[variant]
