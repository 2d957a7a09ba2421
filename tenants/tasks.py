from celery import shared_task

from accounts.tasks import clear_expired_sessions
from tenants.dispatch import dispatch_to_organizations


@shared_task
def dispatch_clear_expired_sessions(jitter_seconds: int = 300) -> int:
    """Daily, in public: each organisation clears its own expired sessions."""
    return dispatch_to_organizations(clear_expired_sessions, jitter_seconds=jitter_seconds)
