"""The dispatcher pattern (D5): fan a per-tenant task out to every serving organisation."""

from __future__ import annotations

import logging
import random

from celery import Task

from tenants.models import Organization

logger = logging.getLogger(__name__)


def dispatch_to_organizations(task: Task, *, jitter_seconds: int = 60, kwargs: dict | None = None) -> int:
    """Enqueue ``task`` once per serving organisation, each carrying its schema
    explicitly in the message header; returns how many were enqueued."""
    schemas = list(Organization.objects.serving().values_list("schema_name", flat=True))
    for schema_name in schemas:
        task.apply_async(
            kwargs=kwargs or {},
            countdown=random.uniform(0, jitter_seconds) if jitter_seconds else None,  # noqa: S311
            headers={"_schema_name": schema_name},
        )
    logger.info("dispatched %s to %d organisations", task.name, len(schemas))
    return len(schemas)
