"""The query strings of ``GET /plates`` and ``GET /plates/search``, read in one validation.

FastAPI reads each declared query parameter through its dependency machinery, one at a time.
For these two routes, the busiest, that is a sizeable share of a page's CPU
(docs/decisions.md#query-model). Here a pydantic model reads the whole query string at once,
with the same rules and the same 422 problems, and the OpenAPI document describes its fields as
parameters.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Annotated, Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alpr_core.api.export import ExportFormat
from alpr_core.api.params import as_utc
from alpr_core.api.problems import Problem
from alpr_core.api.queries import PlateFilters, VehicleAttributes
from alpr_core.api.search import MatchMode
from alpr_core.events.model import MAX_DIRECTION

MAX_LIMIT = 1000
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; refuse it as bad input
MAX_ATTRIBUTE = 100


def purpose_field() -> Any:
    """A search's ``purpose``: why it is made, kept with its audit row (``require_purpose``)."""
    return Field(
        default=None,
        max_length=200,
        pattern=NO_NUL,
        examples=["case 2026-0117"],
        description="Why you search (a case number, for instance), kept with the audit row; "
        "required when the API runs with API_REQUIRE_PURPOSE=true.",
    )


def _attribute(what: str, example: str, max_length: int = MAX_ATTRIBUTE) -> Any:
    return Field(
        default=None,
        min_length=1,
        max_length=max_length,
        pattern=NO_NUL,
        description=f"{what}; only rows with this value, ignoring case.",
        examples=[example],
    )


class PlateFilterQuery(BaseModel):
    """The filters every listing, search and history accepts."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    start_time: datetime | None = Field(
        default=None,
        description="ISO 8601; a time without a zone means UTC.",
        examples=["2025-12-26T00:00:00"],
    )
    end_time: datetime | None = Field(
        default=None,
        description="ISO 8601, inclusive; a time without a zone means UTC.",
        examples=["2025-12-26T23:59:59"],
    )
    camera_id: list[Annotated[str, Field(pattern=NO_NUL)]] | None = Field(
        default=None,
        max_length=100,
        description="Repeat to ask for several cameras.",
        examples=[["cam-001"]],
    )
    site: str | None = Field(
        default=None,
        max_length=200,
        pattern=NO_NUL,
        description="Only reads from this site.",
        examples=["site-1"],
    )
    min_confidence: float | None = Field(
        default=None, ge=0, le=1, description="Lowest confidence.", examples=[0.8]
    )
    vehicle_type: str | None = _attribute("Vehicle type, as the edge named it", "suv")
    vehicle_make: str | None = _attribute("Vehicle make", "toyota")
    vehicle_model: str | None = _attribute("Vehicle model", "corolla")
    vehicle_color: str | None = _attribute("Vehicle colour", "white")
    region: str | None = _attribute("Plate region", "us-ca")
    direction: str | None = _attribute(
        "Direction of travel (`extras.direction`)", "in", MAX_DIRECTION
    )

    def filters(self, max_range_days: int) -> PlateFilters:
        """The filters, checked: times in UTC, in order, at most ``max_range_days`` apart."""
        start, end = as_utc(self.start_time), as_utc(self.end_time)
        if start and end and start > end:
            raise Problem(422, "Invalid time range", "start_time is after end_time.")
        if start and end and end - start > timedelta(days=max_range_days):
            raise Problem(
                422, "Time range too long", f"Ask for at most {max_range_days} days at a time."
            )
        vehicle = VehicleAttributes(
            self.vehicle_type,
            self.vehicle_make,
            self.vehicle_model,
            self.vehicle_color,
            self.region,
            self.direction,
        )
        return PlateFilters(
            start, end, list(self.camera_id or []), self.site, self.min_confidence, vehicle
        )


class PlateListQuery(PlateFilterQuery):
    """``GET /plates``: the filters, and the page."""

    limit: int = Field(default=50, ge=1, le=MAX_LIMIT, description="Items per page.", examples=[50])
    cursor: str | None = Field(
        default=None, max_length=200, description="`next_cursor` from the previous page."
    )
    format: ExportFormat = Field(
        default=ExportFormat.JSON,
        description="`json`: a page. `csv` or `ndjson`: a file of every match from `cursor` "
        "on, streamed, up to API_EXPORT_MAX_ROWS rows (`X-Export-Truncated` says whether more "
        "matched); `limit` does not apply.",
    )


class PlateTermQuery(BaseModel):
    """The plate a search or history looks for, how to match it, and why."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    plate_text: str = Field(
        min_length=1,
        max_length=40,
        pattern=NO_NUL,
        examples=["ABC123"],
        description="The plate to look for; spaces and dashes are ignored. For `wildcard`, "
        "`?` stands for one character and `*` for any run.",
    )
    mode: MatchMode = Field(
        default=MatchMode.EXACT,
        examples=[MatchMode.FUZZY],
        description="`exact` (normalized text), `prefix`, `wildcard` (`AB?12*`), or `fuzzy`: "
        "OCR look-alikes (0/O/D/Q, 1/I/L, 8/B, 5/S, 2/Z, 6/G) plus up to two other edits, "
        "closest first.",
    )
    purpose: str | None = purpose_field()


class PlateSearchQuery(PlateListQuery, PlateTermQuery):
    """``GET /plates/search``: the plate and how to match it, and every listing parameter."""


Query = TypeVar("Query", bound=BaseModel)


def read_query(model: type[Query], request: Request) -> Query:
    """The request's query string as ``model``; a 422 problem naming each bad parameter (the
    problem FastAPI's own parameters give). Unknown parameters are ignored, as FastAPI does."""
    given = request.query_params
    repeatable = _repeatable(model)
    values = {name: given.getlist(name) if name in repeatable else given[name] for name in given}
    try:
        return model.model_validate(values)
    except ValidationError as error:
        errors = [{**e, "loc": ("query", *e["loc"])} for e in error.errors(include_url=False)]
        raise RequestValidationError(errors) from error


@cache
def _repeatable(model: type[BaseModel]) -> frozenset[str]:
    """The fields that take a list: parameters that may be given more than once."""
    properties = model.model_json_schema()["properties"]
    return frozenset(
        name
        for name, schema in properties.items()
        if any(branch.get("type") == "array" for branch in schema.get("anyOf", [schema]))
    )


def openapi_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """``model``'s fields as OpenAPI query parameters, each with its JSON schema."""
    schema = model.model_json_schema()
    definitions = schema.get("$defs", {})
    return [
        {
            "name": name,
            "in": "query",
            "required": field.is_required(),
            "description": field.description,
            "schema": _inlined(schema["properties"][name], definitions),
        }
        for name, field in model.model_fields.items()
    ]


def _inlined(node: Any, definitions: dict[str, Any]) -> Any:
    """``node`` with each ``$ref`` to ``definitions`` replaced by what it refers to."""
    if isinstance(node, dict):
        inlined = {key: _inlined(value, definitions) for key, value in node.items()}
        if "$ref" in inlined:  # its siblings (default, description) stay
            target = definitions[inlined.pop("$ref").rsplit("/", 1)[-1]]
            return {**_inlined(target, definitions), **inlined}
        return inlined
    if isinstance(node, list):
        return [_inlined(item, definitions) for item in node]
    return node
