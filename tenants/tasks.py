from celery import shared_task
from django.utils import timezone

from accounts.tasks import (
    clear_expired_idempotency_keys,
    clear_expired_sessions,
    resend_stranded_notifications,
    resend_stranded_webhooks,
)
from okrs.tasks import recalculate_scores
from reviews.tasks import send_reminders
from tenants.access import entries_purge
from tenants.dispatch import dispatch_to_organizations
from tenants.health import health_snapshot_take_current, health_snapshots_prune
from tenants.task_failures import task_failures_prune


@shared_task
def dispatch_clear_expired_sessions(jitter_seconds: int = 300) -> int:
    """Daily, in public: each organisation clears its own expired sessions; task failures
    older than 90 days are pruned (``tenants.task_failures``)."""
    task_failures_prune()
    return dispatch_to_organizations(clear_expired_sessions, jitter_seconds=jitter_seconds)


@shared_task
def dispatch_recalculate_scores(jitter_seconds: int = 900) -> int:
    """Nightly, in public: each organisation recomputes its cached scores, so that
    expected progress and statuses move with the calendar even without check-ins."""
    return dispatch_to_organizations(recalculate_scores, jitter_seconds=jitter_seconds)


@shared_task
def dispatch_reminders(jitter_seconds: int = 60, now_iso: str | None = None) -> int:
    """Every 15 minutes, in public: each organisation works out what is due for its
    people at this instant (each person in their own time zone)."""
    now_iso = now_iso or timezone.now().isoformat()
    return dispatch_to_organizations(
        send_reminders, jitter_seconds=jitter_seconds, kwargs={"now_iso": now_iso}
    )


@shared_task
def dispatch_resend_stranded_webhooks(jitter_seconds: int = 60) -> int:
    """Every 10 minutes, in public: each organisation queues again the webhook deliveries
    whose message never reached the broker (e.g. Redis was down when the change committed)."""
    return dispatch_to_organizations(resend_stranded_webhooks, jitter_seconds=jitter_seconds)


@shared_task
def dispatch_resend_stranded_notifications(jitter_seconds: int = 60, now_iso: str | None = None) -> int:
    """Every 10 minutes, in public: each organisation queues again the e-mails and chat
    messages of notifications whose delivery message never reached the broker or was lost
    with a worker (``accounts.notifications.notifications_resend_stranded``)."""
    now_iso = now_iso or timezone.now().isoformat()
    return dispatch_to_organizations(
        resend_stranded_notifications, jitter_seconds=jitter_seconds, kwargs={"now_iso": now_iso}
    )


@shared_task(acks_late=True)
def refresh_health_snapshot() -> int | None:
    """Per organisation (runs in its schema): compute its health figures and store them
    as a snapshot in public; returns the snapshot's id."""
    snapshot = health_snapshot_take_current()
    return snapshot.pk if snapshot else None


@shared_task
def dispatch_refresh_health(jitter_seconds: int = 600) -> int:
    """Hourly, in public: each organisation takes a health snapshot for the consultant portal;
    old snapshots are thinned out (``tenants.health.health_snapshots_prune``)."""
    health_snapshots_prune()
    return dispatch_to_organizations(refresh_health_snapshot, jitter_seconds=jitter_seconds)


@shared_task
def dispatch_clear_expired_idempotency_keys(jitter_seconds: int = 300) -> int:
    """Daily, in public: each organisation forgets API Idempotency-Keys older than a day."""
    return dispatch_to_organizations(clear_expired_idempotency_keys, jitter_seconds=jitter_seconds)


@shared_task
def refill_spare_schemas() -> int:
    """In public, after a provisioning took a spare (and every 15 minutes): clone the
    template until the warm pool is full again (``tenants.schema_pool``)."""
    from tenants.schema_pool import spare_fill
    from tenants.services import template_state

    if template_state() != "ready":
        return 0  # migrate_platform brings the template up to date and refills
    return spare_fill()


@shared_task
def purge_consultant_entries() -> int:
    """Daily, in public: delete consultant entry tokens issued more than a day ago."""
    return entries_purge()
