"""Record what happens to organisations (``PlatformEvent``): every service on the public
side calls ``event_record``, so the admin, the portal and the commands leave one trail."""

from __future__ import annotations

from tenants.models import Organization, PlatformEvent


def actor_label(actor) -> str:
    """An e-mail address for a public or tenant user, else ``system`` (or the text given)."""
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return getattr(actor, "email", "") or "system"


def event_record(
    action: str,
    *,
    organization: Organization | None,
    actor=None,
    consultant=None,
    ip: str | None = None,
    **detail,
) -> PlatformEvent:
    """Write one event. Call it inside the service's transaction, so that the event and
    the change it records are written (or rolled back) together."""
    return PlatformEvent.objects.create(
        action=action,
        organization=organization,
        organization_slug=organization.slug if organization is not None else "",
        actor_email=actor_label(actor),
        consultant=consultant,
        ip=ip,
        detail=detail,
    )


def client_ip(request) -> str | None:
    """The caller's address as Django sees it (a proxy in front sets REMOTE_ADDR)."""
    return request.META.get("REMOTE_ADDR") or None
