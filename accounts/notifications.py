"""Notifying people: an inbox entry always, e-mail and chat after commit, each
notification exactly once per (person, kind, subject, period)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import InboxItem, Notification, NotificationSettings, User
from config.sites import site_url
from config.tasks_enqueue import enqueue_each, enqueue_each_on_commit

logger = logging.getLogger(__name__)

# A notification whose delivery never started this long after it was recorded lost its
# message (Redis down at commit, a worker killed holding it): the sweep queues it again.
STRANDED_AFTER = timedelta(minutes=5)
# Older than this, an undelivered notification is left in the inbox only (a day-old reminder
# by e-mail helps nobody).
STRANDED_WITHIN = timedelta(days=1)
SWEEP_LATER = "the stranded-notification sweep (every 10 minutes)"


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


@dataclass(frozen=True)
class NotificationRequest:
    """One notification to record: unique per (user, kind, subject_key, period)."""

    user: User
    kind: str
    subject_key: str
    period: str
    title: str
    body: str = ""
    link: str = ""
    due_at: datetime | None = None
    capped: bool = False

    @property
    def key(self) -> tuple[int, str, str, str]:
        return (self.user.pk, self.kind, self.subject_key, self.period)


def notify(
    *, user: User, kind: str, subject_key: str, period: str, title: str, body: str = "", link: str = "",
    due_at: datetime | None = None, capped: bool = False, now: datetime | None = None,
    settings: NotificationSettings | None = None,
) -> Notification | None:  # fmt: skip
    """Record a notification and queue its delivery after commit. Returns None (and does
    nothing) if this one was already sent, or if it is a reminder and the person reached
    the organisation's weekly limit. Callers sending many use ``notify_many``."""
    request = NotificationRequest(
        user=user, kind=kind, subject_key=subject_key, period=period, title=title, body=body, link=link,
        due_at=due_at, capped=capped,
    )  # fmt: skip
    sent = notify_many([request], now=now, settings=settings)
    return sent[0] if sent else None


def notify_many(
    requests: list[NotificationRequest], *, now: datetime | None = None,
    settings: NotificationSettings | None = None, fresh_keys: bool = False,
) -> list[Notification]:  # fmt: skip
    """Record the notifications not sent yet, within each person's weekly reminder limit, in
    one transaction and a fixed number of queries however many there are (the reminder run of
    a whole organisation), and queue their deliveries after commit. Returns those recorded.

    ``fresh_keys``: every key names a row this transaction has just created (an escalation),
    so none can have been sent, and none is capped: the people are not locked and nothing is
    looked up. A check-in that opens an escalation then does not wait for every other one
    telling the same people (org admins hear of every level 2)."""
    from accounts.tasks import deliver_notification  # tasks import this module

    if not requests:
        return []
    if fresh_keys and any(request.capped for request in requests):
        raise ValueError("capped notifications count against a weekly limit: they need the lock")
    now = now or timezone.now()
    people = {request.user.pk: request.user for request in requests}
    with transaction.atomic():
        sent = set() if fresh_keys else _lock_and_read_sent(requests, people)
        capped_so_far = _capped_this_week({r.user.pk for r in requests if r.capped}, people, now)
        if capped_so_far:
            limit = (settings or notification_settings()).max_reminders_per_week
        chosen: list[NotificationRequest] = []
        for request in requests:
            if request.key in sent:
                continue
            if request.capped:
                if capped_so_far[request.user.pk] >= limit:
                    logger.info(
                        "weekly reminder limit reached for user %s; %s not sent",
                        request.user.pk,
                        request.kind,
                    )
                    continue
                capped_so_far[request.user.pk] += 1
            sent.add(request.key)
            chosen.append(request)
        inbox = InboxItem.objects.bulk_create(
            InboxItem(
                user=r.user,
                kind=r.kind,
                title=r.title[:300],
                body=r.body,
                link=r.link,
                due_at=r.due_at,
                created_at=now,
            )
            for r in chosen
        )
        notifications = Notification.objects.bulk_create(
            Notification(
                user=r.user,
                kind=r.kind,
                subject_key=r.subject_key,
                period=r.period,
                capped=r.capped,
                inbox_item=item,
                created_at=now,
            )
            for r, item in zip(chosen, inbox, strict=True)
        )
        enqueue_each_on_commit(
            deliver_notification, [{"notification_id": n.pk} for n in notifications], later=SWEEP_LATER
        )
    return notifications


def _lock_and_read_sent(requests: list[NotificationRequest], people: dict[int, User]) -> set[tuple]:
    """Lock the people, then read the keys already sent to them. One writer per person at a
    time (locked in id order, so two runs cannot deadlock): the "already sent?" and weekly-limit
    checks then hold even when two workers run the same task concurrently. Once per
    transaction: a second call would take more locks after the first's, out of id order."""
    list(User.objects.select_for_update().filter(pk__in=people).order_by("pk").values_list("pk", flat=True))
    return set(
        Notification.objects.filter(
            user_id__in=people,
            kind__in={r.kind for r in requests},
            period__in={r.period for r in requests},
        ).values_list("user_id", "kind", "subject_key", "period")
    )


def _capped_this_week(user_ids: set[int], people: dict[int, User], now: datetime) -> Counter:
    """Capped notifications each person got since Monday 00:00 of their own week (one query)."""
    if not user_ids:
        return Counter()
    starts = {pk: week_start(people[pk], now) for pk in user_ids}
    rows = Notification.objects.filter(
        user_id__in=user_ids, capped=True, created_at__gte=min(starts.values())
    ).values_list("user_id", "created_at")
    counts = Counter(dict.fromkeys(user_ids, 0))
    for user_id, created_at in rows:
        if created_at >= starts[user_id]:
            counts[user_id] += 1
    return counts


def notifications_resend_stranded(*, now: datetime | None = None) -> int:
    """Queue again the delivery of every recent notification that still owes a channel and
    whose delivery was never attempted (its message never reached the broker, or was lost).
    Failing deliveries are not touched: their own task retries them with backoff. A message
    that was only late does no harm: each channel is sent once (``accounts.delivery``)."""
    from accounts.tasks import deliver_notification  # tasks import this module

    now = now or timezone.now()
    owes = (
        Q(email_sent_at__isnull=True, user__is_active=True)
        & ~Q(user__email="")
        & (Q(kind="digest", user__receive_digests=True) | (~Q(kind="digest") & Q(user__notify_by_email=True)))
    )
    if notification_settings().chat_webhook_url:
        owes |= Q(chat_sent_at__isnull=True, user__notify_by_chat=True) & ~Q(kind="digest")
    stranded = list(
        Notification.objects.filter(
            owes,
            inbox_item__isnull=False,
            delivery_attempts=0,
            created_at__lt=now - STRANDED_AFTER,
            created_at__gte=now - STRANDED_WITHIN,
        ).values_list("pk", flat=True)[:1000]
    )
    queued = enqueue_each(
        deliver_notification, [{"notification_id": pk} for pk in stranded], later="the next sweep"
    )
    if stranded:
        logger.warning(
            "%s: %d of %d stranded notifications queued again", connection.schema_name, queued, len(stranded)
        )
    return queued
