"""How every entry point starts: settings read once, JSON logs named for the service, and the
embedded stand-ins started for the servers the settings leave unset."""

from __future__ import annotations

from alpr_core.config import Settings
from alpr_core.embedded.parts import with_embedded_parts
from alpr_core.logs import configure_logging


def load_settings(service: str) -> Settings:
    """Settings for ``service`` (named as in docker-compose.yml, which labels its logs)."""
    settings = Settings.load()
    configure_logging(settings.log.level, settings.log.plate_text, service)
    return with_embedded_parts(settings)
