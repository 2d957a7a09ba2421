"""The task flow with a real worker and broker (D5): beat's dispatcher runs in the
public schema and fans out one task per serving organisation, each of which runs in
that organisation's schema."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from config.celery import app
from okrs.models import KeyResult
from tenants.models import Organization
from tenants.tasks import dispatch_clear_expired_sessions, dispatch_recalculate_scores

pytestmark = pytest.mark.celery_worker
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    app.control.purge()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "OKR_TEST_DATABASE_NAME": connection.settings_dict["NAME"],
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"Celery worker did not start:\n{process.stdout.read()}")
    yield process
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def committed(django_db_blocker):
    """Data the worker must see has to be committed, so no test transaction here;
    the test cleans up after itself."""
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()


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


def wait_until(predicate, seconds=30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


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
