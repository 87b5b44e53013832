"""Make a database ready for the services: the migrations, the audit retention and the services'
logins. ``alpr migrate`` runs it, and so does ``alpr run`` before it starts anything."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from alpr_core.config import ServiceLoginSettings, Settings
from alpr_core.db.audit_chain import set_audit_retention
from alpr_core.db.migrate import Migration, migrate
from alpr_core.db.roles import ensure_service_logins


@dataclass(frozen=True, slots=True)
class PreparedDatabase:
    applied: list[Migration]
    logins: list[str]


def prepare_database(settings: Settings, logins: ServiceLoginSettings) -> PreparedDatabase:
    applied = migrate(settings.db.conninfo())
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        set_audit_retention(conn, settings.audit.retention_days)
    return PreparedDatabase(applied, ensure_service_logins(settings.db, logins))
