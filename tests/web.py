"""Helpers for tests of the web pages: sign in on an organisation's host, count queries."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from accounts.models import User
from tenants.models import Organization


def sign_in(client: Client, organization: Organization, email: str) -> User:
    """Sign ``email`` in on ``organization``'s host (session in its schema)."""
    with tenant_context(organization):
        user = User.objects.get(email=email)
        client.force_login(user)
    connection.set_schema_to_public()
    return user


def get_counting(client: Client, url: str, **extra):
    """GET ``url``; returns (response, number of SQL queries it took)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    return response, len(queries.captured_queries)


def htmx(**headers) -> dict:
    """Extra request headers of an HTMX request."""
    return {"HTTP_HX_REQUEST": "true", **{f"HTTP_{k.upper()}": v for k, v in headers.items()}}
