"""One chaos run from start to finish: servers, services, load and faults, drain, accounting."""

from __future__ import annotations

import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from alpr_core.images.buckets import ensure_bucket
from bench.chaos import accounting
from bench.chaos.accounting import Finding
from bench.chaos.faults import FAULTS, FaultRunner, schedule
from bench.chaos.http_sender import HttpSender
from bench.chaos.latency import LatencyProbe, quantile
from bench.chaos.ledger import Ledger
from bench.chaos.load import Load, Mix
from bench.chaos.processes import (
    ConsumerGroup,
    Death,
    Service,
    alpr,
    base_environment,
    ingest_key,
    start_api,
)
from bench.chaos.servers import Ports, PrivateServers, Target, target_of

PARTITIONS = 6
CONSUMERS = 3


@dataclass(frozen=True, slots=True)
class Options:
    duration_s: float = 600
    rate_per_s: float = 1000
    seed: int = 1
    faults: tuple[str, ...] = FAULTS
    state_dir: Path = Path("/tmp/alpr-chaos")
    ports: Ports = field(default_factory=Ports)
    drain_timeout_s: float = 300
    keep_state: bool = False


@dataclass(slots=True)
class Result:
    findings: list[Finding] = field(default_factory=list)
    faults_done: list[str] = field(default_factory=list)
    deaths: list[Death] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return all(f.exact is not False for f in self.findings) and not self.deaths


def run(options: Options) -> Result:
    """Start private servers, run the chaos, stop the servers (also on failure or Ctrl-C)."""
    servers = PrivateServers(options.state_dir, options.ports)
    servers.remove_state()
    try:
        servers.start_all()
        return _with_servers(servers, options)
    finally:
        servers.stop_all()
        if not options.keep_state:
            servers.remove_state()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _with_servers(servers: PrivateServers, options: Options) -> Result:
    target = target_of(servers)
    env = base_environment(target)
    logs = options.state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    _prepare(target, env, logs)
    group = ConsumerGroup(env, logs, [free_port() for _ in range(CONSUMERS)])
    api_port = free_port()
    api: Service | None = None
    try:
        api = start_api(env, logs, api_port)
        group.start(CONSUMERS)
        key = ingest_key(env, logs)
        return _load_and_account(
            servers, target, group, options, f"http://127.0.0.1:{api_port}", key
        )
    finally:
        group.stop_all()
        if api is not None:
            api.signal(signal.SIGTERM)
            api.wait(30)


def _prepare(target: Target, env: dict[str, str], logs: Path) -> None:
    alpr(["migrate"], env, logs)
    ensure_bucket(target.object_store)
    admin = AdminClient({"bootstrap.servers": target.kafka.bootstrap_servers})
    topics = [NewTopic(t, PARTITIONS, 1) for t in (target.kafka.topic, target.kafka.dlq_topic)]
    for future in admin.create_topics(topics).values():
        future.result(timeout=30)


def _load_and_account(
    servers: PrivateServers,
    target: Target,
    group: ConsumerGroup,
    options: Options,
    api_url: str,
    key: str,
) -> Result:
    ledger = Ledger()
    http = HttpSender(api_url, key, ledger)
    probe = LatencyProbe(target.db.conninfo(), ledger)
    plan = schedule(options.duration_s, list(options.faults))
    faults = FaultRunner(plan, servers, group, ledger, options.duration_s, options.seed)
    load = Load(target, Mix(options.rate_per_s, options.duration_s), ledger, http, options.seed)
    for thread in (http, probe, faults):
        thread.start()
    _offer(load, group, faults)
    _finish_sending(load, http, options.drain_timeout_s)
    result = _account(target, group, ledger, options.drain_timeout_s)
    probe.stopping.set()
    result.findings += _latency_findings(ledger)
    result.faults_done = faults.done + [f"FAILED {e}" for e in faults.errors]
    return result


def _offer(load: Load, group: ConsumerGroup, faults: FaultRunner) -> None:
    """Run the load, watching for consumers that die on their own."""
    runner = threading.Thread(target=load.run, name="load", daemon=True)
    runner.start()
    while runner.is_alive():
        runner.join(timeout=1.0)
        group.check()
    faults.stopping.set()
    faults.join(timeout=120)


def _finish_sending(load: Load, http: HttpSender, timeout_s: float) -> None:
    load.flush(timeout_s)
    http.give_up_at = time.monotonic() + timeout_s
    http.done.set()
    http.join(timeout=timeout_s + 60)


def _account(target: Target, group: ConsumerGroup, ledger: Ledger, timeout_s: float) -> Result:
    lag, lag_wait_s = _drain(target, group, timeout_s)
    backlog, backlog_wait_s = accounting.wait_for(
        lambda: accounting.pending_plate_texts(target), timeout_s
    )
    rows = accounting.stored_rows(target)
    findings = accounting.rows_findings(ledger, rows)
    findings += accounting.image_findings(ledger, rows, target)
    findings += accounting.poison_findings(ledger, accounting.dead_letters(target))
    findings += [
        Finding("replays sent", ", ".join(f"{k}: {n}" for k, n in ledger.replays.items()), None),
        Finding("sends never acknowledged", str(sum(ledger.unacknowledged.values())), None),
        Finding("lag at the end (messages)", f"{lag} (waited {lag_wait_s:.0f} s)", lag == 0),
        Finding(
            "fuzzy backlog at the end (plate_texts_pending)",
            f"{backlog} (reached after {backlog_wait_s:.0f} s)",
            backlog == 0,
        ),
    ]
    group.check()
    return Result(findings, deaths=list(group.deaths))


def _drain(target: Target, group: ConsumerGroup, timeout_s: float) -> tuple[int, float]:
    def lag_now() -> int:
        group.check()
        return accounting.lag(target)

    return accounting.wait_for(lag_now, timeout_s)


def _latency_findings(ledger: Ledger) -> list[Finding]:
    during = [s for at, s in ledger.latencies if ledger.in_fault(at)]
    after = [s for at, s in ledger.latencies if not ledger.in_fault(at)]
    return [
        Finding("p99 produce -> queryable, during faults", _seconds(during), None),
        Finding("p99 produce -> queryable, outside faults", _seconds(after), None),
    ]


def _seconds(samples: list[float]) -> str:
    p99, p50 = quantile(samples, 0.99), quantile(samples, 0.5)
    if p99 is None or p50 is None:
        return "no samples"
    return f"{p99:.2f} s (p50 {p50:.2f} s, {len(samples)} samples)"
