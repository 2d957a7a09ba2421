"""A consultant's day in a real browser: the portfolio on the public host, one click into a
client's workspace on the client's host (single-use link), and the client's org admin
seeing that entry and revoking the access."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import User
from tenants.assignments import consultant_assign
from tenants.demo import CONSULTANT, DEMO_PASSWORD
from tenants.health import health_snapshot_take
from tenants.models import ConsultantAssignment, PlatformEvent
from tests.browser.helpers import sign_in


@pytest.fixture(scope="module")
def assigned(e2e_organization, django_db_blocker):
    """The demo consultant serves the e2e organisation, which has a health snapshot."""
    with django_db_blocker.unblock():
        consultant = User.objects.get(email=CONSULTANT)
        consultant_assign(organization=e2e_organization, consultant=consultant, actor=None)
        health_snapshot_take(e2e_organization)
        connection.set_schema_to_public()
    yield e2e_organization
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        ConsultantAssignment.objects.filter(organization=e2e_organization).delete()
        PlatformEvent.objects.filter(organization=e2e_organization).delete()
        with tenant_context(e2e_organization):
            User.objects.filter(public_user_id__isnull=False).delete()
        connection.set_schema_to_public()


def public_host(server: str) -> str:
    return re.sub(r"//[^.]+\.localhost", "//localhost", server)


def test_a_consultant_enters_a_client_and_the_client_revokes_the_access(
    page: Page, server, assigned, screenshot
):
    portal = public_host(server)
    page.goto(f"{portal}/login/")
    page.get_by_label("E-mail").fill(CONSULTANT)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{portal}/portal/")
    expect(page.get_by_test_id("portfolio")).to_contain_text("E2E Works")
    screenshot(page, "portal-portfolio")

    page.get_by_test_id("enter-form").first.get_by_role("button").click()
    page.wait_for_url(f"{server}/")
    expect(page.get_by_test_id("consultant-banner")).to_contain_text("E2E Works")
    screenshot(page, "portal-entered")

    # The client's org admin sees the entry and revokes the access, in another browser session.
    admin_page = page.context.browser.new_context().new_page()
    sign_in(admin_page, server, "ceo@e2e.example")
    admin_page.goto(f"{server}/settings/consultants/")
    expect(admin_page.get_by_text("Olivia Coach").first).to_be_visible()
    expect(admin_page.locator("main")).to_contain_text("entered")
    screenshot(admin_page, "settings-consultants")
    admin_page.once("dialog", lambda dialog: dialog.accept())  # "Revoke Olivia Coach's access?"
    admin_page.get_by_test_id("revoke-consultant").first.click()
    expect(admin_page.get_by_test_id("consultant-state").first).to_have_attribute("data-state", "revoked")

    # The consultant's open session in the client's workspace has ended.
    page.goto(f"{server}/")
    page.wait_for_url(re.compile(r"/login/"))
    expect(page.locator("main")).to_contain_text("Your consultant access to E2E Works has ended")
