"""Celery with tenant context (D5). Every periodic schedule is declared here.

Periodic work is a dispatcher task that runs in the public schema and enqueues one
task per serving organisation, carrying that organisation's schema in the message
header (tenant-schemas-celery), with a little jitter so tenants don't all start at once.
"""

import logging.config
import os

from celery.schedules import crontab
from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = CeleryApp("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# --- Operability: request id and organisation on worker log lines (docs/operations.md) ----------
# The organisation comes from the schema tenant-schemas-celery switches to; the request id
# travels in a message header from the request (or task) that enqueued the task.
REQUEST_ID_HEADER = "okr_request_id"


@setup_logging.connect
def _use_django_logging(**kwargs):
    # Connected, so Celery keeps Django's LOGGING (and its request/organisation filter) instead
    # of replacing the root handlers with its own.
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@before_task_publish.connect
def _send_request_id(headers=None, **kwargs):
    from config.logging import request_id_var

    request_id = request_id_var.get()
    if headers is not None and request_id and REQUEST_ID_HEADER not in headers:
        headers[REQUEST_ID_HEADER] = request_id


@task_prerun.connect
def _restore_request_id(task=None, task_id=None, **kwargs):
    from config.logging import request_id_from, request_id_var

    sent = (task.request.headers or {}).get(REQUEST_ID_HEADER) or task.request.get(REQUEST_ID_HEADER)
    # A task run eagerly keeps the caller's id; one sent by beat is its own origin: its id
    # becomes the request id, and so follows the per-organisation tasks it fans out.
    current = request_id_var.get()
    task.request.okr_previous_request_id = current
    request_id_var.set(request_id_from(sent) if sent else current or task_id)


@task_postrun.connect
def _forget_request_id(task=None, **kwargs):
    from config.logging import request_id_var

    request_id_var.set(getattr(task.request, "okr_previous_request_id", None))


app.conf.beat_schedule = {
    "clear-expired-sessions": {
        "task": "tenants.tasks.dispatch_clear_expired_sessions",
        "schedule": crontab(minute=17, hour=3),
    },
    "clear-expired-idempotency-keys": {
        "task": "tenants.tasks.dispatch_clear_expired_idempotency_keys",
        "schedule": crontab(minute=27, hour=3),
    },
    "reminders": {
        "task": "tenants.tasks.dispatch_reminders",
        "schedule": crontab(minute="*/15"),
    },
    "resend-stranded-webhooks": {
        "task": "tenants.tasks.dispatch_resend_stranded_webhooks",
        "schedule": crontab(minute="*/10"),
    },
    "resend-stranded-notifications": {
        "task": "tenants.tasks.dispatch_resend_stranded_notifications",
        "schedule": crontab(minute="2-59/10"),
    },
    "refresh-health": {
        "task": "tenants.tasks.dispatch_refresh_health",
        "schedule": crontab(minute=35),
    },
    "refill-spare-schemas": {
        "task": "tenants.tasks.refill_spare_schemas",
        "schedule": crontab(minute="7-59/15"),
    },
    "recalculate-scores": {
        "task": "tenants.tasks.dispatch_recalculate_scores",
        "schedule": crontab(minute=5, hour=0),
    },
    "purge-consultant-entries": {
        "task": "tenants.tasks.purge_consultant_entries",
        "schedule": crontab(minute=47, hour=3),
    },
}
