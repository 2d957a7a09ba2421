from playwright.sync_api import expect

from tests.browser.helpers import sign_in


def test_sign_in_shows_my_focus(page, server, screenshot):
    sign_in(page, server, "sre@e2e.example")
    expect(page.get_by_test_id("org-name")).to_have_text("E2E Works")
    expect(page.get_by_test_id("focus-objective").first).to_be_visible()
    screenshot(page, "home-desktop")
