"""Absolute addresses of the public host and of each organisation's host."""

from django.conf import settings


def host_for(slug: str | None) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}" if slug else settings.BASE_DOMAIN


def site_url(slug: str | None, path: str = "/") -> str:
    """``<scheme>://<slug>.<BASE_DOMAIN>[:port]<path>``; ``slug=None`` is the public host."""
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return f"{settings.SITE_SCHEME}://{host_for(slug)}{port}{path}"
