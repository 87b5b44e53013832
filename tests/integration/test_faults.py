"""Transient faults lose nothing: PostgreSQL stopped mid-run, and SIGTERM mid-stream."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request

import pytest

from alpr_core.config import Settings
from alpr_core.images.object_store import ObjectImageStore
from tests.integration.conftest import REPO, db_scalar, running_storage, wait_until
from tests.integration.helpers import simulate


def _rows(settings: Settings) -> int:
    return db_scalar(settings, "SELECT count(*) FROM plate_detections")


def _server(name: str, action: str) -> None:
    subprocess.run(["bash", str(REPO / f"infra/{name}.sh"), action], check=True)


@pytest.mark.parametrize(
    "server",
    [pytest.param("postgres", id="PostgreSQL stopped"), pytest.param("minio", id="S3 stopped")],
)
def test_a_store_down_mid_run_loses_nothing_and_duplicates_nothing(
    settings: Settings, images: ObjectImageStore, server: str
) -> None:
    first = simulate(settings, 300, inline_share=0.5, seed=21)
    with running_storage(settings) as storage:
        wait_until(lambda: _rows(settings) == 300, what="the first 300 rows")
        _server(server, "stop")
        try:
            second = simulate(settings, 300, inline_share=0.5, seed=22)
            wait_until(
                lambda: storage.metric("alpr_transient_failures_total", {"step": "store"}) > 0,
                what="a retried store",
            )
            # more than the two batches in flight hold: the consumer pauses until they are durable
            third = simulate(settings, 1200, inline_share=0.5, seed=23)
            wait_until(lambda: storage.metric("alpr_consumer_paused") == 1, what="paused")
        finally:
            _server(server, "start")
        wait_until(lambda: _rows(settings) == 1800, timeout_s=90, what="all 1,800 rows")
        wait_until(lambda: storage.metric("alpr_consumer_paused") == 0, what="resumed")
    assert db_scalar(settings, "SELECT count(DISTINCT event_id) FROM plate_detections") == 1800
    assert images.count() == sum(run.version_counts[2] for run in (first, second, third))


def test_a_broker_restart_loses_nothing(settings: Settings) -> None:
    simulate(settings, 200, inline_share=0.2, seed=41)
    with running_storage(settings):
        wait_until(lambda: _rows(settings) == 200, what="the first 200 rows")
        _server("kafka", "stop")
        _server("kafka", "start")
        simulate(settings, 200, inline_share=0.2, seed=42)
        wait_until(lambda: _rows(settings) == 400, timeout_s=120, what="all 400 rows")
    assert db_scalar(settings, "SELECT count(DISTINCT event_id) FROM plate_detections") == 400


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _storage_process(settings: Settings, metrics_port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **settings.as_environment(),
        "STORAGE_METRICS_HOST": "127.0.0.1",
        "STORAGE_METRICS_PORT": str(metrics_port),
        "STORAGE_BATCH_MAX_EVENTS": "200",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "alpr_core", "storage"], env=env, stderr=subprocess.PIPE
    )


def _get(port: int, path: str) -> tuple[int, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return response.status, response.read().decode()


def test_sigterm_mid_stream_exits_cleanly_and_a_restart_continues(settings: Settings) -> None:
    total = 3000
    producer = threading.Thread(target=simulate, args=(settings, total, 0.2, 31))
    port = _free_port()
    first = _storage_process(settings, port)
    producer.start()
    try:
        wait_until(lambda: _rows(settings) > 200, what="some rows stored")
        status, body = _get(port, "/health")
        assert status == 200
        assert '"ok"' in body
        assert "alpr_messages_consumed_total" in _get(port, "/metrics")[1]
        first.send_signal(signal.SIGTERM)
        _, stderr = first.communicate(timeout=60)
    finally:
        first.kill() if first.poll() is None else None
    assert first.returncode == 0, stderr.decode()[-2000:]
    assert b'"stopped"' in stderr
    stored_at_stop = _rows(settings)

    producer.join(timeout=120)
    second = _storage_process(settings, _free_port())
    try:
        wait_until(lambda: _rows(settings) == total, timeout_s=120, what=f"{total} rows")
    finally:
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=60)
    assert stored_at_stop < total
    assert db_scalar(settings, "SELECT count(DISTINCT event_id) FROM plate_detections") == total
