"""Settings — Webhooks: org admins only; register (the secret shown once), edit events,
turn off and on, rotate the secret, send a test, delete; recent deliveries with state,
answer, time taken and excerpt; bad input is a 422 on its field with nothing changed;
the pages' query counts do not grow with their rows."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test import override_settings
from django_tenants.utils import tenant_context

from accounts.models import User, WebhookDelivery, WebhookEndpoint
from accounts.tasks import deliver_webhook
from accounts.webhooks import EVENTS, webhook_endpoint_create
from tests.web import get_counting, sign_in

pytestmark = pytest.mark.django_db

ADMIN = "ceo@acme.example"
NOT_ADMINS = ["cto@acme.example", "sre@acme.example", "board@acme.example"]
HOOK = "http://127.0.0.1:9/hook"
# Routing (3), session, user, endpoints with their latest delivery (one query), inbox badge.
LIST_QUERIES = 7
# Routing (3), session, user, the endpoint, its recent deliveries, inbox badge.
DETAIL_QUERIES = 8


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    queued = []
    monkeypatch.setattr(deliver_webhook, "apply_async", lambda **options: queued.append(options))
    return queued


def in_acme(acme, fn):
    with tenant_context(acme):
        result = fn()
    connection.set_schema_to_public()
    return result


def make_endpoint(acme, url=HOOK, events=EVENTS) -> WebhookEndpoint:
    return in_acme(
        acme,
        lambda: webhook_endpoint_create(actor=User.objects.get(email=ADMIN), url=url, events=events).endpoint,
    )


def snapshot(acme) -> list[tuple]:
    def read():
        rows = list(
            WebhookEndpoint.objects.order_by("pk").values_list(
                "pk", "url", "events", "description", "secret", "is_active"
            )
        )
        return [*rows, ("deliveries", WebhookDelivery.objects.count())]

    return in_acme(acme, read)


def _delivery(endpoint, n: int) -> WebhookDelivery:
    ok = n % 2
    return WebhookDelivery(
        endpoint=endpoint, event="check_in.created", event_id=uuid.uuid4(), payload={"n": n},
        state="delivered" if ok else "retrying", attempts=1 + ok, response_status=202 if ok else 503,
        latency_ms=40 + n, response_excerpt=f"receiver said {n}",
        error="" if ok else "The receiver answered HTTP 503.",
    )  # fmt: skip


def add_deliveries(acme, endpoint, count: int) -> None:
    in_acme(acme, lambda: WebhookDelivery.objects.bulk_create(_delivery(endpoint, n) for n in range(count)))


# --- access ---------------------------------------------------------------------------------


def test_the_page_opens_for_the_org_admin_with_its_tab(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)

    response, queries = get_counting(acme_client, "/settings/webhooks/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('aria-current="page"') == 2  # the main navigation's "Settings" and this tab
    assert 'data-testid="webhooks-empty"' in html
    assert 'data-testid="webhook-create-form"' in html
    assert queries == LIST_QUERIES


@pytest.mark.parametrize("email", NOT_ADMINS)
def test_non_admins_are_refused_every_page_and_change_nothing(acme, acme_client, email):
    endpoint = make_endpoint(acme)
    sign_in(acme_client, acme, email)
    before = snapshot(acme)
    base = f"/settings/webhooks/{endpoint.pk}/"

    statuses = [
        acme_client.get("/settings/webhooks/").status_code,
        acme_client.get(base).status_code,
        acme_client.post("/settings/webhooks/", {"url": HOOK, "events": EVENTS}).status_code,
        acme_client.post(base, {"url": HOOK + "x", "events": EVENTS}).status_code,
        *(
            acme_client.post(f"{base}{action}/").status_code
            for action in ("disable", "rotate-secret", "test", "delete")
        ),
    ]

    assert statuses == [403] * 8
    assert snapshot(acme) == before


def test_signed_out_visitors_are_sent_to_sign_in(acme_client):
    response = acme_client.get("/settings/webhooks/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_settings_tabs_link_to_webhooks_for_admins(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)

    assert 'href="/settings/webhooks/"' in acme_client.get("/settings/").content.decode()


# --- register ---------------------------------------------------------------------------------


def test_registering_shows_the_secret_once(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)

    response = acme_client.post(
        "/settings/webhooks/",
        {"url": HOOK, "description": "BI pipeline", "events": ["check_in.created", "objective.closed"]},
    )

    assert response.status_code == 201
    endpoint = in_acme(acme, WebhookEndpoint.objects.get)
    html = response.content.decode()
    assert 'data-testid="webhook-secret"' in html
    assert response["Cache-Control"] == "no-store"
    assert endpoint.secret in html
    assert (endpoint.url, endpoint.description, endpoint.events) == (
        HOOK, "BI pipeline", ["check_in.created", "objective.closed"],
    )  # fmt: skip
    later = acme_client.get("/settings/webhooks/").content.decode()
    assert endpoint.secret not in later
    assert HOOK in later
    assert 'data-state="active"' in later


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "", "events": ["check_in.created"]}, "url"),
        ({"url": "ftp://example.com/", "events": ["check_in.created"]}, "url"),
        ({"url": HOOK}, "events"),
        ({"url": HOOK, "events": ["user.deleted"]}, "events"),
    ],
)
def test_bad_input_is_a_422_on_the_field_and_registers_nothing(acme, acme_client, data, field):
    sign_in(acme_client, acme, ADMIN)

    response = acme_client.post("/settings/webhooks/", data)

    assert response.status_code == 422
    assert f'data-testid="field-error-{field}"' in response.content.decode()
    assert snapshot(acme) == [("deliveries", 0)]


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=False)
def test_internal_addresses_are_refused_in_production(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)

    response = acme_client.post("/settings/webhooks/", {"url": "http://169.254.169.254/", "events": EVENTS})

    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="field-error-url"' in html
    assert "internal address" in html
    assert snapshot(acme) == [("deliveries", 0)]


# --- one endpoint ---------------------------------------------------------------------------------


def test_the_list_shows_state_and_latest_delivery_in_constant_queries(acme, acme_client):
    first = make_endpoint(acme)
    add_deliveries(acme, first, 3)
    sign_in(acme_client, acme, ADMIN)
    _, few = get_counting(acme_client, "/settings/webhooks/")
    for n in range(12):
        endpoint = make_endpoint(acme, url=f"{HOOK}{n}")
        add_deliveries(acme, endpoint, 2)
    in_acme(acme, lambda: WebhookEndpoint.objects.filter(url=f"{HOOK}1").update(is_active=False))
    in_acme(
        acme, lambda: WebhookEndpoint.objects.filter(url=f"{HOOK}2").update(failing_since="2026-11-01T10:00Z")
    )

    response, many = get_counting(acme_client, "/settings/webhooks/")

    html = response.content.decode()
    assert few == many == LIST_QUERIES
    assert html.count('data-testid="webhook-row"') == 13
    assert html.count('data-state="disabled"') == 1
    assert html.count('data-state="failing"') == 1
    assert "HTTP 202" in html  # the latest delivery's answer


def test_the_detail_page_shows_recent_deliveries_in_constant_queries(acme, acme_client):
    endpoint = make_endpoint(acme)
    sign_in(acme_client, acme, ADMIN)
    add_deliveries(acme, endpoint, 2)
    _, few = get_counting(acme_client, f"/settings/webhooks/{endpoint.pk}/")
    add_deliveries(acme, endpoint, 40)

    response, many = get_counting(acme_client, f"/settings/webhooks/{endpoint.pk}/")

    html = response.content.decode()
    assert few == many == DETAIL_QUERIES
    assert html.count('data-testid="delivery-row"') == 25
    assert "HTTP 503" in html
    assert "79 ms" in html  # the newest (latency 40 + 39)
    assert "receiver said 39" in html
    assert "The receiver answered HTTP 503." in html
    assert endpoint.secret not in html


def test_editing_the_events_and_description(acme, acme_client):
    endpoint = make_endpoint(acme)
    sign_in(acme_client, acme, ADMIN)

    response = acme_client.post(
        f"/settings/webhooks/{endpoint.pk}/",
        {"url": HOOK, "description": "Chat bot", "events": ["escalation.opened", "escalation.resolved"]},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/settings/webhooks/{endpoint.pk}/"
    saved = in_acme(acme, WebhookEndpoint.objects.get)
    assert (saved.description, saved.events) == ("Chat bot", ["escalation.opened", "escalation.resolved"])


def test_an_invalid_edit_is_a_422_and_changes_nothing(acme, acme_client):
    endpoint = make_endpoint(acme)
    sign_in(acme_client, acme, ADMIN)
    before = snapshot(acme)

    response = acme_client.post(f"/settings/webhooks/{endpoint.pk}/", {"url": "mailto:x@y.z", "events": []})

    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="field-error-events"' in html
    assert snapshot(acme) == before


def test_turning_off_and_on(acme, acme_client):
    endpoint = make_endpoint(acme)
    in_acme(acme, lambda: WebhookEndpoint.objects.update(failing_since="2026-11-01T10:00Z"))
    sign_in(acme_client, acme, ADMIN)

    acme_client.post(f"/settings/webhooks/{endpoint.pk}/disable/")
    off = acme_client.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()
    acme_client.post(f"/settings/webhooks/{endpoint.pk}/enable/")

    assert 'data-state="disabled"' in off
    assert "Turned off by Ada Lovelace." in off
    saved = in_acme(acme, WebhookEndpoint.objects.get)
    assert (saved.is_active, saved.disabled_at, saved.failing_since) == (True, None, None)


def test_rotating_the_secret_shows_the_new_one_once(acme, acme_client):
    endpoint = make_endpoint(acme)
    sign_in(acme_client, acme, ADMIN)

    response = acme_client.post(f"/settings/webhooks/{endpoint.pk}/rotate-secret/")

    new = in_acme(acme, WebhookEndpoint.objects.get).secret
    assert new != endpoint.secret
    assert response.status_code == 200
    assert new in response.content.decode()
    assert new not in acme_client.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()


def test_sending_a_test_event_queues_a_ping(acme, acme_client, django_capture_on_commit_callbacks, no_broker):
    endpoint = make_endpoint(acme)
    sign_in(acme_client, acme, ADMIN)

    with django_capture_on_commit_callbacks(execute=True):
        response = acme_client.post(f"/settings/webhooks/{endpoint.pk}/test/", follow=True)

    (ping,) = in_acme(acme, lambda: list(WebhookDelivery.objects.all()))
    assert ping.event == "ping"
    assert no_broker == [
        {"kwargs": {"delivery_id": ping.pk, "attempt": 1}, "headers": {"_schema_name": "acme"}}
    ]
    html = response.content.decode()
    assert "A test event is on its way" in html
    assert 'data-state="pending"' in html


def test_deleting_an_endpoint(acme, acme_client):
    endpoint = make_endpoint(acme)
    add_deliveries(acme, endpoint, 3)
    sign_in(acme_client, acme, ADMIN)

    response = acme_client.post(f"/settings/webhooks/{endpoint.pk}/delete/")

    assert response.status_code == 302
    assert response["Location"] == "/settings/webhooks/"
    assert snapshot(acme) == [("deliveries", 0)]


def test_unknown_endpoints_are_404_and_actions_need_post(acme, acme_client):
    endpoint = make_endpoint(acme)
    sign_in(acme_client, acme, ADMIN)

    assert acme_client.get("/settings/webhooks/999999/").status_code == 404
    assert acme_client.post("/settings/webhooks/999999/delete/").status_code == 404
    assert acme_client.get(f"/settings/webhooks/{endpoint.pk}/delete/").status_code == 405
    assert snapshot(acme)[0][0] == endpoint.pk
