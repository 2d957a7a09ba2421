"""The API tokens page: create (shown once), list with prefix / last used / expiry, revoke."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from accounts.models import ApiToken
from tests.api_helpers import make_token
from tests.web import get_counting, sign_in

pytestmark = pytest.mark.django_db

SRE = "sre@acme.example"


def test_page_lists_my_tokens_with_a_constant_number_of_queries(acme, acme_client):
    sign_in(acme_client, acme, SRE)
    make_token(acme, SRE)
    _, one = get_counting(acme_client, "/api-tokens/")
    for _ in range(5):
        make_token(acme, SRE)

    response, many = get_counting(acme_client, "/api-tokens/")

    assert response.status_code == 200
    assert response.content.decode().count('data-testid="token-row"') == 6
    assert many == one


def test_creating_shows_the_token_once(acme, acme_client):
    sign_in(acme_client, acme, SRE)

    response = acme_client.post("/api-tokens/", {"name": "Power BI", "scope": "read", "expires": "30"})

    assert response.status_code == 201
    with tenant_context(acme):
        token = ApiToken.objects.get()
    page = response.content.decode()
    assert 'data-testid="token-secret"' in page
    assert token.prefix in page
    again = acme_client.get("/api-tokens/").content.decode()
    assert 'data-testid="token-secret"' not in again
    assert f"{token.prefix}…" in again
    assert token.expires_at is not None


def test_invalid_form_shows_errors_and_creates_nothing(acme, acme_client):
    sign_in(acme_client, acme, "board@acme.example")

    response = acme_client.post("/api-tokens/", {"name": "x", "scope": "read_write", "expires": "never"})

    assert response.status_code == 422
    assert "Viewers can only create read tokens." in response.content.decode()
    with tenant_context(acme):
        assert not ApiToken.objects.exists()


def test_revoke_from_the_page(acme, acme_client):
    sign_in(acme_client, acme, SRE)
    make_token(acme, SRE)
    with tenant_context(acme):
        token = ApiToken.objects.get()

    response = acme_client.post(f"/api-tokens/{token.pk}/revoke/")

    assert response.status_code == 302
    with tenant_context(acme):
        token.refresh_from_db()
    assert token.revoked_at is not None


def test_someone_elses_token_is_404_for_members_and_listed_for_admins(acme, acme_client):
    make_token(acme, "ceo@acme.example")
    with tenant_context(acme):
        token = ApiToken.objects.get()
    sign_in(acme_client, acme, SRE)

    assert acme_client.post(f"/api-tokens/{token.pk}/revoke/").status_code == 404
    with tenant_context(acme):
        token.refresh_from_db()
    assert token.revoked_at is None

    make_token(acme, SRE)
    sign_in(acme_client, acme, "ceo@acme.example")
    page = acme_client.get("/api-tokens/").content.decode()
    assert "Everyone else" in page
    assert "Mei Wang" in page


def test_signed_out_visitors_go_to_sign_in(acme_client):
    response = acme_client.get("/api-tokens/")

    assert response.status_code == 302
    assert "/login/" in response["Location"]
