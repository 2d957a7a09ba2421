import logging

from celery import shared_task
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def clear_expired_sessions() -> int:
    """Delete expired sessions of the schema the task runs in (idempotent)."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    logger.info("%s: %d expired sessions removed", connection.schema_name, deleted)
    return deleted


class DeliveryError(Exception):
    """A channel failed in a way worth retrying (network, SMTP, chat service)."""


@shared_task(
    bind=True, acks_late=True, autoretry_for=(DeliveryError,), retry_backoff=10, retry_backoff_max=3600,
    retry_jitter=True, max_retries=8,
)  # fmt: skip
def deliver_notification(self, notification_id: int) -> dict:
    """Send a recorded notification by e-mail and chat. Each channel is marked when
    done, so a retry never sends twice; the inbox entry exists already."""
    from accounts.delivery import deliver

    return deliver(notification_id)
