"""The signed-in person's reporting lines are read once per request, and forgotten when
a service changes them within that request."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.selectors import cache_report_ids_for_request, report_ids
from accounts.services import user_create

pytestmark = pytest.mark.django_db


def test_without_a_request_every_call_asks_the_database(acme):
    with tenant_context(acme):
        cto = User.objects.get(email="cto@acme.example")
        with CaptureQueriesContext(connection) as queries:
            first, second = report_ids(cto), report_ids(cto)
    assert first == second
    assert len(queries.captured_queries) == 2


def test_within_a_request_one_query_and_forgotten_after_a_change(acme):
    with tenant_context(acme):
        ceo = User.objects.get(email="ceo@acme.example")
        cache_report_ids_for_request(ceo)
        with CaptureQueriesContext(connection) as queries:
            before = report_ids(ceo)
            assert report_ids(ceo) == before
        assert len(queries.captured_queries) == 1
        new = user_create(email="new.report@acme.example", full_name="New Report", manager=ceo, actor=ceo)
        assert new.pk in report_ids(ceo)
