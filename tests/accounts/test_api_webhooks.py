"""Webhooks over the API: org admins only (anyone else 403, nothing changed), the secret
shown on create and rotation only, validation naming the field, deliveries paged with a
constant number of queries, other organisations' endpoints 404."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test import override_settings
from django_tenants.utils import tenant_context

from accounts.models import User, WebhookDelivery, WebhookEndpoint
from accounts.tasks import deliver_webhook
from accounts.webhooks import EVENTS, webhook_endpoint_create
from tests.api_helpers import api_client, count_queries, session_api, token_api

pytestmark = pytest.mark.django_db

ADMIN = "ceo@acme.example"
NOT_ADMINS = ["cto@acme.example", "sre@acme.example", "board@acme.example"]
HOOK = "http://127.0.0.1:9/hook"
# Routing (3), session, user, one page of endpoints (the permission needs no query).
LIST_QUERIES = 6
# Routing (3), session, user, the endpoint (404 otherwise), one page of deliveries.
DELIVERIES_QUERIES = 7


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """Queued deliveries are recorded instead of sent to Redis."""
    queued = []
    monkeypatch.setattr(deliver_webhook, "apply_async", lambda **options: queued.append(options))
    return queued


def make_endpoint(organization, email=ADMIN, **values) -> WebhookEndpoint:
    with tenant_context(organization):
        admin = User.objects.get(email=email)
        endpoint = webhook_endpoint_create(
            actor=admin, url=values.get("url", HOOK), events=values.get("events", EVENTS)
        ).endpoint
    connection.set_schema_to_public()
    return endpoint


def snapshot(organization) -> list[tuple]:
    with tenant_context(organization):
        rows = list(
            WebhookEndpoint.objects.order_by("pk").values_list(
                "pk", "url", "events", "description", "secret", "is_active"
            )
        )
        rows.append(("deliveries", WebhookDelivery.objects.count()))
    connection.set_schema_to_public()
    return rows


def test_an_admin_registers_an_endpoint_and_gets_the_secret_once(acme):
    client = session_api(acme, ADMIN)

    response = client.post(
        "/api/v1/webhooks/",
        {"url": HOOK, "events": ["check_in.created", "review.submitted"], "description": "BI"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert response["Cache-Control"] == "no-store"
    assert (body["url"], body["events"], body["state"], body["is_active"]) == (
        HOOK, ["check_in.created", "review.submitted"], "active", True,
    )  # fmt: skip
    with tenant_context(acme):
        assert WebhookEndpoint.objects.get(pk=body["id"]).secret == body["secret"]
    listed = client.get("/api/v1/webhooks/").json()["results"]
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in client.get(f"/api/v1/webhooks/{body['id']}/").json()


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"url": "ftp://example.com/", "events": ["check_in.created"]}, {"url"}),
        ({"url": HOOK, "events": []}, {"events"}),
        ({"url": HOOK, "events": ["user.deleted"]}, {"events"}),
        ({"url": HOOK}, {"events"}),
        ({"url": HOOK, "events": ["check_in.created"], "secret": "mine"}, {"secret"}),
        ({"url": HOOK, "events": ["check_in.created"], "is_active": False}, {"is_active"}),
        ({"url": "x" * 501, "events": ["check_in.created"]}, {"url"}),
        ({"url": HOOK, "events": "check_in.created"}, {"events"}),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(acme, data, fields):
    client = session_api(acme, ADMIN)
    before = snapshot(acme)

    response = client.post("/api/v1/webhooks/", data, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == fields
    assert snapshot(acme) == before


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=False)
@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/", "http://169.254.169.254/", "http://[::1]/", "http://localhost/"]
)
def test_internal_targets_are_refused_in_production(acme, url):
    client = session_api(acme, ADMIN)

    response = client.post("/api/v1/webhooks/", {"url": url, "events": EVENTS}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["url"]
    assert snapshot(acme) == [("deliveries", 0)]


def test_update_turn_off_and_on_rotate_test_and_delete(acme, no_broker):
    endpoint = make_endpoint(acme)
    client = session_api(acme, ADMIN)
    url = f"/api/v1/webhooks/{endpoint.pk}/"

    changed = client.patch(url, {"events": ["objective.closed"], "description": "Ops"}, format="json")
    off = client.patch(url, {"is_active": False}, format="json")
    on = client.patch(url, {"is_active": True}, format="json")
    rotated = client.post(f"{url}rotate-secret/")
    test = client.post(f"{url}test/")

    assert (changed.status_code, changed.json()["events"], changed.json()["description"]) == (
        200, ["objective.closed"], "Ops",
    )  # fmt: skip
    assert (off.json()["state"], off.json()["disabled_reason"]) == ("disabled", "Turned off by Ada Lovelace.")
    assert (on.json()["state"], on.json()["disabled_at"], on.json()["disabled_reason"]) == (
        "active",
        None,
        "",
    )
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != endpoint.secret
    with tenant_context(acme):
        assert WebhookEndpoint.objects.get().secret == rotated.json()["secret"]
        ping = WebhookDelivery.objects.get()
    assert test.status_code == 202
    assert (test.json()["id"], test.json()["event"], test.json()["state"]) == (ping.pk, "ping", "pending")
    assert client.put(url, {"url": HOOK}, format="json").status_code == 405

    deleted = client.delete(url)

    assert deleted.status_code == 204
    assert snapshot(acme) == [("deliveries", 0)]
    assert client.get(url).status_code == 404


def test_update_validation_names_the_field_and_changes_nothing(acme):
    endpoint = make_endpoint(acme)
    client = session_api(acme, ADMIN)
    before = snapshot(acme)

    bad_url = client.patch(f"/api/v1/webhooks/{endpoint.pk}/", {"url": "gopher://x"}, format="json")
    bad_events = client.patch(f"/api/v1/webhooks/{endpoint.pk}/", {"events": ["nope"]}, format="json")
    unknown = client.patch(f"/api/v1/webhooks/{endpoint.pk}/", {"failing_since": None}, format="json")

    assert (bad_url.status_code, set(bad_url.json()["fields"])) == (400, {"url"})
    assert (bad_events.status_code, set(bad_events.json()["fields"])) == (400, {"events"})
    assert (unknown.status_code, set(unknown.json()["fields"])) == (400, {"failing_since"})
    assert snapshot(acme) == before


@pytest.mark.parametrize("email", NOT_ADMINS)
def test_non_admins_get_403_everywhere_and_nothing_changes(acme, email):
    endpoint = make_endpoint(acme)
    client = session_api(acme, email)
    before = snapshot(acme)
    url = f"/api/v1/webhooks/{endpoint.pk}/"

    responses = [
        client.get("/api/v1/webhooks/"),
        client.get(url),
        client.get(f"{url}deliveries/"),
        client.post("/api/v1/webhooks/", {"url": HOOK, "events": EVENTS}, format="json"),
        client.patch(url, {"is_active": False}, format="json"),
        client.post(f"{url}rotate-secret/"),
        client.post(f"{url}test/"),
        client.delete(url),
    ]

    assert [r.status_code for r in responses] == [403] * len(responses)
    assert {r.json()["code"] for r in responses} == {"permission_denied"}
    assert snapshot(acme) == before


def test_a_read_token_of_an_admin_reads_but_cannot_write(acme):
    endpoint = make_endpoint(acme)
    client = token_api(acme, ADMIN, scope="read")
    before = snapshot(acme)

    assert client.get("/api/v1/webhooks/").status_code == 200
    assert client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").status_code == 200
    assert client.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/").status_code == 403
    assert (
        client.patch(f"/api/v1/webhooks/{endpoint.pk}/", {"is_active": False}, format="json").status_code
        == 403
    )
    assert snapshot(acme) == before


def test_anonymous_is_401(acme):
    endpoint = make_endpoint(acme)

    assert api_client(acme).get("/api/v1/webhooks/").status_code == 401
    assert api_client(acme).post(f"/api/v1/webhooks/{endpoint.pk}/test/").status_code == 401


def test_another_organisations_endpoint_is_404(acme, globex):
    theirs = make_endpoint(globex, email="ceo@globex.example")
    client = token_api(acme, ADMIN)
    before = snapshot(globex)

    assert client.get(f"/api/v1/webhooks/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/v1/webhooks/{theirs.pk}/deliveries/").status_code == 404
    assert client.post(f"/api/v1/webhooks/{theirs.pk}/rotate-secret/").status_code == 404
    assert client.delete(f"/api/v1/webhooks/{theirs.pk}/").status_code == 404
    assert client.get("/api/v1/webhooks/").json()["results"] == []
    assert snapshot(globex) == before


def add_deliveries(organization, endpoint, count: int) -> None:
    with tenant_context(organization):
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                endpoint=endpoint,
                event=EVENTS[n % len(EVENTS)],
                event_id=uuid.uuid4(),
                payload={"n": n},
                state="delivered" if n % 3 else "failed",
                attempts=1,
                response_status=200 if n % 3 else 500,
            )
            for n in range(count)
        )
    connection.set_schema_to_public()


def test_deliveries_are_paged_newest_first_and_filtered(acme):
    endpoint = make_endpoint(acme)
    add_deliveries(acme, endpoint, 7)
    client = session_api(acme, ADMIN)

    page = client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/?page_size=5").json()
    failed = client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/?state=failed").json()["results"]
    bad = client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/?state=exploded")

    ids = [d["id"] for d in page["results"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 5
    assert page["next"]
    assert [d["payload"]["n"] for d in failed] == [6, 3, 0]
    assert set(page["results"][0]) == {
        "id", "endpoint", "event", "event_id", "state", "attempts", "created_at", "last_attempt_at",
        "next_attempt_at", "response_status", "latency_ms", "response_excerpt", "error", "payload",
    }  # fmt: skip
    assert (bad.status_code, list(bad.json()["fields"])) == (400, ["state"])


def test_list_query_counts_do_not_grow_with_the_page(acme):
    endpoint = make_endpoint(acme)
    with tenant_context(acme):  # more than the service allows (20), to compare 10 and 100 rows
        WebhookEndpoint.objects.bulk_create(
            WebhookEndpoint(url=f"{HOOK}{n}", events=EVENTS, secret=f"whsec_{n}") for n in range(110)
        )
    connection.set_schema_to_public()
    add_deliveries(acme, endpoint, 120)
    client = session_api(acme, ADMIN)

    (few, few_queries), (many, many_queries) = (
        count_queries(
            lambda size=size: client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/?page_size={size}")
        )
        for size in (10, 100)
    )
    (small, small_queries), (large, large_queries) = (
        count_queries(lambda size=size: client.get(f"/api/v1/webhooks/?page_size={size}"))
        for size in (10, 100)
    )

    assert (len(few.json()["results"]), len(many.json()["results"])) == (10, 100)
    assert few_queries == many_queries == DELIVERIES_QUERIES
    assert (len(small.json()["results"]), len(large.json()["results"])) == (10, 100)
    assert small_queries == large_queries == LIST_QUERIES


def test_deliveries_of_an_unknown_endpoint_are_404(acme):
    client = session_api(acme, ADMIN)

    assert client.get("/api/v1/webhooks/999999/deliveries/").status_code == 404
    assert client.get("/api/v1/webhooks/abc/deliveries/").status_code == 404
