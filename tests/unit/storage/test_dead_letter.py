"""The dead-letter headers say why, and name the exception's class when one caused it."""

from __future__ import annotations

from alpr_core.errors import RejectedEvent, RejectReason
from alpr_core.storage.batch import Rejected
from alpr_core.storage.dead_letter import HEADER_EXCEPTION, HEADER_REASON, dead_letter_headers
from tests.unit.storage.fakes import TOPIC, FakeMessage


def headers(error: RejectedEvent) -> dict[str, str | bytes | None]:
    return dict(dead_letter_headers(Rejected((TOPIC, 0), FakeMessage(0, 7), error)))


def test_an_unforeseen_exception_names_its_class() -> None:
    found = headers(RejectedEvent.unforeseen(ZeroDivisionError("boom")))
    assert found[HEADER_EXCEPTION] == b"ZeroDivisionError"
    assert found[HEADER_REASON] == b"internal_error"


def test_a_rejection_without_an_exception_has_no_exception_header() -> None:
    assert HEADER_EXCEPTION not in headers(RejectedEvent(RejectReason.UNDECODABLE, "garbage"))
