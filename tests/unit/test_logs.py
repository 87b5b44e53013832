from __future__ import annotations

import json

import pytest
import structlog

from alpr_core.logs import configure_logging


@pytest.mark.parametrize(
    ("enabled", "shown"),
    [
        pytest.param(False, "[redacted]", id="by default"),
        pytest.param(True, "AB12CDE", id="when enabled"),
    ],
)
def test_plate_text_is_logged_only_when_enabled(
    enabled: bool, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    structlog.reset_defaults()
    configure_logging("INFO", log_plate_text=enabled)
    structlog.get_logger("t").info("read", plate_text="AB12CDE", camera_id="cam-1")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    structlog.reset_defaults()
    assert line["plate_text"] == shown
    assert line["camera_id"] == "cam-1"
    assert line["level"] == "info"


def test_every_line_names_its_service_when_given(capsys: pytest.CaptureFixture[str]) -> None:
    structlog.reset_defaults()
    configure_logging("INFO", log_plate_text=False, service="kafka-consumer")
    structlog.get_logger("t").warning("consumer error", error="x")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    structlog.reset_defaults()
    assert line["service"] == "kafka-consumer"
    assert line["level"] == "warning"
