"""Make batches durable in two background threads, each taking batches in order, while the loop
reads the next batch.

The writer thread, for each batch: queue its dead letters, store the events (retrying transient
failures with backoff), queue the rows the database refused as dead letters too, then wait for
the dead letters' delivery. The alert thread then matches the stored reads against the
watchlists and records their alerts (retrying likewise), while the writer stores the next batch.
The returned future completes only when all of it is durable, alerts included; the commit step
commits offsets after that, on the loop's thread (docs/decisions.md#watchlist-matching).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from alpr_core.metrics import EventRecorder, StorageMetrics
from alpr_core.storage.backoff import Backoff
from alpr_core.storage.batch import Batch, Rejected
from alpr_core.storage.dead_letter import DeadLetterPublisher
from alpr_core.storage.health import Liveness
from alpr_core.storage.results import Sink, Stored, store_events
from alpr_core.storage.retry import Retry


class BatchWriter:
    def __init__(
        self,
        sink: Sink,
        dead_letters: DeadLetterPublisher,
        metrics: StorageMetrics,
        backoff: Backoff,
        liveness: Liveness,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sink = sink
        self._dead_letters = dead_letters
        self._recorder = EventRecorder(metrics, clock)
        self._abandon = threading.Event()
        self._retry = Retry(backoff, sleep, self._abandon.is_set, metrics, liveness)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="batch-writer")
        self._alert_thread = ThreadPoolExecutor(1, thread_name_prefix="batch-alerts")

    def submit(self, batch: Batch) -> Future[Stored]:
        done: Future[Stored] = Future()

        def then_alerts(written: Future[Stored]) -> None:
            if (error := written.exception()) is not None:
                done.set_exception(error)
            else:
                self._alert_thread.submit(self._raise_alerts, written.result(), done)

        self._thread.submit(self._write, batch).add_done_callback(then_alerts)
        return done

    def abandon(self) -> None:
        """Stop retrying: the batch in flight fails with its last TransientError (at shutdown)."""
        self._abandon.set()

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self._alert_thread.shutdown(wait=True)
        self._sink.close()

    def _write(self, batch: Batch) -> Stored:
        self._dead_letters.publish(batch.rejected)
        events = [entry.decoded for entry in batch.accepted]
        stored = self._retry("store", lambda: store_events(self._sink, events, self._recorder))
        refused = [
            Rejected(batch.accepted[u.index].partition, batch.accepted[u.index].message, u.error)
            for u in stored.refused
        ]
        self._dead_letters.publish(refused)
        self._retry("dead_letter", self._dead_letters.wait)
        for entry in batch.rejected + refused:
            self._recorder.dead_lettered(entry.error.reason)
        return stored

    def _raise_alerts(self, stored: Stored, done: Future[Stored]) -> None:
        try:
            self._retry("alerts", lambda: self._sink.raise_alerts(stored.durable))
        except BaseException as error:  # the loop re-raises it from the future
            done.set_exception(error)
        else:
            done.set_result(stored)
