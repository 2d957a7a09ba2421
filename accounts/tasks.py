import logging
from datetime import datetime

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


@shared_task(acks_late=True)
def resend_stranded_notifications(now_iso: str | None = None) -> int:
    """Queue again the deliveries of this schema's notifications whose message was lost or
    never sent (e.g. Redis was down when they were recorded)."""
    from accounts.notifications import notifications_resend_stranded

    return notifications_resend_stranded(now=datetime.fromisoformat(now_iso) if now_iso else None)


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_webhook(self, delivery_id: int, attempt: int = 1) -> str:
    """Make one attempt of a webhook delivery; when it failed and the schedule allows,
    queue the next one (same schema, same queue) after the backoff. Stale and repeated
    messages do nothing, so a redelivered message never sends twice."""
    from accounts.webhooks_delivery import webhook_delivery_attempt

    outcome = webhook_delivery_attempt(delivery_id=delivery_id, attempt=attempt)
    if outcome.retry_in is not None:
        raise self.retry(
            countdown=outcome.retry_in, kwargs={"delivery_id": delivery_id, "attempt": attempt + 1}
        )
    return outcome.state


@shared_task(acks_late=True)
def resend_stranded_webhooks() -> int:
    """Queue again the deliveries of this schema whose message was lost or never sent."""
    from accounts.webhooks_delivery import webhook_deliveries_resend_stranded

    return webhook_deliveries_resend_stranded()


@shared_task(acks_late=True)
def clear_expired_idempotency_keys() -> int:
    """Forget Idempotency-Keys older than a day in the schema the task runs in: a client
    retries within minutes, and keeping every key forever would only grow the table."""
    from accounts.api.idempotency import idempotency_records_expire

    deleted = idempotency_records_expire()
    logger.info("%s: %d expired idempotency keys removed", connection.schema_name, deleted)
    return deleted
