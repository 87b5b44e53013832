"""The one base of the background jobs: a daemon thread that runs ``run_once`` every
``interval_s`` until stopped. A job decides what a run is; failures are its own to log and
count, and never stop the thread."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod


class PeriodicJob(ABC):
    def __init__(self, name: str, interval_s: float, *, run_at_start: bool) -> None:
        self._interval_s = interval_s
        self._run_at_start = run_at_start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    @abstractmethod
    def run_once(self) -> None:
        """One run; must not raise for a failure worth trying again later."""

    def closed(self) -> None:  # noqa: B027 - optional hook; most jobs hold nothing
        """Called once on the job's thread when it stops (release what runs held)."""

    def start(self) -> None:
        if self._interval_s > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def stopping(self) -> bool:
        return self._stop.is_set()

    def _loop(self) -> None:
        try:
            if self._run_at_start:
                self.run_once()
            while not self._stop.wait(self._interval_s):
                self.run_once()
        finally:
            self.closed()
