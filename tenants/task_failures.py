"""Celery task failures, recorded for the platform admin (issue 8, operability).

``record_task_failure`` is connected to Celery's ``task_failure`` signal in
``TenantsConfig.ready`` (every worker loads the apps). It runs in the worker right after the
task raised, while the connection is still on the task's schema: the row is written in the
public schema explicitly. Only final failures reach it: a retry (``self.retry``,
``autoretry_for``) sends ``task_retry`` instead, and only the last attempt's exception, when
the retries are used up, is a failure. The handler never raises: a broken database or an
odd exception must not hide the task's own error in the worker log.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from celery.exceptions import Retry
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.models_tasks import TaskFailure

logger = logging.getLogger(__name__)

RETENTION = timedelta(days=90)
MAX_MESSAGE = 2000
MAX_TRACEBACK = 10_000
SECRET_NAME = re.compile(r"pass|secret|token|key|auth|sign|cookie|session|credential|email|url", re.I)
PLAIN_VALUE = re.compile(r"^[\w:.+-]{0,64}$")  # ids, dates, slugs, states: nothing with spaces or '/'
REDACTED = "[redacted]"


def _truncated(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def redacted(value, name: str = "", depth: int = 0):
    """``value`` with every string that might be a secret (under a secret-looking name, or not a
    short plain value) replaced by ``[redacted]``; numbers, booleans and None are kept."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth > 3:
        return REDACTED
    if isinstance(value, dict):
        return {str(key)[:64]: redacted(item, str(key), depth + 1) for key, item in list(value.items())[:50]}
    if isinstance(value, list | tuple):
        return [redacted(item, name, depth + 1) for item in list(value)[:50]]
    if isinstance(value, str) and not SECRET_NAME.search(name) and PLAIN_VALUE.match(value):
        return value
    return REDACTED


def _schema_of(task) -> str:
    request = getattr(task, "request", None)
    headers = (getattr(request, "headers", None) or {}) if request is not None else {}
    sent = headers.get("_schema_name") or (request.get("_schema_name") if request is not None else None)
    return str(sent or getattr(connection, "schema_name", "") or "")[:63]


def task_failure_record(
    *, task_name: str, task_id: str, schema_name: str, exception: BaseException, traceback: str = "",
    args=None, kwargs=None, retries: int = 0,
) -> TaskFailure:  # fmt: skip
    """Store one failure in the public schema, whatever schema the connection is on."""
    with schema_context(get_public_schema_name()), transaction.atomic():
        return TaskFailure.objects.create(
            task_name=task_name[:200],
            task_id=(task_id or "")[:64],
            schema_name=schema_name[:63],
            exception_class=_truncated(f"{type(exception).__module__}.{type(exception).__qualname__}", 200),
            message=_truncated(str(exception), MAX_MESSAGE),
            traceback=_truncated(traceback or "", MAX_TRACEBACK),
            arguments={"args": redacted(list(args or [])), "kwargs": redacted(dict(kwargs or {}))},
            retries=retries,
        )


def record_task_failure(sender=None, **signal) -> None:
    """The ``task_failure`` signal's receiver (see the module's docstring)."""
    exception, task_id = signal.get("exception"), signal.get("task_id")
    if exception is None or isinstance(exception, Retry):
        return
    try:
        request = getattr(sender, "request", None)
        task_failure_record(
            task_name=getattr(sender, "name", None) or "?",
            task_id=task_id or "",
            schema_name=_schema_of(sender),
            exception=exception,
            traceback=str(getattr(signal.get("einfo"), "traceback", "") or ""),
            args=signal.get("args"),
            kwargs=signal.get("kwargs"),
            retries=int(getattr(request, "retries", 0) or 0),
        )
    except Exception:  # recording must never add a failure of its own
        logger.exception("could not record the failure of task %s", task_id)


def task_failures_prune(*, now=None) -> int:
    """Delete failures older than ``RETENTION`` (run daily by a public dispatcher)."""
    now = now or timezone.now()
    with schema_context(get_public_schema_name()):
        deleted, _ = TaskFailure.objects.filter(occurred_at__lt=now - RETENTION).delete()
    return deleted


def task_failures_recent_count(*, hours: int = 24) -> int:
    with schema_context(get_public_schema_name()):
        return TaskFailure.objects.filter(occurred_at__gte=timezone.now() - timedelta(hours=hours)).count()
