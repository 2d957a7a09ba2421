"""The platform admin on the public host."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_exists, tenant_context

from accounts.models import User
from tenants.models import Domain, Organization
from tenants.services import organization_provision
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tenants/organization/"


@pytest.fixture
def staff_client(public_client, demo_password):
    assert public_client.login(username="admin@platform.example", password=demo_password)
    return public_client


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
    domain = Domain.objects.get(tenant=acme)
    response = staff_client.post(
        f"{CHANGELIST}{acme.pk}/change/",
        {
            "name": "Acme Corporation", "status": "suspended", "timezone": "Europe/Berlin", "language": "en",
            "domains-TOTAL_FORMS": "1", "domains-INITIAL_FORMS": "1",
            "domains-0-id": str(domain.pk), "domains-0-tenant": str(acme.pk),
        },
    )  # fmt: skip

    acme.refresh_from_db()
    assert response.status_code == 302
    assert (acme.name, acme.status, acme.slug) == ("Acme Corporation", "suspended", "acme")


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
    assert to_home["Location"] == "/"
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
