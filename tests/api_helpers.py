"""Helpers for API tests: clients on an organisation's host, signed in by session or token."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.services_api_tokens import api_token_create
from tenants.models import Organization


def api_client(organization: Organization) -> APIClient:
    return APIClient(HTTP_HOST=f"{organization.slug}.localhost")


def session_api(organization: Organization, email: str) -> APIClient:
    """An API client signed in (session) as ``email`` of ``organization``."""
    client = api_client(organization)
    with tenant_context(organization):
        client.force_login(User.objects.get(email=email))
    connection.set_schema_to_public()
    return client


def make_token(organization: Organization, email: str, scope: str = ApiToken.Scope.READ_WRITE) -> str:
    """A new API token of ``email`` in ``organization``; returns the secret."""
    with tenant_context(organization):
        created = api_token_create(actor=User.objects.get(email=email), name="test", scope=scope)
    connection.set_schema_to_public()
    return created.secret


def token_api(organization: Organization, email: str, scope: str = ApiToken.Scope.READ_WRITE) -> APIClient:
    """An API client on ``organization``'s host sending a new token of ``email``."""
    client = api_client(organization)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(organization, email, scope)}")
    return client


def count_queries(call):
    """Run ``call()``; returns (its result, the number of SQL queries it took)."""
    with CaptureQueriesContext(connection) as queries:
        result = call()
    return result, len(queries.captured_queries)


def tenant(organization: Organization, fn):
    """``fn()`` inside ``organization``'s schema; back to public afterwards."""
    with tenant_context(organization):
        result = fn()
    connection.set_schema_to_public()
    return result
