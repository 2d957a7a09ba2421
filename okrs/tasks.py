import logging

from celery import shared_task
from django.db import connection

from okrs import escalations
from okrs.recalculation import Clock, recalculate_all

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def recalculate_scores() -> dict:
    """Recompute every cached score of the schema the task runs in, then open or close
    escalations accordingly (idempotent)."""
    clock = Clock.current()
    counts = recalculate_all(clock)
    counts["escalations_checked"] = escalations.sweep(clock, clock.escalation_threshold)
    logger.info("%s: recalculated %s", connection.schema_name, counts)
    return counts
