"""vegeta, the constant-rate HTTP load generator: installed on first use, run, its results read.

The binary is built with ``go install`` from the Go module proxy into
``$ALPR_CACHE_DIR/vegeta/<version>/`` (default ``~/.cache/alpr-core``), as the infra scripts cache
their servers; nothing is assumed preinstalled. See docs/decisions.md, "Open-loop load: vegeta".
"""

from __future__ import annotations

import csv
import fcntl
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

VEGETA_MODULE = "github.com/tsenart/vegeta/v12"
VEGETA_VERSION = "v12.13.0"


@dataclass(frozen=True)
class Hit:
    """One request vegeta sent: when it went (ns since the epoch), its latency, and whether it
    failed (an error, a timeout, or a status outside 2xx/3xx)."""

    sent_ns: int
    latency_ns: int
    failed: bool


def vegeta_binary() -> Path:
    """The pinned vegeta binary, built once with ``go install`` when it is missing."""
    cache = Path(os.environ.get("ALPR_CACHE_DIR", Path.home() / ".cache" / "alpr-core"))
    binary = cache / "vegeta" / VEGETA_VERSION / "vegeta"
    if binary.exists():
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    with (binary.parent / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two runs at once: the second reuses the first's build
        if not binary.exists():
            _go_install(binary)
    return binary


def _go_install(binary: Path) -> None:
    go = shutil.which("go") or "/usr/local/go/bin/go"
    print(f"building {VEGETA_MODULE}@{VEGETA_VERSION} with go install ...", flush=True)
    with tempfile.TemporaryDirectory(dir=binary.parent) as gobin:
        env = {**os.environ, "GOBIN": gobin, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
        subprocess.run([go, "install", f"{VEGETA_MODULE}@{VEGETA_VERSION}"], env=env, check=True)
        os.replace(Path(gobin) / "vegeta", binary)  # atomic: no half-built binary is ever found


def targets_file(base: str, token: str, paths: list[str], directory: Path) -> Path:
    """A targets file in vegeta's http format: one GET per path, each with the API key; vegeta
    sends them in turn and starts over at the end."""
    target = directory / "targets.txt"
    blocks = (f"GET {base}{path}\nX-API-Key: {token}\n" for path in paths)
    target.write_text("\n".join(blocks))
    return target


def attack(
    targets: Path, rate_per_s: int, seconds: float, timeout_s: float, max_connections: int
) -> list[Hit]:
    """Send requests at ``rate_per_s`` for ``seconds``, whatever the answers' latency: vegeta
    starts another worker whenever every worker is waiting, so the schedule never slows down,
    and a request's latency runs from when its worker took it, a wait for one of the
    ``max_connections`` included."""
    vegeta = str(vegeta_binary())
    command = [
        vegeta,
        "attack",
        f"-targets={targets}",
        f"-rate={rate_per_s}/1s",
        f"-duration={seconds}s",
        f"-timeout={timeout_s}s",
        "-max-body=0",  # responses are read, not kept
        f"-max-connections={max_connections}",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE) as attacker:
        encode = [vegeta, "encode", "--to", "csv"]
        encoded = subprocess.run(
            encode, stdin=attacker.stdout, capture_output=True, text=True, check=True
        )
    if attacker.returncode != 0:
        raise RuntimeError(f"vegeta attack exited with {attacker.returncode}")
    return [_hit(row) for row in csv.reader(encoded.stdout.splitlines())]


def _hit(row: list[str]) -> Hit:
    """A row of ``vegeta encode --to csv``: timestamp ns, status, latency ns, bytes out, bytes in,
    error, ..."""
    status, error = int(row[1]), row[5]
    return Hit(int(row[0]), int(row[2]), bool(error) or not 200 <= status < 400)
