"""Notifications: inbox always, exactly once per key, weekly limit for reminders,
e-mail and chat delivery with retries that never send twice."""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from accounts.delivery import deliver
from accounts.models import InboxItem, Notification, NotificationSettings, User
from accounts.notifications import NotificationRequest, notify, notify_many, week_start
from accounts.tasks import DeliveryError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def person(acme):
    """Someone new at Acme: no demo notifications in their inbox."""
    with tenant_context(acme):
        yield UserFactory(email="kenji@acme.example", full_name="Kenji Sato")


def remind(person, n, **kwargs):
    return notify(
        user=person, kind="checkin_due", subject_key=f"kr:{n}", period="2026-11-18", title=f"Check in {n}",
        capped=True, now=kwargs.pop("now", NOW), **kwargs,
    )  # fmt: skip


def test_notification_is_recorded_once_with_an_inbox_entry(person):
    first = remind(person, 1, link="/objectives/1/")
    again = remind(person, 1)

    assert again is None
    assert Notification.objects.filter(user=person).count() == 1
    assert list(InboxItem.objects.filter(user=person).values_list("title", "link")) == [
        ("Check in 1", "/objectives/1/")
    ]
    assert first.inbox_item.title == "Check in 1"


def test_fresh_keys_are_refused_for_capped_notifications(person):
    """``fresh_keys`` skips the lock that the weekly limit relies on: a capped notification
    with it is a programming error, and nothing is recorded."""
    request = NotificationRequest(person, "checkin_due", "kr:1", "2026-11-18", "Check in", capped=True)

    with pytest.raises(ValueError, match="weekly limit"):
        notify_many([request], now=NOW, fresh_keys=True)

    assert not Notification.objects.filter(user=person).exists()
    assert not InboxItem.objects.filter(user=person).exists()


def test_weekly_limit_counts_reminders_only_in_the_persons_week(person):
    for n in range(5):
        assert remind(person, n) is not None

    assert remind(person, 99) is None  # sixth reminder this week
    assert notify(
        user=person, kind="escalation", subject_key="escalation:1", period="opened", title="E", now=NOW
    )
    assert remind(person, 100, now=NOW + timedelta(days=7)) is not None  # next week


def test_weekly_limit_is_an_organisation_setting(person):
    NotificationSettings.objects.update_or_create(pk=1, defaults={"max_reminders_per_week": 1})

    remind(person, 1)

    assert remind(person, 2) is None


def test_week_starts_on_monday_in_the_persons_time_zone(person):
    person.timezone = "Pacific/Auckland"
    late_sunday_utc = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # Monday 01:00 in Auckland, Sunday in L.A.

    assert week_start(person, late_sunday_utc).date().isoformat() == "2026-11-23"
    person.timezone = "America/Los_Angeles"
    assert week_start(person, late_sunday_utc).date().isoformat() == "2026-11-16"


def test_email_delivery_happens_once_even_if_the_task_runs_twice(person):
    notification = remind(person, 1, link="/objectives/7/")

    assert deliver(notification.pk) == {"email": True, "chat": False}
    assert deliver(notification.pk) == {"email": False, "chat": False}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["kenji@acme.example"]
    assert "http://acme.localhost/objectives/7/" in mail.outbox[0].body


def test_people_who_turned_email_off_get_the_inbox_only(person):
    User.objects.filter(pk=person.pk).update(notify_by_email=False)
    notification = remind(person, 1)

    deliver(notification.pk)

    assert mail.outbox == []
    assert InboxItem.objects.filter(user=person).count() == 1


class ChatServer:
    """A real HTTP server on loopback standing in for the chat service."""

    def __init__(self, status=200):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def chat():
    server = ChatServer()
    yield server
    server.close()


def test_chat_webhook_receives_slack_compatible_json(person, chat):
    NotificationSettings.objects.update_or_create(pk=1, defaults={"chat_webhook_url": chat.url})
    notification = remind(person, 1, link="/objectives/3/")

    assert deliver(notification.pk) == {"email": True, "chat": True}

    assert chat.received == [{"text": "Kenji Sato: Check in 1\nhttp://acme.localhost/objectives/3/"}]


def test_a_failing_chat_service_is_retried_without_resending_email_or_losing_the_inbox(person):
    failing = ChatServer(status=503)
    try:
        NotificationSettings.objects.update_or_create(pk=1, defaults={"chat_webhook_url": failing.url})
        notification = remind(person, 1)

        with pytest.raises(DeliveryError):
            deliver(notification.pk)
        with pytest.raises(DeliveryError):
            deliver(notification.pk)
    finally:
        failing.close()

    notification.refresh_from_db()
    assert len(mail.outbox) == 1  # e-mail went out once; only chat is retried
    assert (notification.delivery_attempts, notification.chat_sent_at) == (2, None)
    assert "503" in notification.last_error
    assert InboxItem.objects.filter(pk=notification.inbox_item_id).exists()


def test_people_who_turned_chat_off_are_not_posted(person, chat):
    NotificationSettings.objects.update_or_create(pk=1, defaults={"chat_webhook_url": chat.url})
    User.objects.filter(pk=person.pk).update(notify_by_chat=False)

    assert deliver(remind(person, 1).pk) == {"email": True, "chat": False}
    assert chat.received == []
