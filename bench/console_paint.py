"""How soon the console's pages paint in Debian's Chromium, on a database like ``alpr run``'s
after ten minutes (``--reads`` simulated reads over eight cameras, half with crops, with their
passes), served by ``alpr api`` as deployed. Each page is loaded ``--loads`` times; the figure is
its first contentful paint (the browser's own paint timing) from the start of its navigation.
The floor, in the same run, is the same figure for the sign-in page, which needs no data. Goal:
every page paints in under 1 s (docs/benchmarks.md).

    python -m bench.console_paint --reads 30000 --loads 20
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
from playwright.sync_api import Page, sync_playwright

from alpr_core.db.api_keys import create_key
from bench.api_load import start_api
from bench.resources import database, free_port, fresh_settings, load_services_env
from bench.stored_reads import store_simulated

GOAL_MS = 1000.0
CHROMIUM = "/usr/bin/chromium"  # infra/chromium.sh
_FCP = """() => new Promise(resolve => {
  const seen = performance.getEntriesByName("first-contentful-paint")[0];
  if (seen) { resolve(seen.startTime); return; }
  new PerformanceObserver(list => {
    for (const entry of list.getEntries())
      if (entry.name === "first-contentful-paint") resolve(entry.startTime);
  }).observe({type: "paint", buffered: true});
})"""


def paint_ms(page: Page, load: Callable[[], object]) -> float:
    """The first contentful paint of the document ``load`` navigates to."""
    load()
    page.wait_for_load_state("load")
    return float(page.evaluate(_FCP))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=30_000)
    parser.add_argument("--loads", type=int, default=20)
    args = parser.parse_args()
    load_services_env()
    settings = fresh_settings("console-paint")
    with database(settings):
        start = datetime.now(UTC) - timedelta(seconds=args.reads / 50)  # alpr run: 50 a second
        store_simulated(settings, args.reads, fleet=8, start=start, inline_share=0.5, seed=5)
        with psycopg.connect(settings.db.conninfo(), autocommit=True) as conn:
            token = create_key(conn, "paint", "viewer")[1]
            row = conn.execute(
                "SELECT (SELECT max(id) FROM plate_detections),"
                " (SELECT plate_normalized FROM passes GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)"
            ).fetchone()
        assert row is not None
        read_id, plate = row
        port = free_port()
        api = start_api(settings, port, workers=1)
        base = f"http://127.0.0.1:{port}"
        try:
            figures = measure(base, token, read_id, plate, args.loads)
        finally:
            api.terminate()
            api.wait()
    report(figures, args.reads, args.loads)


def measure(base: str, token: str, read_id: int, plate: str, loads: int) -> dict[str, list[float]]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(f"{base}/console/sign-in")
        page.get_by_label("API key").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/console/")

        def search() -> None:
            page.goto(f"{base}/console/")
            page.get_by_role("button", name="Search").click()

        def history() -> None:
            page.goto(f"{base}/console/history")
            page.get_by_label("Plate", exact=True).fill(plate)
            page.get_by_role("button", name="Show history").click()

        pages: dict[str, Callable[[], object]] = {
            "sign-in (the floor)": lambda: page.goto(f"{base}/console/sign-in"),
            "search form": lambda: page.goto(f"{base}/console/"),
            "search: the newest 50 reads": search,
            "a read and its pass": lambda: page.goto(f"{base}/console/reads/{read_id}"),
            "plate history": history,
            "live": lambda: page.goto(f"{base}/console/live"),
            "alerts": lambda: page.goto(f"{base}/console/alerts"),
        }
        figures: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(loads):
            for name, load in pages.items():
                figures[name].append(paint_ms(page, load))
        browser.close()
    return figures


def report(figures: dict[str, list[float]], reads: int, loads: int) -> None:
    floor = statistics.median(figures["sign-in (the floor)"])
    print(f"\n## Console first paint, {reads:,} reads, {loads} loads of each page\n")
    print("| page | median ms | p95 ms | worst ms | median ÷ floor |")
    print("|---|---:|---:|---:|---:|")
    for name, values in figures.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        median = statistics.median(values)
        print(f"| {name} | {median:.0f} | {p95:.0f} | {ordered[-1]:.0f} | {median / floor:.2f} |")
    worst = max(max(values) for values in figures.values())
    verdict = "met" if worst < GOAL_MS else "MISSED"
    print(f"\nGoal: every page paints in under {GOAL_MS:.0f} ms: {verdict} (worst {worst:.0f} ms)")


if __name__ == "__main__":
    main()
