import logging

from celery import shared_task
from django.db import connection

from okrs.recalculation import recalculate_all

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def recalculate_scores() -> dict:
    """Recompute every cached score of the schema the task runs in (idempotent)."""
    counts = recalculate_all()
    logger.info("%s: recalculated %s", connection.schema_name, counts)
    return counts
