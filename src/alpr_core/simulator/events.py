"""Synthetic plate reads: vehicles tracked past cameras, each read several times."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from alpr_core.events.parse import normalize_plate
from alpr_core.simulator.crops import render_crop
from alpr_core.simulator.plates import misread, random_plate

_VEHICLES = (
    ("car", "Toyota", "Corolla"),
    ("car", "Volkswagen", "Golf"),
    ("car", "Ford", "Focus"),
    ("suv", "Honda", "CR-V"),
    ("truck", "Volvo", "FH16"),
    ("van", "Mercedes-Benz", "Sprinter"),
    ("motorcycle", "Yamaha", "MT-07"),
)
_COLORS = ("white", "black", "silver", "grey", "blue", "red", "green")
_DIRECTIONS = ("in", "out")
_REGIONS = ("us-ca", "us-nv", "us-az")  # of a plate, by its first character


@dataclass(frozen=True, slots=True)
class SimulatedRead:
    """One event as a record for the Avro serializer, and the plate the vehicle really had."""

    record: dict[str, Any]
    true_plate: str


@dataclass(frozen=True, slots=True)
class Camera:
    camera_id: str
    site: str
    host: str


def cameras(count: int, sites: int = 2) -> list[Camera]:
    return [Camera(f"cam-{i:03d}", f"site-{i % sites + 1}", f"edge-{i:03d}") for i in range(count)]


def tracks(
    rng: random.Random,
    fleet: list[Camera],
    start: datetime,
    inline_image_share: float,
    listed: Callable[[], Sequence[str]] = tuple,
    listed_share: float = 0.0,
) -> Iterator[SimulatedRead]:
    """An endless stream of reads: each vehicle is read 2-6 times by one camera. With
    ``listed_share``, that share of vehicles carries one of the ``listed`` plates (asked for
    each vehicle), so that a watchlist's alerts fire."""
    now = start
    track_number = 0
    while True:
        track_number += 1
        camera = rng.choice(fleet)
        plates = listed() if listed_share > 0 else ()
        replay = bool(plates) and rng.random() < listed_share
        plate = rng.choice(plates) if replay else random_plate(rng)
        vehicle = rng.choice(_VEHICLES)
        inline = rng.random() < inline_image_share
        for frame in range(rng.randint(2, 6)):
            now += timedelta(milliseconds=rng.randint(20, 120))
            yield _read(rng, camera, plate, vehicle, f"trk-{track_number}", frame, now, inline)


def _read(
    rng: random.Random,
    camera: Camera,
    plate: str,
    vehicle: tuple[str, str, str],
    track_id: str,
    frame: int,
    at: datetime,
    inline: bool,
) -> SimulatedRead:
    text = misread(plate, rng)
    confidence = rng.betavariate(9, 1.5) * (0.75 if text != plate else 1.0)
    event_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    record: dict[str, Any] = {
        "event_id": str(event_id),
        "captured_at": at.astimezone(UTC).isoformat(timespec="milliseconds"),
        "camera_id": camera.camera_id,
        "track_id": track_id,
        "plate": {
            "text": text,
            "normalized_text": normalize_plate(text),
            "confidence": round(confidence, 4),
            "region": _REGIONS[ord(plate[0]) % len(_REGIONS)],
        },
        "vehicle": {
            "type": vehicle[0],
            "make": vehicle[1],
            "model": vehicle[2],
            "color": rng.choice(_COLORS),
        },
        "images": {
            "plate_url": None if inline else _edge_url(camera, at, event_id),
            "vehicle_url": None,
            "frame_url": None,
        },
        "latency_ms": rng.randint(15, 120),
        "node": {"site": camera.site, "host": camera.host},
        "extras": {
            "roi": "lane-1",
            "direction": rng.choice(_DIRECTIONS),
            "quality_score": round(rng.uniform(0.4, 1.0), 3),
            "frame_number": frame,
        },
    }
    if inline:
        record["plate_image"] = render_crop(text, rng)
    return SimulatedRead(record, plate)


def _edge_url(camera: Camera, at: datetime, event_id: uuid.UUID) -> str:
    return f"s3://alpr-plate-images/edge/{camera.camera_id}/{at:%Y/%m/%d}/{event_id}.jpg"
