"""Fuzz every operation of the OpenAPI schema with schemathesis, in process (WSGI) against
the acme demo organisation as its org admin with a read_write token, with valid and invalid
input: no 5xx, and every response (status, content type, headers, body) conforms to the
schema. Runs inside the test's transaction, so whatever the fuzzer creates is rolled back.
``make fuzz`` runs it with more examples per operation (FUZZ_EXAMPLES)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, connection
from django_tenants.utils import tenant_context

from accounts.models import ApiToken
from config.wsgi import application
from okrs.models import Kpi, Objective
from tests.api.fuzzing import fuzz
from tests.api_helpers import make_token

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))


@pytest.fixture
def keep_connection():
    """Like Django's test client: the WSGI app must not close the test's connection
    (and its transaction) at the end of each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _revive_tokens(acme):
    """The fuzzer may revoke its own token (POST /tokens/{id}/revoke/); undo that before each
    case so every case runs signed in."""

    def revive():
        with tenant_context(acme):
            ApiToken.objects.filter(revoked_at__isnull=False).update(revoked_at=None)
        connection.set_schema_to_public()

    return revive


def _schema(acme):
    secret = make_token(acme, "ceo@acme.example")
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", application, headers={"Host": "acme.localhost"}
    )
    schema.config.update(
        base_url="http://acme.localhost/",
        headers={"Host": "acme.localhost", "Authorization": f"Bearer {secret}"},
    )
    return schema


def _check(summary, label: str) -> None:
    print(f"{label}: {summary.line()}")  # noqa: T201 - the run summary is the point of `make fuzz`
    assert summary.cases > summary.operations
    assert summary.failures == [], "\n".join(summary.distinct_failures()[:40])


def test_every_operation_holds_up_under_generated_input(acme, keep_connection):
    _check(fuzz(_schema(acme), examples=EXAMPLES, before_each=_revive_tokens(acme)), "generated ids")


def test_every_operation_holds_up_on_existing_objects(acme, keep_connection):
    """Path ids fixed to objects that exist in the demo organisation (the lowest id of each
    kind is 1 or close to it), so actions meet real objects in every state they are in."""
    with tenant_context(acme):
        kpi = Kpi.objects.order_by("id").values_list("id", flat=True).first()
        objective = Objective.objects.order_by("id").values_list("id", flat=True).first()
    connection.set_schema_to_public()
    summary = fuzz(
        _schema(acme),
        examples=EXAMPLES,
        path_parameters={"id": objective, "kpi_id": kpi},
        before_each=_revive_tokens(acme),
    )
    _check(summary, "existing ids")
