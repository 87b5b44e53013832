"""The console in a real browser: Debian's Chromium driven by Playwright, against ``alpr api``
running as deployed, on the real servers. Signing in, a search that finds a read stored moments
earlier, its page with the crop, the live page showing a read posted meanwhile (and pausing
while hidden), a revoked key losing its session, keyboard use, and an accessibility check by
axe-core with no serious violation."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
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
from tests.integration.api.alerting import listed, read
from tests.integration.api.conftest import LIMITS, Keys, as_key, store
from tests.integration.api.test_console import busiest_plate
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
    page.get_by_label("Plate", exact=True).fill("br77wsr")
    page.get_by_role("button", name="Search").click()
    found = page.get_by_role("link", name=re.compile("BR 77 WSR"))
    expect(found).to_have_count(1)
    assert "BR77WSR" not in page.url.upper()  # the plate travelled in the form's body
    found.click()
    expect(page.get_by_role("heading", level=1, name=re.compile("BR 77 WSR"))).to_be_visible()
    crop = page.locator("img.crop")
    expect(crop).to_be_visible()
    assert crop.evaluate("image => image.complete && image.naturalWidth > 0")


def test_the_live_page_shows_a_read_posted_during_the_test_and_pauses_when_hidden(
    page: Page, base_url: str, settings: Settings, keys: Keys
) -> None:
    def post(plate: str) -> None:
        answer = httpx.post(f"{base_url}/events", json=[read(plate)], headers=as_key(keys.ingest))
        assert answer.status_code == 202, answer.text

    sign_in(page, base_url, keys.viewer)
    page.get_by_role("link", name="Live").click()
    status = page.get_by_role("status")
    expect(status).to_have_text(re.compile("^Live"))
    post("LV42XYZ")
    live = page.locator("ul.reads")
    expect(live.get_by_text("LV42XYZ")).to_be_visible(timeout=20_000)
    page.evaluate(_HIDE)
    expect(status).to_have_text(re.compile("^Paused"))
    post("HID999")  # stored while the tab is hidden: never shown
    page.evaluate(_SHOW)
    expect(status).to_have_text(re.compile("^Live"))
    post("BACK77")
    expect(live.get_by_text("BACK77")).to_be_visible(timeout=20_000)
    expect(live.get_by_text("HID999")).to_have_count(0)


_HIDE = (
    "Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
    " document.dispatchEvent(new Event('visibilitychange'))"
)
_SHOW = (
    "Object.defineProperty(document, 'hidden', {value: false, configurable: true});"
    " document.dispatchEvent(new Event('visibilitychange'))"
)


def test_a_revoked_key_loses_its_session(page: Page, base_url: str, settings: Settings) -> None:
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        key, token = create_key(conn, "browser viewer", "viewer")
    sign_in(page, base_url, token)
    with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
        revoke_key(conn, key.id)
    page.reload()
    expect(page).to_have_url(f"{base_url}/console/sign-in")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_viewer_is_refused_the_audit_page(page: Page, base_url: str, keys: Keys) -> None:
    sign_in(page, base_url, keys.viewer)
    expect(page.get_by_role("link", name="Audit")).to_have_count(0)
    answer = page.goto(f"{base_url}/console/audit")
    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_role("alert")).to_contain_text("Only admin keys may read the audit log")


def test_the_search_works_from_the_keyboard(page: Page, base_url: str, keys: Keys) -> None:
    sign_in(page, base_url, keys.viewer)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.get_by_label("Plate", exact=True).focus()
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
    page.get_by_role("button", name="History of this plate").click()
    expect(page.get_by_role("heading", name="Plate history")).to_be_visible()
    pages["history"] = _violations(page)
    page.get_by_role("link", name="Live").click()
    pages["live"] = _violations(page)
    context.close()
    assert pages == {"sign-in": [], "search": [], "read": [], "history": [], "live": []}


def test_the_audit_page_passes_axe_with_no_serious_violation(
    page: Page, base_url: str, keys: Keys
) -> None:
    sign_in(page, base_url, keys.admin)
    page.get_by_role("button", name="Search").click()  # a search, for the log to show
    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.locator("tbody tr").first).to_be_visible()
    assert _violations(page) == []


def test_every_page_renders_and_is_pictured(
    browser: Browser, base_url: str, settings: Settings, keys: Keys, tmp_path: Path
) -> None:
    """A picture of each page, kept in ``ALPR_CONSOLE_SCREENSHOTS`` when it names a directory
    (``docs/console`` for the README), else thrown away with the test's files."""
    target = Path(os.environ.get("ALPR_CONSOLE_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    listed(settings, "LST4242")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base_url}/console/sign-in")
    shots = {"sign-in": _picture(page, target, "sign-in")}
    sign_in(page, base_url, keys.admin)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("ul.reads li").first).to_be_visible()
    shots["search"] = _picture(page, target, "search")
    page.locator("ul.reads a").first.click()
    shots["read"] = _picture(page, target, "read")
    page.get_by_role("link", name="History").click()
    page.get_by_label("Plate", exact=True).fill(busiest_plate(settings)[0])
    page.get_by_role("button", name="Show history").click()
    expect(page.get_by_role("heading", name=re.compile("^Seen"))).to_be_visible()
    shots["history"] = _picture(page, target, "history")
    page.get_by_role("link", name="Live").click()
    expect(page.get_by_role("status")).to_have_text(re.compile("^Live"))
    answer = httpx.post(f"{base_url}/events", json=[read("LST4242")], headers=as_key(keys.ingest))
    assert answer.status_code == 202
    expect(page.locator("ul.reads").get_by_text("LST4242")).to_be_visible(timeout=20_000)
    shots["live"] = _picture(page, target, "live")
    page.get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("button", name="Acknowledge").first).to_be_visible()
    shots["alerts"] = _picture(page, target, "alerts")
    page.get_by_role("link", name="Watchlists").click()
    page.get_by_role("link", name="stolen").first.click()
    expect(page.get_by_role("heading", name=re.compile("^Watchlist: "))).to_be_visible()
    shots["watchlist"] = _picture(page, target, "watchlist")
    page.get_by_role("link", name="Audit").click()
    expect(page.locator("tbody tr").first).to_be_visible()
    shots["audit"] = _picture(page, target, "audit")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    small = phone.new_page()
    sign_in(small, base_url, keys.viewer)
    small.get_by_role("button", name="Search").click()
    expect(small.locator("ul.reads li").first).to_be_visible()
    shots["search-phone"] = _picture(small, target, "search-phone")
    phone.close()
    context.close()
    assert all(size > 10_000 for size in shots.values()), shots


def _picture(page: Page, target: Path, name: str) -> int:
    """What the page shows, as ``name.png`` in ``target``; its size in bytes."""
    path = target / f"{name}.png"
    page.wait_for_load_state("networkidle")  # the crops in view have loaded
    page.screenshot(path=path)
    return path.stat().st_size


def _violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations of the page, by rule."""
    results = Axe().run(page)
    return [
        violation["id"]
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
