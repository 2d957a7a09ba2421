"""The main journeys, end to end in Chromium against gunicorn (see conftest.py)."""

from __future__ import annotations

import re

from django.utils import translation
from playwright.sync_api import Page, expect

from tests.browser.helpers import sign_in


def in_chinese(text: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(text)


def test_create_objective_check_in_then_read_it_in_chinese(page: Page, server, screenshot):
    sign_in(page, server, "sre@e2e.example")
    page.get_by_test_id("new-objective").click()
    form = page.get_by_test_id("objective-create-form")
    form.locator('[name="title"]').fill("On-call engineers sleep through the night")
    form.locator('[name="kr-0-title"]').fill("Runbooks published for the noisiest alerts")
    form.locator('[name="kr-0-start"]').fill("0")
    form.locator('[name="kr-0-target"]').fill("10")
    form.locator('[name="kr-1-kind"]').select_option("decrease")
    page.wait_for_load_state("networkidle")  # the row re-renders for the new type
    form.locator('[name="kr-1-title"]').fill("Night pages per week from 12 to 2")
    form.locator('[name="kr-1-start"]').fill("12")
    form.locator('[name="kr-1-target"]').fill("2")
    screenshot(page, "objective-create")
    page.get_by_test_id("objective-save").click()

    expect(page).to_have_url(re.compile(r"/objectives/\d+/$"))
    expect(page.get_by_test_id("objective-title")).to_have_text("On-call engineers sleep through the night")
    cards = page.get_by_test_id("kr-card")
    expect(cards).to_have_count(2)
    first = cards.first
    bar = first.locator('[role="progressbar"]').first
    expect(bar).to_have_attribute("aria-valuenow", "0")
    chart_before = first.get_by_test_id("kr-chart").inner_html()

    first.get_by_role("link", name=re.compile("^Check in")).click()
    dialog = page.get_by_test_id("check-in-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Current value").fill("6")
    dialog.get_by_label("Confidence (0–10)").fill("8")
    dialog.get_by_label("Note: what moved since last time?").fill("Six runbooks reviewed by the team")
    screenshot(page, "check-in-dialog")
    dialog.get_by_test_id("check-in-save").click()

    expect(dialog).to_have_count(0)
    expect(bar).to_have_attribute("aria-valuenow", "60")  # updated in place, no reload
    expect(first.get_by_test_id("kr-chart")).not_to_have_js_property("innerHTML", chart_before)
    expect(page.locator(".toasts")).to_contain_text("Check-in saved.")
    screenshot(page, "objective-after-check-in")

    page.locator("#language-switch").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("navigation").get_by_role("link", name=in_chinese("My focus"))).to_be_visible()
    expect(page.get_by_test_id("objective-title")).to_have_text("On-call engineers sleep through the night")
    screenshot(page, "objective-zh-hans")


def test_a_manager_calibrates_a_review(page: Page, server, screenshot):
    sign_in(page, server, "cto@e2e.example")
    page.get_by_role("navigation").get_by_role("link", name="Reviews").click()
    table = page.get_by_test_id("calibration-table")
    expect(table).to_be_visible()
    screenshot(page, "reviews")
    table.get_by_test_id("calibrate-link").first.click()
    form = page.get_by_test_id("calibration-form")
    expect(form).to_be_visible()
    form.locator('[name="manager_score"]').fill("0.5")
    form.locator('[name="comment"]').fill("Good progress; the last KR is still open.")
    form.get_by_test_id("calibration-submit").click()
    expect(page.locator(".alert.success")).to_be_visible()
    expect(page.get_by_test_id("calibration-comment")).to_have_text(
        "Good progress; the last KR is still open."
    )
    screenshot(page, "review-calibrated")


def test_a_viewer_sees_no_edit_controls(page: Page, server):
    sign_in(page, server, "board@e2e.example")
    expect(page.get_by_test_id("new-objective")).to_have_count(0)
    expect(page.locator('[data-testid^="check-in-"]')).to_have_count(0)
    page.get_by_role("navigation").get_by_role("link", name="OKRs").click()
    expect(page.locator("#explorer-body")).to_be_visible()
    expect(page.locator('[data-testid^="check-in-"]')).to_have_count(0)
    page.locator("#explorer-body a[href^='/objectives/']").first.click()
    expect(page.get_by_test_id("objective-title")).to_be_visible()
    expect(page.get_by_test_id("edit-controls")).to_have_count(0)
    expect(page.locator('[data-testid^="check-in-"]')).to_have_count(0)
    expect(page.get_by_test_id("key-result-edit")).to_have_count(0)
