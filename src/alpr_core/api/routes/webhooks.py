"""``/watchlists/{id}/webhooks``: where a list's alerts are posted, for the keys that manage the
list (docs/decisions.md#alert-delivery). The signing secret is shown once, when the webhook is
made. Every request is audited; a list outside the key's scope is a 404."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from alpr_core.api.audit import record_query
from alpr_core.api.deps import WatchlistKey, resources_of
from alpr_core.api.problems import Problem, problem_responses
from alpr_core.api.routes.watchlists import found_or_404, visible_list
from alpr_core.db import webhooks as db

router = APIRouter(prefix="/watchlists/{watchlist_id}/webhooks", tags=["watchlists"])
ANSWERS = problem_responses(401, 403, 404, 422)


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, examples=["https://example.org/alpr"])
    max_failures: int = Field(
        default=10, ge=1, le=1000, description="Failures in a row that switch it off."
    )


class WebhookChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


class WebhookCreated(BaseModel):
    webhook: db.Webhook
    secret: str = Field(description="The HMAC-SHA256 key of its signatures; shown only now.")


class WebhookList(BaseModel):
    items: list[db.Webhook]


def _checked_url(url: str, allow_http: bool) -> str:
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname or parts.username or parts.password:
        allowed = " or ".join(schemes)
        raise Problem(422, "Unusable URL", f"A webhook URL is {allowed}://host/..., no user.")
    return url


@router.get("", response_model=WebhookList, summary="A list's webhooks", responses=ANSWERS)
async def read_webhooks(request: Request, key: WatchlistKey, watchlist_id: UUID) -> WebhookList:
    async with resources_of(request).pool.connection() as conn:
        await visible_list(conn, key, request, watchlist_id)
        items = await db.list_webhooks(conn, watchlist_id)
        await record_query(conn, key, request, 200, len(items))
    return WebhookList(items=items)


@router.post(
    "",
    status_code=201,
    response_model=WebhookCreated,
    summary="Post this list's alerts to a URL",
    responses=ANSWERS,
)
async def create_webhook(
    request: Request, key: WatchlistKey, watchlist_id: UUID, body: WebhookIn
) -> WebhookCreated:
    url = _checked_url(body.url, resources_of(request).alert.webhook_allow_http)
    secret = secrets.token_urlsafe(32)
    async with resources_of(request).pool.connection() as conn:
        await visible_list(conn, key, request, watchlist_id)
        made = await db.create_webhook(conn, watchlist_id, url, body.max_failures, secret)
        await record_query(conn, key, request, 201, 1)
    return WebhookCreated(webhook=made, secret=secret)


@router.patch(
    "/{webhook_id}",
    response_model=db.Webhook,
    summary="Switch a webhook on or off",
    responses=ANSWERS,
)
async def change_webhook(
    request: Request, key: WatchlistKey, watchlist_id: UUID, webhook_id: UUID, body: WebhookChange
) -> db.Webhook:
    async with resources_of(request).pool.connection() as conn:
        await visible_list(conn, key, request, watchlist_id)
        changed = await db.set_enabled(conn, watchlist_id, webhook_id, body.enabled)
        return await found_or_404(conn, key, request, changed, 200)


@router.delete(
    "/{webhook_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a webhook",
    responses=ANSWERS,
)
async def delete_webhook(
    request: Request, key: WatchlistKey, watchlist_id: UUID, webhook_id: UUID
) -> Response:
    async with resources_of(request).pool.connection() as conn:
        await visible_list(conn, key, request, watchlist_id)
        deleted = await db.delete_webhook(conn, watchlist_id, webhook_id)
        await found_or_404(conn, key, request, True if deleted else None, 204)
    return Response(status_code=204)
