"""Celery with tenant context (D5). Every periodic schedule is declared here.

Periodic work is a dispatcher task that runs in the public schema and enqueues one
task per serving organisation, carrying that organisation's schema in the message
header (tenant-schemas-celery), with a little jitter so tenants don't all start at once.
"""

import os

from celery.schedules import crontab
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = CeleryApp("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

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
