"""Policies built from settings, shared by every entry point that ingests: what an acceptable
event is, and how transient failures are retried."""

from __future__ import annotations

from datetime import timedelta

from alpr_core.config import Settings
from alpr_core.events.parse import EventLimits
from alpr_core.storage.backoff import Backoff


def event_limits(settings: Settings) -> EventLimits:
    return EventLimits(
        max_image_bytes=settings.storage.max_image_bytes,
        max_clock_skew=timedelta(seconds=settings.storage.max_clock_skew_s),
        max_age=timedelta(days=settings.retention.days),
        max_image_pixels=settings.storage.max_image_pixels,
    )


def backoff(settings: Settings) -> Backoff:
    return Backoff(settings.storage.retry_initial_s, settings.storage.retry_max_s)
