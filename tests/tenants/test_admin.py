"""The platform admin on the public host."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import localize
from django.utils.timezone import template_localtime
from django_tenants.utils import schema_exists, tenant_context

from accounts.models import User
from tenants.admin import health_level
from tenants.models import Domain, HealthSnapshot, Organization, PlatformEvent
from tenants.services import organization_provision
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tenants/organization/"


@pytest.fixture
def staff_client(public_client, demo_password):
    assert public_client.login(username="admin@platform.example", password=demo_password)
    return public_client


def change_form_data(response, **overrides) -> dict:
    """What the change form would post back unchanged (main form and every inline), with overrides."""
    data = {}

    def put(form, name, value):
        key = form.add_prefix(name)
        if value is None or value is False:
            return
        data[key] = (
            "on" if value is True else [str(v) for v in value] if isinstance(value, list) else str(value)
        )

    form = response.context["adminform"].form
    for name, field in form.fields.items():
        if not field.disabled:
            put(form, name, form[name].value())
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            put(formset.management_form, name, formset.management_form[name].value())
        for inline_form in formset.forms:
            for name, field in inline_form.fields.items():
                if not field.disabled:
                    put(inline_form, name, inline_form[name].value())
    data.update(overrides)
    return data


def add_form_data(**overrides):
    data = {
        "name": "Initech", "slug": "initech", "status": "pilot", "timezone": "America/Chicago",
        "language": "en", "admin_email": "bill@initech.example", "admin_name": "Bill L",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_changelist_shows_client_organisations_with_domain_status_and_people(staff_client):
    response = staff_client.get(CHANGELIST)

    assert response.status_code == 200
    rows = {o.slug: o for o in response.context["cl"].result_list}
    assert set(rows) == {"acme", "globex"}  # never the public row or the template
    assert rows["acme"].user_count == 12
    body = response.content.decode()
    assert "acme.localhost" in body
    assert "globex.localhost" in body


def test_changelist_query_count_does_not_grow_with_organisations(staff_client):
    staff_client.get(CHANGELIST)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as two_organisations:
        staff_client.get(CHANGELIST)
    for slug in ["extra-one", "extra-two", "extra-three"]:
        organization_provision(
            name=slug, slug=slug, admin_email=f"a@{slug}.example", timezone="UTC", language="en", actor=None
        )

    with CaptureQueriesContext(connection) as five_organisations:
        response = staff_client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == 5
    assert {o.user_count for o in response.context["cl"].result_list} == {1, 12}
    assert len(five_organisations.captured_queries) == len(two_organisations.captured_queries)


def test_search_and_filter(staff_client):
    Organization.objects.filter(slug="globex").update(status="suspended")

    by_name = staff_client.get(CHANGELIST, {"q": "glob"})
    by_status = staff_client.get(CHANGELIST, {"status__exact": "suspended"})

    assert [o.slug for o in by_name.context["cl"].result_list] == ["globex"]
    assert [o.slug for o in by_status.context["cl"].result_list] == ["globex"]


def test_adding_an_organisation_provisions_it(staff_client):
    response = staff_client.post(f"{CHANGELIST}add/", add_form_data(), follow=True)

    assert response.status_code == 200
    organization = Organization.objects.get(slug="initech")
    assert (organization.name, organization.status, organization.timezone) == (
        "Initech", "pilot", "America/Chicago"
    )  # fmt: skip
    assert schema_exists("initech")
    assert Domain.objects.get(tenant=organization).domain == "initech.localhost"
    with tenant_context(organization):
        admin = User.objects.get()
        assert (admin.email, admin.role) == ("bill@initech.example", "org_admin")
    messages = [str(m) for m in response.context["messages"]]
    assert any("Initech is ready at http://initech.localhost/ (clone" in m for m in messages)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"slug": "www"}, "is reserved"),
        ({"slug": "acme"}, "already taken"),
        ({"slug": "Bad Slug"}, "lowercase letters"),
        ({"admin_email": "nope"}, "valid email"),
    ],
)
def test_adding_with_bad_input_shows_the_error_and_creates_nothing(staff_client, overrides, error):
    before = Organization.objects.count()

    response = staff_client.post(f"{CHANGELIST}add/", add_form_data(**overrides))

    assert response.status_code == 200
    assert error in response.content.decode()
    assert Organization.objects.count() == before
    assert not schema_exists("initech")


def test_suspend_and_reactivate_actions(staff_client, acme):
    suspended = staff_client.post(
        CHANGELIST, {"action": "suspend", "_selected_action": [acme.pk]}, follow=True
    )
    acme.refresh_from_db()
    assert suspended.status_code == 200
    assert acme.status == "suspended"
    assert Client(HTTP_HOST="acme.localhost").get("/login/").status_code == 403

    staff_client.post(CHANGELIST, {"action": "reactivate", "_selected_action": [acme.pk]})
    acme.refresh_from_db()
    assert acme.status == "active"
    assert Client(HTTP_HOST="acme.localhost").get("/login/").status_code == 200


def test_editing_status_in_the_change_form_goes_through_the_service(staff_client, acme):
    url = f"{CHANGELIST}{acme.pk}/change/"
    data = change_form_data(staff_client.get(url), name="Acme Corporation", status="suspended")

    response = staff_client.post(url, data)

    acme.refresh_from_db()
    assert response.status_code == 302
    assert (acme.name, acme.status, acme.slug) == ("Acme Corporation", "suspended", "acme")
    (event,) = PlatformEvent.objects.filter(organization=acme, action="status_changed")
    assert (event.actor_email, event.detail) == (
        "admin@platform.example",
        {"previous": "active", "status": "suspended"},
    )


def test_consultant_cannot_open_the_admin(public_client, demo_password):
    assert public_client.login(username="coach@platform.example", password=demo_password)

    response = public_client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_public_sign_in_sends_staff_to_the_admin_and_consultants_home(demo_password):
    staff, consultant = Client(HTTP_HOST="localhost"), Client(HTTP_HOST="localhost")

    to_admin = staff.post("/login/", {"username": "admin@platform.example", "password": demo_password})
    to_home = consultant.post("/login/", {"username": "coach@platform.example", "password": demo_password})

    assert to_admin["Location"] == "/admin/"
    assert to_home["Location"] == "/portal/"
    assert "Signed in as Olivia Coach" in consultant.get("/").content.decode()
    assert connection.schema_name == "public"


def test_people_column_counts_active_people_only(staff_client, globex):
    with tenant_context(globex):
        team = TeamFactory(name="Night shift")
        UserFactory.create_batch(3, team=team)
        UserFactory.create_batch(2, team=team, is_active=False)

    response = staff_client.get(CHANGELIST)

    counts = {o.slug: o.user_count for o in response.context["cl"].result_list}
    assert counts == {"acme": 12, "globex": 15}


# --- list figures from the health snapshots (step 6) -------------------------------------------------


def add_bare_organizations(start: int, count: int) -> None:
    """Organisations with a domain and a health snapshot but no schema (enough for the list)."""
    now = timezone.now()
    for n in range(start, start + count):
        slug = f"bare-{n:02d}"
        organization = Organization.objects.create(
            name=f"Bare {n:02d}", slug=slug, schema_name=f"bare_{n:02d}"
        )
        Domain.objects.create(domain=f"{slug}.localhost", tenant=organization, is_primary=True)
        HealthSnapshot.objects.create(
            organization=organization, taken_at=now, objectives_in_cycle=n, key_results_in_cycle=10,
            kr_on_track=5, checkin_discipline=0.5, last_activity_at=now,
        )  # fmt: skip


def test_changelist_query_count_is_the_same_for_5_and_30_organisations(
    staff_client, django_assert_num_queries
):
    staff_client.get(CHANGELIST)  # warm caches (content types, session)
    add_bare_organizations(1, 3)
    with django_assert_num_queries(QUERIES_PER_LIST):
        five = staff_client.get(CHANGELIST)
    add_bare_organizations(4, 25)

    with django_assert_num_queries(QUERIES_PER_LIST):
        thirty = staff_client.get(CHANGELIST)

    assert (len(five.context["cl"].result_list), len(thirty.context["cl"].result_list)) == (5, 30)
    assert 'class="org-health org-health-amber"' in thirty.content.decode()


# host lookup and search_path (4), session, user, counts (filtered + total), page, domains,
# schemas that exist, people (one UNION ALL), latest snapshots, date hierarchy, language filter.
QUERIES_PER_LIST = 15


def test_columns_show_the_latest_snapshot_figures(staff_client, acme, globex):
    later = timezone.now() + timedelta(minutes=5)  # newer than the demo's snapshots
    last_check_in = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    HealthSnapshot.objects.create(
        organization=acme, taken_at=later, objectives_in_cycle=17, key_results_in_cycle=50, kr_on_track=26,
        kr_done=5, kr_at_risk=10, kr_off_track=9, checkin_discipline=0.71, last_activity_at=last_check_in,
    )  # fmt: skip
    HealthSnapshot.objects.create(organization=globex, taken_at=later)

    response = staff_client.get(CHANGELIST)

    body = response.content.decode()
    acme_row = body[body.index(">Acme Corp<") :].split("</tr>")[0]
    globex_row = body[body.index(">Globex 环球<") :].split("</tr>")[0]
    assert '<td class="field-objectives_this_cycle">17</td>' in acme_row
    assert '<td class="field-people">12</td>' in acme_row
    assert (
        f'<td class="field-last_activity nowrap">{localize(template_localtime(last_check_in))}</td>'
        in acme_row
    )
    assert 'class="org-health org-health-amber"' in acme_row
    assert ">62% on track · discipline 71%</span>" in acme_row
    assert 'class="org-health org-health-unknown"' in globex_row
    assert ">— on track · discipline —</span>" in globex_row
    assert '<td class="field-objectives_this_cycle">0</td>' in globex_row


def test_an_organisation_without_snapshot_shows_dashes(staff_client):
    add_bare_organizations(1, 1)
    HealthSnapshot.objects.filter(organization__slug="bare-01").delete()

    response = staff_client.get(CHANGELIST)

    row = next(o for o in response.context["cl"].result_list if o.slug == "bare-01")
    assert (row.snapshot, row.user_count) == (None, 0)
    body = response.content.decode()
    bare_row = body[body.index(">Bare 01<") :].split("</tr>")[0]
    assert '<td class="field-health">—</td>' in bare_row


@pytest.mark.parametrize(
    ("on_track", "discipline", "level"),
    [
        (0.7, 0.9, "green"),
        (0.69, None, "amber"),
        (None, 0.4, "amber"),
        (0.39, 0.9, "red"),
        (None, None, "unknown"),
    ],
)
def test_health_level_takes_the_weaker_share(on_track, discipline, level):
    assert health_level(on_track, discipline) == level


def test_organisations_are_never_deleted_from_the_admin(staff_client, acme):
    response = staff_client.get(f"{CHANGELIST}{acme.pk}/delete/")

    assert response.status_code == 403
    assert "delete_selected" not in staff_client.get(CHANGELIST).content.decode()
    assert Organization.objects.filter(pk=acme.pk).exists()


def test_status_choices_leave_offboarding_to_its_action(staff_client, acme):
    response = staff_client.get(f"{CHANGELIST}{acme.pk}/change/")

    choices = [value for value, _label in response.context["adminform"].form.fields["status"].choices]
    assert choices == ["pilot", "active", "suspended"]
