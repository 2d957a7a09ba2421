"""Quotas per token (429 with Retry-After) and the one error envelope for malformed input."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django_tenants.utils import tenant_context

from accounts.api.throttling import ApiReadThrottle, ApiWriteThrottle
from accounts.models import ApiToken
from tests.api_helpers import api_client, make_token, session_api

pytestmark = pytest.mark.django_db

SRE = "sre@acme.example"


@pytest.fixture
def small_quotas(monkeypatch):
    rates = {"api_read": "3/min", "api_write": "2/min"}
    monkeypatch.setattr(ApiReadThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(ApiWriteThrottle, "THROTTLE_RATES", rates)
    cache.clear()
    yield
    cache.clear()


def _bearer(organization, secret):
    client = api_client(organization)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_reads_over_the_quota_get_429_with_retry_after(acme, small_quotas):
    client = _bearer(acme, make_token(acme, SRE))

    codes = [client.get("/api/v1/tokens/").status_code for _ in range(4)]
    refused = client.get("/api/v1/tokens/")

    assert codes == [200, 200, 200, 429]
    assert refused.json()["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60


def test_quotas_are_per_token_and_per_kind(acme, small_quotas):
    first = _bearer(acme, make_token(acme, SRE))
    second = _bearer(acme, make_token(acme, SRE))
    for _ in range(3):
        first.get("/api/v1/tokens/")

    assert first.get("/api/v1/tokens/").status_code == 429
    assert second.get("/api/v1/tokens/").status_code == 200
    # Writes have their own quota.
    assert first.post("/api/v1/tokens/", {"name": "a"}, format="json").status_code == 201


def test_writes_over_the_quota_change_nothing(acme, small_quotas):
    client = _bearer(acme, make_token(acme, SRE))
    for name in ("a", "b"):
        assert client.post("/api/v1/tokens/", {"name": name}, format="json").status_code == 201
    with tenant_context(acme):
        before = ApiToken.objects.count()

    response = client.post("/api/v1/tokens/", {"name": "c"}, format="json")

    assert response.status_code == 429
    with tenant_context(acme):
        assert ApiToken.objects.count() == before


def test_malformed_json_is_400_with_the_envelope(acme):
    client = session_api(acme, SRE)

    response = client.post("/api/v1/tokens/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert set(response.json()) == {"detail", "code", "fields"}
    assert response.json()["code"] == "parse_error"


def test_a_body_that_is_not_an_object_is_400(acme):
    client = session_api(acme, SRE)

    response = client.post("/api/v1/tokens/", "[1, 2]", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_other_media_types_are_415(acme):
    client = session_api(acme, SRE)

    response = client.post("/api/v1/tokens/", "name=x", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize("query", ["?scope=%00", "?cursor=%00abc", "?ordering=%00"])
def test_nul_characters_in_the_url_are_400(acme, query):
    response = session_api(acme, SRE).get(f"/api/v1/tokens/{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_nul_characters_in_the_body_are_400_and_nothing_is_created(acme):
    client = session_api(acme, SRE)

    response = client.post("/api/v1/tokens/", {"name": "a\x00b"}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()["fields"]
    with tenant_context(acme):
        assert not ApiToken.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/tokens/abc/", "/api/v1/tokens/99999999999999999999999/"])
def test_bad_ids_are_404(acme, path):
    response = session_api(acme, SRE).get(path)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_invalid_cursor_is_404_with_the_envelope(acme):
    response = session_api(acme, SRE).get("/api/v1/tokens/?cursor=garbage")

    assert response.status_code == 404
    assert set(response.json()) == {"detail", "code", "fields"}


def test_an_unknown_filter_choice_is_400(acme):
    response = session_api(acme, SRE).get("/api/v1/tokens/?scope=admin")

    assert response.status_code == 400
    assert "scope" in response.json()["fields"]


def test_session_writes_need_csrf(acme):
    from rest_framework.test import APIClient

    client = APIClient(HTTP_HOST="acme.localhost", enforce_csrf_checks=True)
    with tenant_context(acme):
        from accounts.models import User

        client.force_login(User.objects.get(email=SRE))

    response = client.post("/api/v1/tokens/", {"name": "x"}, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
