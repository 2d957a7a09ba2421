"""Reads on webhook endpoints and their deliveries (org admins only: callers check
``accounts.permissions.can_manage_webhooks``)."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from accounts.models import User, WebhookDelivery, WebhookEndpoint
from accounts.permissions import can_manage_webhooks

RECENT_DELIVERIES = 25


def webhook_endpoints_visible_to(user: User) -> QuerySet[WebhookEndpoint]:
    endpoints = WebhookEndpoint.objects.all()
    return endpoints if can_manage_webhooks(user) else endpoints.none()


def webhook_endpoints_for_settings() -> list[WebhookEndpoint]:
    """Every endpoint with its latest delivery's state, answer and time (one query)."""
    latest = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-id")
    return list(
        WebhookEndpoint.objects.annotate(
            last_state=Subquery(latest.values("state")[:1]),
            last_status=Subquery(latest.values("response_status")[:1]),
            last_attempt_at=Subquery(latest.values("last_attempt_at")[:1]),
        )
    )


def webhook_deliveries(endpoint_id: int) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first."""
    return WebhookDelivery.objects.filter(endpoint_id=endpoint_id).order_by("-id")


def recent_webhook_deliveries(endpoint_id: int, limit: int = RECENT_DELIVERIES) -> list[WebhookDelivery]:
    return list(webhook_deliveries(endpoint_id)[:limit])
