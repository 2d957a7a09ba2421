"""Webhooks (services): endpoints managed by org admins only, the SSRF guard, signed
deliveries a receiver can verify, the retry schedule, the 24-hour disable rule with the
admins' notice, and the six events emitted by the services after commit."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import webhooks, webhooks_delivery
from accounts.models import InboxItem, Notification, User, WebhookDelivery, WebhookEndpoint
from accounts.tasks import deliver_webhook
from accounts.webhooks import (
    EVENTS,
    check_target,
    webhook_emit,
    webhook_emit_events,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_test,
    webhook_endpoint_update,
)
from accounts.webhooks_delivery import (
    DeliveryAttemptError,
    Response,
    http_post,
    retry_delay,
    signature,
    webhook_deliveries_resend_stranded,
    webhook_delivery_attempt,
)
from okrs.escalations import escalation_resolve
from okrs.models import CheckIn, Escalation, KeyResult, Objective
from okrs.recalculation import Clock, recalculate_all
from okrs.services.check_ins import check_in_record
from okrs.services.cycles import cycle_close
from okrs.services.objectives import key_result_create, objective_create, objective_update
from reviews.services import review_submit_self
from tests.reviews.conftest import *  # noqa: F403 - acme's people, cycles, OKRs and a review
from tests.reviews.conftest import NOW

pytestmark = pytest.mark.django_db

HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture
def sent(monkeypatch) -> list[dict]:
    """What was queued for Celery (instead of a broker): kwargs and headers per message."""
    messages: list[dict] = []
    monkeypatch.setattr(
        deliver_webhook,
        "apply_async",
        lambda kwargs=None, headers=None, **options: messages.append({"kwargs": kwargs, "headers": headers}),
    )
    return messages


@pytest.fixture
def endpoint(people) -> WebhookEndpoint:
    return webhook_endpoint_create(actor=people.ceo, url=HOOK, events=EVENTS).endpoint


def deliveries(event: str | None = None) -> list[WebhookDelivery]:
    rows = WebhookDelivery.objects.order_by("id")
    return list(rows.filter(event=event) if event else rows)


class Receiver:
    """A fake ``send``: records each request and answers with the given statuses."""

    def __init__(self, *statuses: int):
        self.statuses = list(statuses) or [200]
        self.requests: list[tuple[str, bytes, dict]] = []

    def __call__(self, url, body, headers):
        self.requests.append((url, body, headers))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if status == 0:
            raise DeliveryAttemptError("Connection refused")
        return Response(status=status, excerpt=f"answer {status}")


# --- endpoints -------------------------------------------------------------------------------


def test_an_org_admin_registers_an_endpoint_and_sees_the_secret_once(people):
    endpoint, secret = webhook_endpoint_create(
        actor=people.ceo, url=f" {HOOK} ", events=["escalation.opened", "check_in.created"], description="BI"
    )

    assert secret.startswith("whsec_")
    assert len(secret) > 40
    stored = WebhookEndpoint.objects.get()
    assert (stored.url, stored.events, stored.description, stored.created_by) == (
        HOOK, ["check_in.created", "escalation.opened"], "BI", people.ceo,
    )  # fmt: skip
    assert stored.secret == secret
    assert endpoint.pk == stored.pk


@pytest.mark.parametrize("who", ["cto", "sre", "viewer"])
def test_nobody_else_manages_webhooks_and_nothing_changes(people, endpoint, who):
    actor = getattr(people, who)
    before = list(WebhookEndpoint.objects.values_list("url", "events", "secret", "is_active"))

    calls = [
        lambda: webhook_endpoint_create(actor=actor, url=HOOK, events=EVENTS),
        lambda: webhook_endpoint_update(
            actor=actor, endpoint=endpoint, url="http://127.0.0.1:10/", is_active=False
        ),
        lambda: webhook_endpoint_rotate_secret(actor=actor, endpoint=endpoint),
        lambda: webhook_endpoint_test(actor=actor, endpoint=endpoint),
        lambda: webhook_endpoint_delete(actor=actor, endpoint=endpoint),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()

    assert list(WebhookEndpoint.objects.values_list("url", "events", "secret", "is_active")) == before
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.parametrize(
    ("url", "events", "fields"),
    [
        ("", ["check_in.created"], {"url"}),
        ("ftp://example.com/x", ["check_in.created"], {"url"}),
        ("file:///etc/passwd", ["check_in.created"], {"url"}),
        ("javascript:alert(1)", ["check_in.created"], {"url"}),
        ("http://example.com:99999/", ["check_in.created"], {"url"}),
        (HOOK, [], {"events"}),
        (HOOK, ["check_in.created", "user.deleted"], {"events"}),
        ("nonsense", ["nope"], {"url", "events"}),
    ],
)
def test_bad_input_names_the_field_and_registers_nothing(people, url, events, fields):
    with pytest.raises(ValidationError) as error:
        webhook_endpoint_create(actor=people.ceo, url=url, events=events)

    assert set(error.value.message_dict) == fields
    assert WebhookEndpoint.objects.count() == 0


def test_update_changes_only_what_is_given_and_turning_on_clears_the_disabled_state(people, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False,
        disabled_at=NOW,
        disabled_reason="Every delivery failed for 24 hours.",
        failing_since=NOW,
    )

    updated = webhook_endpoint_update(
        actor=people.ceo, endpoint=endpoint, events=["review.submitted"], is_active=True
    )

    assert (updated.url, updated.events, updated.is_active) == (HOOK, ["review.submitted"], True)
    assert (updated.disabled_at, updated.disabled_reason, updated.failing_since) == (None, "", None)

    off = webhook_endpoint_update(actor=people.ceo, endpoint=endpoint, is_active=False, now=NOW)
    assert (off.is_active, off.disabled_at, off.disabled_reason) == (
        False,
        NOW,
        "Turned off by Ada Lovelace.",
    )


def test_rotating_the_secret_replaces_it(people, endpoint):
    old = endpoint.secret

    endpoint, secret = webhook_endpoint_rotate_secret(actor=people.ceo, endpoint=endpoint)

    assert secret != old
    assert WebhookEndpoint.objects.get().secret == secret


def test_delete_removes_the_endpoint_and_its_log(people, endpoint, sent):
    webhook_endpoint_test(actor=people.ceo, endpoint=endpoint)

    webhook_endpoint_delete(actor=people.ceo, endpoint=endpoint)

    assert WebhookEndpoint.objects.count() == WebhookDelivery.objects.count() == 0


# --- SSRF guard -------------------------------------------------------------------------------


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=False)
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.1.2.3:8080/",
        "http://10.0.0.8/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "https://[::1]/",
        "https://[fe80::1]/",
        "https://[fc00::1]/",
        "https://[::ffff:127.0.0.1]/",  # IPv4-mapped
        "https://[::ffff:10.0.0.1]/",
        "http://localhost:8000/",  # a name resolving to loopback
        "http://2130706433/",  # 127.0.0.1 written as a number
    ],
)
def test_the_ssrf_guard_refuses_internal_targets(people, url):
    with pytest.raises(ValidationError) as error:
        webhook_endpoint_create(actor=people.ceo, url=url, events=EVENTS)

    assert list(error.value.message_dict) == ["url"]
    assert WebhookEndpoint.objects.count() == 0


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=False)
def test_the_guard_judges_every_address_a_name_resolves_to(people, monkeypatch):
    answers = {"hooks.example.com": ["93.184.215.14"], "sneaky.example.com": ["93.184.215.14", "10.1.1.1"]}
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: answers[host])

    check_target("https://hooks.example.com/okr")
    with pytest.raises(ValidationError, match="internal address"):
        check_target("https://sneaky.example.com/okr")


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=False)
def test_an_unresolvable_host_is_a_clear_error(people, monkeypatch):
    def fail(host, port):
        raise OSError("no such host")

    monkeypatch.setattr(webhooks, "resolve", fail)

    with pytest.raises(ValidationError, match="could not be found"):
        check_target("https://nowhere.example.com/")


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=True)
@pytest.mark.parametrize("url", ["http://127.0.0.1:9/", "http://localhost:8000/x", "http://10.0.0.8/"])
def test_development_settings_allow_internal_targets(people, url):
    webhook_endpoint_create(actor=people.ceo, url=url, events=EVENTS)

    assert WebhookEndpoint.objects.get().url == url


class _Recorder(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        _Recorder.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    _Recorder.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_each_delivery_checks_the_address_it_connects_to(local_server):
    body, headers = b"{}", {"Content-Type": "application/json"}

    with (
        override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=False),
        pytest.raises(DeliveryAttemptError, match="internal"),
    ):
        http_post(local_server, body, headers)
    assert _Recorder.received == []  # nothing reached the internal receiver

    with override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=True):
        assert http_post(local_server, body, headers).status == 204
    assert _Recorder.received == [b"{}"]


def test_redirects_are_not_followed(people, endpoint):
    delivery = webhook_endpoint_test(actor=people.ceo, endpoint=endpoint)

    webhook_delivery_attempt(delivery_id=delivery.pk, attempt=1, now=NOW, send=Receiver(302))

    delivery.refresh_from_db()
    assert (delivery.state, delivery.response_status) == ("failed", 302)
    assert delivery.error == "The receiver answered HTTP 302. Redirects are not followed."


# --- signing ------------------------------------------------------------------------------------


def test_a_receiver_can_verify_the_signature_with_the_secret(people, endpoint):
    secret = endpoint.secret
    (delivery,) = webhook_emit("escalation.opened", {"escalation": {"id": 7, "opened_at": NOW}}, now=NOW)
    receiver = Receiver(200)

    outcome = webhook_delivery_attempt(delivery_id=delivery.pk, attempt=1, now=NOW, send=receiver)

    ((url, body, headers),) = receiver.requests
    assert url == HOOK
    timestamp = headers["X-OKR-Timestamp"]
    assert timestamp == str(int(NOW.timestamp()))
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-OKR-Signature"], f"sha256={expected}")
    assert headers["X-OKR-Signature"] != signature(secret + "x", int(timestamp), body)
    assert headers["Content-Type"] == "application/json"
    assert (headers["X-OKR-Event"], headers["X-OKR-Delivery"]) == ("escalation.opened", str(delivery.pk))
    assert json.loads(body) == {
        "id": str(delivery.event_id),
        "type": "escalation.opened",
        "created_at": "2026-11-15T11:00:00Z",
        "organization": "acme",
        "data": {"escalation": {"id": 7, "opened_at": NOW.isoformat().replace("+00:00", "Z")}},
    }
    assert outcome.state == "delivered"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)
    assert (delivery.response_excerpt, delivery.error, delivery.next_attempt_at) == ("answer 200", "", None)
    assert delivery.latency_ms is not None


def test_a_repeated_message_never_sends_twice(people, endpoint):
    (delivery,) = webhook_emit("check_in.created", {"check_in": {"id": 1}}, now=NOW)
    receiver = Receiver(200)

    first = webhook_delivery_attempt(delivery_id=delivery.pk, attempt=1, now=NOW, send=receiver)
    again = webhook_delivery_attempt(delivery_id=delivery.pk, attempt=1, now=NOW, send=receiver)
    gone = webhook_delivery_attempt(delivery_id=delivery.pk + 1000, attempt=1, now=NOW, send=receiver)

    assert (first.state, again.state, gone.state) == ("delivered", "skipped", "skipped")
    assert len(receiver.requests) == 1


# --- retries and the 24-hour rule ----------------------------------------------------------------


def test_retry_delay_doubles_from_30_seconds_up_to_an_hour_plus_jitter():
    no_jitter = [retry_delay(n, jitter=lambda: 0).total_seconds() for n in range(1, 10)]
    full_jitter = [retry_delay(n, jitter=lambda: 1).total_seconds() for n in (1, 9)]

    assert no_jitter == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert full_jitter == [pytest.approx(33), pytest.approx(3960)]


def test_a_failing_endpoint_is_retried_with_backoff_for_24_hours_then_turned_off(
    people, endpoint, monkeypatch
):
    monkeypatch.setattr(webhooks_delivery.random, "random", lambda: 0.5)
    (delivery,) = webhook_emit("check_in.created", {"check_in": {"id": 1}}, now=NOW)
    receiver = Receiver(503, 0)  # first an HTTP error, then the connection is refused
    now, attempt, waits = NOW, 1, []

    while True:
        outcome = webhook_delivery_attempt(delivery_id=delivery.pk, attempt=attempt, now=now, send=receiver)
        if outcome.retry_in is None:
            break
        waits.append(outcome.retry_in)
        now += timedelta(seconds=outcome.retry_in)
        attempt += 1

    assert waits[:8] == pytest.approx([31.5, 63, 126, 252, 504, 1008, 2016, 3780])
    assert waits[8:-1] == pytest.approx([3780] * (len(waits) - 9))  # capped at an hour (plus jitter)
    assert now == NOW + timedelta(hours=24)  # the last attempt lands when the window closes
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", attempt, None)
    assert delivery.error == "Connection refused"
    assert len(receiver.requests) == attempt
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.failing_since, endpoint.disabled_at) == (False, NOW, now)
    assert endpoint.disabled_reason == "Every delivery failed for 24 hours."
    (notice,) = Notification.objects.filter(kind="webhook_disabled")
    assert notice.user == people.ceo  # acme's only org admin
    item = InboxItem.objects.get(user=people.ceo, kind="webhook_disabled")
    assert item.title == f"Webhook to {HOOK} was turned off"
    assert item.link == f"/settings/webhooks/{endpoint.pk}/"


def test_a_success_clears_the_failing_state(people, endpoint):
    first, second = (webhook_emit("check_in.created", {"n": n}, now=NOW)[0] for n in (1, 2))

    retry = webhook_delivery_attempt(delivery_id=first.pk, attempt=1, now=NOW, send=Receiver(500))
    assert WebhookEndpoint.objects.get().failing_since == NOW
    webhook_delivery_attempt(
        delivery_id=second.pk, attempt=1, now=NOW + timedelta(minutes=1), send=Receiver(200)
    )

    assert retry.state == "retrying"
    assert WebhookEndpoint.objects.get().failing_since is None


def test_an_endpoint_failing_for_24_hours_is_turned_off_at_its_next_failure_and_admins_told_once(
    people, endpoint, django_capture_on_commit_callbacks
):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=NOW - timedelta(hours=25))
    first, second = (webhook_emit("check_in.created", {"n": n}, now=NOW)[0] for n in (1, 2))

    with django_capture_on_commit_callbacks() as callbacks:
        outcome = webhook_delivery_attempt(delivery_id=first.pk, attempt=1, now=NOW, send=Receiver(500))
    later = webhook_delivery_attempt(delivery_id=second.pk, attempt=1, now=NOW, send=Receiver(200))

    assert (outcome.state, outcome.retry_in) == ("failed", None)
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_at) == (False, NOW)
    assert Notification.objects.filter(kind="webhook_disabled").count() == 1
    assert len(callbacks) == 1  # the notice's e-mail is queued after commit
    # Queued deliveries of a turned-off endpoint are not sent; new events create none.
    assert later.state == "failed"
    assert WebhookDelivery.objects.get(pk=second.pk).error == "The endpoint is turned off."
    assert webhook_emit("check_in.created", {"n": 3}) == []


def test_a_test_event_is_attempted_once_even_when_turned_off_and_starts_no_failing_clock(
    people, endpoint, sent
):
    webhook_endpoint_update(actor=people.ceo, endpoint=endpoint, is_active=False)
    ping = webhook_endpoint_test(actor=people.ceo, endpoint=endpoint)

    outcome = webhook_delivery_attempt(delivery_id=ping.pk, attempt=1, now=NOW, send=Receiver(500))

    assert (outcome.state, outcome.retry_in) == ("failed", None)
    assert WebhookEndpoint.objects.get().failing_since is None
    ping.refresh_from_db()
    assert (ping.event, ping.response_status, ping.attempts) == ("ping", 500, 1)


# --- emitting ---------------------------------------------------------------------------------------


def test_emitting_costs_one_query_when_nobody_listens(people, django_assert_num_queries, sent):
    with django_assert_num_queries(1):
        assert webhook_emit("check_in.created", {"x": 1}) == []


def test_only_active_subscribed_endpoints_get_the_event_with_one_event_id(people, sent):
    a = webhook_endpoint_create(actor=people.ceo, url=HOOK, events=["check_in.created"]).endpoint
    b = webhook_endpoint_create(actor=people.ceo, url=HOOK + "2", events=EVENTS).endpoint
    webhook_endpoint_create(actor=people.ceo, url=HOOK + "3", events=["review.submitted"])
    off = webhook_endpoint_create(actor=people.ceo, url=HOOK + "4", events=EVENTS).endpoint
    webhook_endpoint_update(actor=people.ceo, endpoint=off, is_active=False)

    created = webhook_emit("check_in.created", {"x": 1})

    assert sorted(d.endpoint_id for d in created) == sorted([a.pk, b.pk])
    assert len({d.event_id for d in created}) == 1


def test_deliveries_are_queued_after_commit_with_the_schema_and_never_on_rollback(people, endpoint, sent):
    with transaction.atomic():
        webhook_emit("check_in.created", {"x": "kept"})
        assert sent == []  # not before commit
    # pytest's transaction is still open: on_commit callbacks run only when it commits.
    assert sent == []

    def rolled_back():
        with transaction.atomic():
            webhook_emit("check_in.created", {"x": "rolled back"})
            raise RuntimeError

    with pytest.raises(RuntimeError):
        rolled_back()

    assert [d.payload for d in deliveries()] == [{"x": "kept"}]


def test_the_queued_message_carries_the_schema_explicitly(
    people, endpoint, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = webhook_emit("check_in.created", {"x": 1})
        assert sent == []
        connection.set_schema_to_public()  # even if the connection moved on before commit

    assert sent == [
        {"kwargs": {"delivery_id": delivery.pk, "attempt": 1}, "headers": {"_schema_name": "acme"}}
    ]


@pytest.fixture
def runbooks(people, quarter):
    objective = objective_create(
        actor=people.lead, cycle=quarter, owner=people.lead, title="Reliable platform", state="active"
    )
    return key_result_create(
        actor=people.lead, objective=objective, title="Runbooks 0 → 20", kind="increase", start=0, target=20,
        owner=people.sre,
    )  # fmt: skip


def test_a_check_in_emits_check_in_created_and_the_status_change_after_commit(
    people, runbooks, endpoint, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        check_in = check_in_record(key_result=runbooks, actor=people.sre, value=20, confidence=9, now=NOW)
        assert sent == []

    created = deliveries()
    assert [d.event for d in created] == ["key_result.status_changed", "check_in.created"]
    assert created[0].payload == {
        "key_result": {
            "id": runbooks.pk, "title": "Runbooks 0 → 20", "objective_id": runbooks.objective_id,
            "status": "done", "previous_status": "not_started", "progress": 1.0,
        }
    }  # fmt: skip
    payload = created[1].payload
    assert payload["check_in"]["id"] == check_in.pk
    assert payload["check_in"]["author"] == {"id": people.sre.pk, "email": "sre@acme.example"}
    assert (payload["check_in"]["value"], payload["check_in"]["confidence"]) == (20.0, 9)
    assert payload["key_result"]["status"] == "done"
    assert "what_moved" not in payload["check_in"]  # no free text in payloads
    assert [m["kwargs"]["delivery_id"] for m in sent] == [d.pk for d in created]
    assert {m["headers"]["_schema_name"] for m in sent} == {"acme"}


def test_several_events_ask_for_their_subscribers_once_and_reach_only_them(people, sent):
    created = webhook_endpoint_create(actor=people.ceo, url=HOOK, events=["check_in.created"]).endpoint
    changed = webhook_endpoint_create(
        actor=people.ceo, url=HOOK + "2", events=["key_result.status_changed", "escalation.opened"]
    ).endpoint
    webhook_endpoint_create(actor=people.ceo, url=HOOK + "3", events=["review.submitted"])
    with CaptureQueriesContext(connection) as queries:
        emitted = webhook_emit_events(
            [
                ("key_result.status_changed", {"n": 1}),
                ("check_in.created", {"n": 2}),
                ("check_in.created", {"n": 3}),
            ]
        )
    subscriber_reads = [q for q in queries.captured_queries if "accounts_webhookendpoint" in q["sql"]]
    assert len(subscriber_reads) == 1
    assert [(d.endpoint_id, d.event, d.payload) for d in emitted] == [
        (changed.pk, "key_result.status_changed", {"n": 1}),
        (created.pk, "check_in.created", {"n": 2}),
        (created.pk, "check_in.created", {"n": 3}),
    ]
    assert len({d.event_id for d in emitted}) == 3
    with pytest.raises(ValueError, match="unknown webhook event"):
        webhook_emit_events([("check_in.created", {}), ("no.such_event", {})])


def test_escalations_emit_opened_and_resolved(people, runbooks, endpoint, sent):
    for days_ago in (14, 0):
        check_in_record(
            key_result=runbooks, actor=people.sre, value=1, confidence=4,
            recorded_at=NOW - timedelta(days=days_ago), now=NOW,
        )  # fmt: skip
    escalation = Escalation.objects.get(key_result=runbooks)

    (opened,) = deliveries("escalation.opened")
    assert opened.payload["escalation"] | {"opened_at": None} == {
        "id": escalation.pk, "level": 1, "key_result_id": runbooks.pk, "objective_id": runbooks.objective_id,
        "behind_check_ins": 2, "opened_at": None, "root_cause_due_at": "2026-11-16T11:00:00Z",
    }  # fmt: skip

    escalation_resolve(escalation=escalation, actor=people.lead, resolution="target_changed", note="Lowered")

    (resolved,) = deliveries("escalation.resolved")
    assert resolved.payload["escalation"] | {"resolved_at": None} == {
        "id": escalation.pk, "level": 1, "key_result_id": runbooks.pk, "objective_id": runbooks.objective_id,
        "resolution": "target_changed", "resolved_at": None, "resolved_by_id": people.lead.pk,
        "automatic": False,
    }  # fmt: skip


def test_an_escalation_closing_itself_emits_resolved(people, runbooks, endpoint, sent):
    for days_ago in (14, 0):
        check_in_record(
            key_result=runbooks, actor=people.sre, value=1, confidence=4,
            recorded_at=NOW - timedelta(days=days_ago), now=NOW,
        )  # fmt: skip

    check_in_record(key_result=runbooks, actor=people.sre, value=20, confidence=9, now=NOW)

    (resolved,) = deliveries("escalation.resolved")
    assert (resolved.payload["escalation"]["automatic"], resolved.payload["escalation"]["resolution"]) == (
        True, "auto_recovered",
    )  # fmt: skip


def test_closing_a_cycle_emits_objective_closed_for_each_objective_not_yet_closed(
    people, quarter, deploys, runbooks, endpoint, sent
):
    objective_update(
        objective=runbooks.objective, actor=people.lead, state="closed", closing_note="Done early"
    )
    (by_hand,) = deliveries("objective.closed")
    assert by_hand.payload["objective"]["id"] == runbooks.objective_id
    assert by_hand.payload["closed_with_cycle"] is False

    cycle_close(cycle=quarter, actor=people.ceo, now=NOW)

    closed = deliveries("objective.closed")[1:]
    assert [d.payload["objective"]["id"] for d in closed] == [deploys.pk]
    data = closed[0].payload
    assert data["closed_with_cycle"] is True
    assert data["objective"]["score"] == Objective.objects.get(pk=deploys.pk).score
    assert data["objective"]["cycle_id"] == quarter.pk


def test_an_objective_update_that_does_not_close_emits_nothing(people, runbooks, endpoint, sent):
    objective_update(objective=runbooks.objective, actor=people.lead, title="Reliable platform, really")

    assert deliveries("objective.closed") == []


def test_submitting_a_self_review_emits_review_submitted(people, review, endpoint, sent):
    review_submit_self(review=review, actor=people.sre, self_score=0.6, went_well="Alert noise down")
    review_submit_self(review=review, actor=people.sre, self_score=0.7)

    first, again = deliveries("review.submitted")
    assert first.payload["review"] | {"submitted_at": None} == {
        "id": review.pk, "review_cycle_id": review.review_cycle_id, "objective_id": review.objective_id,
        "participant_id": people.sre.pk, "manager_id": review.manager_id, "self_score": 0.6,
        "submitted_at": None, "resubmitted": False,
    }  # fmt: skip
    assert (again.payload["review"]["self_score"], again.payload["review"]["resubmitted"]) == (0.7, True)


def test_the_bulk_recalculation_emits_each_status_change_once(people, runbooks, deploys, sent):
    check_in_record(key_result=runbooks, actor=people.sre, value=20, confidence=9, now=NOW)
    webhook_endpoint_create(actor=people.ceo, url=HOOK, events=["key_result.status_changed"])
    KeyResult.objects.filter(pk=runbooks.pk).update(status="at_risk")  # stale cached status

    counts = recalculate_all(Clock.current(NOW))
    emitted = deliveries("key_result.status_changed")
    recalculate_all(Clock.current(NOW))  # nothing changes the second time

    assert deliveries("key_result.status_changed") == emitted
    # The demo OKRs' statuses move too (their cached values were computed at another time).
    assert 1 <= len(emitted) <= counts["key_results_changed"]
    assert all(
        d.payload["key_result"]["status"] != d.payload["key_result"]["previous_status"] for d in emitted
    )
    (changed,) = [d for d in emitted if d.payload["key_result"]["id"] == runbooks.pk]
    assert changed.payload == {
        "key_result": {
            "id": runbooks.pk, "title": "Runbooks 0 → 20", "objective_id": runbooks.objective_id,
            "status": "done", "previous_status": "at_risk", "progress": 1.0,
        }
    }  # fmt: skip


def test_the_bulk_recalculation_asks_for_changed_rows_only_when_someone_listens(people, runbooks, sent):
    check_in_record(key_result=runbooks, actor=people.sre, value=20, confidence=9, now=NOW)
    KeyResult.objects.filter(pk=runbooks.pk).update(status="at_risk")

    counts = recalculate_all(Clock.current(NOW))

    assert counts["key_results_changed"] >= 1
    assert WebhookDelivery.objects.count() == 0
    assert KeyResult.objects.get(pk=runbooks.pk).status == "done"


def test_a_check_in_correction_names_the_corrected_check_in(people, runbooks, endpoint, sent):
    first = check_in_record(key_result=runbooks, actor=people.sre, value=5, confidence=6, now=NOW)
    check_in_record(key_result=runbooks, actor=people.sre, value=6, confidence=6, corrects=first, now=NOW)

    payloads = [d.payload["check_in"] for d in deliveries("check_in.created")]
    assert [p["corrects"] for p in payloads] == [None, first.pk]
    assert CheckIn.objects.count() >= 2


def test_unknown_events_are_a_programming_error(people):
    with pytest.raises(ValueError, match="unknown webhook event"):
        webhook_emit("objective.deleted", {})


def test_an_admin_deactivated_meanwhile_gets_no_notice(people, endpoint):
    admin2 = User.objects.create(email="admin2@acme.example", role=User.Role.ORG_ADMIN, is_active=False)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=NOW - timedelta(days=2))
    (delivery,) = webhook_emit("check_in.created", {"n": 1}, now=NOW)

    webhook_delivery_attempt(delivery_id=delivery.pk, attempt=1, now=NOW, send=Receiver(0))

    assert list(Notification.objects.filter(kind="webhook_disabled").values_list("user", flat=True)) == [
        people.ceo.pk
    ]
    assert not Notification.objects.filter(user=admin2).exists()


# --- stranded deliveries ---------------------------------------------------------------------


def test_deliveries_whose_message_was_lost_are_queued_again_once(people, endpoint, sent):
    (delivery,) = webhook_emit("check_in.created", {"check_in": {"id": 1}})
    now = timezone.now()

    assert webhook_deliveries_resend_stranded(now=now) == 0  # not late yet
    assert webhook_deliveries_resend_stranded(now=now + timedelta(minutes=6)) == 1
    assert sent[-1] == {
        "kwargs": {"delivery_id": delivery.pk, "attempt": 1},
        "headers": {"_schema_name": connection.schema_name},
    }

    # The resent first attempt fails: a retry is due; if its message is lost too, it is resent
    # as attempt 2, and the late original message of attempt 1 does nothing.
    webhook_delivery_attempt(delivery_id=delivery.pk, attempt=1, now=now, send=Receiver(503))
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.RETRYING
    assert webhook_deliveries_resend_stranded(now=delivery.next_attempt_at + timedelta(minutes=6)) == 1
    assert sent[-1]["kwargs"] == {"delivery_id": delivery.pk, "attempt": 2}
    assert webhook_delivery_attempt(delivery_id=delivery.pk, attempt=1, send=Receiver(200)).state == "skipped"

    webhook_delivery_attempt(delivery_id=delivery.pk, attempt=2, send=Receiver(200))
    assert webhook_deliveries_resend_stranded(now=now + timedelta(days=1)) == 0
