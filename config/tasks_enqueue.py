"""Queue a Celery task once the transaction commits, without ever failing the request.

The change is committed when the message is published, so a broker error (Redis down or
restarting) must not turn into a 500: it is logged as a warning naming what will pick the
work up later (a sweeper, the next periodic run), and the caller carries on. The broker
settings make that failure fast (config/settings/base.py, "Celery fault tolerance").

The schema travels explicitly in the message header (tenant-schemas-celery): the one
current when ``enqueue_on_commit`` is called, not the connection's schema at commit time,
which may be another one (pitfalls: ``delay_on_commit`` inside a nested ``schema_context``).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import connection, transaction

logger = logging.getLogger(__name__)


def enqueue(
    task: Task, *, schema: str | None = None, kwargs: dict[str, Any] | None = None, later: str
) -> bool:
    """Publish ``task`` now in ``schema`` (default: the current one); on a broker error log
    a warning saying that ``later`` will pick the work up, and return False."""
    schema = schema or connection.schema_name
    try:
        task.apply_async(**({"kwargs": kwargs} if kwargs else {}), headers={"_schema_name": schema})
    # kombu wraps connection errors in OperationalError; anything else the client raises is
    # caught too: the change is committed whatever happened to its message.
    except Exception as error:
        logger.warning(
            "%s not queued in %s (%s: %s); %s will pick it up",
            task.name, schema, error.__class__.__name__, error, later,
        )  # fmt: skip
        return False
    return True


def enqueue_each(
    task: Task, kwargs_list: list[dict[str, Any]], *, schema: str | None = None, later: str
) -> int:
    """Publish ``task`` once per kwargs in ``schema`` (default: the current one); returns how many
    were queued. The first broker error stops it: the rest would fail the same way, one at a
    time, so they are counted in one more warning and left to ``later`` as well."""
    schema = schema or connection.schema_name
    for queued, kwargs in enumerate(kwargs_list):
        if not enqueue(task, schema=schema, kwargs=kwargs, later=later):
            if rest := len(kwargs_list) - queued - 1:
                logger.warning(
                    "%d more %s not queued in %s; %s will pick them up", rest, task.name, schema, later
                )
            return queued
    return len(kwargs_list)


def enqueue_each_on_commit(
    task: Task, kwargs_list: list[dict[str, Any]], *, schema: str | None = None, later: str
) -> None:
    """``enqueue_each`` once the current transaction commits (at once outside one), in ``schema``
    as it is now (default: the current one). Never raises for a broker error. ``later`` names what
    picks the work up when the messages could not be sent, e.g. "the stranded-notification sweep
    (every 10 minutes)"."""
    if not kwargs_list:
        return
    schema, kwargs_list = schema or connection.schema_name, list(kwargs_list)
    transaction.on_commit(lambda: enqueue_each(task, kwargs_list, schema=schema, later=later))


def enqueue_on_commit(
    task: Task, *, schema: str | None = None, kwargs: dict[str, Any] | None = None, later: str
) -> None:
    """One message of ``task`` after commit (see ``enqueue_each_on_commit``)."""
    enqueue_each_on_commit(task, [kwargs or {}], schema=schema, later=later)
