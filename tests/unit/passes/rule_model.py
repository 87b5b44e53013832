"""The pass rule over all reads at once, by brute force: what ``passes/grouping.py`` must agree
with."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from alpr_core.events.parse import ocr_key
from alpr_core.passes.grouping import Pass, PassRead

GAP = timedelta(seconds=60)


def model_passes(reads: Iterable[PassRead]) -> set[frozenset[str]]:
    """The rule over all reads at once, by brute force: two reads at one camera sharing a track
    or a plate key and at most the gap apart are linked; passes are the linked groups."""
    reads = list(reads)
    group = {r.event_id: {r.event_id} for r in reads}
    for a in reads:
        for b in reads:
            shares = a.track_id == b.track_id or ocr_key(a.plate_normalized) == ocr_key(
                b.plate_normalized
            )
            if a.camera_id == b.camera_id and shares and abs(a.at - b.at) <= GAP:
                merged = group[a.event_id] | group[b.event_id]
                for member in merged:
                    group[member] = merged
    return {frozenset(g) for g in group.values()}


def summary(passes: Iterable[Pass]) -> set[tuple[str, datetime, datetime, int]]:
    return {(p.camera_id, p.first_seen, p.last_seen, p.read_count) for p in passes}


def model_summary(reads: Sequence[PassRead]) -> set[tuple[str, datetime, datetime, int]]:
    by_id = {r.event_id: r for r in reads}
    return {
        (
            by_id[next(iter(g))].camera_id,
            min(by_id[i].at for i in g),
            max(by_id[i].at for i in g),
            len(g),
        )
        for g in model_passes(reads)
    }
