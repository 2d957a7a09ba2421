"""The task flow with a real worker and broker (D5): beat's dispatcher runs in the
public schema and fans out one task per serving organisation, each of which runs in
that organisation's schema."""

from __future__ import annotations

import datetime
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import InboxItem, Notification, User
from config.celery import app
from okrs.models import Cycle, KeyResult, Objective
from okrs.services.cycles import cycle_activate, cycle_create
from okrs.services.objectives import key_result_create, objective_create
from tenants.models import Organization
from tenants.tasks import dispatch_clear_expired_sessions, dispatch_recalculate_scores, dispatch_reminders
from tests.workers import CeleryWorker, wait_until

pytestmark = pytest.mark.celery_worker


def make_session(schema: str, *, expired: bool) -> str:
    with schema_context(schema):
        store = SessionStore()
        store["marker"] = schema
        store.create()
        if expired:
            Session.objects.filter(session_key=store.session_key).update(
                expire_date=timezone.now() - timedelta(days=1)
            )
        return store.session_key


def session_exists(schema: str, key: str) -> bool:
    with schema_context(schema):
        return Session.objects.filter(session_key=key).exists()


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    app.control.purge()
    started = CeleryWorker()
    yield started.process
    started.stop()


def test_the_test_database_is_used(db):
    """Needs ``db``: pytest-django creates the test database only when a collected test
    asks for it, so without this the worker tests run alone would use the development
    database (the worker fixture refuses to)."""
    assert connection.settings_dict["NAME"].startswith("test_okr")


def test_dispatcher_runs_the_task_in_each_serving_organisations_schema(worker, committed):
    Organization.objects.filter(slug="globex").update(status="suspended")
    keys = {
        ("acme", "expired"): make_session("acme", expired=True),
        ("acme", "fresh"): make_session("acme", expired=False),
        ("globex", "expired"): make_session("globex", expired=True),
    }
    try:
        dispatch_clear_expired_sessions.delay(jitter_seconds=0)

        assert wait_until(lambda: not session_exists("acme", keys["acme", "expired"]))
        assert session_exists("acme", keys["acme", "fresh"])
        # The suspended organisation is skipped by the dispatcher: its session stays.
        time.sleep(1)
        assert session_exists("globex", keys["globex", "expired"])
    finally:
        Organization.objects.filter(slug="globex").update(status="active")
        for (schema, _kind), key in keys.items():
            with schema_context(schema):
                Session.objects.filter(session_key=key).delete()


def test_nightly_recalculation_is_dispatched_to_every_serving_organisation(worker, committed):
    schemas = ["acme", "globex"]
    expected = {}
    for schema in schemas:
        with schema_context(schema):
            key_result = KeyResult.objects.filter(current__isnull=False).order_by("id").first()
            expected[schema] = (key_result.pk, key_result.progress)
            KeyResult.objects.filter(pk=key_result.pk).update(progress=-1.0, status="at_risk")

    dispatch_recalculate_scores.delay(jitter_seconds=0)

    def restored(schema):
        pk, progress = expected[schema]
        with schema_context(schema):
            return KeyResult.objects.get(pk=pk).progress == pytest.approx(progress)

    assert wait_until(lambda: all(restored(s) for s in schemas))


def next_monday_0930_berlin(after: datetime.date) -> datetime.datetime:
    day = after + datetime.timedelta(days=(7 - after.weekday()) % 7 or 7)
    return datetime.datetime.combine(day, datetime.time(9, 30), tzinfo=ZoneInfo("Europe/Berlin"))


def test_reminder_dispatch_end_to_end_sends_exactly_once_in_the_right_schema(worker, committed):
    today = timezone.localdate()
    moment = next_monday_0930_berlin(today + datetime.timedelta(days=14))
    with schema_context("acme"):
        ceo, analyst = (
            User.objects.get(email="ceo@acme.example"),
            User.objects.get(email="analyst@acme.example"),
        )
        start, end = today - datetime.timedelta(days=30), today + datetime.timedelta(days=90)
        cycle = cycle_create(
            actor=ceo, name="Worker test cycle", kind="custom", start_date=start, end_date=end
        )
        cycle = cycle_activate(cycle=cycle, actor=ceo)
        objective = objective_create(
            actor=ceo, cycle=cycle, owner=analyst, title="Worker test", state="active"
        )
        key_result_create(
            actor=ceo, objective=objective, title="Signals 0→10", kind="increase", start=0, target=10
        )
    # Both organisations get their own reminders at that moment; remember what to clean up.
    high_water = {}
    for schema in ("acme", "globex"):
        with schema_context(schema):
            high_water[schema] = (
                Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0,
                InboxItem.objects.order_by("-id").values_list("id", flat=True).first() or 0,
            )

    def sent():
        with schema_context("acme"):
            return list(
                Notification.objects.filter(
                    user=analyst, kind="checkin_due", period=moment.date().isoformat()
                )
            )

    try:
        dispatch_reminders.delay(jitter_seconds=0, now_iso=moment.isoformat())
        assert wait_until(lambda: sent() and sent()[0].email_sent_at is not None)
        dispatch_reminders.delay(jitter_seconds=0, now_iso=moment.isoformat())  # the same run again
        time.sleep(3)

        (notification,) = sent()
        assert notification.delivery_attempts == 0
        with schema_context("globex"):  # acme's key result never shows up in globex
            assert not InboxItem.objects.filter(body__contains="Signals 0→10").exists()
    finally:
        for schema, (last_notification, last_item) in high_water.items():
            with schema_context(schema):
                Notification.objects.filter(id__gt=last_notification).delete()
                InboxItem.objects.filter(id__gt=last_item).delete()
        with schema_context("acme"):
            Objective.objects.filter(pk=objective.pk).delete()
            Cycle.objects.filter(pk=cycle.pk).delete()
