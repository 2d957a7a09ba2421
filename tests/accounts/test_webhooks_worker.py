"""Webhooks end to end with a real Celery worker and a real HTTP receiver: a check-in's
event arrives signed, after commit, in the organisation's schema, and a receiver that
fails at first is retried with backoff (shortened for the test) until it answers 2xx."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import http.server
import json
import os
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User, WebhookDelivery, WebhookEndpoint
from accounts.tasks import deliver_webhook
from accounts.webhooks import webhook_endpoint_create
from okrs.models import CheckIn, Cycle, KeyResult, Objective
from okrs.services.check_ins import check_in_record
from okrs.services.cycles import cycle_activate, cycle_create
from okrs.services.objectives import key_result_create, objective_create
from tests.workers import CeleryWorker, send_to_queue, wait_until

pytestmark = pytest.mark.celery_worker
# A queue of this run only: a worker of another test run on the machine never takes our messages.
QUEUE = f"webhooks-e2e-{os.getpid()}"


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    started = CeleryWorker(
        queue=QUEUE, WEBHOOK_RETRY_BASE_SECONDS="0.3", WEBHOOKS_ALLOW_PRIVATE_TARGETS="true"
    )
    yield started.process
    started.stop()


@pytest.fixture
def to_our_queue(monkeypatch):
    send_to_queue(monkeypatch, deliver_webhook, QUEUE)


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers 503 to the first ``failures`` requests, then 200; keeps every request."""

    failures = 0
    requests: list[tuple[dict, bytes, float]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.requests.append((dict(self.headers), body, time.monotonic()))
        failing = len(Receiver.requests) <= Receiver.failures
        self.send_response(503 if failing else 200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"try later" if failing else b"thanks")

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.requests, Receiver.failures = [], 2
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/okr-events"
    server.shutdown()
    server.server_close()


def test_the_test_database_is_used(db):
    """Needs ``db``: pytest-django creates the test database only when a collected test
    asks for it, and the worker test alone (no ``db``) would otherwise use the
    development database."""
    assert connection.settings_dict["NAME"].startswith("test_okr")


def test_a_check_ins_webhook_arrives_signed_and_a_failing_receiver_is_retried(
    worker, committed, receiver, to_our_queue
):
    today = timezone.localdate()
    with schema_context("acme"):
        ceo = User.objects.get(email="ceo@acme.example")
        high_water = {
            model: model.history.order_by("-history_id").values_list("history_id", flat=True).first() or 0
            for model in (Objective, KeyResult, CheckIn)
        }
        endpoint, secret = webhook_endpoint_create(actor=ceo, url=receiver, events=["check_in.created"])
        cycle = cycle_activate(
            cycle=cycle_create(
                actor=ceo, name="Webhook e2e", kind="custom", start_date=today - datetime.timedelta(days=10),
                end_date=today + datetime.timedelta(days=80),
            ),
            actor=ceo,
        )  # fmt: skip
        objective = objective_create(actor=ceo, cycle=cycle, owner=ceo, title="Webhook e2e", state="active")
        key_result = key_result_create(
            actor=ceo, objective=objective, title="Signals 0→10", kind="increase", start=0, target=10
        )
    try:
        with schema_context("acme"):
            check_in = check_in_record(key_result=key_result, actor=ceo, value=4, confidence=7)

        assert wait_until(lambda: len(Receiver.requests) >= 3)
        with schema_context("acme"):
            assert wait_until(lambda: WebhookDelivery.objects.get(endpoint=endpoint).state == "delivered")
            delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        time.sleep(0.5)  # nothing more arrives once delivered

        assert len(Receiver.requests) == 3
        for headers, body, _at in Receiver.requests:
            timestamp = headers["X-OKR-Timestamp"]
            expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(headers["X-OKR-Signature"], f"sha256={expected}")
            assert (headers["X-OKR-Event"], headers["X-OKR-Delivery"]) == (
                "check_in.created",
                str(delivery.pk),
            )
            event = json.loads(body)
            assert (event["id"], event["type"], event["organization"]) == (
                str(delivery.event_id), "check_in.created", "acme",
            )  # fmt: skip
            assert event["data"]["check_in"]["id"] == check_in.pk
        # Backoff: about 0.3 s, then about 0.6 s (plus up to 10 % jitter).
        gaps = [b[2] - a[2] for a, b in zip(Receiver.requests, Receiver.requests[1:], strict=False)]
        assert 0.25 <= gaps[0] < gaps[1]
        assert (delivery.attempts, delivery.response_status, delivery.response_excerpt) == (3, 200, "thanks")
        with schema_context("acme"):
            assert WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since is None
    finally:
        with schema_context("acme"):
            WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
            Objective.objects.filter(pk=objective.pk).delete()
            Cycle.objects.filter(pk=cycle.pk).delete()
            for model, last in high_water.items():
                model.history.filter(history_id__gt=last).delete()
