"""The services under test as real CLI subprocesses: ``alpr storage`` (several, one group) and
``alpr api``, with their logs kept so a consumer that dies can be reported with its last lines."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from bench.chaos.servers import Target

TAIL_LINES = 8


@dataclass(slots=True)
class Death:
    """A consumer that exited without being asked to."""

    name: str
    exit_code: int
    last_lines: list[str]


def alpr(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alpr_core", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )


def base_environment(target: Target) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "LOG_LEVEL": "INFO",
        "RETENTION_INTERVAL_S": "0",
        **target.environment(),
    }


@dataclass(slots=True)
class Service:
    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    expected_exit: bool = False

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "alpr_core", *self.args],
                env=self.env,
                cwd=self.log_path.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.expected_exit = False

    def signal(self, signum: signal.Signals) -> None:
        self.expected_exit = True
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)

    def wait(self, timeout_s: float) -> int | None:
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)

    def died(self) -> Death | None:
        """The exit, when the process ended on its own."""
        if self.process is None or self.expected_exit:
            return None
        code = self.process.poll()
        if code is None:
            return None
        self.expected_exit = True  # reported once
        return Death(self.name, code, self.last_lines())

    def last_lines(self) -> list[str]:
        with self.log_path.open(errors="replace") as log:
            return [line.rstrip()[:300] for line in deque(log, maxlen=TAIL_LINES)]


@dataclass(slots=True)
class ConsumerGroup:
    """``alpr storage`` processes sharing one consumer group; each has its own metrics port."""

    env: dict[str, str]
    log_dir: Path
    metrics_ports: list[int]
    members: list[Service] = field(default_factory=list)
    deaths: list[Death] = field(default_factory=list)

    def start(self, count: int) -> None:
        for index in range(count):
            self.members.append(self._member(index))
            self.members[-1].start()

    def _member(self, index: int) -> Service:
        env = {
            **self.env,
            "STORAGE_METRICS_HOST": "127.0.0.1",
            "STORAGE_METRICS_PORT": str(self.metrics_ports[index]),
        }
        return Service(f"storage-{index}", ["storage"], env, self.log_dir / f"storage-{index}.log")

    def kill_random(self, rng: random.Random) -> str:
        """SIGKILL one live member and start it again."""
        member = rng.choice([m for m in self.members if m.process and m.process.poll() is None])
        member.signal(signal.SIGKILL)
        member.wait(30)
        member.start()
        return member.name

    def stop_one(self) -> Service:
        member = self.members[-1]
        member.signal(signal.SIGTERM)
        member.wait(60)
        return member

    def check(self) -> None:
        """Record members that died on their own, and start them again."""
        for member in self.members:
            death = member.died()
            if death is not None:
                self.deaths.append(death)
                member.start()

    def stop_all(self) -> None:
        for member in self.members:
            member.signal(signal.SIGTERM)
        for member in self.members:
            member.wait(60)


def start_api(env: dict[str, str], log_dir: Path, port: int) -> Service:
    api_env = {
        **env,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "API_INGEST_RATE_PER_S": "100000",
        "API_INGEST_BURST": "100000",
    }
    api = Service("api", ["api"], api_env, log_dir / "api.log")
    api.start()
    wait_http(f"http://127.0.0.1:{port}/health", 60)
    return api


def wait_http(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError) as error:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not answering after {timeout_s} s") from error
            time.sleep(0.5)


def ingest_key(env: dict[str, str], cwd: Path) -> str:
    """A fresh ingest key from ``alpr keys create`` (its token is the last line printed)."""
    out = alpr(["keys", "create", "chaos-bench", "--role", "ingest"], env, cwd).stdout
    return out.strip().splitlines()[-1]
