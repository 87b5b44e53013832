"""A second consumer joining the group: revoked partitions are committed before they move."""

from __future__ import annotations

from alpr_core.config import Settings
from tests.integration.conftest import db_scalar, running_storage, wait_until
from tests.integration.helpers import simulate


def _rows(settings: Settings) -> int:
    return db_scalar(settings, "SELECT count(*) FROM plate_detections")


def test_a_consumer_joining_mid_stream_re_reads_nothing_already_stored(settings: Settings) -> None:
    simulate(settings, 400, inline_share=0.2, seed=51)
    with running_storage(settings) as first:
        wait_until(lambda: _rows(settings) == 400, what="the first 400 rows")
        with running_storage(settings) as second:
            wait_until(
                lambda: (
                    second.metric("alpr_assigned_partitions") > 0
                    and first.metric("alpr_assigned_partitions") < 4
                ),
                what="the group to share the partitions",
            )
            simulate(settings, 400, inline_share=0.2, seed=52)
            wait_until(lambda: _rows(settings) == 800, timeout_s=90, what="all 800 rows")
            wait_until(
                lambda: (
                    first.metric("alpr_messages_consumed_total")
                    + second.metric("alpr_messages_consumed_total")
                    >= 800
                ),
                what="every message consumed",
            )
    consumed = first.metric("alpr_messages_consumed_total") + second.metric(
        "alpr_messages_consumed_total"
    )
    duplicates = first.metric("alpr_duplicate_events_total") + second.metric(
        "alpr_duplicate_events_total"
    )
    assert second.metric("alpr_messages_consumed_total") > 0  # it took its share
    assert consumed == 800  # nothing was read twice: revoked partitions were committed first
    assert duplicates == 0
    assert db_scalar(settings, "SELECT count(DISTINCT event_id) FROM plate_detections") == 800
