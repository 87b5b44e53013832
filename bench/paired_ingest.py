"""Ingest in two configurations side by side in one run: the storage service consumes the same
topic into fresh databases, in turns (baseline, then the variant, every round), and each run's
rate and CPU per event are kept. Used by ``bench.watchlist_ingest`` and ``bench.passes_ingest``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alpr_core.config import Settings
from bench.ingest import batched_consumer, publish, records
from bench.resources import (
    CpuMeter,
    ServerProcesses,
    create_topic,
    database,
    fresh_settings,
    load_services_env,
)


@dataclass(frozen=True)
class Run:
    rate: float  # events/s
    cpu_us: dict[str, float]  # CPU µs per event, by server and by this process's threads


@dataclass(frozen=True)
class Config:
    """One side of the comparison: how the settings differ, what to put in the database first,
    and what to say about the database after the run."""

    label: str
    configure: Callable[[Settings], Settings]
    prepare: Callable[[Settings], None] = lambda _settings: None
    outcome: Callable[[Settings], str] = lambda _settings: ""


def published(name: str, events: int) -> tuple[Settings, list[dict[str, Any]]]:
    """The base settings of a paired run, and the ``events`` v1 records published to its
    topic (the local servers must be up)."""
    load_services_env()
    ServerProcesses.find()
    base = fresh_settings(name)
    reads = records("v1", events)
    create_topic(base)
    print(f"published {events} events in {publish(base, reads):.1f} s", flush=True)
    return base, reads


def one_run(base: Settings, config: Config, name: str, events: int) -> Run:
    """The storage service consuming ``base``'s topic into a fresh database: events per
    second, and the CPU it took from every process."""
    settings = fresh_settings(name)
    settings = config.configure(
        settings.model_copy(
            update={"kafka": base.kafka.model_copy(update={"group_id": settings.kafka.group_id})}
        )
    )
    with database(settings):
        config.prepare(settings)
        meter = CpuMeter(ServerProcesses.find())
        seconds = batched_consumer(settings, events, meter)
        outcome = config.outcome(settings)
    rate = events / seconds
    print(f"{name}: {rate:,.0f} events/s {outcome}".rstrip(), flush=True)
    return Run(rate, {part: 1e6 * cpu / events for part, cpu in meter.used.items()})


def paired_rounds(
    base: Settings, baseline: Config, variant: Config, events: int, rounds: int
) -> tuple[list[Run], list[Run]]:
    first: list[Run] = []
    second: list[Run] = []
    for round_number in range(rounds):
        first.append(one_run(base, baseline, f"{baseline.label}-{round_number}", events))
        second.append(one_run(base, variant, f"{variant.label}-{round_number}", events))
        time.sleep(1)
    return first, second


def report(
    what: str, baseline: list[Run], variant: list[Run], *, goal: float, added_by: str
) -> None:
    """The rates of each run, the medians, their ratio (the goal's measure), the median of each
    round's ratio, and the CPU per event of each part."""
    plain = statistics.median(run.rate for run in baseline)
    other = statistics.median(run.rate for run in variant)
    ratio = other / plain
    paired = statistics.median(v.rate / b.rate for b, v in zip(baseline, variant, strict=True))
    print("| run | events/s (each run) | median events/s | ÷ without |")
    print("|---|---|---:|---:|")
    print(f"| without {what} | {_each(baseline)} | {plain:,.0f} | 1.00 |")
    print(f"| with {what} | {_each(variant)} | {other:,.0f} | {ratio:.2f} |")
    print(f"\nMedian of each round's with ÷ without: {paired:.2f}")
    print("\nCPU µs per event (medians), from the first message to the last row:\n")
    print(f"| part | without | with | added by {added_by} |")
    print("|---|---:|---:|---:|")
    parts = sorted({part for run in baseline + variant for part in run.cpu_us})
    for part in parts:
        before, after = _median_cpu(baseline, part), _median_cpu(variant, part)
        if max(before, after) >= 0.5:
            print(f"| {part} | {before:.1f} | {after:.1f} | {after - before:+.1f} |")
    verdict = "met" if ratio >= goal else "MISSED"
    print(f"\nGoal: with ÷ without ≥ {goal:.2f}: {verdict}")


def _median_cpu(runs: list[Run], part: str) -> float:
    return statistics.median(run.cpu_us.get(part, 0.0) for run in runs)


def _each(runs: list[Run]) -> str:
    return ", ".join(f"{run.rate:,.0f}" for run in runs)
