"""Webhook signatures: what the dispatcher signs, a receiver verifies; any change to the body,
the timestamp or the secret, or an old timestamp, fails."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from alpr_core.alerts.signing import signature, verify

NOW = 1_800_000_000


@given(st.text(min_size=1), st.binary(), st.integers(NOW - 300, NOW + 300))
def test_a_signed_body_verifies(secret: str, body: bytes, timestamp: int) -> None:
    assert verify(secret, timestamp, body, signature(secret, timestamp, body), NOW, 300)


@given(st.text(min_size=1), st.binary(min_size=1), st.integers(0, 7))
def test_a_changed_body_fails(secret: str, body: bytes, bit: int) -> None:
    signed = signature(secret, NOW, body)
    flipped = bytes([body[0] ^ (1 << bit)]) + body[1:]
    assert not verify(secret, NOW, flipped, signed, NOW, 300)


def test_another_secret_timestamp_or_an_old_request_fails() -> None:
    signed = signature("s3cret", NOW, b"{}")
    assert signed.startswith("v1=")
    assert not verify("other", NOW, b"{}", signed, NOW, 300)
    assert not verify("s3cret", NOW + 1, b"{}", signed, NOW, 300)
    assert not verify("s3cret", NOW, b"{}", signed, NOW + 301, 300)
