"""Replace each server the settings leave unset by its embedded stand-in.

Only PostgreSQL needs starting: the image directory is chosen where the image store is made
(:func:`alpr_core.images.object_store.image_store`), and without Kafka there is no consumer.
"""

from __future__ import annotations

from alpr_core.config import Settings
from alpr_core.embedded.postgres import start_embedded_postgres


def with_embedded_parts(settings: Settings) -> Settings:
    if settings.db.host:
        return settings
    db = start_embedded_postgres(settings.local.postgres_dir(), settings.db)
    return settings.model_copy(update={"db": db})
