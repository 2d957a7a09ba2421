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
