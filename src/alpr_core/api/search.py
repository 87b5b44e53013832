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
FUZZY_MAX_PLATES = 500  # distinct plates a fuzzy search looks at, the closest first
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
    broad: bool = False  # may match many reads: search newest-first windows (time_windows)
    # plates in rank order (plate, ocr_distance, raw_distance), as fp; ``where`` joins each
    # with the days it was read on, as pd (since, until): ``queries._ranked_page``
    ranked_plates: LiteralString | None = None
    # whether a read's own text is found, where ``where`` alone does not say it (fuzzy: it
    # names one ranked plate); a read found by a former text is shown only when it is not
    found_by_text: LiteralString | None = None

    @property
    def found(self) -> LiteralString:
        return self.found_by_text or self.where


NEWEST: LiteralString = '"timestamp" DESC, id DESC'


def plate_match(mode: MatchMode, plate_text: str) -> PlateMatch:
    if mode is MatchMode.WILDCARD:
        return _wildcard(plate_text)
    term = normalize_plate(plate_text)
    minimum = {MatchMode.EXACT: 1, MatchMode.PREFIX: 2, MatchMode.FUZZY: 4}[mode]
    if len(term) < minimum:
        raise Problem(
            422,
            "Search term too short",
            f"{mode} search needs at least {minimum} letters or digits.",
        )
    if mode is MatchMode.EXACT:
        return PlateMatch("plate_normalized = %(term)s", NEWEST, {"term": term}, keyset=True)
    if mode is MatchMode.PREFIX:
        return _prefix(term)
    return _fuzzy(term)


def _prefix(term: str) -> PlateMatch:
    """The plates from ``term`` up to the next prefix in byte order: for ``OTY``, from ``OTY``
    to ``OTZ`` (normalized plates hold only A-Z and 0-9). ``LIKE 'OTY%'`` means the same, but
    PostgreSQL turns it into that index range only when it plans for the value: a statement
    planned at each call spends more on planning its day partitions than on running
    (docs/decisions.md#prefix-range).
    The range is an index condition in the generic plan too, so prefix search is prepared."""
    following = term[:-1] + chr(ord(term[-1]) + 1)
    return PlateMatch(
        "plate_normalized ~>=~ %(prefix)s AND plate_normalized ~<~ %(following_prefix)s",
        NEWEST,
        {"prefix": term, "following_prefix": following},
        keyset=True,
        broad=True,
    )


WILDCARD_RULE = "3 letters or digits in a row, e.g. AB?12* or *12C*"


def wildcard_form(plate_text: str) -> str | None:
    """``plate_text`` as a wildcard (upper case letters, digits, ``?`` for one character and
    ``*`` for any run), or None when it is too loose for an index (``WILDCARD_RULE``)."""
    cleaned = _WILDCARD_CHARS.sub("", plate_text.upper())
    return cleaned if _LITERAL_RUN.search(cleaned) else None


def _wildcard(plate_text: str) -> PlateMatch:
    cleaned = wildcard_form(plate_text)
    if cleaned is None:
        raise Problem(422, "Wildcard too loose", f"A wildcard search needs {WILDCARD_RULE}.")
    pattern = cleaned.replace("?", "_").replace("*", "%")
    return PlateMatch(
        "plate_normalized LIKE %(pattern)s", NEWEST, {"pattern": pattern}, keyset=True, broad=True
    )


def _fuzzy(term: str) -> PlateMatch:
    """Look-alikes (0/O/D/Q, 1/I/L, 8/B, 5/S, 2/Z, 6/G) cost nothing; up to two other edits.

    ``alpr_fuzzy_plates`` (migration 0009) finds the plates within reach in ``plate_texts`` by
    their deletion variants, and among the plates not yet indexed (a few seconds' worth), at
    most ``FUZZY_MAX_PLATES``, ranked by folded distance, then raw distance, then plate. The
    page is their reads in that order, each plate's newest first, read plate by plate from the
    days each was read on until the page is full. The plan does not depend on the term, so it
    is prepared like the list query."""
    where: LiteralString = (
        'plate_normalized = fp.plate AND "timestamp" >= pd.since AND "timestamp" < pd.until'
    )
    ranked_plates: LiteralString = "alpr_fuzzy_plates(%(term)s, %(edits)s, %(max_plates)s)"
    order_by: LiteralString = (  # the same order, from a page's rows (audit.audited)
        "levenshtein(alpr_ocr_key(plate_normalized), alpr_ocr_key(%(term)s)),"
        " levenshtein(plate_normalized, %(term)s), plate_normalized, " + NEWEST
    )
    within_reach: LiteralString = (
        "levenshtein(alpr_ocr_key(plate_normalized), alpr_ocr_key(%(term)s)) <= %(edits)s"
    )
    params = {"term": term, "edits": FUZZY_MAX_EDITS, "max_plates": FUZZY_MAX_PLATES}
    return PlateMatch(
        where,
        order_by,
        params,
        keyset=False,
        ranked_plates=ranked_plates,
        found_by_text=within_reach,
    )
