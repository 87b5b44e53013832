"""Opaque keyset cursors: the (timestamp, id) of the last item of a page."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Cursor:
    timestamp: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.timestamp.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raise ValueError for anything this API did not hand out."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            timestamp, _, row_id = raw.partition("|")
            parsed = datetime.fromisoformat(timestamp)
        except (binascii.Error, UnicodeDecodeError, ValueError) as error:
            raise ValueError("not a cursor from this API") from error
        if parsed.tzinfo is None or not row_id.isdigit():
            raise ValueError("not a cursor from this API")
        return cls(parsed, int(row_id))


def keyset(after: Cursor | None) -> tuple[datetime, int] | None:
    """The (time, id) a page starts after, as the page queries take it; None for the first."""
    return (after.timestamp, after.id) if after else None
