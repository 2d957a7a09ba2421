"""Sign-in brute-force protection (django-axes), see docs/security.md.

Axes records failed sign-ins in ``axes_accessattempt``, which exists in every schema (axes is
in SHARED_APPS and TENANT_APPS), so each organisation — and the public host — counts its own
failures: ``ceo@…`` locked out on acme is not locked out on globex.

Two limits, both within ``AXES_COOLOFF_TIME``:

- per account and network (``AXES_FAILURE_LIMIT``): one person's password guessed from one
  address;
- per network across accounts (``LOGIN_LOCKOUT_NETWORK_LIMIT``, higher): one address trying
  many accounts (password spraying).

A successful sign-in clears only that account's failures from that network, so knowing one
password never clears the count of guesses against other accounts."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import timedelta

from axes.attempts import get_cool_off_threshold
from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import ngettext


class LoginLockoutBackend(AxesStandaloneBackend):
    """Refuses sign-ins while locked out. ``authenticate()`` without a request (the test
    client's ``login``, the shell, management commands) is not a sign-in over the network and
    is not counted: axes' own backend would raise there instead. Every HTTP sign-in path (the
    sign-in forms, the admin, the API's HTTP Basic) passes its request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LoginLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with the two limits above (axes compares one count with one
    limit, so an address over the network limit reports the account limit as reached)."""

    def filter_user_attempts(self, request, credentials=None):
        username = get_client_username(request, credentials)
        by_network = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
        return [by_network.filter(username=username), by_network]

    def get_failures(self, request, credentials=None) -> int:
        account, network = (_failures(attempts) for attempts in self.get_user_attempts(request, credentials))
        if network >= settings.LOGIN_LOCKOUT_NETWORK_LIMIT:
            return max(account, get_failure_limit(request, credentials))
        return account

    def reset_user_attempts(self, request, credentials=None) -> int:
        account_attempts, _network = self.filter_user_attempts(request, credentials)
        count, _ = account_attempts.delete()
        return count


def _failures(attempts) -> int:
    return sum(attempts.values_list("failures_since_start", flat=True))


def lockout_username(request, credentials: dict | None) -> str | None:
    """The account a sign-in names: the form sends ``username``, the API's Basic ``email``.
    E-mail sign-ins are case-insensitive, so the count is too."""
    source = credentials if credentials else getattr(request, "data", None) or request.POST
    value = source.get("username") or source.get("email")
    if not value:
        return None
    return str(value).strip().lower()[:255]


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or — behind ``LOGIN_LOCKOUT_PROXY_COUNT`` trusted
    reverse proxies that append to X-Forwarded-For — the address the outermost one saw.
    Entries further left are written by the client and never trusted."""
    candidate = request.META.get("REMOTE_ADDR", "")
    proxies = settings.LOGIN_LOCKOUT_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


@dataclass(frozen=True)
class Lockout:
    per_account: bool  # False: the network is over its limit across accounts
    retry_after: int  # seconds

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))

    @property
    def message(self) -> str:
        if self.per_account:
            return ngettext(
                "Too many failed sign-ins for this account from your network. Try again in "
                "%(minutes)d minute, or reset your password.",
                "Too many failed sign-ins for this account from your network. Try again in "
                "%(minutes)d minutes, or reset your password.",
                self.minutes,
            ) % {"minutes": self.minutes}
        return ngettext(
            "Too many failed sign-ins from your network. Try again in %(minutes)d minute.",
            "Too many failed sign-ins from your network. Try again in %(minutes)d minutes.",
            self.minutes,
        ) % {"minutes": self.minutes}


def _seconds_until_below(rows, limit: int, cool_off: timedelta, now) -> int:
    """Seconds until the failures still within the cool-off drop below ``limit``, as the
    oldest ones expire (each row's failures expire together, at its latest attempt)."""
    total = sum(failures for _time, failures in rows)
    for attempt_time, failures in sorted(rows):
        if total < limit:
            break
        total -= failures
        if total < limit:
            return max(1, math.ceil((attempt_time + cool_off - now).total_seconds()))
    return 0


def current_lockout(request, credentials: dict | None) -> Lockout:
    """Why, and for how long, the request's sign-in is refused (called once it is)."""
    handler = LoginLockoutHandler()
    account, network = handler.filter_user_attempts(request, credentials)
    threshold = get_cool_off_threshold(request)
    cool_off = get_cool_off(request)
    now = timezone.now()

    def rows(attempts):
        return list(
            attempts.filter(attempt_time__gte=threshold).values_list("attempt_time", "failures_since_start")
        )

    account_wait = _seconds_until_below(rows(account), get_failure_limit(request, credentials), cool_off, now)
    network_wait = _seconds_until_below(rows(network), settings.LOGIN_LOCKOUT_NETWORK_LIMIT, cool_off, now)
    if account_wait >= network_wait and account_wait:
        return Lockout(per_account=True, retry_after=account_wait)
    if network_wait:
        return Lockout(per_account=False, retry_after=network_wait)
    return Lockout(per_account=True, retry_after=int(cool_off.total_seconds()))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in page again (any of them: the organisation's, the
    platform's, the admin's), its form showing why, with 429 and Retry-After."""
    lockout = current_lockout(request, credentials if isinstance(credentials, dict) else None)
    form = None
    if isinstance(original_response, TemplateResponse) and original_response.context_data:
        form = original_response.context_data.get("form")
    if isinstance(form, BaseForm) and form.is_bound:
        form.errors.pop(NON_FIELD_ERRORS, None)
        form.add_error(None, ValidationError(lockout.message, code="locked_out"))
        response = TemplateResponse(
            request, original_response.template_name, original_response.context_data, status=429
        )
        response.render()
    else:
        response = HttpResponse(lockout.message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(lockout.retry_after)
    return response
