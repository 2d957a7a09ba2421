import logging
from datetime import datetime

from celery import shared_task
from django.db import connection
from django.utils import timezone

from reviews.reminders import run_reminders

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def send_reminders(now_iso: str | None = None) -> dict:
    """Send what is due in the schema the task runs in. Safe to run twice: every
    notification has a unique key, so a repeat sends nothing."""
    now = datetime.fromisoformat(now_iso) if now_iso else timezone.now()
    summary = run_reminders(now)
    logger.info("%s: reminders due %s, sent %d", connection.schema_name, summary.counts(), summary.sent)
    return {"due": len(summary.due), "sent": summary.sent}
