"""schemathesis against the OpenAPI document: no 5xx, and every response as documented.

Each operation gets property-based requests (valid and invalid parameters) sent to the running
app over real PostgreSQL, S3 and the schema registry, with an admin key (an ingest key for
POST /events, so that its bodies are parsed).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from alpr_core.api.app import create_app
from alpr_core.config import Settings
from alpr_core.events.avro import DecodedEvent
from tests.integration.api.conftest import Keys

# 40 found a UTC offset that PostgreSQL refuses (a 500) in one run of many; 100 cost ~10 s more.
EXAMPLES_PER_OPERATION = 100
CALLS: list[str] = []
# Not `positive_data_acceptance`: a schema cannot say that a cursor must be one this API handed
# out, or that start_time precedes end_time, so some schema-valid requests rightly get a 422.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
]


@pytest.fixture
def running_app(settings: Settings, stored: list[DecodedEvent]) -> Iterator[FastAPI]:
    """The API, its alert streams ending soon enough for each generated request to end."""
    api = settings.api.model_copy(update={"alert_stream_max_s": 0.2})
    app = create_app(settings.model_copy(update={"api": api}))
    with TestClient(app):  # runs the lifespan: the pool and the image store are open
        yield app


def test_the_api_answers_every_generated_request_as_documented(
    running_app: FastAPI, keys: Keys
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", running_app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert {op.label for op in operations} >= {
        "GET /plates",
        "GET /plates/search",
        "GET /plates/{plate_id}",
        "GET /audit",
        "POST /events",
    }
    for operation in operations:
        token = keys.ingest if operation.label == "POST /events" else keys.admin

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case: Any) -> None:
            case.call_and_validate(headers={"X-API-Key": token}, checks=CHECKS)  # noqa: B023
            CALLS.append(operation.label)  # noqa: B023 - called within this iteration

        answers_as_documented()
    assert set(CALLS) == {op.label for op in operations}  # every operation was exercised
