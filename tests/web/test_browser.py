"""The dashboard in headless Chromium (Debian's, driven by Playwright): it loads offline, draws the map and the
table, filters by country and subject, finds a city, opens its profile, compares two cities, and the URL holds
the view so that a reload restores it. Screenshots go to a temporary folder (and to $SCIENCECITIES_SCREENSHOTS
when set, e.g. docs/img)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from web.live import Server

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("SCIENCECITIES_CHROMIUM", "/usr/bin/chromium")
"""Debian's Chromium; Playwright's own browser downloads are never used."""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium, once per module; a clear failure (not a skip) when it is not installed."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests need it. Install it with "
            "`apt-get install -y chromium` (Debian; `.ci/run` does this), or point SCIENCECITIES_CHROMIUM at a "
            "Chromium binary; `pytest -m 'not browser'` runs the other tests."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


class Dashboard:
    """A page of the dashboard with what the tests look at, recording every request that left loopback."""

    def __init__(self, browser: object, server: Server, shots: Path) -> None:
        self.server = server
        self.shots = shots
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.page.route(re.compile(r"^(?!http://127\.0\.0\.1[:/]).*"), self._refuse)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def _refuse(self, route: object) -> None:
        self.outside.append(route.request.url)  # type: ignore[attr-defined]
        route.abort()  # type: ignore[attr-defined]

    def open(self, query: str = "") -> None:
        self.page.goto(f"{self.server.url}/{query}")
        self.settle()

    def settle(self) -> None:
        """Wait until every fetch and chart of the last change is done."""
        self.page.wait_for_function("document.body.dataset.busy === '0'", timeout=60_000)

    def view(self) -> dict[str, list[str]]:
        return parse_qs(urlparse(self.page.url).query)

    def column(self, table: str, index: int) -> list[str]:
        """The text of one column of a table's body (1-based, as in CSS)."""
        return self.page.locator(f"#{table} tbody tr td:nth-child({index})").all_inner_texts()

    def map_points(self) -> int:
        return self.page.locator("#map g.mark-symbol path").count()

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=path, full_page=True)
        extra = os.environ.get("SCIENCECITIES_SCREENSHOTS")
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(extra) / path.name)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def dashboard(browser: object, server: Server, shots: Path) -> Iterator[Dashboard]:
    board = Dashboard(browser, server, shots)
    yield board
    outside, errors = board.outside, board.errors
    board.close()
    assert outside == [], f"the dashboard fetched from outside loopback: {outside}"
    assert errors == [], f"errors in the page: {errors}"


NAME, COUNTRY = 4, 5  # columns of the ranking table: compare box, rank, previous rank, name, country


def test_dashboard_draws_map_and_table(dashboard: Dashboard, server: Server) -> None:
    dashboard.open()
    first = server.get("/api/rankings?per_page=25").json()
    assert dashboard.column("ranking", NAME) == [r["name"] for r in first["data"]]
    assert dashboard.map_points() == server.get("/api/map?top=500").json()["count"] > 20
    assert "(173)" in dashboard.page.inner_text("#table-title") or str(
        first["total"]
    ) in dashboard.page.inner_text("#table-title")
    assert dashboard.page.locator("#map g.mark-shape path").count() > 100  # country outlines, from /api/world
    assert dashboard.shot("dashboard").stat().st_size > 10_000


def test_filter_by_country_and_subject(dashboard: Dashboard, server: Server) -> None:
    dashboard.open()
    dashboard.page.fill("#country-input", "CN China")
    dashboard.page.press("#country-input", "Enter")
    dashboard.settle()
    assert dashboard.view()["country"] == ["CN"]
    countries = dashboard.column("ranking", COUNTRY)
    assert countries and set(countries) == {"CN"}
    assert dashboard.page.locator("#country-chips .chip").inner_text().startswith("China")
    subjects = server.get("/api/subjects").json()
    subject = next(  # a subject with Chinese cities in the sample, so the filtered table is not empty
        s for s in subjects if server.get(f"/api/rankings?country=CN&subject={s['id']}").json()["total"]
    )
    dashboard.page.select_option("#subject", subject["id"])
    dashboard.settle()
    assert dashboard.view()["subject"] == [subject["id"]]
    expected = server.get(f"/api/rankings?country=CN&subject={subject['id']}&per_page=25").json()["data"]
    assert expected and dashboard.column("ranking", NAME) == [r["name"] for r in expected]
    assert expected != server.get("/api/rankings?country=CN&per_page=25").json()["data"]
    assert subject["name"] in dashboard.page.inner_text("#table-title")
    assert (
        dashboard.map_points()
        == server.get(f"/api/map?country=CN&subject={subject['id']}").json()["count"]
        > 0
    )
    dashboard.shot("filtered")
    dashboard.page.select_option("#level", "country")
    dashboard.settle()
    assert dashboard.page.locator("#map-panel").is_hidden()
    assert dashboard.column("ranking", NAME) == ["China"]


def test_search_profile_compare_and_the_url_restores_the_view(dashboard: Dashboard, server: Server) -> None:
    dashboard.open()
    dashboard.page.fill("#search", "bost")
    dashboard.page.wait_for_url(re.compile(r"q=bost"))
    dashboard.settle()
    assert dashboard.column("ranking", NAME) == ["Boston metropolitan area"]
    dashboard.page.click("#ranking a.entity")
    dashboard.settle()
    assert dashboard.view()["profile"] == ["us-csa-148"]
    assert dashboard.page.inner_text("#profile-title") == "Boston metropolitan area, United States"
    profile = server.get("/api/entities/city/us-csa-148").json()
    share = dashboard.page.inner_text('#profile-summary dd[data-key="share"]')
    assert share == f"{profile['summary']['share']:.2f}"
    assert dashboard.page.locator("#trend-chart svg").count() == 1
    assert dashboard.page.locator("#subject-chart g.mark-rect path").count() == len(
        profile["sections"]["subjects"]
    )
    assert dashboard.column("institutions", 2)[:3] == [
        r["name"] for r in profile["sections"]["institutions"][:3]
    ]
    dashboard.shot("profile")

    dashboard.page.fill("#search", "")
    dashboard.page.wait_for_url(lambda url: "q=" not in url)
    dashboard.settle()
    boxes = dashboard.page.locator("#ranking input.compare")
    boxes.nth(0).check()
    dashboard.settle()
    dashboard.page.locator("#ranking input.compare").nth(1).check()
    dashboard.settle()
    top_two = [r["id"] for r in server.get("/api/rankings?per_page=2").json()["data"]]
    assert dashboard.view()["compare"] == [",".join(top_two)]
    assert dashboard.page.locator("#compare-chips .chip").count() == 2
    assert dashboard.page.locator("#compare-chart g.mark-line path").count() == 2
    assert len(dashboard.column("compare-table", 2)) == 2
    dashboard.shot("compare")

    dashboard.page.reload()
    dashboard.settle()
    assert dashboard.page.inner_text("#profile-title") == "Boston metropolitan area, United States"
    assert [
        c.get_attribute("data-id") for c in dashboard.page.locator("#compare-chips .chip").all()
    ] == top_two
    assert dashboard.page.locator("#ranking input.compare:checked").count() == 2
    assert dashboard.view()["profile"] == ["us-csa-148"]


def test_clicking_a_city_on_the_map_opens_its_profile(dashboard: Dashboard, server: Server) -> None:
    dashboard.open("?colour=change&years=2020-2024")
    assert dashboard.page.locator("#map-note").inner_text().endswith("(grey: none)")
    target = server.get("/api/map?years=2020-2024&top=1").json()["data"][0]
    box = dashboard.page.evaluate(
        """(id) => {
            const view = window.sciencecitiesMap;
            let found = null;
            const walk = (node) => {
                if (node.items) node.items.forEach(walk);
                if (node.datum && node.datum.id === id && node.bounds && node.mark && node.mark.marktype === "symbol") found = node;
            };
            walk(view.scenegraph().root);
            const svg = document.querySelector("#map svg").getBoundingClientRect();
            const [ox, oy] = view.origin();
            return { x: svg.left + ox + (found.bounds.x1 + found.bounds.x2) / 2, y: svg.top + oy + (found.bounds.y1 + found.bounds.y2) / 2 };
        }""",
        target["id"],
    )
    dashboard.page.mouse.click(box["x"], box["y"])
    dashboard.settle()
    assert dashboard.view()["profile"] == [target["id"]]
    assert dashboard.page.inner_text("#profile-title").startswith(target["name"])
    dashboard.shot("map-change")


def test_a_bad_link_shows_the_api_error(dashboard: Dashboard) -> None:
    dashboard.open("?years=1800-1801")
    message = dashboard.page.inner_text("#error")
    assert "no articles in 1800-1801" in message and "years run" in message
    dashboard.errors.clear()  # the browser logs the 400 itself; the page showed it
