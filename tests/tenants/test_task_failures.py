"""Celery task failures (issue 8, operability): a task that fails for good, in whatever schema,
leaves one ``TaskFailure`` row in public (schema, exception, truncated traceback, redacted
arguments) that platform staff see in the admin — with a count of the last 24 hours on its
home page — and nobody else does. Retries are not failures; the handler never raises; rows
older than 90 days are pruned."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from celery.signals import task_failure
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from accounts.models import User
from accounts.tasks import deliver_notification, deliver_webhook
from config.celery import app
from tenants.models import TaskFailure
from tenants.task_failures import MAX_TRACEBACK, task_failures_prune
from tests.web import sign_in
from tests.workers import CeleryWorker, wait_until

FAILURES = "/admin/tenants/taskfailure/"


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    app.control.purge()
    started = CeleryWorker()
    yield started.process
    started.stop()


class FakeInfo:
    def __init__(self, traceback: str):
        self.traceback = traceback


def send_failure(task, exception, *, kwargs=None, traceback="Traceback (most recent call last): ..."):
    task_failure.send(
        sender=task, task_id="0b0e-test", exception=exception, args=[42], kwargs=kwargs or {},
        traceback=None, einfo=FakeInfo(traceback),
    )  # fmt: skip


@pytest.fixture
def staff_client(db) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(email="admin@platform.example"))
    return client


# --- In process: the handler, fed the signal directly ------------------------------------------


@pytest.mark.django_db
def test_a_failure_in_a_tenant_schema_is_written_to_public_with_secrets_redacted(acme):
    with tenant_context(acme):
        send_failure(
            deliver_webhook,
            ValueError("boom"),
            kwargs={"delivery_id": 7, "attempt": 2, "secret": "s3cr3t", "target": "https://x.example/?t=1",
                    "note": "some free text", "state": "retrying"},
        )  # fmt: skip
        in_tenant = connection.schema_name
    connection.set_schema_to_public()

    assert in_tenant == "acme"
    [failure] = TaskFailure.objects.all()
    assert (failure.task_name, failure.task_id, failure.schema_name) == (
        "accounts.tasks.deliver_webhook", "0b0e-test", "acme",
    )  # fmt: skip
    assert (failure.exception_class, failure.message, failure.retries) == ("builtins.ValueError", "boom", 0)
    assert failure.traceback == "Traceback (most recent call last): ..."
    assert failure.arguments == {
        "args": [42],
        "kwargs": {"delivery_id": 7, "attempt": 2, "secret": "[redacted]", "target": "[redacted]",
                   "note": "[redacted]", "state": "retrying"},
    }  # fmt: skip


@pytest.mark.django_db
def test_a_long_message_and_traceback_are_truncated(acme):
    send_failure(deliver_notification, RuntimeError("x" * 5000), traceback="t" * 50_000)

    failure = TaskFailure.objects.get()
    assert len(failure.traceback) == MAX_TRACEBACK
    assert failure.traceback.endswith("…")
    assert len(failure.message) == 2000
    assert failure.schema_name == "public"


@pytest.mark.django_db
def test_a_retry_is_not_a_failure():
    send_failure(deliver_notification, Retry("again later"))

    assert TaskFailure.objects.count() == 0


@pytest.mark.django_db
def test_the_handler_never_raises():
    class UnprintableError(Exception):
        def __str__(self):
            raise RuntimeError("cannot print")

    send_failure(deliver_notification, UnprintableError())  # no exception escapes

    assert TaskFailure.objects.count() == 0


@pytest.mark.django_db
def test_failures_older_than_90_days_are_pruned():
    now = timezone.now()
    for days in (91, 89, 0):
        TaskFailure.objects.create(
            task_name=f"t{days}",
            exception_class="builtins.ValueError",
            occurred_at=now - timedelta(days=days),
        )

    assert task_failures_prune(now=now) == 1
    assert sorted(TaskFailure.objects.values_list("task_name", flat=True)) == ["t0", "t89"]


@pytest.mark.django_db
def test_staff_see_failures_and_the_last_day_count_others_do_not(acme, staff_client):
    TaskFailure.objects.create(task_name="accounts.tasks.deliver_webhook", schema_name="acme",
                               exception_class="builtins.ValueError", message="boom")  # fmt: skip
    TaskFailure.objects.create(task_name="old", schema_name="acme", exception_class="builtins.KeyError",
                               occurred_at=timezone.now() - timedelta(days=2))  # fmt: skip

    changelist = staff_client.get(FAILURES)
    filtered = staff_client.get(FAILURES, {"schema_name": "acme", "task_name": "old"})
    index = staff_client.get("/admin/")

    assert changelist.status_code == 200
    assert "accounts.tasks.deliver_webhook" in changelist.content.decode()
    assert "boom" in changelist.content.decode()
    assert filtered.status_code == 200
    assert '<td class="field-task_name">old</td>' in filtered.content.decode()
    assert '<td class="field-task_name">accounts.tasks.deliver_webhook</td>' not in filtered.content.decode()
    assert "1 task failure in the last 24 hours" in index.content.decode()
    failure = TaskFailure.objects.get(task_name="old")
    assert staff_client.get(f"{FAILURES}{failure.pk}/change/").status_code == 200
    assert staff_client.post(f"{FAILURES}{failure.pk}/delete/").status_code == 403
    # A consultant (public, not staff) and an organisation's admin (on its own host) cannot.
    consultant = Client(HTTP_HOST="localhost")
    consultant.force_login(User.objects.get(email="coach@platform.example"))
    assert consultant.get(FAILURES).status_code == 302
    tenant_admin = Client(HTTP_HOST="acme.localhost")
    sign_in(tenant_admin, acme, "ceo@acme.example")
    assert tenant_admin.get(FAILURES).status_code == 404


# --- With a real worker: a task fails in a tenant schema ----------------------------------------


@pytest.mark.celery_worker
def test_a_task_failing_in_a_worker_is_recorded_once_and_shown_to_staff(worker, committed):
    # A real task given bad input: the webhook delivery id is not a number.
    result = deliver_webhook.apply_async(
        kwargs={"delivery_id": "not-a-number", "attempt": 1}, headers={"_schema_name": "acme"}
    )
    try:
        assert wait_until(lambda: TaskFailure.objects.filter(task_id=result.id).exists())
        time.sleep(1)  # nothing more arrives
        [failure] = TaskFailure.objects.filter(task_id=result.id)
        assert (failure.task_name, failure.schema_name, failure.exception_class) == (
            "accounts.tasks.deliver_webhook", "acme", "builtins.ValueError",
        )  # fmt: skip
        assert failure.message == "Field 'id' expected a number but got 'not-a-number'."
        assert "Traceback" in failure.traceback
        assert failure.arguments == {"args": [], "kwargs": {"delivery_id": "not-a-number", "attempt": 1}}

        staff = Client(HTTP_HOST="localhost")
        staff.force_login(User.objects.get(email="admin@platform.example"))
        assert "Field &#x27;id&#x27; expected a number" in staff.get(FAILURES).content.decode()
        tenant = Client(HTTP_HOST="acme.localhost")
        with schema_context("acme"):
            tenant.force_login(User.objects.get(email="ceo@acme.example"))
        assert tenant.get(FAILURES).status_code == 404
    finally:
        connection.set_schema_to_public()
        TaskFailure.objects.filter(task_id=result.id).delete()
