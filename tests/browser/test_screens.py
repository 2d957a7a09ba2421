"""Screenshots of the main pages on a desktop and on a 390 px phone (tests/artifacts/),
checking on the way that each page renders without horizontal scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import sign_in

PAGES = [
    ("home", "/"),
    ("explorer", "/okrs/"),
    ("kpis", "/kpis/"),
    ("health", "/health/"),
    ("reviews", "/reviews/"),
    ("inbox", "/inbox/"),
    ("settings-people", "/settings/"),
    ("settings-cycles", "/settings/cycles/"),
    ("settings-import", "/settings/import/"),
    ("settings-webhooks", "/settings/webhooks/"),
    ("api-tokens", "/api-tokens/"),
]


@pytest.mark.parametrize(("width", "label"), [(1280, "desktop"), (390, "phone")])
def test_main_pages_fit_the_screen(page: Page, server, screenshot, width, label):
    page.set_viewport_size({"width": width, "height": 844 if width < 500 else 900})
    sign_in(page, server, "ceo@e2e.example")
    objective = page.locator("a[href^='/objectives/']").first.get_attribute("href")
    for name, path in [*PAGES, ("objective", objective)]:
        response = page.goto(f"{server}{path}")
        assert response.status == 200, f"{path} answered {response.status}"
        expect(page.locator("main h1").first).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        screenshot(page, f"{name}-{label}")
        assert overflow <= 1, f"{path} is {overflow}px wider than a {width}px screen"
