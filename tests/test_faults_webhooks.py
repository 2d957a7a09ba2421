"""A webhook receiver that is down or slow (issue 8, faults), with a real Celery worker and a
real HTTP receiver: attempts are retried with a growing backoff (shortened to 0.3 s · 2^n for the
test) until the receiver answers, a hung receiver costs one attempt its read timeout (10 s), not
more, and the request that caused the event never waits for the receiver (deliveries are
queued after commit and sent by the worker)."""

from __future__ import annotations

import datetime
import http.server
import itertools
import json
import os
import socket
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import ApiToken, User, WebhookDelivery, WebhookEndpoint
from accounts.tasks import deliver_webhook
from accounts.webhooks import webhook_endpoint_create
from accounts.webhooks_delivery import CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS
from okrs.models import CheckIn, Cycle, KeyResult, Objective
from okrs.services.check_ins import check_in_record
from okrs.services.cycles import cycle_activate, cycle_create
from okrs.services.objectives import key_result_create, objective_create
from tenants.models import Organization
from tests.api_helpers import make_token
from tests.workers import CeleryWorker, send_to_queue, wait_until

pytestmark = pytest.mark.celery_worker
# A queue of this run only: no other worker on the machine takes our messages.
QUEUE = f"webhook-faults-{os.getpid()}"
RETRY_BASE = 0.3


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    started = CeleryWorker(
        queue=QUEUE, WEBHOOK_RETRY_BASE_SECONDS=str(RETRY_BASE), WEBHOOKS_ALLOW_PRIVATE_TARGETS="true"
    )
    yield started.process
    started.stop()


@pytest.fixture
def to_our_queue(monkeypatch):
    send_to_queue(monkeypatch, deliver_webhook, QUEUE)


@pytest.fixture
def key_result(worker, to_our_queue, django_db_blocker):
    """A committed key result in acme (the worker must see it); removed afterwards with the
    endpoints, tokens and history rows the test made."""
    today = timezone.localdate()
    with django_db_blocker.unblock(), schema_context("acme"):
        ceo = User.objects.get(email="ceo@acme.example")
        high_water = {
            model: model.history.order_by("-history_id").values_list("history_id", flat=True).first() or 0
            for model in (Objective, KeyResult, CheckIn)
        }
        endpoints = set(WebhookEndpoint.objects.values_list("pk", flat=True))
        tokens = set(ApiToken.objects.values_list("pk", flat=True))
        cycle = cycle_activate(
            cycle=cycle_create(
                actor=ceo, name="Webhook faults", kind="custom",
                start_date=today - datetime.timedelta(days=10), end_date=today + datetime.timedelta(days=80),
            ),
            actor=ceo,
        )  # fmt: skip
        objective = objective_create(
            actor=ceo, cycle=cycle, owner=ceo, title="Webhook faults", state="active"
        )
        result = key_result_create(
            actor=ceo, objective=objective, title="Signals 0→10", kind="increase", start=0, target=10
        )
    try:
        with django_db_blocker.unblock():
            yield result
    finally:
        with django_db_blocker.unblock(), schema_context("acme"):
            WebhookEndpoint.objects.exclude(pk__in=endpoints).delete()
            ApiToken.objects.exclude(pk__in=tokens).delete()
            Objective.objects.filter(pk=objective.pk).delete()
            Cycle.objects.filter(pk=cycle.pk).delete()
            for model, last in high_water.items():
                model.history.filter(history_id__gt=last).delete()
        connection.set_schema_to_public()


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers 200 after sleeping ``delays[n]`` seconds for the n-th request (0 past the list)."""

    delays: list[float] = []
    received: list[float] = []

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        index = len(Receiver.received)
        Receiver.received.append(time.monotonic())
        time.sleep(Receiver.delays[index] if index < len(Receiver.delays) else 0)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"thanks")
        except OSError:  # the sender gave up waiting (its read timeout)
            pass

    def log_message(self, *args):
        pass


class ReceiverServer:
    """A receiver on a fixed loopback port, started and stopped by the test."""

    def __init__(self, port: int | None = None, delays: list[float] | None = None):
        Receiver.delays, Receiver.received = list(delays or []), []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port or 0), Receiver)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/okr-events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def subscribe(url: str) -> WebhookEndpoint:
    with schema_context("acme"):
        ceo = User.objects.get(email="ceo@acme.example")
        endpoint, _secret = webhook_endpoint_create(actor=ceo, url=url, events=["check_in.created"])
    return endpoint


def check_in(key_result: KeyResult, value: float) -> None:
    with schema_context("acme"):
        check_in_record(
            key_result=key_result, actor=User.objects.get(email="ceo@acme.example"), value=value, confidence=7
        )


def delivery_of(endpoint: WebhookEndpoint) -> WebhookDelivery | None:
    with schema_context("acme"):
        return WebhookDelivery.objects.filter(endpoint=endpoint).first()


def test_delivery_has_connect_and_read_timeouts():
    assert (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS) == (5, 10)


def test_receiver_down_is_retried_with_growing_backoff_until_it_comes_up(key_result):
    port = free_port()  # nothing listens there yet: connection refused
    endpoint = subscribe(f"http://127.0.0.1:{port}/okr-events")
    check_in(key_result, 3)

    # Every failed attempt as the worker recorded it (the row is polled every 20 ms; each
    # state lasts at least the 0.3 s backoff).
    failed: dict[int, WebhookDelivery] = {}

    def three_failures() -> bool:
        delivery = delivery_of(endpoint)
        # Recorded, not merely claimed: a claimed attempt has a new last_attempt_at and still
        # the previous next_attempt_at.
        if (
            delivery is not None
            and delivery.state == "retrying"
            and delivery.next_attempt_at > delivery.last_attempt_at
        ):
            failed.setdefault(delivery.attempts, delivery)
        return len(failed) >= 3

    assert wait_until(three_failures, seconds=20)
    receiver = ReceiverServer(port=port)
    try:
        assert wait_until(lambda: delivery_of(endpoint).state == "delivered", seconds=20)
    finally:
        receiver.stop()

    attempts = sorted(failed)
    assert attempts[:3] == [1, 2, 3]
    delays = []
    for number in attempts:
        attempt = failed[number]
        assert attempt.response_status is None
        assert "Connection refused" in attempt.error
        delay = (attempt.next_attempt_at - attempt.last_attempt_at).total_seconds()
        # base · 2^(n-1) plus up to 10 % jitter
        assert RETRY_BASE * 2 ** (number - 1) <= delay <= RETRY_BASE * 2 ** (number - 1) * 1.1 + 0.01
        delays.append(delay)
    assert delays == sorted(delays)
    assert len(set(delays)) == len(delays)
    # The attempts really were that far apart.
    for earlier, later in itertools.pairwise(attempts):
        gap = (failed[later].last_attempt_at - failed[earlier].last_attempt_at).total_seconds()
        assert gap >= delays[attempts.index(earlier)] - 0.01
    delivered = delivery_of(endpoint)
    assert len(Receiver.received) == 1
    assert (delivered.attempts, delivered.response_status, delivered.error) == (
        max(attempts) + 1, 200, "",
    )  # fmt: skip
    with schema_context("acme"):
        assert WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since is None


def test_a_hung_receiver_costs_one_attempt_its_read_timeout_then_it_is_retried(key_result):
    hang = READ_TIMEOUT_SECONDS + 3
    receiver = ReceiverServer(delays=[hang])
    endpoint = subscribe(receiver.url)
    try:
        started = time.monotonic()
        check_in(key_result, 4)
        assert wait_until(lambda: getattr(delivery_of(endpoint), "state", "") == "retrying", seconds=20)
        first = delivery_of(endpoint)  # attempt 2 waits 0.3 s: this is attempt 1's outcome
        assert wait_until(lambda: delivery_of(endpoint).state == "delivered", seconds=20)
        finished = time.monotonic() - started
    finally:
        receiver.stop()

    # The first attempt gave up at the read timeout, not when the receiver would have answered.
    assert first.attempts == 1
    assert first.response_status is None
    assert "Read timed out" in first.error
    assert READ_TIMEOUT_SECONDS * 1000 <= first.latency_ms < (READ_TIMEOUT_SECONDS + 1.5) * 1000
    assert (
        RETRY_BASE
        <= (first.next_attempt_at - first.last_attempt_at).total_seconds()
        <= RETRY_BASE * 1.1 + 0.01
    )
    delivered = delivery_of(endpoint)
    assert (delivered.attempts, delivered.response_status) == (2, 200)
    assert delivered.latency_ms < 1000
    assert len(Receiver.received) == 2
    assert finished < hang  # delivered before the hung request would even have been answered


def test_the_check_in_request_does_not_wait_for_a_slow_receiver(key_result):
    token = make_token(Organization.objects.get(slug="acme"), "ceo@acme.example")
    client = Client(HTTP_HOST="acme.localhost", HTTP_AUTHORIZATION=f"Bearer {token}")

    def post_check_in(value: float) -> float:
        started = time.monotonic()
        response = client.post(
            "/api/v1/check-ins/",
            json.dumps({"key_result": key_result.pk, "value": value, "confidence": 6}),
            content_type="application/json",
        )
        took = time.monotonic() - started
        assert response.status_code == 201, response.content
        return took

    without_receiver = post_check_in(2)
    sleep = 5.0
    receiver = ReceiverServer(delays=[sleep])
    endpoint = subscribe(receiver.url)
    try:
        with_slow_receiver = post_check_in(5)
        answered_at = time.monotonic()
        assert wait_until(lambda: getattr(delivery_of(endpoint), "state", "") == "delivered", seconds=20)
    finally:
        receiver.stop()

    assert with_slow_receiver < 1.0, (without_receiver, with_slow_receiver)
    assert with_slow_receiver < without_receiver + 0.5
    # The receiver really was slow, and only got the event after the request had answered.
    delivered = delivery_of(endpoint)
    assert (delivered.attempts, delivered.response_status) == (1, 200)
    assert delivered.latency_ms >= sleep * 1000
    (received_at,) = Receiver.received
    assert received_at + sleep > answered_at
