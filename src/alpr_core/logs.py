"""Structured JSON logs. Plate text is personal data: it is dropped unless explicitly enabled."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

PLATE_FIELDS = frozenset({"plate", "plate_text", "plate_normalized", "normalized_text"})


def drop_plate_text(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    for key in PLATE_FIELDS.intersection(event):
        event[key] = "[redacted]"
    return event


def configure_logging(level: str, log_plate_text: bool, service: str | None = None) -> None:
    """JSON lines on stderr; ``service`` (the compose service name, e.g. ``kafka-consumer``) is on
    every line, so Promtail and Alloy can label the logs wherever they are collected."""
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if service:
        processors.append(_with_service(service))
    if not log_plate_text:
        processors.append(drop_plate_text)
    processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def _with_service(service: str) -> Any:
    def add_service(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
        event.setdefault("service", service)
        return event

    return add_service
