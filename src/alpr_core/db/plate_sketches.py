"""Unique plates per UTC day, camera and site, as mergeable HyperLogLog sketches (Apache
DataSketches; docs/decisions.md#plate-sketches). The writer adds each batch's new reads to their
sketches in the batch's transaction; ``GET /stats`` and ``GET /stats/plates`` merge the
sketches of the days and places asked for, whatever the number of reads behind them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any, LiteralString

import psycopg
from datasketches import hll_sketch, hll_union, tgt_hll_type

from alpr_core.db.passes import LOCK_CAMERAS, camera_locks, in_key_order
from alpr_core.events.model import PlateEvent

# 2^12 registers: a relative standard error of 1.6 %; 4 bits each, about 2 KiB a sketch.
HLL_LG_K = 12
HLL_TYPE = tgt_hll_type.HLL_4

Place = tuple[date, str, str | None]  # a sketch's day, camera and site


def empty_sketch() -> hll_sketch:
    return hll_sketch(HLL_LG_K, HLL_TYPE)


def places_of(events: Iterable[PlateEvent]) -> dict[Place, list[str]]:
    """The plates of ``events`` per UTC day, camera and site."""
    plates: dict[Place, list[str]] = defaultdict(list)
    for event in events:
        day = event.captured_at.astimezone(UTC).date()
        plates[(day, event.camera_id, event.site)].append(event.plate_normalized)
    return plates


_SELECT: LiteralString = (
    "SELECT s.day, s.camera_id, s.site, s.uniques"
    " FROM unnest(%s::date[], %s::text[], %s::text[]) AS w(day, camera_id, site)"
    " JOIN plate_sketches s ON s.day = w.day AND s.camera_id = w.camera_id"
    " AND coalesce(s.site, '') = coalesce(w.site, '')"
)
_UPSERT: LiteralString = (
    "INSERT INTO plate_sketches (day, camera_id, site, uniques)"
    " SELECT * FROM unnest(%s::date[], %s::text[], %s::text[], %s::bytea[])"
    " ON CONFLICT (day, camera_id, (coalesce(site, ''))) DO UPDATE SET uniques = excluded.uniques"
)


def add_to_sketches(conn: psycopg.Connection[Any], events: Sequence[PlateEvent]) -> None:
    """Add ``events`` (reads newly stored in ``conn``'s open transaction) to their sketches.
    Each camera's sketches are read and written under its transaction lock (the passes' own),
    so two writers never both change one."""
    plates = places_of(events)
    if not plates:
        return
    conn.execute(LOCK_CAMERAS, camera_locks(list({camera for _, camera, _ in plates})))
    places, columns = in_key_order(plates)
    stored = {
        (day, camera, site): hll_sketch.deserialize(uniques)
        for day, camera, site, uniques in conn.execute(_SELECT, columns)
    }
    written = []
    for place in places:
        sketch = stored.get(place) or empty_sketch()
        for plate in plates[place]:
            sketch.update(plate)
        written.append(sketch.serialize_compact())
    conn.execute(_UPSERT, [*columns, written])


@dataclass(frozen=True, slots=True)
class Estimate:
    estimate: float
    lower_bound: float
    upper_bound: float


class SketchUnion:
    """Sketches merged: the unique plates of all of them. One sketch is read as it is: a union
    costs more to make than to fill, and most groups of ``/stats`` hold one sketch."""

    def __init__(self) -> None:
        self._single: hll_sketch | None = None
        self._union: hll_union | None = None

    def add(self, uniques: bytes) -> None:
        sketch = hll_sketch.deserialize(uniques)
        if self._union is not None:
            self._union.update(sketch)
        elif self._single is None:
            self._single = sketch
        else:
            self._union = hll_union(HLL_LG_K)
            self._union.update(self._single)
            self._union.update(sketch)

    def unique_plates(self) -> Estimate:
        """The estimate, with bounds of two standard deviations (95 %)."""
        if self._union is not None:
            merged = self._union.get_result()
        elif self._single is not None:
            merged = self._single
        else:
            return Estimate(0.0, 0.0, 0.0)
        return Estimate(merged.get_estimate(), merged.get_lower_bound(2), merged.get_upper_bound(2))


def rebuild_sketches(conninfo: str, batch: int = 50_000) -> tuple[int, int]:
    """Delete every sketch and make them again from every stored read, a day at a time (the
    reads in time order); (reads, sketches)."""
    with (
        psycopg.connect(conninfo, autocommit=True) as writer,
        psycopg.connect(conninfo) as reader,
    ):
        writer.execute("DELETE FROM plate_sketches")
        reads = written = 0
        day: dict[Place, hll_sketch] = {}
        with reader.cursor(name="alpr_sketches_rebuild") as cursor:
            cursor.itersize = batch
            cursor.execute(
                "SELECT (\"timestamp\" AT TIME ZONE 'UTC')::date, camera_id, site, plate_normalized"
                ' FROM plate_detections ORDER BY "timestamp"'
            )
            for place_day, camera, site, plate in cursor:
                if day and next(iter(day))[0] != place_day:
                    written += _write_day(writer, day)
                    day = {}
                day.setdefault((place_day, camera, site), empty_sketch()).update(plate)
                reads += 1
        written += _write_day(writer, day)
    return reads, written


def _write_day(conn: psycopg.Connection[Any], sketches: dict[Place, hll_sketch]) -> int:
    if sketches:
        places, columns = in_key_order(sketches)
        conn.execute(_UPSERT, [*columns, [sketches[place].serialize_compact() for place in places]])
    return len(sketches)
