"""``alpr run`` with nothing configured: embedded PostgreSQL, an image directory, HTTP ingest fed
by the simulator. It starts from a clean directory, serves reads and images, stops cleanly on
Ctrl-C, and restarts over the same data."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from alpr_core.config import Settings
from tests.integration.conftest import db_scalar, wait_until

_KEY = re.compile(r'X-API-Key: (\S+)"')
_STORED = re.compile(r"; ([\d,]+) stored,")
_SERVER_PREFIXES = ("DB_", "KAFKA_", "MINIO_", "SCHEMA_REGISTRY_", "API_", "STORAGE_", "ALPR_")


@dataclass
class RunningSystem:
    process: subprocess.Popen[str]
    base_url: str
    lines: list[str] = field(default_factory=list)

    def key(self) -> str:
        wait_until(lambda: any(_KEY.search(line) for line in self.lines), 120, "the curl lines")
        return next(m.group(1) for line in self.lines if (m := _KEY.search(line)))

    def last_reported_stored(self) -> int:
        counts = [m.group(1) for line in self.lines if (m := _STORED.search(line))]
        return int(counts[-1].replace(",", "")) if counts else 0

    def items(self, key: str) -> list[dict[str, object]]:
        response = httpx.get(f"{self.base_url}/plates?limit=1000", headers={"X-API-Key": key})
        response.raise_for_status()
        items: list[dict[str, object]] = response.json()["items"]
        return items


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(data_dir: Path, port: int, servers: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SERVER_PREFIXES)}
    env.update(ALPR_DATA_DIR=str(data_dir), API_HOST="127.0.0.1", API_PORT=str(port), **servers)
    return env


@contextmanager
def alpr_run(
    data_dir: Path, rate: float, servers: dict[str, str] | None = None
) -> Iterator[RunningSystem]:
    """``alpr run`` with no server configured but ``servers`` (environment variables)."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "alpr_core",
        "run",
        "--simulate-rate",
        str(rate),
        "--report-every",
        "0.5",
    ]
    process = subprocess.Popen(
        command, env=_environment(data_dir, port, servers or {}), stdout=subprocess.PIPE, text=True
    )
    system = RunningSystem(process, f"http://127.0.0.1:{port}")
    stdout = process.stdout
    assert stdout is not None

    def read() -> None:
        for line in stdout:
            system.lines.append(line)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        yield system
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        reader.join()


def _stop(system: RunningSystem) -> None:
    system.process.send_signal(signal.SIGINT)
    assert system.process.wait(timeout=60) == 0, system.lines[-5:]


def test_starts_from_a_clean_directory_and_serves_reads_and_images(tmp_path: Path) -> None:
    with alpr_run(tmp_path / "data", rate=40) as system:
        key = system.key()
        wait_until(lambda: len(system.items(key)) >= 30, 120, "30 stored reads")
        inline = [i for i in system.items(key) if str(i["image_path"]).startswith("20")]
        edge = [i for i in system.items(key) if str(i["image_path"]).startswith("s3://")]
        assert inline, "no version-2 read (image stored by us)"
        assert edge, "no version-1 read (image uploaded by the edge)"
        for item in (inline[0], edge[0]):
            image = httpx.get(f"{system.base_url}{item['image_url']}", headers={"X-API-Key": key})
            assert image.status_code == 200
            assert image.headers["content-type"] == "image/jpeg"
            assert image.content.startswith(b"\xff\xd8")
        passes = httpx.get(
            f"{system.base_url}/passes?limit=1000", headers={"X-API-Key": key}
        ).json()["items"]
        assert passes, "reads stored over HTTP join vehicle passes"
        assert sum(p["read_count"] for p in passes) <= len(system.items(key))
        _stop(system)
    assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()
    assert any((tmp_path / "data" / "images").rglob("*.jpg"))


def test_restarts_over_its_data_and_loses_nothing_it_acknowledged(tmp_path: Path) -> None:
    with alpr_run(tmp_path / "data", rate=40) as first:
        first_key = first.key()
        wait_until(lambda: len(first.items(first_key)) >= 30, 120, "30 stored reads")
        _stop(first)
    acknowledged = first.last_reported_stored()
    assert acknowledged >= 30

    with alpr_run(tmp_path / "data", rate=0) as second:
        key = second.key()
        assert (
            httpx.get(f"{second.base_url}/plates", headers={"X-API-Key": first_key}).status_code
            == 401
        )
        assert len(second.items(key)) >= acknowledged
        _stop(second)


def test_one_part_switches_to_its_real_server_alone(tmp_path: Path, settings: Settings) -> None:
    """DB_* set: the real PostgreSQL; images still in the directory; still no Kafka."""
    database = {k: v for k, v in settings.as_environment().items() if k.startswith("DB_")}
    with alpr_run(tmp_path / "data", rate=40, servers=database) as system:
        system.key()
        rows = "SELECT count(*) FROM plate_detections"
        wait_until(lambda: db_scalar(settings, rows) >= 30, 120, "30 rows in the real database")
        _stop(system)
    assert not (tmp_path / "data" / "postgres").exists()
    assert any((tmp_path / "data" / "images").rglob("*.jpg"))


def test_a_plate_listed_with_the_printed_key_raises_alerts(tmp_path: Path) -> None:
    """The simulator drives listed plates past the cameras: what `alpr run` prints is enough to
    list a plate and see its alerts."""
    with alpr_run(tmp_path / "data", rate=40) as system:
        viewer = {"X-API-Key": system.key()}
        line = next(line for line in system.lines if line.rstrip().endswith("/watchlists"))
        match = _KEY.search(line)
        assert match is not None
        keeper = {"X-API-Key": match.group(1)}
        assert any("/alerts/stream" in line for line in system.lines)
        made = httpx.post(
            f"{system.base_url}/watchlists",
            json={"name": "Demo", "owner": "me", "priority": "critical"},
            headers=keeper,
        )
        assert made.status_code == 201, made.text
        entry = httpx.post(
            f"{system.base_url}/watchlists/{made.json()['id']}/entries",
            json={"plate": "AB12CDE", "match_mode": "fuzzy", "max_distance": 1},
            headers=keeper,
        )
        assert entry.status_code == 201, entry.text

        def alerts() -> list[dict[str, object]]:
            page = httpx.get(f"{system.base_url}/alerts", headers=viewer)
            page.raise_for_status()
            items: list[dict[str, object]] = page.json()["items"]
            return items

        wait_until(lambda: bool(alerts()), 120, "an alert for the listed plate")
        assert all(alert["watchlist_id"] == made.json()["id"] for alert in alerts())
        _stop(system)
