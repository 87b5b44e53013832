"""What makes reads one vehicle pass, and how a batch of new reads changes the stored passes
(docs/decisions.md#passes).

Two reads at one camera belong to one pass when they share a ``track_id`` or a plate (its OCR
key: look-alikes folded) and are at most the gap apart. A pass remembers, per key, the first and
last time of its reads with that key; a new read joins each pass whose span for one of its keys
it is within the gap of, and passes a read joins become one (the lowest id stays). Reads that
arrive in time order, in any batches, make the same passes as the rule over all reads at once; a
late read that falls in a long hole between reads of one key joins the pass around it. A
replayed read is not new and changes nothing.

A pass keeps its first and last time, its number of reads, its best read (highest confidence)
and a confidence-weighted vote over its reads' plate texts, from which its consensus text comes:
the OCR-key group with the most weight, then that group's text with the most weight.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import pairwise

from alpr_core.events.parse import ocr_key

# What one pass remembers at most, so that a hostile edge (a new track id or a new text on every
# read) cannot grow a row without bound: the keys seen last, the heaviest texts.
MAX_KEYS = 32
MAX_VOTES = 32


@dataclass(frozen=True, slots=True)
class PassRead:
    """A stored read, as passes use it."""

    event_id: str
    at: datetime
    camera_id: str
    site: str | None
    track_id: str
    plate_text: str
    plate_normalized: str
    confidence: float
    direction: str | None = None
    region: str | None = None
    vehicle_type: str | None = None
    vehicle_make: str | None = None
    vehicle_model: str | None = None
    vehicle_color: str | None = None

    @property
    def keys(self) -> tuple[str, str]:
        return f"t:{self.track_id}", f"p:{ocr_key(self.plate_normalized)}"


@dataclass(frozen=True, slots=True)
class Pass:
    """A pass; ``id`` is None until it is stored. ``keys`` maps each track (``t:``) and plate
    key (``p:``) of its reads to their first and last time; ``best`` is its best read."""

    id: int | None
    camera_id: str
    site: str | None
    first_seen: datetime
    last_seen: datetime
    read_count: int
    keys: Mapping[str, tuple[datetime, datetime]]
    votes: Mapping[str, float]
    best: PassRead
    direction: str | None = None

    @property
    def plate_normalized(self) -> str:
        return consensus(self.votes)

    @property
    def plate_text(self) -> str:
        """The consensus as the best read wrote it, when the best read says the consensus."""
        winner = self.plate_normalized
        return self.best.plate_text if self.best.plate_normalized == winner else winner

    @classmethod
    def of(cls, read: PassRead) -> Pass:
        return cls(
            None,
            read.camera_id,
            read.site,
            read.at,
            read.at,
            1,
            dict.fromkeys(read.keys, (read.at, read.at)),
            {read.plate_normalized: read.confidence},
            read,
            read.direction,
        )


@dataclass(frozen=True, slots=True)
class PassChanges:
    """What a batch does to the stored passes: passes to write (``id`` None: new) and the ids
    of passes merged into another."""

    written: list[Pass] = field(default_factory=list)
    merged_away: list[int] = field(default_factory=list)


def consensus(votes: Mapping[str, float]) -> str:
    """The text of the heaviest OCR-key group, then that group's heaviest text (ties: the
    smaller key, then text, so the result does not depend on order)."""
    groups: dict[str, float] = defaultdict(float)
    for text, weight in votes.items():
        groups[ocr_key(text)] += weight
    winner = min(groups, key=lambda key: (-groups[key], key))
    return min((text for text in votes if ocr_key(text) == winner), key=lambda t: (-votes[t], t))


def windows(reads: Iterable[PassRead], gap: timedelta) -> list[tuple[str, datetime, datetime]]:
    """Per camera, the spans (widened by ``gap``) in which a stored pass could join ``reads``:
    the reads' times, split where two are more than twice the gap apart."""
    by_camera: dict[str, list[datetime]] = defaultdict(list)
    for read in reads:
        by_camera[read.camera_id].append(read.at)
    spans = []
    for camera, times in sorted(by_camera.items()):
        times.sort()
        low = high = times[0]
        for at in times[1:]:
            if at - high > 2 * gap:
                spans.append((camera, low - gap, high + gap))
                low = at
            high = at
        spans.append((camera, low - gap, high + gap))
    return spans


def join_reads(stored: Iterable[Pass], reads: Sequence[PassRead], gap: timedelta) -> PassChanges:
    """The passes that ``reads`` (new, not yet in any pass) make or change, given the stored
    passes near them (at least every pass of :func:`windows`; others change nothing)."""
    items: list[Pass] = [*{p.id: p for p in stored}.values(), *map(Pass.of, reads)]
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    buckets: dict[tuple[str, str], list[tuple[datetime, datetime, int]]] = defaultdict(list)
    for i, item in enumerate(items):
        for key, (first, last) in item.keys.items():
            buckets[(item.camera_id, key)].append((first, last, i))
    for spans in buckets.values():
        spans.sort()
        reach = spans[0][1]
        for (_, _, before), (first, last, i) in pairwise(spans):
            if first - reach <= gap:
                parent[root(i)] = root(before)
            reach = max(reach, last)

    groups: dict[int, list[Pass]] = defaultdict(list)
    for i, item in enumerate(items):
        groups[root(i)].append(item)
    changes = PassChanges()
    for group in groups.values():
        if all(item.id is not None for item in group):
            continue  # no new read: nothing changes
        kept = [item.id for item in group if item.id is not None]
        merged = _merged(group)
        changes.written.append(replace(merged, id=min(kept) if kept else None))
        changes.merged_away.extend(sorted(kept)[1:])
    return changes


def _merged(group: list[Pass]) -> Pass:
    ordered = sorted(group, key=lambda p: (p.first_seen, p.id is None, p.id or 0))
    best = min((p.best for p in ordered), key=_rank)
    votes: dict[str, float] = defaultdict(float)
    for item in ordered:
        for text, weight in item.votes.items():
            votes[text] += weight
    heaviest = sorted(votes, key=lambda t: (-votes[t], t))[:MAX_VOTES]
    return Pass(
        None,
        ordered[0].camera_id,
        best.site or next((p.site for p in ordered if p.site), None),
        min(p.first_seen for p in ordered),
        max(p.last_seen for p in ordered),
        sum(p.read_count for p in ordered),
        _spans(p.keys for p in ordered),
        {text: votes[text] for text in heaviest},
        best,
        best.direction or next((p.direction for p in reversed(ordered) if p.direction), None),
    )


def _rank(read: PassRead) -> tuple[float, datetime, str]:
    return (-read.confidence, read.at, read.event_id)


def _spans(
    each: Iterable[Mapping[str, tuple[datetime, datetime]]],
) -> dict[str, tuple[datetime, datetime]]:
    """Each key's span over all, the ``MAX_KEYS`` seen last."""
    spans: dict[str, tuple[datetime, datetime]] = {}
    for keys in each:
        for key, (first, last) in keys.items():
            known = spans.get(key)
            spans[key] = (min(first, known[0]), max(last, known[1])) if known else (first, last)
    latest = sorted(spans, key=lambda key: (spans[key][1], key))[-MAX_KEYS:]
    return {key: spans[key] for key in sorted(latest)}
