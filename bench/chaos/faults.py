"""The fault schedule, scaled to the run's duration, and a thread that carries it out."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.chaos.ledger import Ledger
from bench.chaos.processes import ConsumerGroup
from bench.chaos.servers import PrivateServers

FAULTS = ("kill_consumer", "broker_restart", "postgres_stop", "s3_stop", "registry_stop", "scale")
KILL_EVERY_S = 60.0
LONGEST_OUTAGE_S = 30.0


@dataclass(frozen=True, slots=True)
class Fault:
    at_s: float
    kind: str


def outage_s(duration_s: float) -> float:
    """Outages last 30 s in a run of two minutes or more, and a quarter of shorter runs."""
    return max(5.0, min(LONGEST_OUTAGE_S, duration_s / 4))


def schedule(duration_s: float, kinds: list[str]) -> list[Fault]:
    """Kills about every minute (at least one); the other faults spread evenly over the first
    70 % of the run, so the last outage ends before the load does."""
    plan: list[Fault] = []
    if "kill_consumer" in kinds:
        every_s = min(KILL_EVERY_S, duration_s / 2)
        plan += [Fault(t, "kill_consumer") for t in _steps(every_s, duration_s * 0.9, every_s)]
    others = [k for k in kinds if k != "kill_consumer"]
    for index, kind in enumerate(others):
        plan.append(Fault(duration_s * 0.7 * (index + 1) / (len(others) + 1), kind))
    return sorted(plan, key=lambda fault: fault.at_s)


def _steps(start: float, stop: float, step: float) -> list[float]:
    times, t = [], start
    while t <= stop:
        times.append(t)
        t += step
    return times


class FaultRunner(threading.Thread):
    def __init__(
        self,
        plan: list[Fault],
        servers: PrivateServers,
        group: ConsumerGroup,
        ledger: Ledger,
        duration_s: float,
        seed: int,
    ) -> None:
        super().__init__(name="faults", daemon=True)
        self._plan, self._servers, self._group, self._ledger = plan, servers, group, ledger
        self._outage_s = outage_s(duration_s)
        self._rng = random.Random(seed + 2)
        self.done: list[str] = []
        self.errors: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        for fault in self._plan:
            if self.stopping.wait(max(0.0, started + fault.at_s - time.monotonic())):
                return
            self._carry_out(fault, time.monotonic() - started)

    def _carry_out(self, fault: Fault, at_s: float) -> None:
        window = self._ledger.open_fault()
        try:
            what = self._actions()[fault.kind]()
            self.done.append(f"{at_s:5.0f} s  {fault.kind} {what}".rstrip())
        except Exception as error:
            self.errors.append(f"{fault.kind}: {type(error).__name__}: {error}")
        finally:
            self._ledger.close_fault(window)

    def _actions(self) -> dict[str, Callable[[], str]]:
        return {
            "kill_consumer": lambda: self._group.kill_random(self._rng),
            "broker_restart": lambda: self._restart("kafka", 0.0),
            "postgres_stop": lambda: self._restart("postgres", self._outage_s),
            "s3_stop": lambda: self._restart("minio", self._outage_s),
            "registry_stop": lambda: self._restart("registry", self._outage_s),
            "scale": self._scale,
        }

    def _restart(self, service: str, down_s: float) -> str:
        self._servers.run(service, "stop")
        self.stopping.wait(down_s)
        self._servers.run(service, "start")
        return f"({down_s:.0f} s down)" if down_s else ""

    def _scale(self) -> str:
        member = self._group.stop_one()
        self.stopping.wait(self._outage_s)
        member.start()
        return f"3 -> 2 -> 3 ({self._outage_s:.0f} s at 2)"
