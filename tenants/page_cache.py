"""The costly part of an organisation's busiest pages and API lists, rendered once and served
from the cache until the organisation's data changes (ADR 0011).

A cached entry is keyed by everything the rendered text depends on:
- the organisation (the cache's key function adds the schema) and its data version, which the
  database moves at every commit that changes what the page shows (``tenants.data_version``),
  so a change is visible on the next request, whoever and whatever made it;
- the person (their role, teams and reports decide what they see), their language and time
  zone, and the organisation's time zone;
- the full address with its query (filters, page, the "back" address of check-in buttons,
  the API's links to the next page).

What moves with the clock alone ("last checked in 3 days ago", "check-in due" crossing its
threshold, the date a cycle starts) is at most ``PAGE_CACHE_SECONDS`` (60 s by default) old.

Two levels:
- ``cached_fragment``: the costly content of a page. A fragment holding a CSRF token or a nonce
  is refused.
- ``cached_page``: the whole page around such a fragment, keyed also by what the header shows
  from outside the organisation's data (the unread inbox count and logo, which the data version
  does not follow, and the organisation's name). It is stored with a random placeholder where
  the CSRF token was, and served with this request's token put in its place. A request that
  has messages to show, and a page with a CSP nonce, are never served from or kept in it.

If the cache (Redis) is down, the page is rendered as if nothing was cached."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from accounts.context_processors import request_header_state
from tenants.data_version import data_version

logger = logging.getLogger(__name__)

# Never cached: text that only holds for the request that rendered it (a whole page's CSRF
# token is put in afresh for each request, see ``cached_page``).
NONCE_MARKER = "nonce="
PER_REQUEST_MARKERS = ("csrfmiddlewaretoken", NONCE_MARKER)


def _request_data_version(request) -> int:
    """The data version, read once per GET/HEAD request (they write nothing, so the page and
    the fragments inside it are keyed alike); read afresh otherwise."""
    if request.method not in ("GET", "HEAD"):
        return data_version()
    version = getattr(request, "_data_version", None)
    if version is None:
        version = request._data_version = data_version()
    return version


def fragment_key(request, name: str, vary: tuple[str, ...] = ()) -> str:
    """The cache key of text ``name`` of this request's answer (see the module); ``vary``:
    anything else it depends on."""
    address = "\n".join((request.build_absolute_uri(), *vary))
    path = hashlib.sha256(address.encode()).hexdigest()[:32]
    organization_zone = getattr(connection.tenant, "timezone", "") or ""
    return ":".join(
        (
            "fragment",
            name,
            str(_request_data_version(request)),
            str(request.user.pk),
            translation.get_language() or "",
            timezone.get_current_timezone_name(),
            organization_zone,
            path,
        )
    )


def _caching(request) -> bool:
    return bool(
        settings.PAGE_CACHE_SECONDS and connection.schema_name != "public" and request.user.is_authenticated
    )


def _cache_get(key: str):
    """The entry, None on a miss; raises nothing: Redis down is logged and counts as a miss
    that is not to be stored (``False``)."""
    try:
        return cache.get(key)
    except Exception as error:  # redis-py's ConnectionError/TimeoutError: render as if uncached
        logger.warning("Page cache unavailable (%s: %s)", type(error).__name__, error)
        return False


def _cache_set(key: str, value) -> None:
    try:
        cache.set(key, value, settings.PAGE_CACHE_SECONDS)
    except Exception as error:
        logger.warning("Page cache unavailable (%s: %s)", type(error).__name__, error)


def cached_text(request, name: str, render: Callable[[], str], vary: tuple[str, ...] = ()) -> str:
    """Text ``name`` of this request's answer: from the cache, or ``render()`` (then kept for
    ``PAGE_CACHE_SECONDS``; 0 turns caching off)."""
    if not _caching(request):
        return render()
    key = fragment_key(request, name, vary)
    text = _cache_get(key)
    if text is False:
        return render()
    if text is None:
        text = str(render())
        if not any(marker in text for marker in PER_REQUEST_MARKERS):
            _cache_set(key, text)
    return text


def cached_fragment(request, name: str, template_name: str, context: Callable[[], dict]) -> SafeString:
    """HTML fragment ``name``: ``template_name`` rendered with ``context()`` (only called on a
    miss) plus ``request`` and ``user`` — not the context processors, which serve the page
    around the fragment."""

    def render() -> str:
        return get_template(template_name).render({**context(), "request": request, "user": request.user})

    # The template's own output (escaped by it), as rendered or as cached from that render.
    return mark_safe(cached_text(request, name, render))  # noqa: S308


def cached_page(
    request, name: str, template_name: str, content_template: str, context: Callable[[], dict]
) -> HttpResponse:
    """The whole page ``template_name`` (extending base.html, showing ``content``): from the
    cache with this request's CSRF token put in, or rendered and kept. Its ``content`` is the
    fragment ``name`` (``content_template`` with ``context()``, only called on a miss), cached
    on its own too: a new inbox item re-renders the page around it, not the content."""

    def page_context() -> dict:
        return {"content": cached_fragment(request, name, content_template, context)}

    if not _caching(request) or len(get_messages(request)):
        return render(request, template_name, page_context())
    unread, logo_sha256, _ = request_header_state(request)
    vary = (f"inbox={unread}", f"logo={logo_sha256}", f"organization={connection.tenant.name}")
    key = fragment_key(request, f"page-{name}", vary)
    entry = _cache_get(key)
    token = get_token(request)  # this request's (masked) token; the CSRF cookie is set as usual
    if entry:
        placeholder, html = entry
        return HttpResponse(html.replace(placeholder, token))
    response = render(request, template_name, {**page_context(), "csrf_token": token})
    html = response.content.decode()
    if entry is None and NONCE_MARKER not in html:
        placeholder = secrets.token_urlsafe(24)
        _cache_set(key, (placeholder, html.replace(token, placeholder)))
    return response
