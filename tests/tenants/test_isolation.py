"""Tenant isolation (D1): people, sessions and data stay on their own host."""

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.forms import EmailAuthenticationForm
from accounts.models import User
from tenants.services import organization_set_status

pytestmark = pytest.mark.django_db


def login(client, email, password):
    return client.post("/login/", {"username": email, "password": password})


def test_person_signs_in_on_their_own_host(acme_client, demo_password):
    response = login(acme_client, "analyst@acme.example", demo_password)

    assert response.status_code == 302
    assert response["Location"] == "/"
    home = acme_client.get("/")
    assert home.status_code == 200
    assert "Kenji Sato" in home.content.decode()
    assert "Acme Corp" in home.content.decode()


def test_acme_person_cannot_sign_in_on_globex(globex_client, demo_password):
    response = login(globex_client, "analyst@acme.example", demo_password)

    assert response.status_code == 200
    assert response.context["form"].errors["__all__"] == [
        EmailAuthenticationForm.error_messages["invalid_login"]
    ]
    assert "_auth_user_id" not in globex_client.session


def test_email_login_is_case_insensitive(acme_client, demo_password):
    response = login(acme_client, "Analyst@ACME.example", demo_password)

    assert response.status_code == 302


def test_session_cookie_from_acme_is_not_accepted_on_globex(acme_client, globex_client, demo_password, acme):
    login(acme_client, "analyst@acme.example", demo_password)
    cookie = acme_client.cookies["sessionid"].value
    with tenant_context(acme):
        assert Session.objects.filter(session_key=cookie).exists()

    globex_client.cookies["sessionid"] = cookie
    response = globex_client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_session_cookie_is_host_only(acme_client, demo_password):
    login(acme_client, "analyst@acme.example", demo_password)

    assert acme_client.cookies["sessionid"]["domain"] == ""


def test_sessions_are_stored_in_the_organisations_schema(acme_client, globex, acme, demo_password):
    login(acme_client, "analyst@acme.example", demo_password)
    key = acme_client.cookies["sessionid"].value

    with tenant_context(globex):
        assert not Session.objects.filter(session_key=key).exists()
    connection.set_schema_to_public()
    assert not Session.objects.filter(session_key=key).exists()


def test_public_host_serves_no_tenant_data(public_client, demo_password):
    landing = public_client.get("/")
    response = login(public_client, "analyst@acme.example", demo_password)

    assert landing.status_code == 200
    assert "Acme" not in landing.content.decode()
    assert response.status_code == 200  # the form again: no such user in public
    assert "_auth_user_id" not in public_client.session


def test_user_tables_are_separate_per_schema(acme, globex):
    with tenant_context(acme):
        acme_emails = set(User.objects.values_list("email", flat=True))
    with tenant_context(globex):
        globex_emails = set(User.objects.values_list("email", flat=True))
    connection.set_schema_to_public()
    public_emails = set(User.objects.values_list("email", flat=True))

    assert all(e.endswith("@acme.example") for e in acme_emails)
    assert all(e.endswith("@globex.example") for e in globex_emails)
    assert public_emails == {"admin@platform.example", "coach@platform.example", "mentor@platform.example"}
    assert len(acme_emails) == 12


def test_unknown_host_is_a_404(db):
    from django.test import Client

    response = Client(HTTP_HOST="nope.localhost").get("/login/")

    assert response.status_code == 404


def test_tenant_host_has_no_admin(acme_client):
    assert acme_client.get("/admin/").status_code == 404


@pytest.mark.parametrize("status", ["suspended", "offboarded"])
@pytest.mark.parametrize("path", ["/", "/login/", "/set-password/x/y/", "/static-nope"])
def test_blocked_organisation_serves_only_the_unavailable_page(acme, acme_client, status, path):
    # The status alone (offboarding proper also drops the schema: tests/tenants/test_offboarding.py).
    type(acme).objects.filter(pk=acme.pk).update(status=status)

    response = acme_client.get(path)

    assert response.status_code == 403
    body = response.content.decode()
    assert 'data-testid="org-unavailable"' in body
    assert "Kenji" not in body
    assert "csrfmiddlewaretoken" not in body


def test_suspended_organisation_rejects_sign_in_and_existing_sessions(acme, acme_client, demo_password):
    login(acme_client, "analyst@acme.example", demo_password)
    organization_set_status(organization=acme, status="suspended", actor=None)

    assert acme_client.get("/").status_code == 403
    assert login(acme_client, "analyst@acme.example", demo_password).status_code == 403


def test_reactivated_organisation_serves_again(acme, acme_client):
    organization_set_status(organization=acme, status="suspended", actor=None)
    organization_set_status(organization=acme, status="active", actor=None)

    assert acme_client.get("/login/").status_code == 200
