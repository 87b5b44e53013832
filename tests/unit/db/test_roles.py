from __future__ import annotations

import pytest
from pydantic import SecretStr

from alpr_core.config import ServiceLoginSettings
from alpr_core.db.roles import ServiceLogin, service_logins


def test_only_the_logins_with_a_password_are_made(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DB_WRITER_USER", "DB_WRITER_PASSWORD", "DB_READER_USER", "DB_READER_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    assert service_logins(ServiceLoginSettings()) == []
    monkeypatch.setenv("DB_READER_PASSWORD", "s3cret-reader")
    assert service_logins(ServiceLoginSettings()) == [
        ServiceLogin("alpr_api", "s3cret-reader", "alpr_reader")
    ]
    both = ServiceLoginSettings(writer_user="w", writer_password=SecretStr("pw"))
    assert [login.group for login in service_logins(both)] == ["alpr_writer", "alpr_reader"]


def test_a_placeholder_password_is_refused() -> None:
    with pytest.raises(ValueError, match="placeholder"):
        ServiceLoginSettings(writer_password=SecretStr("change-me-db-storage-password"))
