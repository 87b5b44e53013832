"""Response bodies: what the API promises, separate from the table's rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, IPvAnyAddress


class PlateSummary(BaseModel):
    id: int = Field(examples=[12345])
    event_id: UUID
    timestamp: datetime = Field(description="When the edge captured the read (UTC).")
    plate_text: str = Field(examples=["AB12 CDE"], description="As the recogniser read it.")
    plate_normalized: str = Field(examples=["AB12CDE"], description="Upper-case letters, digits.")
    confidence: float = Field(ge=0, le=1, examples=[0.93])
    camera_id: str = Field(examples=["cam-001"])
    track_id: str
    site: str | None = Field(examples=["site-1"])
    image_path: str | None = Field(description="Object key of the stored crop, or the edge's URL.")
    image_url: str | None = Field(description="Where to GET the plate crop, when there is one.")


def image_url(plate_id: int, object_key: str | None) -> str | None:
    """Where a read's crop is served, when it has one (``object_key``: ours or its edge's)."""
    return f"/plates/{plate_id}/image" if object_key else None


class PlatePage(BaseModel):
    items: list[PlateSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
    limit: int


class Vehicle(BaseModel):
    type: str | None
    make: str | None
    model: str | None
    color: str | None


def vehicle_of(row: dict[str, Any]) -> Vehicle:
    """The vehicle columns of a read's or a pass's row."""
    return Vehicle(
        type=row["vehicle_type"],
        make=row["vehicle_make"],
        model=row["vehicle_model"],
        color=row["vehicle_color"],
    )


class ImageLinks(BaseModel):
    plate_url: str | None
    vehicle_url: str | None
    frame_url: str | None


class Correction(BaseModel):
    plate_text: str = Field(description="The text before this correction.")
    corrected_text: str
    reason: str | None
    key_name: str = Field(description="The name of the key that corrected it.")
    corrected_at: datetime


class Tag(BaseModel):
    tag: str
    key_name: str = Field(description="The name of the key that gave it first.")
    tagged_at: datetime


class Note(BaseModel):
    id: int
    body: str
    key_name: str
    written_at: datetime


class PlateDetail(PlateSummary):
    region: str | None
    vehicle: Vehicle
    images: ImageLinks
    host: str | None
    latency_ms: int
    extras: dict[str, Any] | None
    ingested_at: datetime
    corrections: list[Correction] = Field(
        description="Corrections of its plate text, oldest first; the first one's `plate_text`"
        " is the text the recogniser read."
    )
    tags: list[Tag] = Field(description="Tags on its plate, each once.")
    notes: list[Note] = Field(description="Notes on its plate, oldest first.")


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(examples=["ready"])
    checks: dict[str, str] = Field(examples=[{"database": "ok", "object_store": "ok"}])


class AuditEntry(BaseModel):
    id: int
    at: datetime
    key_id: UUID | None
    key_name: str
    method: str
    path: str
    params: dict[str, list[str]]
    status: int
    result_count: int | None
    client_addr: IPvAnyAddress | None = None
    purpose: str | None = None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None


class AcceptedEvent(BaseModel):
    index: int = Field(description="The item's position in the request (0 for a single event).")
    event_id: UUID


class RejectedItem(BaseModel):
    """An RFC 9457 problem for one posted item that was not stored."""

    type: str = Field(default="about:blank")
    title: str = Field(examples=["Invalid event"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["plate.confidence must be in [0, 1]"])
    index: int = Field(description="The item's position in the request.")
    event_id: str | None = Field(description="The item's event_id, when it states one.")
    reason: str = Field(examples=["invalid_confidence"])


class IngestReport(BaseModel):
    accepted: list[AcceptedEvent] = Field(description="Items stored now or already stored.")
    rejected: list[RejectedItem] = Field(description="Items not stored, each with its problem.")
    stored: int = Field(description="Accepted events this request newly stored.")
    duplicates: int = Field(description="Accepted events already stored (a replay): no change.")


class ProblemDetail(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=["about:blank"])
    title: str = Field(examples=["Invalid request"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["query.limit: Input should be greater than or equal to 1"])
    instance: str = Field(examples=["/plates"])
    errors: list[dict[str, str]] | None = None
    rejected: list[RejectedItem] | None = Field(
        default=None, description="POST /events: the problem of each item, when none was stored."
    )


class CameraEntry(BaseModel):
    """A camera of the registry (`alpr cameras add`)."""

    camera_id: str = Field(examples=["cam-001"])
    site_id: str = Field(examples=["site-1"])
    name: str | None = None
    direction: str | None = Field(default=None, examples=["northbound"])
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    enabled: bool
    created_at: datetime
    updated_at: datetime


class CameraList(BaseModel):
    items: list[CameraEntry]
