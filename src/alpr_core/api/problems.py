"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from alpr_core.api.schemas import ProblemDetail

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):  # noqa: N818 - it is the RFC's name
    """Raise to answer with a problem body."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers
        self.extra = extra


_DESCRIPTIONS = {
    401: "No API key, or an unknown or revoked one.",
    403: "The key's role may not do this.",
    400: "The body cannot be read (malformed JSON or multipart).",
    404: "Not found, or not visible to this key.",
    413: "The body, or the number of events in it, is over the limit.",
    415: "The body is of a content type this endpoint does not take.",
    422: "A parameter is invalid; `detail` says which and why.",
    429: "Over this key's rate limit; `Retry-After` says when to try again.",
    503: "A dependency is down; `Retry-After` says when to try again.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error answers, as problem+json bodies."""
    schema = {"$ref": "#/components/schemas/ProblemDetail"}
    return {
        status: {
            "model": ProblemDetail,
            "description": _DESCRIPTIONS.get(status, "Error"),
            "content": {PROBLEM_JSON: {"schema": schema}},
        }
        for status in statuses
    }


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(
    app: FastAPI, on_denied: Callable[[Request, int], Awaitable[None]] | None = None
) -> None:
    """``on_denied`` runs for every 401, 403 and 429 answer (the audit of denials)."""

    @app.exception_handler(Problem)
    async def on_problem(request: Request, error: Problem) -> JSONResponse:
        if on_denied is not None and error.status in (401, 403, 429):
            await on_denied(request, error.status)
        return problem_response(
            request, error.status, error.title, error.detail, error.headers, **error.extra
        )

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"where": ".".join(str(part) for part in e["loc"]), "problem": e["msg"]}
            for e in error.errors()
        ]
        detail = "; ".join(f"{e['where']}: {e['problem']}" for e in errors)
        return problem_response(request, 422, "Invalid request", detail, errors=errors)

    @app.exception_handler(psycopg.errors.QueryCanceled)
    async def on_timeout(request: Request, _error: Exception) -> JSONResponse:
        detail = "The query took too long; narrow the time range or the search."
        return problem_response(request, 503, "Query timed out", detail)

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(PoolTimeout)
    async def on_database_down(request: Request, _error: Exception) -> JSONResponse:
        response = problem_response(
            request, 503, "Database unavailable", "The database cannot be reached; try again."
        )
        response.headers["Retry-After"] = "2"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(error.status_code, "Error")
        return problem_response(request, error.status_code, title, str(error.detail))
