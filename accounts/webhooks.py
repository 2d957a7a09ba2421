"""Webhooks: org admins register endpoints (URL, secret, events); services emit events,
each becoming one ``WebhookDelivery`` per subscribed endpoint, written in the caller's
transaction and sent by Celery after commit (``accounts.webhooks_delivery``).

Payloads are small — ids and key fields, no free text (check-in notes, review
reflections, root causes): receivers fetch details through the API. Endpoints are
registered by org admins, who see everything in the organisation, so a payload may name
any objective, private ones included. See docs/webhooks.md.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import secrets
import socket
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User, WebhookDelivery, WebhookEndpoint
from accounts.permissions import can_manage_webhooks, require
from config.tasks_enqueue import enqueue_each_on_commit

logger = logging.getLogger(__name__)

EVENTS: tuple[str, ...] = tuple(WebhookEndpoint.Event.values)
# Sent by "send test" only, to one endpoint, whatever it subscribed to.
PING = "ping"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret
MAX_ENDPOINTS = 20

_url_validator = URLValidator(
    schemes=["http", "https"],
    message=gettext_lazy("Give the endpoint's full address, starting with https:// or http://."),
)


# --- SSRF guard ------------------------------------------------------------------------


class TargetRefusedError(ValidationError):
    """The target resolves to an address webhooks may not reach (loopback, private …)."""


def address_forbidden(address: str) -> bool:
    """Whether webhooks must not connect to ``address`` (an IP literal): loopback,
    private, link-local, multicast, reserved, unspecified or otherwise not global,
    for IPv4 and IPv6 alike (an IPv4-mapped IPv6 address is judged as its IPv4)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def private_targets_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", False))


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (a seam for tests)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def check_target(url: str) -> None:
    """Refuse a URL webhooks must not call: not http(s), or (unless
    ``WEBHOOKS_ALLOW_PRIVATE_TARGETS``) a host that resolves to any internal address.
    Run at registration; every delivery checks the address it actually connects to."""
    try:
        _url_validator(url)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except (ValidationError, ValueError) as error:
        message = error.messages[0] if isinstance(error, ValidationError) else str(error)
        raise ValidationError({"url": [message]}) from None
    if private_targets_allowed():
        return
    host = parts.hostname or ""
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        raise ValidationError(
            {"url": [_("The host “%(host)s” could not be found.") % {"host": host}]}
        ) from None
    refused = [address for address in addresses if address_forbidden(address)]
    if refused or not addresses:
        raise TargetRefusedError(
            {
                "url": [
                    _(
                        "“%(host)s” points to an internal address (%(address)s); webhooks can only "
                        "call public addresses."
                    )
                    % {"host": host, "address": (refused or ["?"])[0]}
                ]
            }
        )


# --- endpoints -------------------------------------------------------------------------


class CreatedEndpoint(NamedTuple):
    endpoint: WebhookEndpoint
    secret: str  # shown once, at creation (and at each rotation)


def _require_admin(actor: User) -> None:
    require(can_manage_webhooks(actor), _("Only org admins manage webhooks."))


def _clean_events(events: Iterable[str] | None) -> list[str]:
    chosen = set(events or [])
    unknown = sorted(e for e in chosen if e not in EVENTS)
    if unknown:
        raise ValidationError(
            {
                "events": [
                    _("Unknown event: %(events)s. Choose from %(choices)s.")
                    % {"events": ", ".join(map(str, unknown)), "choices": ", ".join(EVENTS)}
                ]
            }
        )
    if not chosen:
        raise ValidationError({"events": [_("Choose at least one event.")]})
    return [event for event in EVENTS if event in chosen]


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": [_("Give the endpoint's address.")]})
    if len(url) > WebhookEndpoint._meta.get_field("url").max_length:
        raise ValidationError({"url": [_("The address is too long (500 characters at most).")]})
    check_target(url)
    return url


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > WebhookEndpoint._meta.get_field("description").max_length:
        raise ValidationError({"description": [_("Keep the description to 200 characters.")]})
    return description


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


@transaction.atomic
def webhook_endpoint_create(
    *, actor: User, url: str, events: Iterable[str], description: str = ""
) -> CreatedEndpoint:
    """Register an endpoint; returns it with its signing secret (shown once)."""
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    cleaned = {}
    for field, clean, value in (
        ("url", _clean_url, url),
        ("events", _clean_events, events),
        ("description", _clean_description, description),
    ):
        try:
            cleaned[field] = clean(value)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    if WebhookEndpoint.objects.count() >= MAX_ENDPOINTS:
        raise ValidationError(
            _("This organisation has %(n)d webhook endpoints, the most allowed; delete one first.")
            % {"n": MAX_ENDPOINTS}
        )
    secret = new_secret()
    endpoint = WebhookEndpoint(**cleaned, secret=secret, created_by=actor)
    endpoint.full_clean()
    endpoint.save()
    logger.info("webhook endpoint %s registered by %s", endpoint.pk, actor.pk)
    return CreatedEndpoint(endpoint=endpoint, secret=secret)


def _locked(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)


@transaction.atomic
def webhook_endpoint_update(
    *,
    actor: User,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
    now: datetime | None = None,
) -> WebhookEndpoint:
    """Change what is given (None: unchanged). Turning an endpoint on clears its
    disabled and failing state; turning it off records who did."""
    _require_admin(actor)
    endpoint = _locked(endpoint)
    errors: dict[str, list[str]] = {}
    if url is not None and (url or "").strip() != endpoint.url:
        try:
            endpoint.url = _clean_url(url)
        except ValidationError as error:
            errors.update(error.message_dict)
    if events is not None:
        try:
            endpoint.events = _clean_events(events)
        except ValidationError as error:
            errors.update(error.message_dict)
    if description is not None:
        try:
            endpoint.description = _clean_description(description)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    if is_active is True and not endpoint.is_active:
        endpoint.is_active = True
        endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since = None, "", None
    elif is_active is False and endpoint.is_active:
        endpoint.is_active, endpoint.disabled_at = False, now or timezone.now()
        endpoint.disabled_reason = (_("Turned off by %(name)s.") % {"name": actor.get_full_name()})[:200]
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, actor: User, endpoint: WebhookEndpoint) -> CreatedEndpoint:
    """A new secret, valid at once (every later attempt is signed with it); the old one
    stops verifying. Returns the new secret (shown once)."""
    _require_admin(actor)
    endpoint = _locked(endpoint)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])
    logger.info("webhook endpoint %s secret rotated by %s", endpoint.pk, actor.pk)
    return CreatedEndpoint(endpoint=endpoint, secret=endpoint.secret)


@transaction.atomic
def webhook_endpoint_delete(*, actor: User, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint, its secret and its delivery log. Queued attempts find no
    row and stop. (To pause an endpoint and keep its log, turn it off instead.)"""
    _require_admin(actor)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
    logger.info("webhook endpoint %s deleted by %s", endpoint.pk, actor.pk)


@transaction.atomic
def webhook_endpoint_test(*, actor: User, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a ``ping`` event to this endpoint (also when it is turned off), attempted
    once: its outcome shows in the endpoint's deliveries."""
    _require_admin(actor)
    endpoint = _locked(endpoint)
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=PING,
        event_id=uuid.uuid4(),
        payload={"message": "Test event sent from the webhook settings.", "sent_by": actor.pk},
        created_at=now,
        next_attempt_at=now,
    )
    enqueue_after_commit([delivery.pk])
    return delivery


# --- emitting ----------------------------------------------------------------------------


def enqueue_after_commit(delivery_ids: list[int]) -> None:
    """Send the deliveries' first attempts once the transaction commits, carrying this
    schema explicitly (never the connection's schema at commit time). A broker error
    is logged as one warning, not raised: the caller's change is committed already."""
    from accounts.tasks import deliver_webhook  # tasks import the delivery code

    enqueue_each_on_commit(
        deliver_webhook, [{"delivery_id": delivery_id, "attempt": 1} for delivery_id in delivery_ids],
        later="the stranded-webhook sweep (every 10 minutes)",
    )  # fmt: skip


def _json_safe(payload: dict) -> dict:
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def webhook_emit_many(
    event: str, payloads: list[dict], *, now: datetime | None = None
) -> list[WebhookDelivery]:
    """Emit ``event`` once per payload: one delivery per active endpoint subscribed to
    it (all with the event's id), sent after commit. One query when nobody listens."""
    return webhook_emit_events([(event, payload) for payload in payloads], now=now)


def webhook_emit_events(
    events: list[tuple[str, dict]], *, now: datetime | None = None
) -> list[WebhookDelivery]:
    """Emit each (event, payload) in order: one delivery per active endpoint subscribed to its
    event (all with the event's id), sent after commit. One query for the subscribers of all
    of them, so a change that raises several events asks once."""
    names = {event for event, _ in events}
    if unknown := names - set(EVENTS):
        raise ValueError(f"unknown webhook event {sorted(unknown)[0]!r}")
    if not events:
        return []
    endpoints = _subscribers(sorted(names))
    if not endpoints:
        return []
    now = now or timezone.now()
    deliveries = []
    for event, payload in events:
        endpoint_ids = [pk for pk, subscribed in endpoints if event in subscribed]
        if not endpoint_ids:
            continue
        event_id, data = uuid.uuid4(), _json_safe(payload)
        deliveries += [
            WebhookDelivery(
                endpoint_id=endpoint_id,
                event=event,
                event_id=event_id,
                payload=data,
                created_at=now,
                next_attempt_at=now,
            )
            for endpoint_id in endpoint_ids
        ]
    WebhookDelivery.objects.bulk_create(deliveries)
    enqueue_after_commit([delivery.pk for delivery in deliveries])
    return deliveries


def _subscribers(events: list[str]) -> list[tuple[int, list[str]]]:
    """(id, events) of the active endpoints subscribed to any of ``events``, newest first: one
    statement written out (on every check-in; the ORM's JSON lookups cost more than the query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, events FROM {WebhookEndpoint._meta.db_table} WHERE is_active AND events ?| %s"  # noqa: S608
            " ORDER BY created_at DESC, id DESC",
            [events],
        )
        rows = cursor.fetchall()
    return [
        (pk, json.loads(subscribed) if isinstance(subscribed, str) else subscribed) for pk, subscribed in rows
    ]


def webhook_emit(event: str, payload: dict, *, now: datetime | None = None) -> list[WebhookDelivery]:
    """Emit one event (see ``webhook_emit_many``)."""
    return webhook_emit_many(event, [payload], now=now)


def webhook_subscribed(event: str) -> bool:
    """Whether any active endpoint listens to ``event`` (for callers that would need
    extra work to build payloads, e.g. the bulk recalculation)."""
    return bool(_subscribers([event]))
