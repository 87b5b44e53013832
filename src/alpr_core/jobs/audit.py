"""Keep the audit log in the API process, which writes it: every ``AUDIT_SEAL_INTERVAL_S``, seal
the new rows into the hash chain, then drop what is past the audit retention
(docs/decisions.md#audit-chain). Several API processes may run it: the chain's head is locked
while a batch is sealed, so they take turns. A failed run is logged, and the next one tries again.
"""

from __future__ import annotations

import psycopg
import structlog

from alpr_core.db.audit_chain import expire_audit, seal_audit
from alpr_core.jobs.periodic import PeriodicJob

log = structlog.get_logger("alpr.audit")


class AuditKeeper(PeriodicJob):
    def __init__(self, conninfo: str, interval_s: float) -> None:
        super().__init__("audit-keeper", interval_s, run_at_start=True)
        self._conninfo = conninfo

    def run_once(self) -> None:
        try:
            with psycopg.connect(self._conninfo, autocommit=True) as conn:
                sealed = seal_audit(conn, rest=self._stop.wait)
                expired = expire_audit(conn)
        except psycopg.Error as error:
            log.warning("audit keeping failed; will try again", error_class=type(error).__name__)
            return
        if expired:
            log.info("audit retention applied", rows_expired=expired, rows_sealed=sealed)
