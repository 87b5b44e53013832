"""``alpr cameras`` against the real PostgreSQL: add (idempotent), list, disable, enable."""

from __future__ import annotations

import psycopg
import pytest
from typer.testing import CliRunner

from alpr_core.cli import app
from alpr_core.config import Settings
from alpr_core.db.cameras import get_camera

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI reads its settings from the environment: point it at this test's database."""
    monkeypatch.setenv("DB_NAME", settings.db.name)
    return settings


def alpr(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["cameras", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_add_list_disable_enable(cli_env: Settings) -> None:
    add = ("add", "cam-7", "--site", "site-1", "--name", "Gate", "--direction", "northbound")
    assert alpr(*add, "--lat", "51.5", "--lon", "-0.12")[0] == 0
    assert alpr("add", "cam-8", "--site", "site-2")[0] == 0

    code, listed = alpr("list")
    assert code == 0
    lines = listed.splitlines()
    assert [line.split()[0] for line in lines] == ["cam-7", "cam-8"]
    assert all(part in lines[0] for part in ("site=site-1", "northbound", "51.5,-0.12"))

    assert alpr("disable", "cam-7") == (0, "disabled cam-7\n")
    assert "disabled" in alpr("list")[1].splitlines()[0]
    assert alpr("enable", "cam-7") == (0, "enabled cam-7\n")
    assert alpr("disable", "cam-404")[0] == 1


def test_add_again_restates_the_camera_and_keeps_it_disabled(cli_env: Settings) -> None:
    assert alpr("add", "cam-7", "--site", "site-1", "--name", "Gate")[0] == 0
    assert alpr("disable", "cam-7")[0] == 0
    with psycopg.connect(cli_env.db.conninfo()) as conn:
        before = get_camera(conn, "cam-7")
    assert alpr("add", "cam-7", "--site", "site-1", "--name", "Gate")[0] == 0
    assert alpr("add", "cam-7", "--site", "site-3")[0] == 0
    with psycopg.connect(cli_env.db.conninfo()) as conn:
        after = get_camera(conn, "cam-7")
        count = conn.execute("SELECT count(*) FROM cameras").fetchone()
    assert before is not None
    assert after is not None
    assert (after.site_id, after.name, after.enabled, count) == ("site-3", None, False, (1,))
    assert after.created_at == before.created_at


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("--lat", "91", "--lon", "0"), id="latitude out of range"),
        pytest.param(("--lat", "10"), id="latitude without longitude"),
    ],
)
def test_bad_positions_are_refused(cli_env: Settings, args: tuple[str, ...]) -> None:
    code, _ = alpr("add", "cam-7", "--site", "site-1", *args)
    assert code != 0
    with psycopg.connect(cli_env.db.conninfo()) as conn:
        assert get_camera(conn, "cam-7") is None
