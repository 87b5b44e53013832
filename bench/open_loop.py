"""Open-loop runs: requests arrive at a constant rate, a share of the closed-loop maximum, and
latency is read at that offered load, as service levels are.

The latency goals hold at ``GOAL_SHARE`` of the maximum on a table of ``GOAL_ROWS`` rows; other
shares and row counts are shown for information. See docs/decisions.md, "Open-loop load: vegeta".
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.percentiles import percentile
from bench.vegeta import Hit, attack, targets_file

GOAL_SHARE = 0.5
GOAL_ROWS = 10_000_000
P99_GOAL_MS = {
    "list": 25.0,
    "exact": 25.0,
    "prefix": 25.0,
    "substring": 25.0,
    "fuzzy": 50.0,
    "passes": 50.0,
    "history": 50.0,
    "convoy": 1000.0,
    "stakeout": 500.0,
    "stats": 100.0,
}
TIMEOUT_S = 2.0  # as wrk's in the closed loop: a request still unanswered then is an error
# At most this many connections, below the API's limit_concurrency (which counts idle keep-alive
# connections too): a request that waits for a free connection has that wait in its latency.
MAX_CONNECTIONS = 64


@dataclass(frozen=True)
class OpenLoopResult:
    """Latency at one offered rate; percentiles cover every request, failed ones included."""

    scenario: str
    share: float
    offered_rate: int
    achieved_rate: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    failed: int
    requests: int
    slow_seconds: tuple[int, ...]

    @classmethod
    def of(cls, scenario: str, share: float, offered_rate: int, hits: list[Hit]) -> OpenLoopResult:
        latencies_ms = [hit.latency_ns / 1e6 for hit in hits] or [float("nan")]
        p50, p99, p999 = (percentile(latencies_ms, q) for q in (0.5, 0.99, 0.999))
        failed = sum(hit.failed for hit in hits)
        achieved = _achieved_rate(hits)
        slow = _slow_seconds(hits, P99_GOAL_MS.get(scenario))
        return cls(scenario, share, offered_rate, achieved, p50, p99, p999, failed, len(hits), slow)


def _slow_seconds(hits: list[Hit], goal_ms: float | None) -> tuple[int, ...]:
    """The seconds of the run (from its first request) in which a request sent took longer than
    the goal: a tail spread over the run is load, one bunched or periodic points at a stall."""
    if goal_ms is None or not hits:
        return ()
    start = min(hit.sent_ns for hit in hits)
    limit_ns = goal_ms * 1e6
    slow = {(hit.sent_ns - start) // 1_000_000_000 for hit in hits if hit.latency_ns > limit_ns}
    return tuple(sorted(slow))


def _achieved_rate(hits: list[Hit]) -> float:
    """Successful answers per second, from the first request sent to the last answer received
    (vegeta's "throughput")."""
    if len(hits) < 2:
        return 0.0
    first = min(hit.sent_ns for hit in hits)
    last = max(hit.sent_ns + hit.latency_ns for hit in hits)
    return sum(not hit.failed for hit in hits) / ((last - first) / 1e9)


def run_open_loop(
    scenario: str,
    base: str,
    token: str,
    paths: list[str],
    max_rate: float,
    shares: list[float],
    seconds: float,
) -> list[OpenLoopResult]:
    """One constant-rate run per share of ``max_rate``, cycling through ``paths``."""
    results = []
    with tempfile.TemporaryDirectory() as directory:
        targets = targets_file(base, token, paths, Path(directory))
        for share in shares:
            rate = max(1, round(share * max_rate))
            hits = attack(targets, rate, seconds, TIMEOUT_S, MAX_CONNECTIONS)
            results.append(OpenLoopResult.of(scenario, share, rate, hits))
    return results


def verdict(result: OpenLoopResult) -> str:
    """Whether the scenario's p99 goal is met: the goal is read at ``GOAL_SHARE``; other shares'
    verdicts are in brackets, as information. "-" for a scenario without a goal."""
    goal = P99_GOAL_MS.get(result.scenario)
    if goal is None:
        return "-"
    words = f"{'met' if result.p99_ms <= goal else 'MISSED'} (≤ {goal:.0f} ms)"
    return words if result.share == GOAL_SHARE else f"[{words}]"


def _heading(rows: int, seconds: float) -> str:
    where = "as the goals are" if rows == GOAL_ROWS else f"the goals are read at {GOAL_ROWS:,}"
    return (
        f"\nOpen loop: a constant arrival rate, a share of the closed-loop maximum, {seconds:.0f} s"
        f" each (vegeta, {TIMEOUT_S:.0f} s timeout, at most {MAX_CONNECTIONS} connections)."
        f" p99 goals are read at {GOAL_SHARE:.0%} of the maximum; {rows:,} rows ({where}).\n"
    )


def _row(result: OpenLoopResult, max_rate: float) -> str:
    cells = [
        result.scenario,
        f"{max_rate:,.0f}",
        f"{result.share:.0%}",
        f"{result.offered_rate:,}",
        f"{result.achieved_rate:,.0f}",
        f"{result.requests:,}",
        *(f"{ms:.1f}" for ms in (result.p50_ms, result.p99_ms, result.p999_ms)),
        str(result.failed),
        verdict(result),
        " ".join(map(str, result.slow_seconds)) or "-",
    ]
    return f"| {' | '.join(cells)} |"


def report_open_loop(
    rows: int, seconds: float, max_rates: dict[str, float], results: list[OpenLoopResult]
) -> None:
    """One table for the round: each scenario's closed-loop maximum beside its open-loop runs."""
    print(_heading(rows, seconds))
    print(
        "| scenario | closed-loop max req/s | share | offered req/s | achieved req/s | requests"
        " | p50 ms | p99 ms | p99.9 ms | failed | p99 goal | seconds with a request over goal |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for result in results:
        print(_row(result, max_rates[result.scenario]))
