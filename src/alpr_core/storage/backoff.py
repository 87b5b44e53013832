"""The one retry policy for transient failures: exponential backoff with jitter, no attempt cap.

``retry.Retry`` applies it; its callers decide how to wait (the consume loop polls Kafka while it
waits; the batch writer sleeps) and when to give up (only when shutting down).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential_jitter

from alpr_core.errors import TransientError


@dataclass(frozen=True, slots=True)
class Backoff:
    initial_s: float
    max_s: float

    def retrying(
        self,
        sleep: Callable[[float], None],
        give_up: Callable[[], bool],
        on_failure: Callable[[BaseException | None], None],
    ) -> Retrying:
        def stop(_state: RetryCallState) -> bool:
            return give_up()

        def before_sleep(state: RetryCallState) -> None:
            on_failure(state.outcome.exception() if state.outcome else None)

        return Retrying(
            retry=retry_if_exception_type(TransientError),
            wait=wait_exponential_jitter(multiplier=self.initial_s, max=self.max_s),
            stop=stop,
            sleep=sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
