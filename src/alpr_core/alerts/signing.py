"""Webhook signatures (docs/decisions.md#alert-delivery): ``X-ALPR-Signature: v1=<hex>``, the
HMAC-SHA256 under the webhook's secret of ``<timestamp>.<body>``, where ``X-ALPR-Timestamp``
holds the timestamp (Unix seconds). A receiver recomputes it over the raw body, compares in
constant time, refuses a timestamp older than its tolerance (five minutes is usual), and drops
a repeated ``X-ALPR-Delivery`` id: together these stop forged, altered and replayed requests."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-ALPR-Signature"
TIMESTAMP_HEADER = "X-ALPR-Timestamp"
DELIVERY_HEADER = "X-ALPR-Delivery"
VERSION = "v1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{VERSION}={digest.hexdigest()}"


def verify(
    secret: str, timestamp: int, body: bytes, header: str, now: int, tolerance_s: int
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)
