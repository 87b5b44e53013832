from __future__ import annotations

import threading

from alpr_core.jobs.periodic import PeriodicJob


class Counting(PeriodicJob):
    def __init__(self, interval_s: float, *, run_at_start: bool) -> None:
        super().__init__("counting", interval_s, run_at_start=run_at_start)
        self.runs = 0
        self.closed_on: str | None = None
        self.ran = threading.Event()

    def run_once(self) -> None:
        self.runs += 1
        self.ran.set()

    def closed(self) -> None:
        self.closed_on = threading.current_thread().name


def test_a_job_that_runs_at_start_runs_before_its_first_interval() -> None:
    job = Counting(3600, run_at_start=True)
    job.start()
    assert job.ran.wait(10)
    job.stop()
    assert job.runs == 1
    assert job.closed_on == "counting"


def test_a_job_that_waits_first_has_not_run_when_stopped_at_once() -> None:
    job = Counting(3600, run_at_start=False)
    job.start()
    job.stop()
    assert job.runs == 0
    assert job.closed_on == "counting"


def test_an_interval_of_zero_never_starts_the_thread() -> None:
    job = Counting(0, run_at_start=True)
    job.start()
    job.stop()
    assert (job.runs, job.closed_on) == (0, None)
