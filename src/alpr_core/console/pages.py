"""The console's pages: sign-in and sign-out, search, live reads and a read
(docs/decisions.md#console).

Pages are rendered on the server from what the API's own routes answer (``api_calls.py``).
Every change (sign-out, a search) is a form POST carrying the session's CSRF token; the sign-in
form is refused from another origin. Searches are POSTs, so plate text stays out of URLs.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, get_args
from urllib.parse import urlsplit
from uuid import UUID

import httpx
from fastapi import APIRouter, Depends, FastAPI, Form, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from alpr_core.api.client_address import came_over_tls
from alpr_core.api.deps import SESSION_COOKIE, key_of_token, resources_of
from alpr_core.api.plate_query import PlateSearchQuery
from alpr_core.api.problems import Problem
from alpr_core.api.routes.alerts import Action
from alpr_core.api.search import MatchMode
from alpr_core.console.api_calls import api_get, api_post
from alpr_core.db.alert_views import TRANSITIONS, AlertStatus
from alpr_core.db.console_sessions import Session, close_session, open_session, session_of

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATIC = Path(__file__).parent / "static"
MODES = tuple(mode.value for mode in MatchMode)
ALERT_STATUSES: tuple[str, ...] = get_args(AlertStatus)
# the search form's fields: /plates/search's parameters but the page's own
SEARCH_FIELDS = tuple(
    name for name in PlateSearchQuery.model_fields if name not in ("limit", "cursor", "format")
)
# each status's next steps in the alert workflow, as the API allows them
NEXT_STEPS = {
    status: tuple(action for action, (_, before) in TRANSITIONS.items() if status in before)
    for status in ALERT_STATUSES
}
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; script-src 'self';"
    " style-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self';"
    " base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # no-referrer would make browsers send "Origin: null"
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
Text = Annotated[str, Form()]


def install(app: FastAPI) -> None:
    """Serve the console's pages and its static files from ``app``."""
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/console/", status_code=303)


@router.get("/console/sign-in")
async def sign_in_page(request: Request) -> Response:
    return _render(request, "sign_in.html", {})


@router.post("/console/sign-in")
async def sign_in(request: Request, api_key: Annotated[str, Form(max_length=200)]) -> Response:
    if not _same_origin(request):
        return _render(request, "sign_in.html", {"error": "Sign in from this console."}, 403)
    try:
        key = await key_of_token(request, api_key)
    except Problem as problem:
        error = "That key is not valid." if problem.status == 401 else problem.detail
        return _render(request, "sign_in.html", {"error": error}, problem.status)
    resources = resources_of(request)
    lifetime = timedelta(seconds=resources.settings.console_session_ttl_s)
    async with resources.pool.connection() as conn:
        token, _csrf = await open_session(conn, key.id, lifetime)
    response = RedirectResponse("/console/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        path="/",
        secure=came_over_tls(request, resources.trusted_proxies),
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/console/sign-out")
async def sign_out(request: Request, csrf: Text = "") -> Response:
    session = await _session(request)
    if session is not None:
        _check_csrf(session, csrf)
        async with resources_of(request).pool.connection() as conn:
            await close_session(conn, request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/console/")
async def search_page(request: Request, session: Signed) -> Response:
    return _render(request, "search.html", {"session": session, "form": {}, "modes": MODES})


@router.post("/console/search")
async def search(request: Request, session: Signed) -> Response:
    """``GET /plates/search`` with the form's plate and filters (``GET /plates`` without a
    plate); every field as the API names it, so the API checks them all."""
    posted = await request.form()
    _check_csrf(session, str(posted.get("csrf", "")))
    form = {name: str(posted.get(name, "")).strip()[:200] for name in SEARCH_FIELDS}
    params: dict[str, Any] = {name: value for name, value in form.items() if value}
    if cursor := str(posted.get("cursor", "")):
        params["cursor"] = cursor
    path = "/plates/search" if form["plate_text"] else "/plates"
    if not form["plate_text"]:
        params.pop("mode", None)
        params.pop("purpose", None)
    answer = await api_get(request, path, params)
    context: dict[str, Any] = {"session": session, "form": form, "modes": MODES}
    context |= _listing(answer, "items")
    return _render(request, "search.html", context, answer.status_code)


@router.get("/console/history")
async def history_page(request: Request, session: Signed) -> Response:
    return _render(request, "history.html", {"session": session, "form": {}, "modes": MODES})


@router.post("/console/history")
async def history(
    request: Request,
    session: Signed,
    csrf: Text = "",
    plate_text: Annotated[str, Form(max_length=40)] = "",
    mode: Text = "exact",
    purpose: Text = "",
) -> Response:
    """What ``GET /plates/history`` knows of a plate: first and last seen, per camera and site,
    a daily timeline and the latest passes."""
    _check_csrf(session, csrf)
    form = {"plate_text": plate_text, "mode": mode, "purpose": purpose}
    context: dict[str, Any] = {"session": session, "form": form, "modes": MODES}
    if not plate_text.strip():
        context["error"] = "Name a plate."
        return _render(request, "history.html", context, 422)
    params = {name: value for name, value in form.items() if value}
    answer = await api_get(request, "/plates/history", params)
    if answer.status_code == 200:
        found = answer.json()
        busiest = max((day["passes"] for day in found["timeline"]), default=0)
        context |= {"history": found, "busiest": busiest}
    else:
        context["error"] = _problem_text(answer)
    return _render(request, "history.html", context, answer.status_code)


@router.get("/console/audit")
async def audit_page(
    request: Request, session: Signed, key_id: str = "", since: str = "", cursor: str = ""
) -> Response:
    """Who searched what and when (``GET /audit``: admin keys only, as in the API)."""
    form = {"key_id": key_id, "since": since}
    params = {name: value for name, value in {**form, "cursor": cursor}.items() if value}
    answer = await api_get(request, "/audit", params)
    context: dict[str, Any] = {"session": session, "form": form}
    context |= _listing(answer, "entries")
    return _render(request, "audit.html", context, answer.status_code)


@router.get("/console/alerts")
async def alerts_page(
    request: Request, session: Signed, status: str = "", cursor: str = ""
) -> Response:
    """The alerts inbox (``GET /alerts``), newest first, with their workflow's next steps."""
    params = {name: value for name, value in {"status": status, "cursor": cursor}.items() if value}
    answer = await api_get(request, "/alerts", params | {"limit": 50})
    context: dict[str, Any] = {
        "session": session,
        "status": status,
        "statuses": ALERT_STATUSES,
        "next_steps": NEXT_STEPS,
    }
    context |= _listing(answer, "alerts")
    return _render(request, "alerts.html", context, answer.status_code)


@router.post("/console/alerts/{alert_id}")
async def change_alert(
    request: Request,
    session: Signed,
    alert_id: int,
    action: Annotated[Action, Form()],
    csrf: Text = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Acknowledge, confirm or dismiss an alert through ``POST /alerts/{id}/{action}``."""
    _check_csrf(session, csrf)
    body = {"note": note} if note.strip() else {}
    answer = await api_post(request, session, f"/alerts/{alert_id}/{action}", json=body)
    if answer.status_code != 200:
        context = {"session": session, "error": _problem_text(answer), "statuses": ALERT_STATUSES}
        return _render(request, "alerts.html", context, answer.status_code)
    return RedirectResponse("/console/alerts", status_code=303)


@router.get("/console/watchlists")
async def watchlists_page(request: Request, session: Signed) -> Response:
    """The lists the key may see (``GET /watchlists``: admin and watchlist keys)."""
    answer = await api_get(request, "/watchlists")
    context: dict[str, Any] = {"session": session}
    if answer.status_code == 200:
        context["lists"] = answer.json()["items"]
    else:
        context["error"] = _problem_text(answer)
    return _render(request, "watchlists.html", context, answer.status_code)


@router.get("/console/watchlists/{watchlist_id}")
async def watchlist_page(
    request: Request, session: Signed, watchlist_id: UUID, cursor: str = ""
) -> Response:
    """A list and a page of its entries, with the CSV import."""
    return await _watchlist(request, session, watchlist_id, cursor, {})


@router.post("/console/watchlists/{watchlist_id}/import")
async def import_watchlist(
    request: Request,
    session: Signed,
    watchlist_id: UUID,
    file: UploadFile,
    csrf: Text = "",
    replace: Text = "",
) -> Response:
    """A CSV file of entries through ``POST /watchlists/{id}/entries.csv``, with its report."""
    _check_csrf(session, csrf)
    most = resources_of(request).settings.watchlist_import_max_bytes
    content = await file.read(most + 1)  # one byte more: the API refuses a file too large
    answer = await api_post(
        request,
        session,
        f"/watchlists/{watchlist_id}/entries.csv",
        content=content,
        headers={"Content-Type": "text/csv"},
        params={"replace": "true"} if replace else {},
    )
    report = answer.json() if answer.status_code in (200, 422) else {}
    return await _watchlist(
        request,
        session,
        watchlist_id,
        "",
        {
            "report": report,
            "import_error": None if answer.status_code == 200 else _problem_text(answer),
        },
        status=answer.status_code,
    )


async def _watchlist(
    request: Request,
    session: Session,
    watchlist_id: UUID,
    cursor: str,
    extra: dict[str, Any],
    status: int = 200,
) -> Response:
    found = await api_get(request, f"/watchlists/{watchlist_id}")
    context: dict[str, Any] = {"session": session, **extra}
    if found.status_code != 200:
        context["error"] = _problem_text(found)
        return _render(request, "watchlist.html", context, found.status_code)
    params = {"cursor": cursor} if cursor else {}
    entries = await api_get(request, f"/watchlists/{watchlist_id}/entries", params)
    page = entries.json()
    context |= {"list": found.json(), "entries": page["items"], "next_cursor": page["next_cursor"]}
    return _render(request, "watchlist.html", context, status)


@router.get("/console/live")
async def live_page(request: Request, session: Signed) -> Response:
    """New reads as they are stored, from ``GET /plates/stream`` (``static/live.js``)."""
    return _render(request, "live.html", {"session": session})


@router.get("/console/reads/{plate_id}")
async def read_page(request: Request, session: Signed, plate_id: int) -> Response:
    answer = await api_get(request, f"/plates/{plate_id}")
    context: dict[str, Any] = {"session": session}
    if answer.status_code == 200:
        context["read"] = answer.json()
        found = await api_get(request, f"/plates/{plate_id}/pass")
        if found.status_code == 200:
            context["vehicle_pass"] = found.json()
    else:
        context["error"] = _problem_text(answer)
    return _render(request, "read.html", context, answer.status_code)


async def _signed_in(request: Request) -> Session:
    """The request's console session, or a redirect to the sign-in page."""
    session = await _session(request)
    if session is None:
        raise Problem(303, "Sign in", "Sign in first.", headers={"Location": "/console/sign-in"})
    return session


Signed = Annotated[Session, Depends(_signed_in)]


async def _session(request: Request) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    async with resources_of(request).pool.connection() as conn:
        return await session_of(conn, token)


def _check_csrf(session: Session, given: str) -> None:
    if not secrets.compare_digest(given, session.csrf_token):
        raise Problem(403, "CSRF token missing or wrong", "Reload the page and try again.")


def _same_origin(request: Request) -> bool:
    """Whether a browser's ``Origin`` (when it sends one) is this console's own."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.url.netloc


def _listing(answer: httpx.Response, name: str) -> dict[str, Any]:
    """A page of an API listing for a template (its items as ``name``), or its refusal."""
    if answer.status_code != 200:
        return {"error": _problem_text(answer)}
    page = answer.json()
    return {name: page["items"], "next_cursor": page["next_cursor"]}


def _problem_text(answer: httpx.Response) -> str:
    """What a refusal of the API says, for the page."""
    try:
        problem = answer.json()
    except ValueError:
        problem = None
    if isinstance(problem, dict):
        return str(problem.get("detail") or problem.get("title") or "The request failed.")
    return "The request failed."


def _render(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, context, status_code=status)
    response.headers.update(_HEADERS)
    return response
