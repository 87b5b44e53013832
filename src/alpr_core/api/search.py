"""Plate-text search: exact, prefix, wildcard and OCR-aware fuzzy matching, all index-backed.

Terms too short for an index are refused with a 422 rather than answered by a full scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, LiteralString

from alpr_core.api.problems import Problem
from alpr_core.events.parse import normalize_plate

FUZZY_MAX_EDITS = 2
FUZZY_SIMILARITY = 0.2  # pg_trgm threshold: low enough to keep most two-edit misreads
_WILDCARD_CHARS = re.compile(r"[^0-9A-Z?*]")
_LITERAL_RUN = re.compile(r"[0-9A-Z]{3,}")


class MatchMode(StrEnum):
    EXACT = "exact"
    PREFIX = "prefix"
    WILDCARD = "wildcard"
    FUZZY = "fuzzy"


@dataclass(frozen=True, slots=True)
class PlateMatch:
    """The WHERE clause and ORDER BY of one search, with its parameters."""

    where: LiteralString
    order_by: LiteralString
    params: dict[str, Any]
    keyset: bool  # whether pages continue with a cursor (not for ranked results)
    generic_plan_safe: bool = False  # True when a prepared (generic) plan uses the same index
    broad: bool = False  # may match many reads: search newest-first windows (time_windows)


NEWEST: LiteralString = '"timestamp" DESC, id DESC'


def plate_match(mode: MatchMode, plate_text: str) -> PlateMatch:
    if mode is MatchMode.WILDCARD:
        return _wildcard(plate_text)
    term = normalize_plate(plate_text)
    minimum = {MatchMode.EXACT: 1, MatchMode.PREFIX: 2, MatchMode.FUZZY: 4}[mode]
    if len(term) < minimum:
        raise Problem(422, "Search term too short",
                      f"{mode} search needs at least {minimum} letters or digits.")  # fmt: skip
    if mode is MatchMode.EXACT:
        return PlateMatch("plate_normalized = %(term)s", NEWEST, {"term": term}, keyset=True,
                          generic_plan_safe=True)  # fmt: skip
    if mode is MatchMode.PREFIX:
        return PlateMatch("plate_normalized LIKE %(pattern)s", NEWEST,
                          {"pattern": term + "%"}, keyset=True, broad=True)  # fmt: skip
    return _fuzzy(term)


def _wildcard(plate_text: str) -> PlateMatch:
    cleaned = _WILDCARD_CHARS.sub("", plate_text.upper())
    if not _LITERAL_RUN.search(cleaned):
        raise Problem(
            422,
            "Wildcard too loose",
            "A wildcard search needs 3 letters or digits in a row, e.g. AB?12* or *12C*.",
        )
    pattern = cleaned.replace("?", "_").replace("*", "%")
    return PlateMatch("plate_normalized LIKE %(pattern)s", NEWEST, {"pattern": pattern},
                      keyset=True, broad=True)  # fmt: skip


def _fuzzy(term: str) -> PlateMatch:
    """Look-alikes (0/O/D/Q, 1/I/L, 8/B, 5/S, 2/Z, 6/G) cost nothing; up to two other edits."""
    where: LiteralString = (
        "alpr_ocr_key(plate_normalized) %% alpr_ocr_key(%(term)s)"
        " AND levenshtein(alpr_ocr_key(plate_normalized), alpr_ocr_key(%(term)s)) <= %(edits)s"
    )
    order_by: LiteralString = (
        "levenshtein(alpr_ocr_key(plate_normalized), alpr_ocr_key(%(term)s)),"
        " levenshtein(plate_normalized, %(term)s), " + NEWEST
    )
    return PlateMatch(where, order_by, {"term": term, "edits": FUZZY_MAX_EDITS}, keyset=False)
