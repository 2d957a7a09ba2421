"""Notifying people: an inbox entry always, e-mail and chat after commit, each
notification exactly once per (person, kind, subject, period)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import InboxItem, Notification, NotificationSettings, User
from config.sites import site_url

logger = logging.getLogger(__name__)


def notification_settings() -> NotificationSettings:
    """The notification settings, or the defaults (unsaved) while nobody changed them:
    reading never writes (``notification_settings_update`` creates the row)."""
    return NotificationSettings.objects.filter(pk=1).first() or NotificationSettings(pk=1)


def organization_language() -> str:
    return getattr(connection.tenant, "language", None) or "en"


def person_timezone(user: User) -> ZoneInfo:
    """The person's own time zone, else their organisation's."""
    return ZoneInfo(user.timezone or getattr(connection.tenant, "timezone", None) or "UTC")


def person_language(user: User) -> str:
    return user.language or organization_language()


def week_start(user: User, now: datetime) -> datetime:
    """Monday 00:00 of the person's current week, in their time zone."""
    local = now.astimezone(person_timezone(user))
    monday = (local - timedelta(days=local.weekday())).date()
    return datetime.combine(monday, datetime.min.time(), tzinfo=local.tzinfo)


def absolute_link(path: str) -> str:
    return site_url(getattr(connection.tenant, "slug", None), path) if path else ""


def notify(
    *, user: User, kind: str, subject_key: str, period: str, title: str, body: str = "", link: str = "",
    due_at: datetime | None = None, capped: bool = False, now: datetime | None = None,
    settings: NotificationSettings | None = None,
) -> Notification | None:  # fmt: skip
    """Record a notification and queue its delivery after commit. Returns None (and does
    nothing) if this one was already sent, or if it is a reminder and the person reached
    the organisation's weekly limit. Callers sending many pass ``settings`` once."""
    from accounts.tasks import deliver_notification  # tasks import this module

    now = now or timezone.now()
    with transaction.atomic():
        # One writer per person at a time: the "already sent?" and weekly-limit checks
        # below then hold even when two workers run the same task concurrently.
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
        key = {"user": user, "kind": kind, "subject_key": subject_key, "period": period}
        if Notification.objects.filter(**key).exists():
            return None
        if capped:
            sent = Notification.objects.filter(user=user, capped=True, created_at__gte=week_start(user, now))
            limit = (settings or notification_settings()).max_reminders_per_week
            if sent.count() >= limit:
                logger.info("weekly reminder limit reached for user %s; %s not sent", user.pk, kind)
                return None
        inbox = InboxItem.objects.create(
            user=user, kind=kind, title=title[:300], body=body, link=link, due_at=due_at, created_at=now
        )
        notification = Notification.objects.create(**key, capped=capped, inbox_item=inbox, created_at=now)
        deliver_notification.delay_on_commit(notification.pk)
    return notification
