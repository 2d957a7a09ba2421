"""The consultant portal's portfolio and client pages: who may see what, the figures from
the snapshots, a constant number of queries, and "Refresh now"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from tenants import tasks
from tenants.assignments import consultant_access_revoke
from tenants.models import CoachNote, ConsultantAssignment, HealthSnapshot, Organization
from tests.web import get_counting

pytestmark = pytest.mark.django_db

PASSWORD = "a-Long-passphrase-42"


# --- Helpers shared by the portal's test files --------------------------------------------


def make_consultant(email: str, *, zone: str = "", name: str = "") -> User:
    return User.objects.create_user(
        email,
        PASSWORD,
        role=User.Role.CONSULTANT,
        full_name=name or email.split("@", maxsplit=1)[0].title(),
        timezone=zone,
    )


def make_client(slug: str, *, status: str = Organization.Status.ACTIVE, name: str = "") -> Organization:
    """A client organisation without a schema: the portal reads snapshots, never the schema."""
    return Organization.objects.create(
        schema_name=slug.replace("-", "_"),
        slug=slug,
        name=name or slug.replace("-", " ").title(),
        status=status,
    )


def assign(organization: Organization, consultant: User, *, revoked_at: datetime | None = None):
    return ConsultantAssignment.objects.create(
        organization=organization, consultant=consultant, assigned_by="test", revoked_at=revoked_at,
        revoked_by="admin@client.example" if revoked_at else "",
    )  # fmt: skip


def snap(organization: Organization, *, taken_at: datetime | None = None, **figures) -> HealthSnapshot:
    defaults = {
        "cycle_kind": "quarter",
        "cycle_start": timezone.now().date() - timedelta(days=30),
        "cycle_end": timezone.now().date() + timedelta(days=60),
        "days_to_cycle_end": 60,
        "people_active": 12,
        "objectives_in_cycle": 4,
        "key_results_in_cycle": 10,
        "kr_not_started": 1,
        "kr_on_track": 5,
        "kr_at_risk": 2,
        "kr_off_track": 1,
        "kr_done": 1,
        "checkin_discipline": 0.5,
    }
    return HealthSnapshot.objects.create(
        organization=organization, taken_at=taken_at or timezone.now(), **{**defaults, **figures}
    )


def portal_client(user: User | None = None) -> Client:
    client = Client(HTTP_HOST="localhost")
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def consultant(db) -> User:
    return make_consultant("h3.olivia@platform.example", name="Olivia Test")


@pytest.fixture
def other_consultant(db) -> User:
    return make_consultant("h3.bruno@platform.example", name="Bruno Test")


@pytest.fixture
def _refresh_limit_reset(acme):
    """ "Refresh now" remembers a request for a minute in the cache: start and end clean."""
    key = f"health-refresh:{acme.pk}"
    cache.delete(key)
    yield
    cache.delete(key)


def cards(response) -> list[str]:
    """The slugs of the client cards, in page order."""
    html = response.content.decode()
    return [part.split('"', 1)[0] for part in html.split('data-testid="client-card" data-slug="')[1:]]


# --- Who may use the portal ---------------------------------------------------------------

PAGES = ["/portal/", "/portal/calendar/", "/portal/calendar.ics", "/portal/clients/acme/"]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(public_client, url):
    response = public_client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("email", ["admin@platform.example", "h3.member@platform.example"])
def test_platform_staff_and_other_accounts_are_refused(acme, url, email):
    user = User.objects.filter(email=email).first() or User.objects.create_user(email, PASSWORD)
    assign(acme, make_consultant("h3.someone@platform.example"))

    response = portal_client(user).get(url)

    assert response.status_code == 403


def test_a_deactivated_consultant_is_refused(acme, consultant):
    assign(acme, consultant)
    User.objects.filter(pk=consultant.pk).update(is_active=False)

    # Django signs an inactive user out: the portal sends them to sign in again.
    response = portal_client(consultant).get("/portal/")

    assert response.status_code == 302


# --- Portfolio ------------------------------------------------------------------------------


def test_the_portfolio_lists_only_my_clients_in_the_portal_statuses(
    acme, globex, consultant, other_consultant
):
    pilot = make_client("h3-pilot", status=Organization.Status.PILOT)
    suspended = make_client("h3-suspended", status=Organization.Status.SUSPENDED)
    offboarded = make_client("h3-offboarded", status=Organization.Status.OFFBOARDED)
    not_mine = make_client("h3-not-mine")
    for organization in (acme, pilot, suspended, offboarded):
        assign(organization, consultant)
    assign(not_mine, other_consultant)
    assign(globex, other_consultant)
    assign(globex, consultant, revoked_at=datetime(2026, 1, 10, 20, 0, tzinfo=UTC))

    response = portal_client(consultant).get("/portal/?sort=name")

    assert response.status_code == 200
    assert cards(response) == ["acme", "h3-pilot", "h3-suspended"]
    html = response.content.decode()
    assert "H3 Not Mine" not in html
    assert "H3 Offboarded" not in html
    # The revoked client is named (with when), without any figure or link.
    assert 'data-testid="revoked-client">Globex 环球' in html
    assert "/portal/clients/globex/" not in html
    revoked_section = html.split('data-testid="portfolio-revoked"')[1]
    assert "%" not in revoked_section

    theirs = portal_client(other_consultant).get("/portal/?sort=name")
    assert cards(theirs) == ["globex", "h3-not-mine"]


def test_the_portfolio_shows_each_clients_figures(acme, consultant):
    client = make_client("h3-figures", name="Figures & Co")
    assign(client, consultant)
    now = timezone.now()
    snap(client, taken_at=now - timedelta(days=14), kr_on_track=2, checkin_discipline=0.3)
    snap(
        client, taken_at=now - timedelta(minutes=12), checkin_discipline=0.625, kr_on_track=6, kr_at_risk=1,
        escalations_open_level1=3, escalations_open_level2=2, escalations_open_level3=1, reviews_overdue=4,
        cycle_end=timezone.localdate() + timedelta(days=9), last_activity_at=now - timedelta(hours=3),
    )  # fmt: skip

    response = portal_client(consultant).get("/portal/")

    html = response.content.decode()
    card = html.split('data-slug="h3-figures"')[1].split("</li>\n")[0]
    assert "Figures &amp; Co" in card
    assert 'data-testid="org-status">Active<' in card
    assert 'data-testid="discipline">62%<' in card  # 0.625 → 62% (rounded half to even)
    assert "L1</abbr> 3 · <abbr" in card
    assert "L2</abbr> 2 · <abbr" in card
    assert "L3</abbr> 1<" in card
    assert 'data-testid="overdue">4<' in card
    assert "Quarter (tactical)" in card
    assert "9 days left" in card or "8 days left" in card  # the organisation's date may differ from UTC
    assert "3\xa0hours ago" in card
    assert "updated 12\xa0minutes ago" in card
    assert card.count('data-testid="sparkline"') == 1
    assert 'data-points="2"' in card  # one point a day: two snapshots, two days
    assert 'class="seg status-on_track"' in card
    assert 'data-status="on_track" data-count="6"' in card
    assert 'action="/portal/clients/h3-figures/enter/"' in card
    assert 'href="/portal/clients/h3-figures/"' in card


def test_the_enter_button_shows_only_for_serving_clients(consultant):
    for slug, status in (("h3-on", "active"), ("h3-pilot", "pilot"), ("h3-off", "suspended")):
        assign(make_client(slug, status=status), consultant)

    html = portal_client(consultant).get("/portal/?sort=name").content.decode()

    assert "/portal/clients/h3-on/enter/" in html
    assert "/portal/clients/h3-pilot/enter/" in html
    assert "/portal/clients/h3-off/enter/" not in html
    assert 'data-testid="org-status">Suspended<' in html


def test_a_client_without_a_snapshot_says_so(consultant):
    assign(make_client("h3-new"), consultant)

    html = portal_client(consultant).get("/portal/").content.decode()

    assert 'data-testid="no-snapshot"' in html
    assert cards(portal_client(consultant).get("/portal/")) == ["h3-new"]


def test_the_portfolio_puts_clients_needing_attention_first(consultant):
    calm, stormy, middling, unknown = (
        make_client(f"h3-{n}") for n in ("calm", "stormy", "middling", "unknown")
    )
    for organization in (calm, stormy, middling, unknown):
        assign(organization, consultant)
    snap(calm, kr_on_track=9, kr_at_risk=0, kr_off_track=0, checkin_discipline=1.0)
    snap(
        stormy, kr_on_track=2, kr_at_risk=3, kr_off_track=4, checkin_discipline=0.2, escalations_open_level3=2
    )
    snap(middling, kr_on_track=6, kr_at_risk=2, kr_off_track=1, checkin_discipline=0.7)

    client = portal_client(consultant)

    assert cards(client.get("/portal/")) == ["h3-stormy", "h3-middling", "h3-calm", "h3-unknown"]
    assert cards(client.get("/portal/?sort=name")) == ["h3-calm", "h3-middling", "h3-stormy", "h3-unknown"]
    assert cards(client.get("/portal/?sort=%00nonsense")) == cards(client.get("/portal/"))


def test_an_empty_portfolio_invites_to_onboard(consultant):
    response = portal_client(consultant).get("/portal/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="portfolio-empty"' in html
    assert cards(response) == []


def test_the_revocation_date_shows_in_the_consultants_time_zone(acme):
    tokyo = make_consultant("h3.tokyo@platform.example", zone="Asia/Tokyo")
    assign(acme, tokyo, revoked_at=datetime(2026, 1, 10, 20, 0, tzinfo=UTC))

    html = portal_client(tokyo).get("/portal/").content.decode()

    assert "revoked Jan. 11, 2026, 5 a.m." in html


def _clients_with_snapshots(consultant: User, count: int, prefix: str) -> None:
    """``count`` clients of ``consultant``, each with snapshots of three days (bulk: fast)."""
    now = timezone.now()
    organizations = Organization.objects.bulk_create(
        Organization(schema_name=f"{prefix}_{i:02}", slug=f"{prefix}-{i:02}", name=f"{prefix} {i:02}")
        for i in range(count)
    )
    ConsultantAssignment.objects.bulk_create(
        ConsultantAssignment(organization=o, consultant=consultant) for o in organizations
    )
    HealthSnapshot.objects.bulk_create(
        HealthSnapshot(
            organization=o, taken_at=now - timedelta(days=days, minutes=i), cycle_kind="quarter",
            cycle_end=now.date() + timedelta(days=i), key_results_in_cycle=4, kr_on_track=i % 4, kr_at_risk=1,
            checkin_discipline=(i % 10) / 10, escalations_open_level1=i % 3,
            upcoming_dates=[{"date": (now.date() + timedelta(days=i)).isoformat(), "kind": "calibration"}],
        )
        for i, o in enumerate(organizations)
        for days in (0, 3, 9)
    )  # fmt: skip


def test_the_portfolio_takes_the_same_number_of_queries_for_5_and_50_clients(consultant, other_consultant):
    _clients_with_snapshots(consultant, 5, "h3few")
    _clients_with_snapshots(other_consultant, 50, "h3many")
    few, many = portal_client(consultant), portal_client(other_consultant)

    response_few, queries_few = get_counting(few, "/portal/")
    response_many, queries_many = get_counting(many, "/portal/")

    assert len(cards(response_few)) == 5
    assert len(cards(response_many)) == 50
    assert response_many.content.decode().count('data-points="3"') == 50
    assert queries_few == queries_many
    # The host's domain and two search_path settings (django-tenants), the session, the
    # user, then the page: assignments, latest snapshots, trends.
    assert queries_many == 8


# --- One client -----------------------------------------------------------------------------


def test_the_client_page_is_a_404_unless_the_client_is_mine(acme, globex, consultant, other_consultant):
    assign(acme, consultant)
    assign(globex, other_consultant)
    offboarded = make_client("h3-gone", status=Organization.Status.OFFBOARDED)
    assign(offboarded, consultant)
    revoked = make_client("h3-revoked")
    assign(revoked, consultant, revoked_at=timezone.now())
    client = portal_client(consultant)

    assert client.get("/portal/clients/acme/").status_code == 200
    for slug in ("globex", "h3-gone", "h3-revoked", "nope", "public", "tenant-template", "_public"):
        response = client.get(f"/portal/clients/{slug}/")
        assert response.status_code == 404, slug
    assert client.get("/portal/clients/acme%00/").status_code == 404


def test_a_revoked_access_takes_the_client_out_of_the_portal_at_once(acme, consultant):
    assign(acme, consultant)
    client = portal_client(consultant)
    assert client.get("/portal/clients/acme/").status_code == 200

    consultant_access_revoke(organization=acme, consultant_id=consultant.pk, actor="ceo@acme.example")

    assert client.get("/portal/clients/acme/").status_code == 404
    assert cards(client.get("/portal/")) == []
    assert client.post("/portal/clients/acme/refresh/").status_code == 404


def test_the_client_page_shows_the_figures_trends_and_dates(consultant):
    organization = make_client("h3-detail", name="Detail Ltd")
    assign(organization, consultant)
    now = timezone.now()
    today = timezone.localdate()
    for days, on_track in ((20, 2), (10, 4), (0, 6)):
        snap(
            organization, taken_at=now - timedelta(days=days), kr_on_track=on_track, reviews_overdue=2,
            last_cycle_average_score=0.7, upcoming_dates=[
                {"date": str(today + timedelta(days=5)), "kind": "review_due",
                 "review_kind": "checkin_review"},
                {"date": str(today + timedelta(days=6)), "kind": "calibration"},
            ],
        )  # fmt: skip

    response = portal_client(consultant).get("/portal/clients/h3-detail/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="client-name">Detail Ltd<' in html
    assert 'data-testid="discipline">50%<' in html
    assert 'data-testid="overdue">2<' in html
    assert html.count('data-testid="sparkline"') == 4
    assert "Key results on track over 3 days: from 20% to 60%" in html
    assert html.count('data-testid="upcoming-entry"') == 3  # + the cycle's end
    assert 'data-kind="review_due"' in html
    assert 'data-kind="calibration"' in html
    assert "Check-in review" in html
    assert 'action="/portal/clients/h3-detail/refresh/"' in html
    assert 'action="/portal/clients/h3-detail/enter/"' in html


def test_the_client_page_takes_a_fixed_number_of_queries(acme, consultant):
    assign(acme, consultant)
    client = portal_client(consultant)
    client.get("/portal/clients/acme/")
    _, before = get_counting(client, "/portal/clients/acme/")
    for i in range(15):
        CoachNote.objects.create(organization=acme, author=consultant, body=f"Note {i}")
        snap(acme, taken_at=timezone.now() - timedelta(days=i, hours=1))

    response, after = get_counting(client, "/portal/clients/acme/")

    assert response.content.decode().count('data-testid="coach-note"') == 15
    assert before == after


# --- Refresh now ------------------------------------------------------------------------------


@pytest.fixture
def queued(monkeypatch) -> list[dict]:
    calls: list[dict] = []
    monkeypatch.setattr(tasks.refresh_health_snapshot, "apply_async", lambda **options: calls.append(options))
    return calls


def _no_recent_snapshot(organization: Organization) -> None:
    HealthSnapshot.objects.filter(
        organization=organization, taken_at__gt=timezone.now() - timedelta(minutes=2)
    ).update(taken_at=timezone.now() - timedelta(minutes=2))


@pytest.mark.usefixtures("_refresh_limit_reset")
def test_refresh_now_enqueues_the_snapshot_task_in_the_clients_schema(
    acme, consultant, queued, django_capture_on_commit_callbacks
):
    assign(acme, consultant)
    _no_recent_snapshot(acme)
    client = portal_client(consultant)
    before = HealthSnapshot.objects.filter(organization=acme).count()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/portal/clients/acme/refresh/", follow=True)

    assert response.redirect_chain == [("/portal/clients/acme/", 302)]
    assert "Refresh requested: Acme Corp" in response.content.decode()
    assert queued == [{"headers": {"_schema_name": "acme"}}]
    # What the worker then does, in the schema the header names:
    with schema_context(queued[0]["headers"]["_schema_name"]):
        tasks.refresh_health_snapshot()
    assert HealthSnapshot.objects.filter(organization=acme).count() == before + 1

    # Right after, a second click is refused (the snapshot is seconds old).
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post("/portal/clients/acme/refresh/", follow=True)
    assert "refreshed less than a minute ago" in again.content.decode()
    assert len(queued) == 1


@pytest.mark.usefixtures("_refresh_limit_reset")
def test_refresh_now_is_refused_while_a_request_is_pending(
    acme, consultant, other_consultant, queued, django_capture_on_commit_callbacks
):
    assign(acme, consultant)
    assign(acme, other_consultant)
    _no_recent_snapshot(acme)

    with django_capture_on_commit_callbacks(execute=True):
        portal_client(consultant).post("/portal/clients/acme/refresh/")
        refused = portal_client(other_consultant).post("/portal/clients/acme/refresh/", follow=True)

    assert len(queued) == 1
    assert "A refresh was asked for less than a minute ago" in refused.content.decode()


@pytest.mark.usefixtures("_refresh_limit_reset")
def test_refresh_now_is_a_404_for_clients_not_mine_and_needs_a_post(
    acme, consultant, queued, django_capture_on_commit_callbacks
):
    _no_recent_snapshot(acme)
    client = portal_client(consultant)

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/portal/clients/acme/refresh/").status_code == 404
        assert client.post("/portal/clients/nope/refresh/").status_code == 404
        assign(acme, consultant)
        assert client.get("/portal/clients/acme/refresh/").status_code == 405

    assert queued == []


def test_refresh_now_with_the_cache_down_says_so_instead_of_failing(acme, consultant):
    """Redis down (a closed port stands in for it): the refresh cannot be limited or queued, and
    the consultant is told the figures update on their own, never a 500."""
    import socket

    from django.conf import settings
    from django.test import override_settings

    assign(acme, consultant)
    _no_recent_snapshot(acme)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    with override_settings(CACHES={"default": {**settings.CACHES["default"], "LOCATION": dead}}):
        response = portal_client(consultant).post("/portal/clients/acme/refresh/", follow=True)
    assert response.status_code == 200
    assert "Refreshing is not possible right now" in response.content.decode()
