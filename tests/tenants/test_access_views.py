"""Entering a client's workspace through the web: the portal's Enter button, the client's
/enter/<token>/ page, the consultant's session ending as soon as their access does, and
the org admins' Settings → Consultants page (access log, revoke, restore)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context, tenant_context

from accounts.forms import EmailAuthenticationForm
from accounts.models import User
from tenants.assignments import consultant_access_revoke, consultant_assign
from tenants.models import ConsultantAssignment, ConsultantEntry, Organization, PlatformEvent
from tenants.selectors_access import ACCESS_LOG_PAGE_SIZE
from tenants.services import organization_set_status
from tests.web import get_counting, sign_in

pytestmark = pytest.mark.django_db

BANNER = "You are in Acme Corp as a consultant; the organisation's admins can see when you enter."
SIGNED_OUT = (
    "Your consultant access to Acme Corp has ended: the organisation revoked it or your assignment was "
    "removed. You have been signed out."
)


def public_consultant(email: str = "h1.coach@platform.example", name: str = "Hana Coach") -> User:
    with schema_context("public"):
        user = User(email=email, full_name=name, role=User.Role.CONSULTANT)
        user.set_unusable_password()
        user.save()
        return user


@pytest.fixture
def consultant(acme) -> User:
    """A consultant serving acme (not globex)."""
    user = public_consultant()
    consultant_assign(organization=acme, consultant=user, actor=None)
    return user


@pytest.fixture
def portal(consultant) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(consultant)
    return client


@pytest.fixture
def admin_client(acme) -> Client:
    client = Client(HTTP_HOST="acme.localhost")
    sign_in(client, acme, "ceo@acme.example")
    return client


def press_enter(portal: Client, slug: str = "acme"):
    return portal.post(f"/portal/clients/{slug}/enter/")


def entry_path(response) -> str:
    """The path on the client's host the portal redirected to."""
    url = urlsplit(response["Location"])
    return url.path


def enter(portal: Client, organization: Organization) -> Client:
    """Press Enter on the portal and follow the redirect on the client's host."""
    response = press_enter(portal, organization.slug)
    assert response.status_code == 302
    browser = Client(HTTP_HOST=f"{organization.slug}.localhost")
    landed = browser.get(entry_path(response))
    connection.set_schema_to_public()
    assert (landed.status_code, landed["Location"]) == (302, "/")
    return browser


def session_of(browser: Client, organization: Organization) -> dict:
    """The browser's session on ``organization``'s host (stored in its schema)."""
    with tenant_context(organization):
        session = dict(browser.session.items())
    connection.set_schema_to_public()
    return session


def tenant_account(organization: Organization, public_id: int) -> User:
    with tenant_context(organization):
        account = User.objects.get(public_user_id=public_id)
    connection.set_schema_to_public()
    return account


# --- the portal's Enter button -----------------------------------------------------------------------


def test_enter_redirects_to_the_clients_host_with_a_fresh_token(portal, consultant, acme):
    response = press_enter(portal)

    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert (url.scheme, url.netloc) == ("http", "acme.localhost")
    assert url.path.startswith("/enter/")
    assert url.path.endswith("/")
    assert response["Referrer-Policy"] == "no-referrer"
    entry = ConsultantEntry.objects.get()
    assert (entry.organization_id, entry.consultant_id, entry.used_at) == (acme.pk, consultant.pk, None)


@pytest.mark.parametrize("slug", ["globex", "no-such-client"])
def test_enter_is_a_404_for_a_client_not_assigned_or_unknown(portal, slug):
    response = press_enter(portal, slug)

    assert response.status_code == 404
    assert not ConsultantEntry.objects.exists()
    assert not PlatformEvent.objects.filter(action=PlatformEvent.Action.ENTERED).exists()


def test_enter_is_a_404_once_the_client_revoked_the_access(portal, consultant, acme):
    consultant_access_revoke(organization=acme, consultant_id=consultant.pk, actor="ceo@acme.example")

    assert press_enter(portal).status_code == 404
    assert not ConsultantEntry.objects.exists()


def test_enter_a_suspended_client_says_why_and_issues_nothing(portal, acme):
    organization_set_status(organization=acme, status=Organization.Status.SUSPENDED, actor=None)

    response = press_enter(portal)

    assert response.status_code == 403
    assert "You cannot enter Acme Corp right now" in response.content.decode()
    assert not ConsultantEntry.objects.exists()


def test_enter_needs_a_post_with_a_csrf_token(consultant):
    strict = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    strict.force_login(consultant)

    assert strict.get("/portal/clients/acme/enter/").status_code == 405
    assert strict.post("/portal/clients/acme/enter/").status_code == 403
    assert not ConsultantEntry.objects.exists()


def test_enter_is_for_consultants_only(public_client, demo_password):
    assert press_enter(public_client).status_code == 302  # signed out: to sign-in
    assert public_client.login(username="admin@platform.example", password=demo_password)

    assert press_enter(public_client).status_code == 403
    assert not ConsultantEntry.objects.exists()


# --- the client's host ----------------------------------------------------------------------------------


def test_entering_signs_the_consultant_in_as_their_own_account(portal, consultant, acme):
    response = press_enter(portal)
    browser = Client(HTTP_HOST="acme.localhost")

    landed = browser.get(entry_path(response))

    assert (landed.status_code, landed["Location"]) == (302, "/")
    assert landed["Referrer-Policy"] == "no-referrer"
    assert "no-store" in landed["Cache-Control"]
    account = tenant_account(acme, consultant.pk)
    session = session_of(browser, acme)
    assert session["_auth_user_id"] == str(account.pk)
    assert session["entered_as_consultant"] is True
    home = browser.get("/")
    assert home.status_code == 200
    assert BANNER in home.content.decode()
    assert PlatformEvent.objects.filter(action=PlatformEvent.Action.ENTERED, organization=acme).count() == 1


def test_the_banner_is_for_consultants_only(acme):
    client = Client(HTTP_HOST="acme.localhost")
    sign_in(client, acme, "analyst@acme.example")

    assert "as a consultant" not in client.get("/").content.decode()


def test_a_used_link_shows_a_clear_page_and_signs_nobody_in(portal, acme):
    path = entry_path(press_enter(portal))
    Client(HTTP_HOST="acme.localhost").get(path)
    other = Client(HTTP_HOST="acme.localhost")

    replay = other.get(path)

    assert replay.status_code == 403
    assert replay["Referrer-Policy"] == "no-referrer"
    page = replay.content.decode()
    assert "This entry link was already used." in page
    assert "Go back to the portal and click Enter again." in page
    assert 'href="http://localhost/portal/"' in page
    assert "_auth_user_id" not in session_of(other, acme)


def test_a_bad_link_is_a_400_page(acme, acme_client):
    response = acme_client.get("/enter/not-a-token/")

    assert response.status_code == 400
    assert "This entry link is not valid." in response.content.decode()
    assert "_auth_user_id" not in session_of(acme_client, acme)


@pytest.mark.parametrize("token", ["a%00b", "x" * 5000, "eyJqIjoxfQ:1abcde:forged-signature"])
def test_odd_links_are_a_400_page_never_an_error(acme, acme_client, token):
    response = acme_client.get(f"/enter/{token}/")

    assert response.status_code == 400
    assert "This entry link is not valid." in response.content.decode()


def test_a_link_for_acme_does_not_open_globex(portal, consultant, globex):
    consultant_assign(organization=globex, consultant=consultant, actor=None)
    path = entry_path(press_enter(portal, "acme"))
    browser = Client(HTTP_HOST="globex.localhost")

    response = browser.get(path)

    assert response.status_code == 403
    assert "_auth_user_id" not in session_of(browser, globex)
    with tenant_context(globex):
        assert not User.objects.filter(public_user_id=consultant.pk).exists()


def test_entering_replaces_whoever_was_signed_in_on_that_host(portal, consultant, acme):
    browser = Client(HTTP_HOST="acme.localhost")
    ceo = sign_in(browser, acme, "ceo@acme.example")
    old_key = browser.cookies["sessionid"].value

    response = browser.get(entry_path(press_enter(portal)))

    assert response.status_code == 302
    assert session_of(browser, acme)["_auth_user_id"] == str(tenant_account(acme, consultant.pk).pk)
    assert str(ceo.pk) != str(tenant_account(acme, consultant.pk).pk)
    assert browser.cookies["sessionid"].value != old_key


def test_a_refused_link_keeps_the_current_session(portal, acme):
    browser = Client(HTTP_HOST="acme.localhost")
    ceo = sign_in(browser, acme, "ceo@acme.example")

    assert browser.get("/enter/forged/").status_code == 400
    assert session_of(browser, acme)["_auth_user_id"] == str(ceo.pk)


# --- the session ends with the access -------------------------------------------------------------------


def test_a_revoked_consultants_existing_session_stops_at_the_next_request(
    portal, consultant, acme, admin_client
):
    browser = enter(portal, acme)
    assert browser.get("/").status_code == 200

    revoked = admin_client.post(f"/settings/consultants/{consultant.pk}/revoke/")

    assert (revoked.status_code, revoked["Location"]) == (302, "/settings/consultants/")
    response = browser.get("/")
    assert (response.status_code, response["Location"]) == (302, "/login/")
    assert "_auth_user_id" not in session_of(browser, acme)
    assert SIGNED_OUT in browser.get("/login/").content.decode()
    assert not tenant_account(acme, consultant.pk).is_active


def test_the_middleware_alone_ends_the_session(portal, consultant, acme):
    """Even when the tenant account is still switched on (say, the assignment was revoked
    by a direct database change), the next request checks the public assignment."""
    browser = enter(portal, acme)
    ConsultantAssignment.objects.filter(consultant=consultant).update(revoked_at=datetime.now(UTC))
    assert tenant_account(acme, consultant.pk).is_active

    response = browser.get("/")

    assert (response.status_code, response["Location"]) == (302, "/login/")
    assert "_auth_user_id" not in session_of(browser, acme)


def test_a_switched_off_public_consultant_is_signed_out(portal, consultant, acme):
    browser = enter(portal, acme)
    User.objects.filter(pk=consultant.pk).update(is_active=False)

    assert browser.get("/")["Location"] == "/login/"


def test_htmx_requests_of_a_revoked_consultant_are_sent_to_sign_in(portal, consultant, acme):
    browser = enter(portal, acme)
    ConsultantAssignment.objects.filter(consultant=consultant).update(revoked_at=datetime.now(UTC))

    response = browser.get("/", HTTP_HX_REQUEST="true")

    assert (response.status_code, response["HX-Redirect"]) == (204, "/login/")


def test_a_restored_consultant_enters_again(portal, consultant, acme, admin_client):
    enter(portal, acme)
    admin_client.post(f"/settings/consultants/{consultant.pk}/revoke/")
    assert press_enter(portal).status_code == 404

    restored = admin_client.post(f"/settings/consultants/{consultant.pk}/restore/")

    assert restored.status_code == 302
    browser = enter(portal, acme)
    assert browser.get("/").status_code == 200
    assert tenant_account(acme, consultant.pk).is_active


def test_the_same_browser_enters_again_after_the_access_is_restored(portal, consultant, acme, admin_client):
    browser = enter(portal, acme)
    admin_client.post(f"/settings/consultants/{consultant.pk}/revoke/")
    admin_client.post(f"/settings/consultants/{consultant.pk}/restore/")
    connection.set_schema_to_public()

    landed = browser.get(entry_path(press_enter(portal)))

    assert (landed.status_code, landed["Location"]) == (302, "/")
    assert browser.get("/").status_code == 200
    assert session_of(browser, acme)["_auth_user_id"] == str(tenant_account(acme, consultant.pk).pk)


def test_a_legacy_consultant_account_without_public_link_is_unaffected(acme):
    with tenant_context(acme):
        User.objects.create_user("old.coach@acme.example", role=User.Role.CONSULTANT, full_name="Old")
    browser = Client(HTTP_HOST="acme.localhost")
    sign_in(browser, acme, "old.coach@acme.example")

    assert browser.get("/").status_code == 200


def access_checks(client: Client, url: str) -> int:
    """How many of the request's queries read consultant assignments."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return sum('"tenants_consultantassignment"' in q["sql"] for q in queries.captured_queries)


def test_the_access_check_is_one_query_for_consultants_and_none_for_others(portal, acme):
    browser = enter(portal, acme)
    member = Client(HTTP_HOST="acme.localhost")
    sign_in(member, acme, "analyst@acme.example")

    assert access_checks(browser, "/inbox/") == 1
    assert access_checks(member, "/inbox/") == 0


# --- sign-in and password reset elsewhere ------------------------------------------------------------------


def test_an_employee_cannot_sign_in_on_the_public_host(public_client, demo_password):
    response = public_client.post("/login/", {"username": "ceo@acme.example", "password": demo_password})

    assert response.status_code == 200
    assert response.context["form"].errors["__all__"] == [
        EmailAuthenticationForm.error_messages["invalid_login"]
    ]
    assert "_auth_user_id" not in public_client.session


def test_password_reset_sends_nothing_to_a_consultants_tenant_account(portal, consultant, acme):
    enter(portal, acme)
    assert not tenant_account(acme, consultant.pk).has_usable_password()

    response = Client(HTTP_HOST="acme.localhost").post("/password-reset/", {"email": consultant.email})

    assert response.status_code == 302
    assert mail.outbox == []


# --- Settings → Consultants ---------------------------------------------------------------------------


def test_org_admins_see_the_consultants_and_the_access_log(portal, consultant, acme, admin_client):
    enter(portal, acme)

    response = admin_client.get("/settings/consultants/")

    assert response.status_code == 200
    assert [(a.consultant.email, a.is_active) for a in response.context["assignments"]] == [
        ("h1.coach@platform.example", True)
    ]
    assert [(e.action, e.consultant.email if e.consultant else None) for e in response.context["events"]] == [
        ("entered", "h1.coach@platform.example"),
        ("consultant_assigned", "h1.coach@platform.example"),
    ]
    page = response.content.decode()
    assert "Hana Coach" in page
    assert "Consultant entered the workspace" in page
    assert 'href="/settings/consultants/" aria-current="page"' in page
    assert page.count('aria-current="page"') == 2  # the main navigation's "Settings" and this tab


@pytest.mark.parametrize("email", ["analyst@acme.example", "cto@acme.example"])
def test_the_consultants_page_is_for_org_admins_only(acme, email):
    client = Client(HTTP_HOST="acme.localhost")
    sign_in(client, acme, email)

    assert client.get("/settings/consultants/").status_code == 403


def test_a_consultant_cannot_open_the_consultants_page(portal, acme):
    browser = enter(portal, acme)

    assert browser.get("/settings/consultants/").status_code == 403


def test_only_org_admins_revoke_and_nothing_changes_otherwise(consultant, acme):
    member = Client(HTTP_HOST="acme.localhost")
    sign_in(member, acme, "analyst@acme.example")

    assert member.post(f"/settings/consultants/{consultant.pk}/revoke/").status_code == 403
    assert ConsultantAssignment.objects.get(consultant=consultant).revoked_at is None
    assert not PlatformEvent.objects.filter(action=PlatformEvent.Action.ACCESS_REVOKED).exists()


def test_revoke_records_who_when_and_from_where(consultant, acme, admin_client):
    response = admin_client.post(f"/settings/consultants/{consultant.pk}/revoke/", REMOTE_ADDR="198.51.100.4")

    assert response.status_code == 302
    assignment = ConsultantAssignment.objects.get(consultant=consultant)
    assert (assignment.revoked_by, assignment.revoked_at is not None) == ("ceo@acme.example", True)
    [event] = PlatformEvent.objects.filter(action=PlatformEvent.Action.ACCESS_REVOKED)
    assert (event.organization_id, event.consultant_id, event.actor_email, event.ip) == (
        acme.pk,
        consultant.pk,
        "ceo@acme.example",
        "198.51.100.4",
    )
    page = admin_client.get("/settings/consultants/").content.decode()
    assert "Hana Coach&#x27;s access was revoked" in page
    assert 'data-state="revoked"' in page
    assert "by ceo@acme.example on" in page


def test_revoking_a_consultant_of_another_client_is_a_404(acme, globex, admin_client):
    other = public_consultant(email="other.coach@platform.example")
    consultant_assign(organization=globex, consultant=other, actor=None)

    assert admin_client.post(f"/settings/consultants/{other.pk}/revoke/").status_code == 404
    assert admin_client.post("/settings/consultants/999999/restore/").status_code == 404
    assert ConsultantAssignment.objects.get(consultant=other).revoked_at is None


def test_revoke_and_restore_need_a_post(consultant, admin_client):
    assert admin_client.get(f"/settings/consultants/{consultant.pk}/revoke/").status_code == 405
    assert ConsultantAssignment.objects.get(consultant=consultant).revoked_at is None


def test_access_log_times_are_in_the_viewers_time_zone(consultant, acme, admin_client):
    with tenant_context(acme):
        User.objects.filter(email="ceo@acme.example").update(timezone="Asia/Tokyo")
    connection.set_schema_to_public()
    PlatformEvent.objects.filter(organization=acme).update(at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC))

    page = admin_client.get("/settings/consultants/").content.decode()

    assert "01/02/2026 12:04 p.m." in page  # 03:04 UTC is 12:04 in Tokyo
    assert "Times are shown in your time zone (Asia/Tokyo)." in page


# Host lookup (SET + domain), SET tenant, session, user; SET public, assignments with their
# consultant, events count, one page of events with their consultant; SET tenant, the inbox badge.
EXPECTED_QUERIES = 11


def test_the_access_log_pages_by_50_newest_first_in_constant_queries(consultant, acme, admin_client):
    def add_events(count: int) -> None:
        PlatformEvent.objects.bulk_create(
            PlatformEvent(
                organization=acme,
                organization_slug="acme",
                action=PlatformEvent.Action.ENTERED,
                consultant=consultant,
                actor_email=consultant.email,
            )
            for _ in range(count)
        )

    add_events(2)
    few, few_queries = get_counting(admin_client, "/settings/consultants/")
    add_events(ACCESS_LOG_PAGE_SIZE + 10)
    many, many_queries = get_counting(admin_client, "/settings/consultants/")
    second = admin_client.get("/settings/consultants/?page=2")

    assert few_queries == many_queries == EXPECTED_QUERIES
    assert len(few.context["events"]) == 3  # and the assignment
    assert len(many.context["events"]) == ACCESS_LOG_PAGE_SIZE
    assert len(second.context["events"]) == 13
    assert second.context["events"][-1].action == PlatformEvent.Action.CONSULTANT_ASSIGNED
    assert "Page 2 of 2" in second.content.decode()


def test_another_organisations_events_are_not_in_the_log(consultant, acme, globex, admin_client):
    consultant_assign(organization=globex, consultant=consultant, actor=None)
    PlatformEvent.objects.create(organization=acme, action=PlatformEvent.Action.STATUS_CHANGED)

    events = admin_client.get("/settings/consultants/").context["events"]

    assert [(e.organization_id, e.action) for e in events] == [(acme.pk, "consultant_assigned")]
