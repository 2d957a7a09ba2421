"""API tokens: created once-shown and hashed, host-bound, scoped, expiring, revocable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import ApiToken, User
from tests.api_helpers import api_client, count_queries, make_token, session_api, token_api

pytestmark = pytest.mark.django_db

SRE = "sre@acme.example"


def test_created_token_is_shown_once_and_stored_hashed(acme):
    client = session_api(acme, SRE)

    response = client.post("/api/v1/tokens/", {"name": "BI tool", "scope": "read"}, format="json")

    assert response.status_code == 201
    secret = response.json()["token"]
    assert secret.startswith("okr_")
    assert len(secret) > 40
    with tenant_context(acme):
        token = ApiToken.objects.get(pk=response.json()["id"])
        assert token.prefix == secret[:12]
        assert secret not in (token.digest, token.prefix)
    listed = client.get("/api/v1/tokens/").json()["results"]
    assert [t["id"] for t in listed] == [token.pk]
    assert "token" not in listed[0]
    assert client.get(f"/api/v1/tokens/{token.pk}/").json().get("token") is None


def test_token_authenticates_as_its_creator(acme):
    client = token_api(acme, SRE, scope="read")

    response = client.get("/api/v1/tokens/")

    assert response.status_code == 200
    assert {t["user_email"] for t in response.json()["results"]} == {SRE}


def test_token_of_one_organisation_is_401_on_another_host(acme, globex):
    secret = make_token(acme, SRE)
    client = api_client(globex)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    response = client.get("/api/v1/tokens/")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer", "Bearer a b", "Bearer \u00e9t\u00e9"])
def test_bad_token_is_401_with_the_envelope(acme, header):
    client = api_client(acme)
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/tokens/")

    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code", "fields"}


def test_anonymous_is_401(acme):
    response = api_client(acme).get("/api/v1/tokens/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_read_token_cannot_write(acme):
    client = token_api(acme, SRE, scope="read")
    with tenant_context(acme):
        before = ApiToken.objects.count()

    response = client.post("/api/v1/tokens/", {"name": "x", "scope": "read"}, format="json")

    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    with tenant_context(acme):
        assert ApiToken.objects.count() == before


def test_expired_and_revoked_tokens_are_refused(acme):
    client = token_api(acme, SRE)
    with tenant_context(acme):
        ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/tokens/").status_code == 401

    with tenant_context(acme):
        ApiToken.objects.update(expires_at=None, revoked_at=timezone.now())
    assert client.get("/api/v1/tokens/").status_code == 401


def test_revoke_takes_effect_at_once(acme):
    client = token_api(acme, SRE)
    with tenant_context(acme):
        token = ApiToken.objects.get()

    response = client.post(f"/api/v1/tokens/{token.pk}/revoke/")

    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert client.get("/api/v1/tokens/").status_code == 401


def test_people_cannot_revoke_others_tokens_but_admins_can(acme):
    make_token(acme, "ceo@acme.example")
    with tenant_context(acme):
        admin_token = ApiToken.objects.get()
    member = session_api(acme, SRE)

    assert member.post(f"/api/v1/tokens/{admin_token.pk}/revoke/").status_code == 404
    with tenant_context(acme):
        assert ApiToken.objects.get().revoked_at is None

    make_token(acme, SRE)
    with tenant_context(acme):
        member_token = ApiToken.objects.get(user__email=SRE)
    admin = session_api(acme, "ceo@acme.example")
    assert admin.post(f"/api/v1/tokens/{member_token.pk}/revoke/").status_code == 200


def test_first_token_with_email_and_password(acme, demo_password):
    client = api_client(acme)
    client.credentials(HTTP_AUTHORIZATION=_basic(SRE, demo_password))

    response = client.post("/api/v1/tokens/", {"name": "script", "scope": "read_write"}, format="json")

    assert response.status_code == 201
    client.credentials(HTTP_AUTHORIZATION=_basic(SRE, "wrong"))
    assert client.post("/api/v1/tokens/", {"name": "x"}, format="json").status_code == 401


def test_validation_errors_name_the_field_and_unknown_fields_are_refused(acme):
    client = session_api(acme, SRE)
    with tenant_context(acme):
        before = ApiToken.objects.count()

    bad = client.post("/api/v1/tokens/", {"name": "", "scope": "admin", "user": 1}, format="json")
    past = client.post("/api/v1/tokens/", {"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, format="json")

    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"
    assert set(bad.json()["fields"]) == {"user"}
    assert past.status_code == 400
    assert set(past.json()["fields"]) == {"expires_at"}
    with tenant_context(acme):
        assert ApiToken.objects.count() == before


def test_viewer_gets_only_read_tokens(acme):
    client = session_api(acme, "board@acme.example")

    refused = client.post("/api/v1/tokens/", {"name": "x", "scope": "read_write"}, format="json")
    allowed = client.post("/api/v1/tokens/", {"name": "x", "scope": "read"}, format="json")

    assert refused.status_code == 400
    assert "Viewers" in refused.json()["fields"]["scope"][0]
    assert allowed.status_code == 201


def test_deactivated_owner_token_stops_working(acme):
    client = token_api(acme, SRE)
    with tenant_context(acme):
        User.objects.filter(email=SRE).update(is_active=False)

    assert client.get("/api/v1/tokens/").status_code == 401


def _basic(email: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()


def test_token_list_takes_the_same_queries_for_10_and_100_rows(acme):
    with tenant_context(acme):
        people = list(User.objects.filter(is_active=True).order_by("id")[:5])
        ApiToken.objects.bulk_create(
            ApiToken(user=people[n % 5], name=f"t{n}", prefix=f"okr_{n:08d}", digest=f"{n:064d}")
            for n in range(120)
        )
    client = session_api(acme, "ceo@acme.example")

    counts = {}
    for size in (10, 100):
        response, counts[size] = count_queries(
            lambda size=size: client.get(f"/api/v1/tokens/?page_size={size}")
        )
        assert response.status_code == 200
        assert len(response.json()["results"]) == size

    assert counts[10] == counts[100] == 6
