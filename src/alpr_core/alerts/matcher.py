"""Which watchlist entries a stored read matches, from an in-memory index of the active entries
(docs/decisions.md#watchlist-matching).

- ``exact``: the read's normalized plate equals the entry's.
- ``fuzzy``: the OCR keys (look-alikes folded, as ``alpr_ocr_key`` in migration 0003) are within
  the entry's ``max_distance`` edits. Each fuzzy entry is indexed by its key's deletion variants
  (up to ``max_distance`` characters deleted), and a read looks up its own variants: two keys
  within d edits always share a variant, so no match is missed; Levenshtein keeps the true ones.
- ``wildcard``: ``?`` one character, ``*`` any run; indexed by its first run of three literal
  characters, which a matching read must contain.

A candidate matches when the read falls inside every restriction: the entry's validity (at the
read's time, and not yet expired now), its cameras, sites, directions and hours of the week, and
its list's sites, so that a list of one site never learns of another site's reads.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from rapidfuzz.distance import Levenshtein

from alpr_core.alerts.variant_index import VariantIndex
from alpr_core.events.parse import ocr_key

EntryMode = Literal["exact", "fuzzy", "wildcard"]
_LITERAL_RUN = re.compile(r"[0-9A-Z]{3,}")
MAX_FUZZY_DISTANCE = 2
PLATE_MEMORY = 100_000


@dataclass(frozen=True, slots=True)
class Sighting:
    """What a stored read offers to the lists."""

    plate_normalized: str
    camera_id: str
    site: str | None
    direction: str | None
    at: datetime

    def hour_of_week(self) -> int:
        moment = self.at.astimezone(UTC)
        return moment.weekday() * 24 + moment.hour


@dataclass(frozen=True, slots=True)
class ActiveEntry:
    id: UUID
    watchlist_id: UUID
    plate_normalized: str  # the wildcard pattern for a wildcard entry
    match_mode: EntryMode
    max_distance: int = 0
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    cameras: frozenset[str] | None = None
    sites: frozenset[str] | None = None
    directions: frozenset[str] | None = None
    hours_of_week: frozenset[int] | None = None
    list_sites: frozenset[str] | None = None
    priority: str = "warning"

    def allows(self, sighting: Sighting, now: datetime) -> bool:
        """Whether ``sighting`` is inside every restriction of the entry and its list."""
        if self.valid_until is not None and max(now, sighting.at) >= self.valid_until:
            return False
        if self.valid_from is not None and sighting.at < self.valid_from:
            return False
        if self.cameras is not None and sighting.camera_id not in self.cameras:
            return False
        for sites in (self.sites, self.list_sites):
            if sites is not None and sighting.site not in sites:
                return False
        if self.directions is not None and sighting.direction not in self.directions:
            return False
        return self.hours_of_week is None or sighting.hour_of_week() in self.hours_of_week

    def near(self, read_key: str, own_key: str) -> bool:
        """Whether two OCR keys are within the entry's ``max_distance`` edits."""
        distance = Levenshtein.distance(read_key, own_key, score_cutoff=self.max_distance)
        return distance <= self.max_distance

    def matches_plate(self, plate_normalized: str) -> bool:
        """The entry's plate rule alone, without the index (the definition the index keeps)."""
        if self.match_mode == "exact":
            return plate_normalized == self.plate_normalized
        if self.match_mode == "fuzzy":
            return self.near(ocr_key(plate_normalized), ocr_key(self.plate_normalized))
        return _wildcard_regex(self.plate_normalized).fullmatch(plate_normalized) is not None


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace(r"\?", ".").replace(r"\*", ".*"))


class WatchlistIndex:
    """The active entries, indexed for matching many reads a second. A plate's candidates (the
    entries whose plate rule it meets) are remembered for the next read of the same plate, up to
    ``PLATE_MEMORY`` plates: a vehicle is read several times as it passes."""

    def __init__(self, entries: Iterable[ActiveEntry]) -> None:
        self._remembered: dict[str, tuple[ActiveEntry, ...]] = {}
        self._exact: dict[str, list[ActiveEntry]] = defaultdict(list)
        self._fuzzy = VariantIndex[ActiveEntry]()  # by the deletion variants of the OCR key
        self._wildcards: dict[str, list[tuple[ActiveEntry, re.Pattern[str]]]] = defaultdict(list)
        self.size = 0
        for entry in entries:
            self.size += 1
            if entry.match_mode == "exact":
                self._exact[entry.plate_normalized].append(entry)
            elif entry.match_mode == "fuzzy":
                self._fuzzy.add(entry, ocr_key(entry.plate_normalized), entry.max_distance)
            else:
                literal = _LITERAL_RUN.search(entry.plate_normalized)
                trigram = literal.group()[:3] if literal else ""
                self._wildcards[trigram].append((entry, _wildcard_regex(entry.plate_normalized)))
        self._fuzzy.pack()

    def matches(self, sighting: Sighting, now: datetime) -> list[ActiveEntry]:
        """The entries ``sighting`` matches, each once."""
        return [e for e in self.candidates(sighting.plate_normalized) if e.allows(sighting, now)]

    def candidates(self, plate: str) -> tuple[ActiveEntry, ...]:
        """The entries whose plate rule ``plate`` meets, each once, before their restrictions."""
        return self.candidates_of([plate])[0]

    def candidates_of(self, plates: Sequence[str]) -> list[tuple[ActiveEntry, ...]]:
        """:meth:`candidates` of each plate, the plates not remembered looked up together: most
        reads have none, and need not be made into a :class:`Sighting`."""
        unseen = list(dict.fromkeys(p for p in plates if p not in self._remembered))
        looked_up = dict(zip(unseen, self._look_up(unseen), strict=True))
        found = [looked_up.get(p) or self._remembered.get(p, ()) for p in plates]
        if len(self._remembered) + len(looked_up) > PLATE_MEMORY:
            self._remembered.clear()
        self._remembered.update(looked_up)
        return found

    def _look_up(self, plates: list[str]) -> list[tuple[ActiveEntry, ...]]:
        keys = [ocr_key(plate) for plate in plates]
        found: list[tuple[ActiveEntry, ...]] = []
        exact, wildcards = self._exact, bool(self._wildcards)
        for plate, key, pairs in zip(
            plates, keys, self._fuzzy.sharing(keys, MAX_FUZZY_DISTANCE), strict=True
        ):
            # most plates meet no entry: that path makes no list
            entries = [entry for entry, own in pairs if entry.near(key, own)] if pairs else []
            if plate in exact:
                entries += exact[plate]
            if wildcards:
                entries += self._wildcard_matches(plate)
            found.append(_each_once(entries) if entries else ())
        return found

    def _wildcard_matches(self, plate: str) -> Iterator[ActiveEntry]:
        trigrams = {plate[i : i + 3] for i in range(len(plate) - 2)} | {""}
        for trigram in trigrams:
            for entry, regex in self._wildcards.get(trigram, ()):
                if regex.fullmatch(plate):
                    yield entry


def _each_once(entries: list[ActiveEntry]) -> tuple[ActiveEntry, ...]:
    return tuple({entry.id: entry for entry in entries}.values())
