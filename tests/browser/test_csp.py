"""The Content-Security-Policy in a real browser: the web UI, the API documentation and the
Django admin work under it, and Chromium reports no violation (docs/security.md)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tenants.demo import DEMO_PASSWORD, PLATFORM_ADMIN
from tests.browser.helpers import sign_in

TENANT_PAGES = ["/", "/okrs/", "/kpis/", "/health/", "/reviews/", "/inbox/", "/settings/", "/api-tokens/"]


def record_violations(page: Page) -> list[str]:
    """Every CSP violation and script error the page reports, as text."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: found.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.on("pageerror", lambda error: found.append(f"page error: {error}"))
    return found


def test_the_web_ui_runs_under_the_policy(page: Page, server):
    violations = record_violations(page)
    sign_in(page, server, "ceo@e2e.example")
    objective = page.locator("a[href^='/objectives/']").first.get_attribute("href")

    for path in [*TENANT_PAGES, objective]:
        response = page.goto(f"{server}{path}")
        assert response.status == 200, f"{path} answered {response.status}"
        expect(page.locator("main h1").first).to_be_visible()
    # Progress bars are sized without inline styles (an SVG width): each is as wide as its value.
    page.goto(f"{server}/okrs/")
    bar = page.locator(".bar").first
    value = int(bar.get_attribute("aria-valuenow"))
    fill = bar.locator("svg").bounding_box()["width"] / bar.bounding_box()["width"]
    assert abs(fill * 100 - value) <= 1.5

    assert violations == [], "\n".join(violations)


def test_swagger_ui_runs_under_its_policy(page: Page, server):
    violations = record_violations(page)

    page.goto(f"{server}/api/docs/")
    # Rendered in the browser from a large bundle: slow on a busy machine.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("OKR platform API", timeout=30_000)
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()

    assert violations == [], "\n".join(violations)


def test_redoc_runs_under_its_policy(page: Page, server):
    violations = record_violations(page)

    page.goto(f"{server}/api/redoc/")
    expect(page.locator("h1").first).to_contain_text("OKR platform API", timeout=30_000)

    # Redoc's page asks Google Fonts for a font; the policy refuses it and Redoc uses a system font.
    others = [v for v in violations if "fonts.googleapis.com" not in v]
    assert others == [], "\n".join(others)


def test_the_admin_runs_under_the_policy(page: Page, server):
    violations = record_violations(page)
    admin = re.sub(r"//[^.]+\.localhost", "//localhost", server) + "/admin/"

    page.goto(admin)
    page.get_by_label("E-mail").fill(PLATFORM_ADMIN)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{admin}tenants/organization/")
    expect(page.locator("#result_list")).to_contain_text("E2E Works")
    # The action bar is driven by admin/js/actions.js: selecting a row enables it.
    page.locator("#result_list input.action-select").first.check()
    expect(page.locator(".action-counter")).to_contain_text("1 of")
    page.goto(f"{admin}accounts/user/add/")
    expect(page.locator("form#user_form")).to_be_visible()

    assert violations == [], "\n".join(violations)
