"""Ingest with and without watchlist matching, side by side in one run: the storage service
consumes the same topic into fresh databases, in turns, with ``ALERT_MATCHING`` off, and on with
``--entries`` active entries (a tenth fuzzy, the rest exact; ``--hits`` of them are plates the
topic holds, so alerts are written too). The goal: with matching, at least 90 % of the rate
without (docs/benchmarks.md).

    python -m bench.watchlist_ingest --events 100000 --entries 100000
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import time
from dataclasses import dataclass
from typing import Any

import psycopg

from alpr_core.config import Settings
from alpr_core.events.parse import normalize_plate
from bench.ingest import batched_consumer, publish, records
from bench.resources import (
    CpuMeter,
    ServerProcesses,
    create_topic,
    database,
    fresh_settings,
    load_services_env,
)

GOAL = 0.90


def entry_rows(
    count: int, hits: list[str], distances: list[int], rng: random.Random
) -> list[tuple[Any, ...]]:
    """(plate, match mode, max distance): ``hits`` first, then random plates of the same
    shape; every tenth fuzzy, its distance one of ``distances``."""
    rows = []
    for index in range(count):
        plate = (
            hits[index]
            if index < len(hits)
            else "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(7))
        )
        fuzzy = index % 10 == 9
        rows.append((plate, "fuzzy" if fuzzy else "exact", rng.choice(distances) if fuzzy else 0))
    return rows


def fill_watchlist(settings: Settings, rows: list[tuple[Any, ...]]) -> None:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO watchlists (name, priority, owner) VALUES ('bench', 'warning', 'bench')"
            " RETURNING id"
        ).fetchone()
        assert row is not None
        with conn.cursor().copy(
            "COPY watchlist_entries (watchlist_id, plate, plate_normalized, match_mode,"
            " max_distance, reference) FROM STDIN"
        ) as copy:
            for index, (plate, mode, distance) in enumerate(rows):
                copy.write_row((row[0], plate, plate, mode, distance, str(index)))
        # as lists filled long before: no autovacuum of the new rows during the measured run
        conn.execute("VACUUM (ANALYZE) watchlists, watchlist_entries")


@dataclass(frozen=True)
class Run:
    rate: float  # events/s
    cpu_us: dict[str, float]  # CPU µs per event, by server and by this process's threads


def one_run(base: Settings, name: str, events: int, entries: list[tuple[Any, ...]]) -> Run:
    """The storage service consuming the topic into a fresh database: events per second, and
    the CPU it took from every process."""
    settings = fresh_settings(name)
    settings = settings.model_copy(
        update={
            "kafka": base.kafka.model_copy(update={"group_id": settings.kafka.group_id}),
            # matching alone: the alerts' delivery is bench.latency's to measure
            "alert": settings.alert.model_copy(
                update={"matching": bool(entries), "kafka_topic": ""}
            ),
        }
    )
    with database(settings):
        if entries:
            fill_watchlist(settings, entries)
        meter = CpuMeter(ServerProcesses.find())
        seconds = batched_consumer(settings, events, meter)
        alerts = _alerts(settings)
    rate = events / seconds
    print(f"{name}: {rate:,.0f} events/s, {alerts} alerts", flush=True)
    return Run(rate, {part: 1e6 * cpu / events for part, cpu in meter.used.items()})


def _alerts(settings: Settings) -> int:
    with psycopg.connect(settings.db.conninfo()) as conn:
        row = conn.execute("SELECT count(*) FROM alerts").fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--hits", type=int, default=100, help="entries that match published reads")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, taken in turns")
    parser.add_argument(
        "--fuzzy-distances",
        type=int,
        nargs="+",
        default=[1, 2],
        help="a fuzzy entry's max_distance, drawn from these",
    )
    args = parser.parse_args()
    load_services_env()
    ServerProcesses.find()  # the local servers must be up
    base = fresh_settings("watchlist-ingest")
    reads = records("v1", args.events)
    rng = random.Random(3)
    plates = sorted({normalize_plate(read["plate"]["text"]) for read in reads})
    hits = rng.sample(plates, min(args.hits, len(plates)))
    entries = entry_rows(args.entries, hits, args.fuzzy_distances, rng)
    create_topic(base)
    print(f"published {args.events} events in {publish(base, reads):.1f} s", flush=True)
    without: list[Run] = []
    with_lists: list[Run] = []
    for round_number in range(args.rounds):
        without.append(one_run(base, f"plain-{round_number}", args.events, []))
        with_lists.append(one_run(base, f"lists-{round_number}", args.events, entries))
        time.sleep(1)
    report(args, without, with_lists)


def report(args: argparse.Namespace, without: list[Run], with_lists: list[Run]) -> None:
    plain = statistics.median(run.rate for run in without)
    matched = statistics.median(run.rate for run in with_lists)
    ratio = matched / plain
    paired = statistics.median(m.rate / p.rate for p, m in zip(without, with_lists, strict=True))
    print(f"\n## Ingest with watchlist matching, {args.events:,} v1 events\n")
    distances = " or ".join(map(str, args.fuzzy_distances))
    print(
        f"{args.entries:,} entries (a tenth fuzzy, within {distances} edits), {args.hits} of them"
        f" plates in the topic; medians of {args.rounds} runs each, taken in turns.\n"
    )
    print("| run | events/s (each run) | median events/s | ÷ without |")
    print("|---|---|---:|---:|")
    print(f"| without matching | {_each(without)} | {plain:,.0f} | 1.00 |")
    print(f"| with matching | {_each(with_lists)} | {matched:,.0f} | {ratio:.2f} |")
    print(f"\nMedian of each round's with ÷ without: {paired:.2f}")
    print("\nCPU µs per event (medians), from the first message to the last row:\n")
    print("| part | without | with | added by matching |")
    print("|---|---:|---:|---:|")
    parts = sorted({part for run in without + with_lists for part in run.cpu_us})
    for part in parts:
        before, after = _median_cpu(without, part), _median_cpu(with_lists, part)
        if max(before, after) >= 0.5:
            print(f"| {part} | {before:.1f} | {after:.1f} | {after - before:+.1f} |")
    verdict = "met" if ratio >= GOAL else "MISSED"
    print(f"\nGoal: with ÷ without ≥ {GOAL:.2f}: {verdict}")


def _median_cpu(runs: list[Run], part: str) -> float:
    return statistics.median(run.cpu_us.get(part, 0.0) for run in runs)


def _each(runs: list[Run]) -> str:
    return ", ".join(f"{run.rate:,.0f}" for run in runs)


if __name__ == "__main__":
    main()
