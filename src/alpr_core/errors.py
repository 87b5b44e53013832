"""The three classes of failure the pipeline tells apart.

- :class:`RejectedEvent`: this one message is bad. Count it, dead-letter it, move on.
- :class:`TransientError`: a dependency is unavailable for now. Retry with backoff, pause meanwhile.
- Anything else is fatal: stop without committing.
"""

from __future__ import annotations

from enum import StrEnum


class RejectReason(StrEnum):
    """Why an event was dead-lettered; also the ``reason`` label of the error counters."""

    UNDECODABLE = "undecodable"
    UNKNOWN_SCHEMA = "unknown_schema"
    MISSING_FIELD = "missing_field"
    INVALID_EVENT_ID = "invalid_event_id"
    INVALID_TIMESTAMP = "invalid_timestamp"
    TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"
    INVALID_CONFIDENCE = "invalid_confidence"
    INVALID_PLATE_TEXT = "invalid_plate_text"
    INVALID_FIELD = "invalid_field"
    INVALID_IMAGE = "invalid_image"
    IMAGE_TOO_LARGE = "image_too_large"
    TOO_DEEP = "too_deep"  # unknown fields nested or sized past the caps
    UNSTORABLE = "unstorable"  # valid as far as we check, yet refused by the database
    PAST_RETENTION = "past_retention"  # its day was dropped by retention before it was stored
    IMAGE_NOT_OWNED = "image_not_owned"  # plate_url names an object this read does not own
    OUT_OF_SCOPE = "out_of_scope"
    UNKNOWN_CAMERA = "unknown_camera"  # not a registered, enabled camera (camera registry)
    INTERNAL_ERROR = "internal_error"  # an exception nobody foresaw, raised by this one event


class RejectedEvent(Exception):  # noqa: N818 - it names the outcome, as the DLQ header does
    """A message that can never be stored as it is."""

    def __init__(self, reason: RejectReason, detail: str, cause: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.cause = cause  # the class of the exception behind it, when there was one

    @classmethod
    def unforeseen(cls, error: BaseException) -> RejectedEvent:
        """The rejection for an exception that no check expected from this one event."""
        name = type(error).__qualname__
        return cls(RejectReason.INTERNAL_ERROR, f"unexpected {name}", cause=name)


class TransientError(Exception):
    """A dependency (broker, registry, database, object store) failed in a way worth retrying."""
