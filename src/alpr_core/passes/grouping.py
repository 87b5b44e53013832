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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from alpr_core.events.parse import ocr_key

# What one pass remembers at most, so that a hostile edge (a new track id or a new text on every
# read) cannot grow a row without bound: the keys seen last, the heaviest texts.
MAX_KEYS = 32
MAX_VOTES = 32
MAX_REMEMBERED_KEYS = 100_000  # plates whose plate key is remembered (most reads repeat a plate)
_OCR_KEYS: dict[str, str] = {}


# PassRead and Pass are not frozen: a frozen dataclass sets each field through
# object.__setattr__, which the writer would pay for every read. Treat them as immutable.


@dataclass(slots=True)
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
        return read_keys(self.track_id, self.plate_normalized)


def read_keys(track_id: str, plate_normalized: str) -> tuple[str, str]:
    """The keys a read joins passes by: its track (``t:``) and its plate's OCR key (``p:``)."""
    return "t:" + track_id, "p:" + _ocr_key(plate_normalized)


@dataclass(slots=True)
class Pass:
    """A pass; ``id`` is None until it is stored. ``keys`` maps each track (``t:``) and plate
    key (``p:``) of its reads to their first and last time (:func:`micros`); ``best`` is its
    best read;
    ``plate_normalized`` is the consensus of ``votes``, and ``plate_text`` that consensus as the
    best read wrote it, when the best read says it."""

    id: int | None
    camera_id: str
    site: str | None
    first_seen: datetime
    last_seen: datetime
    read_count: int
    keys: Mapping[str, tuple[int, int]]
    votes: Mapping[str, float]
    best: PassRead
    direction: str | None
    plate_normalized: str
    plate_text: str


@dataclass(frozen=True, slots=True)
class PassChanges:
    """What a batch does to the stored passes: passes to write (``id`` None: new) and the ids
    of passes merged into another."""

    written: list[Pass] = field(default_factory=list)
    merged_away: list[int] = field(default_factory=list)


def _ocr_key(plate: str) -> str:
    """``ocr_key``, remembered: most reads repeat a plate read just before."""
    key = _OCR_KEYS.get(plate)
    if key is None:
        if len(_OCR_KEYS) >= MAX_REMEMBERED_KEYS:
            _OCR_KEYS.clear()
        key = _OCR_KEYS[plate] = ocr_key(plate)
    return key


def micros(at: datetime) -> int:
    """Microseconds since the epoch: how key spans are kept, compared and stored."""
    return round(at.timestamp() * 1_000_000)


def consensus(votes: Mapping[str, float]) -> str:
    """The text of the heaviest OCR-key group, then that group's heaviest text (ties: the
    smaller key, then text, so the result does not depend on order)."""
    if len(votes) == 1:
        return next(iter(votes))
    keyed = [(_ocr_key(text), text, weight) for text, weight in votes.items()]
    groups: dict[str, float] = defaultdict(float)
    for key, _, weight in keyed:
        groups[key] += weight
    winner = min(groups, key=lambda key: (-groups[key], key)) if len(groups) > 1 else keyed[0][0]
    return min((-weight, text) for key, text, weight in keyed if key == winner)[1]


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
    passes near them (at least every pass of :func:`windows`; others change nothing).

    The reads are first cut into runs (one camera, track and plate key, each read within the
    gap of the one before), which the rule makes one pass each; then runs and stored passes
    that share a key within the gap are joined."""
    passes = list({p.id: p for p in stored}.values())
    keys_of = [read.keys for read in reads]
    times = [micros(read.at) for read in reads]
    gap_us = micros_of(gap)
    runs = _runs(reads, keys_of, times, gap_us)
    parent = list(range(len(passes) + len(runs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    buckets: dict[tuple[str, str], list[tuple[int, int, int]]] = defaultdict(list)
    for i, p in enumerate(passes):
        for key, (first, last) in p.keys.items():
            buckets[(p.camera_id, key)].append((first, last, i))
    for i, run in enumerate(runs, len(passes)):
        camera = reads[run[0]].camera_id
        for key in keys_of[run[0]]:
            buckets[(camera, key)].append((times[run[0]], times[run[-1]], i))
    for spans in buckets.values():
        if len(spans) > 1:
            _join_chained(spans, gap_us, parent, root)

    groups: dict[int, tuple[list[Pass], list[int]]] = {}
    for i, run in enumerate(runs, len(passes)):
        groups.setdefault(root(i), ([], []))[1].extend(run)
    for i, p in enumerate(passes):
        group = groups.get(root(i))
        if group is not None:  # a pass no new read joins changes nothing
            group[0].append(p)
    changes = PassChanges()
    for kept, joined in groups.values():
        ids = sorted(p.id for p in kept if p.id is not None)
        news = [(reads[j], keys_of[j], times[j]) for j in joined]
        changes.written.append(_merged(kept, news, ids[0] if ids else None))
        changes.merged_away.extend(ids[1:])
    return changes


# A pass is counted in the UTC hour of its first read, at its camera and site.
HourKey = tuple[datetime, str, str | None]


def hour_of(p: Pass) -> HourKey:
    return (
        p.first_seen.astimezone(UTC).replace(minute=0, second=0, microsecond=0),
        p.camera_id,
        p.site,
    )


def count_changes(stored: Iterable[Pass], changes: PassChanges) -> dict[HourKey, int]:
    """What ``changes`` do to the passes counted per hour, camera and site (``hour_of``): a
    new pass adds one; a pass merged away, or written with another first hour or site, moves
    its count. Only the counts that change."""
    before = {p.id: p for p in stored}
    delta: dict[HourKey, int] = defaultdict(int)
    for pass_id in changes.merged_away:
        delta[hour_of(before[pass_id])] -= 1
    for p in changes.written:
        if p.id is not None:
            delta[hour_of(before[p.id])] -= 1
        delta[hour_of(p)] += 1
    return {key: count for key, count in delta.items() if count}


def micros_of(span: timedelta) -> int:
    return span // timedelta(microseconds=1)


def _runs(
    reads: Sequence[PassRead], keys_of: list[tuple[str, str]], times: list[int], gap: int
) -> list[list[int]]:
    """The reads' indexes in runs: one camera, track and plate key, in time order, each within
    ``gap`` (microseconds) of the one before."""
    by_keys: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for j, (read, (track, plate)) in enumerate(zip(reads, keys_of, strict=True)):
        by_keys[(read.camera_id, track, plate)].append(j)
    runs: list[list[int]] = []
    for members in by_keys.values():
        if len(members) > 1:
            members.sort(key=times.__getitem__)
        run = [members[0]]
        for j in members[1:]:
            if times[j] - times[run[-1]] > gap:
                runs.append(run)
                run = [j]
            else:
                run.append(j)
        runs.append(run)
    return runs


def _join_chained(
    spans: list[tuple[int, int, int]],
    gap: int,
    parent: list[int],
    root: Callable[[int], int],
) -> None:
    """Join the items of one key whose spans, in time order, chain within ``gap``."""
    spans.sort()
    reach = spans[0][1]
    for (_, _, before), (first, last, i) in pairwise(spans):
        if first - reach <= gap:
            parent[root(i)] = root(before)
        reach = max(reach, last)


def _merged(
    kept: list[Pass], news: list[tuple[PassRead, tuple[str, str], int]], pass_id: int | None
) -> Pass:
    """The pass of stored passes ``kept`` and new reads (each with its keys and time), as
    ``pass_id``. Written for speed: it runs for every pass a batch touches."""
    kept.sort(key=lambda p: (p.first_seen, p.id or 0))
    spans, votes = _spans_and_votes(kept)
    best = kept[0].best if kept else news[0][0]
    best_rank = _rank(best)
    first_seen = last_seen = news[0][0].at
    for read, keys, at in news:
        for key in keys:
            known = spans.get(key)
            if known is None:
                spans[key] = (at, at)
            elif at > known[1]:
                spans[key] = (known[0], at)
            elif at < known[0]:
                spans[key] = (at, known[1])
        votes[read.plate_normalized] += read.confidence
        rank = _rank(read)
        if rank < best_rank:
            best, best_rank = read, rank
        if read.at < first_seen:
            first_seen = read.at
        elif read.at > last_seen:
            last_seen = read.at
    for p in kept:
        rank = _rank(p.best)
        if rank < best_rank:
            best, best_rank = p.best, rank
        first_seen = min(first_seen, p.first_seen)
        last_seen = max(last_seen, p.last_seen)
    reads = [read for read, _, _ in news]
    winner = consensus(votes)
    return Pass(
        pass_id,
        best.camera_id,
        best.site
        or next((r.site for r in reads if r.site), None)
        or next((p.site for p in kept if p.site), None),
        first_seen,
        last_seen,
        len(reads) + sum(p.read_count for p in kept),
        _latest(spans),
        _heaviest(votes),
        best,
        best.direction or _last_direction(kept, reads),
        winner,
        written_text(best.plate_text, best.plate_normalized, winner),
    )


def _spans_and_votes(
    kept: list[Pass],
) -> tuple[dict[str, tuple[int, int]], defaultdict[str, float]]:
    """The key spans and the votes of stored passes together."""
    spans: dict[str, tuple[int, int]] = {}
    votes: defaultdict[str, float] = defaultdict(float)
    for p in kept:
        for key, (first, last) in p.keys.items():
            known = spans.get(key)
            spans[key] = (min(first, known[0]), max(last, known[1])) if known else (first, last)
        for text, weight in p.votes.items():
            votes[text] += weight
    return spans, votes


def written_text(best_text: str, best_plate: str, consensus_plate: str) -> str:
    """A pass's consensus as its best read wrote it, when the best read says it; else the
    normalized consensus."""
    return best_text if best_plate == consensus_plate else consensus_plate


def _rank(read: PassRead) -> tuple[float, datetime, str]:
    return (-read.confidence, read.at, read.event_id)


def _last_direction(kept: list[Pass], reads: list[PassRead]) -> str | None:
    """The direction of the latest read that gives one, else of the latest pass that has one."""
    given = [read for read in reads if read.direction]
    if given:
        return max(given, key=lambda read: read.at).direction
    return next((p.direction for p in reversed(kept) if p.direction), None)


def _latest(spans: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """The ``MAX_KEYS`` keys seen last (all, usually)."""
    if len(spans) <= MAX_KEYS:
        return spans
    latest = sorted(spans, key=lambda key: (spans[key][1], key))[-MAX_KEYS:]
    return {key: spans[key] for key in sorted(latest)}


def _heaviest(votes: dict[str, float]) -> dict[str, float]:
    """The ``MAX_VOTES`` heaviest texts (all, usually)."""
    if len(votes) <= MAX_VOTES:
        return dict(votes)
    return {text: votes[text] for text in sorted(votes, key=lambda t: (-votes[t], t))[:MAX_VOTES]}
