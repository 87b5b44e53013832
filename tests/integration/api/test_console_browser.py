"""The console in a real browser: Debian's Chromium driven by Playwright, against ``alpr api``
running as deployed, on the real servers. Signing in, a search that finds a read stored moments
earlier, its page with the crop, a revoked key losing its session, keyboard use, and an
accessibility check by axe-core with no serious violation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from alpr_core.config import Settings
from alpr_core.db.api_keys import create_key, revoke_key
from alpr_core.events.avro import DecodedEvent
from alpr_core.events.parse import parse_event
from alpr_core.images.object_store import ObjectImageStore
from alpr_core.simulator.events import SimulatedRead
from tests.integration.api.conftest import LIMITS, Keys, store
from tests.integration.api.test_service import api_process

CHROMIUM = "/usr/bin/chromium"  # infra/chromium.sh; `playwright install` is never run


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def base_url(settings: Settings, stored: list[DecodedEvent]) -> Iterator[str]:
    with api_process(settings) as (_api, base):
        yield base


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def sign_in(page: Page, base_url: str, token: str) -> None:
    page.goto(f"{base_url}/")
    expect(page).to_have_url(f"{base_url}/console/sign-in")
    page.get_by_label("API key").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Search reads")).to_be_visible()


def test_signing_in_and_finding_a_read_stored_moments_earlier(
    page: Page,
    base_url: str,
    settings: Settings,
    images: ObjectImageStore,
    simulated: list[SimulatedRead],
    keys: Keys,
) -> None:
    sign_in(page, base_url, keys.viewer)
    record = dict(simulated[1].record)
    record |= {"event_id": "0d7c5e02-8a34-4f51-9d0b-5b0e6c1d2f03"}
    record |= {"captured_at": datetime.now(UTC).isoformat()}
    record["plate"] = {**record["plate"], "text": "BR 77 WSR", "normalized_text": "BR77WSR"}
    record["images"] = {**record["images"], "plate_url": None}
    assert record["plate_image"]
    store(settings, images, [DecodedEvent(parse_event(record, LIMITS, datetime.now(UTC)), 1)])
    page.get_by_label("Plate").fill("br77wsr")
    page.get_by_role("button", name="Search").click()
    found = page.get_by_role("link", name=re.compile("BR 77 WSR"))
    expect(found).to_have_count(1)
    assert "BR77WSR" not in page.url.upper()  # the plate travelled in the form's body
    found.click()
    expect(page.get_by_role("heading", name=re.compile("BR 77 WSR"))).to_be_visible()
    crop = page.locator("img.crop")
    expect(crop).to_be_visible()
    assert crop.evaluate("image => image.complete && image.naturalWidth > 0")


def test_a_revoked_key_loses_its_session(page: Page, base_url: str, settings: Settings) -> None:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        key, token = create_key(conn, "browser viewer", "viewer")
    sign_in(page, base_url, token)
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        revoke_key(conn, key.id)
    page.reload()
    expect(page).to_have_url(f"{base_url}/console/sign-in")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_the_search_works_from_the_keyboard(page: Page, base_url: str, keys: Keys) -> None:
    sign_in(page, base_url, keys.viewer)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.get_by_label("Plate").focus()
    page.keyboard.press("Enter")  # submits the form with no plate: the newest reads
    expect(page.get_by_role("heading", name=re.compile(r"^\d+ reads?"))).to_be_visible()
    expect(page.locator("ul.reads li").first).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_pages_pass_axe_with_no_serious_violation(
    browser: Browser, base_url: str, keys: Keys, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(f"{base_url}/console/sign-in")
    pages = {"sign-in": _violations(page)}
    sign_in(page, base_url, keys.viewer)
    page.get_by_role("button", name="Search").click()
    pages["search"] = _violations(page)
    page.locator("ul.reads a").first.click()
    pages["read"] = _violations(page)
    context.close()
    assert pages == {"sign-in": [], "search": [], "read": []}


def _violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations of the page, by rule."""
    results = Axe().run(page)
    return [
        violation["id"]
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
