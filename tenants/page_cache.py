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
Only fragments are cached, never a whole page: the page around them (CSRF token, CSP nonce,
messages, the inbox count) is rendered for each request, and a fragment holding a CSRF token
or a nonce is refused. If the cache (Redis) is down, the page is rendered as if nothing was
cached."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from tenants.data_version import data_version

logger = logging.getLogger(__name__)

# Never cached: text that only holds for the request that rendered it.
PER_REQUEST_MARKERS = ("csrfmiddlewaretoken", "nonce=")


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
            str(data_version()),
            str(request.user.pk),
            translation.get_language() or "",
            timezone.get_current_timezone_name(),
            organization_zone,
            path,
        )
    )


def cached_text(request, name: str, render: Callable[[], str], vary: tuple[str, ...] = ()) -> str:
    """Text ``name`` of this request's answer: from the cache, or ``render()`` (then kept for
    ``PAGE_CACHE_SECONDS``; 0 turns caching off)."""
    seconds = settings.PAGE_CACHE_SECONDS
    if not seconds or connection.schema_name == "public" or not request.user.is_authenticated:
        return render()
    key = fragment_key(request, name, vary)
    try:
        text = cache.get(key)
    except Exception as error:  # redis-py's ConnectionError/TimeoutError: render as if uncached
        logger.warning("Page cache unavailable (%s: %s)", type(error).__name__, error)
        return render()
    if text is None:
        text = str(render())
        if not any(marker in text for marker in PER_REQUEST_MARKERS):
            try:
                cache.set(key, text, seconds)
            except Exception as error:
                logger.warning("Page cache unavailable (%s: %s)", type(error).__name__, error)
    return text


def cached_fragment(request, name: str, template_name: str, context: Callable[[], dict]) -> SafeString:
    """HTML fragment ``name``: ``template_name`` rendered with ``context()`` (only called on a
    miss) plus ``request`` and ``user`` — not the context processors, which serve the page
    around the fragment."""

    def render() -> str:
        return get_template(template_name).render({**context(), "request": request, "user": request.user})

    # The template's own output (escaped by it), as rendered or as cached from that render.
    return mark_safe(cached_text(request, name, render))  # noqa: S308
