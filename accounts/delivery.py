"""Channels for notifications: e-mail (Django's backend) and a Slack-compatible chat webhook."""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from accounts.models import Notification
from accounts.notifications import absolute_link, notification_settings, person_language
from accounts.tasks import DeliveryError

logger = logging.getLogger(__name__)

CHAT_TIMEOUT_SECONDS = 10


def _wants_email(notification: Notification) -> bool:
    user = notification.user
    if not user.is_active or not user.email:
        return False
    if notification.kind == "digest":
        return user.receive_digests
    return user.notify_by_email


def post_chat(url: str, text: str) -> None:
    payload = json.dumps({"text": text}).encode()
    request = urllib.request.Request(url, data=payload, headers={"Content-Type": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=CHAT_TIMEOUT_SECONDS) as response:  # noqa: S310 - admin-set URL
        if response.status >= 300:
            raise DeliveryError(f"chat webhook answered {response.status}")


def _send_once(notification_id: int, marker: str, send: Callable[[], None]) -> bool:
    """Send one channel unless it is marked sent, marking it in the same transaction. The row
    is locked while sending, so a duplicate message running at the same moment (a redelivery
    after a worker was lost, a sweep) skips it instead of sending again; if the sender dies
    before the commit, the channel stays unmarked and is sent again later."""
    with transaction.atomic():
        pending = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, **{f"{marker}__isnull": True})
            .values_list("pk", flat=True)
            .first()
        )
        if pending is None:
            return False
        send()
        Notification.objects.filter(pk=notification_id).update(**{marker: timezone.now()})
    return True


def deliver(notification_id: int) -> dict:
    notification = (
        Notification.objects.select_related("user", "inbox_item").filter(pk=notification_id).first()
    )
    if notification is None or notification.inbox_item is None:
        logger.warning("notification %s is gone; nothing to deliver", notification_id)
        return {"email": False, "chat": False}
    item = notification.inbox_item
    link = absolute_link(item.link)
    sent = {"email": False, "chat": False}
    try:
        if notification.email_sent_at is None and _wants_email(notification):

            def email() -> None:
                with translation.override(person_language(notification.user)):
                    send_mail(item.title, f"{item.body}\n\n{link}".strip(), None, [notification.user.email])

            sent["email"] = _send_once(notification.pk, "email_sent_at", email)
        webhook = notification_settings().chat_webhook_url
        wants_chat = notification.user.notify_by_chat and notification.kind != "digest"
        if webhook and wants_chat and notification.chat_sent_at is None:
            text = f"{notification.user.get_full_name()}: {item.title}\n{link}".strip()
            sent["chat"] = _send_once(notification.pk, "chat_sent_at", lambda: post_chat(webhook, text))
    except (smtplib.SMTPException, urllib.error.URLError, OSError, DeliveryError) as exc:
        Notification.objects.filter(pk=notification.pk).update(
            delivery_attempts=F("delivery_attempts") + 1, last_error=str(exc)[:1000]
        )
        raise DeliveryError(str(exc)) from exc
    return sent
