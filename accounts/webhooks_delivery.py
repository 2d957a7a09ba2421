"""Sending webhook deliveries: signed JSON POSTs, the retry schedule, the 24-hour disable
rule and the notice to the org admins. Called by ``accounts.tasks.deliver_webhook``.

Each attempt is claimed first (``attempts`` moves from n-1 to n in one UPDATE), so a
message delivered twice by the broker (a countdown longer than Redis' visibility timeout,
a worker lost mid-task) never sends twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from accounts.models import User, WebhookDelivery, WebhookEndpoint
from accounts.notifications import notify, person_language
from accounts.webhooks import PING, address_forbidden, private_targets_allowed

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 10
EXCERPT_CHARS = 500
RETRY_CAP = timedelta(hours=1)
# Retries stop ~24 h after the first attempt; an endpoint failing for 24 h is turned off.
RETRY_WINDOW = timedelta(hours=24)
DISABLE_AFTER = timedelta(hours=24)
USER_AGENT = "OKR-Webhooks/1.0"


def retry_base_seconds() -> float:
    """The first retry's delay (doubling from there); a setting so a test can shorten it."""
    return float(getattr(settings, "WEBHOOK_RETRY_BASE_SECONDS", 30))


def retry_delay(failed_attempts: int, *, jitter: Callable[[], float] | None = None) -> timedelta:
    """Delay after the n-th failed attempt: base·2^(n-1), at most an hour, plus up to 10 %
    jitter so a receiver coming back is not hit by every retry at once."""
    seconds = min(retry_base_seconds() * 2 ** (max(failed_attempts, 1) - 1), RETRY_CAP.total_seconds())
    return timedelta(seconds=seconds * (1 + 0.1 * (jitter or random.random)()))


# --- signing and sending -----------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed with the secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def request_for(delivery: WebhookDelivery, *, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one attempt (signed at send time, with the current secret)."""
    tenant = getattr(connection, "tenant", None)
    envelope = {
        "id": str(delivery.event_id),
        "type": delivery.event,
        "created_at": delivery.created_at,
        "organization": getattr(tenant, "slug", connection.schema_name),
        "data": delivery.payload,
    }
    body = json.dumps(envelope, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-OKR-Event": delivery.event,
        "X-OKR-Delivery": str(delivery.pk),
        "X-OKR-Timestamp": str(timestamp),
        "X-OKR-Signature": signature(delivery.endpoint.secret, timestamp, body),
    }
    return body, headers


class DeliveryAttemptError(Exception):
    """No HTTP response: refused target, DNS, connection, TLS or timeout."""


@dataclass(frozen=True)
class Response:
    status: int
    excerpt: str


class _PeerRefusedError(Exception):
    pass


def _check_peer(sock) -> None:
    if private_targets_allowed():
        return
    address = sock.getpeername()[0]
    if address_forbidden(address):
        sock.close()
        raise _PeerRefusedError(address)


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _check_peer(sock)  # before the TLS handshake: nothing is sent to a refused address
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    """Checks the address each connection actually reached (DNS may have changed since
    registration, or answer differently now): the SSRF guard at delivery time."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def http_post(url: str, body: bytes, headers: dict[str, str]) -> Response:
    """POST without following redirects or environment proxies; reads at most a little
    of the answer."""
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment: it would bypass the guard
        adapter = _GuardedAdapter(max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        try:
            response = session.post(
                url, data=body, headers=headers, allow_redirects=False, stream=True,
                timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
            )  # fmt: skip
        except _PeerRefusedError as error:
            raise DeliveryAttemptError(
                _("Refused: the address %(address)s is internal.") % {"address": error.args[0]}
            ) from None
        except requests.RequestException as error:
            raise DeliveryAttemptError(str(error) or error.__class__.__name__) from error
        try:
            raw = response.raw.read(EXCERPT_CHARS * 4, decode_content=True) or b""
        except (requests.RequestException, OSError, ValueError):
            raw = b""
        finally:
            response.close()
    return Response(status=response.status_code, excerpt=raw.decode("utf-8", "replace")[:EXCERPT_CHARS])


# --- one attempt ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    state: str  # the delivery's state afterwards, or "skipped" when there was nothing to do
    retry_in: float | None = None  # seconds until the next attempt, if any


def _claim(delivery_id: int, attempt: int, now: datetime) -> WebhookDelivery | None:
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        attempts=attempt - 1,
        state__in=[WebhookDelivery.State.PENDING, WebhookDelivery.State.RETRYING],
    ).update(attempts=attempt, last_attempt_at=now)
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()


def webhook_delivery_attempt(
    *, delivery_id: int, attempt: int, now: datetime | None = None,
    send: Callable[[str, bytes, dict[str, str]], Response] = http_post,
) -> Attempt:  # fmt: skip
    """Make attempt number ``attempt`` of a delivery and record its outcome: 2xx is
    delivered; anything else is retried with backoff until ~24 h after the first attempt,
    then failed. Stale or repeated messages (already attempted, delivered, failed,
    deleted) do nothing."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, attempt, now)
    if delivery is None:
        logger.info("webhook delivery %s attempt %s: nothing to do", delivery_id, attempt)
        return Attempt("skipped")
    endpoint = delivery.endpoint
    if not endpoint.is_active and delivery.event != PING:
        _finish(delivery, state=WebhookDelivery.State.FAILED, error=_("The endpoint is turned off."))
        return Attempt(WebhookDelivery.State.FAILED)
    body, headers = request_for(delivery, now=now)
    started = time.monotonic()
    response, error = None, ""
    try:
        response = send(endpoint.url, body, headers)
    except DeliveryAttemptError as failure:
        error = str(failure)
    latency_ms = int((time.monotonic() - started) * 1000)
    outcome = {
        "response_status": response.status if response else None,
        "response_excerpt": response.excerpt if response else "",
        "latency_ms": latency_ms,
    }
    if response is not None and 200 <= response.status < 300:
        _finish(delivery, state=WebhookDelivery.State.DELIVERED, **outcome)
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        return Attempt(WebhookDelivery.State.DELIVERED)
    if response is not None:
        error = _("The receiver answered HTTP %(status)d.") % {"status": response.status}
        if 300 <= response.status < 400:
            error += " " + _("Redirects are not followed.")
    if delivery.event == PING:  # a test is attempted once and starts no failing clock
        _finish(delivery, state=WebhookDelivery.State.FAILED, error=error, **outcome)
        return Attempt(WebhookDelivery.State.FAILED)
    return _failed(delivery, endpoint, now=now, error=error, outcome=outcome)


def _finish(delivery: WebhookDelivery, *, state: str, error: str = "", **fields) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=state, error=error[:300], next_attempt_at=None, **fields
    )


def _failed(
    delivery: WebhookDelivery, endpoint: WebhookEndpoint, *, now: datetime, error: str, outcome: dict
) -> Attempt:
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        disabled = False
        if endpoint.is_active and endpoint.failing_since <= now - DISABLE_AFTER:
            _disable(endpoint, now=now)
            disabled = True
        deadline = max(delivery.created_at, endpoint.failing_since) + RETRY_WINDOW
        if disabled or not endpoint.is_active or now >= deadline:
            _finish(delivery, state=WebhookDelivery.State.FAILED, error=error, **outcome)
            return Attempt(WebhookDelivery.State.FAILED)
        next_at = min(now + retry_delay(delivery.attempts), deadline)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=WebhookDelivery.State.RETRYING, error=error[:300], next_attempt_at=next_at, **outcome
        )
    return Attempt(WebhookDelivery.State.RETRYING, retry_in=(next_at - now).total_seconds())


def _disable(endpoint: WebhookEndpoint, *, now: datetime) -> None:
    """Turn off an endpoint that has failed for 24 h and tell every org admin (inbox and
    e-mail), once."""
    endpoint.is_active, endpoint.disabled_at = False, now
    endpoint.disabled_reason = _("Every delivery failed for 24 hours.")[:200]
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    logger.warning(
        "webhook endpoint %s turned off after failing since %s", endpoint.pk, endpoint.failing_since
    )
    for admin in User.objects.filter(role=User.Role.ORG_ADMIN, is_active=True):
        with translation.override(person_language(admin)):
            notify(
                user=admin, kind="webhook_disabled", subject_key=f"webhook:{endpoint.pk}",
                period=now.isoformat()[:40],
                title=_("Webhook to %(url)s was turned off") % {"url": endpoint.url[:200]},
                body=_(
                    "Every delivery to it has failed since %(since)s UTC, so no more events are sent. "
                    "Fix the receiver, then turn the endpoint on again in the webhook settings."
                ) % {"since": endpoint.failing_since.strftime("%Y-%m-%d %H:%M")},
                link=f"/settings/webhooks/{endpoint.pk}/", now=now,
            )  # fmt: skip


# A delivery whose message never reached the broker (Redis down at commit) or was lost
# is sent again by the sweep once it is this late.
STRANDED_AFTER = timedelta(minutes=5)


def webhook_deliveries_resend_stranded(*, now: datetime | None = None) -> int:
    """Queue again every delivery that should have been attempted by now but was not: a
    first attempt never made, or a retry whose time passed long ago. The attempt number
    travels with the message, so one that was only late does nothing when it arrives."""
    from accounts.tasks import deliver_webhook  # tasks import the delivery code

    now = now or timezone.now()
    late = now - STRANDED_AFTER
    stranded = list(
        WebhookDelivery.objects.filter(
            Q(state=WebhookDelivery.State.PENDING, last_attempt_at__isnull=True, created_at__lt=late)
            | Q(state=WebhookDelivery.State.RETRYING, next_attempt_at__lt=late)
        ).values_list("pk", "attempts")[:1000]
    )
    schema = connection.schema_name
    for delivery_id, attempts in stranded:
        deliver_webhook.apply_async(
            kwargs={"delivery_id": delivery_id, "attempt": attempts + 1}, headers={"_schema_name": schema}
        )
    if stranded:
        logger.warning("%s: %d stranded webhook deliveries queued again", schema, len(stranded))
    return len(stranded)
