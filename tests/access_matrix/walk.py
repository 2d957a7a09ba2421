"""Every route of the two URLconfs, found by walking their resolvers."""

from __future__ import annotations

import re

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def routes(urlconf: str) -> list[str]:
    """Route patterns (as written, e.g. ``objectives/<int:pk>/``) in URL order, once each."""
    seen: dict[str, None] = {}
    for pattern in _walk(get_resolver(urlconf).url_patterns):
        seen.setdefault(pattern, None)
    return list(seen)


def tenant_routes() -> list[str]:
    return routes(settings.ROOT_URLCONF)


def public_routes() -> list[str]:
    return routes(settings.PUBLIC_SCHEMA_URLCONF)


PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def params(pattern: str) -> list[str]:
    return [name for _conv, name in PARAM.findall(pattern)]


def fill(pattern: str, values: dict[str, object]) -> str:
    """The URL of ``pattern`` with its parameters filled from ``values``."""
    assert "^" not in pattern, f"regex route {pattern} needs its own URL"
    assert "(?P" not in pattern, f"regex route {pattern} needs its own URL"
    return "/" + PARAM.sub(lambda m: str(values[m.group(2)]), pattern)
