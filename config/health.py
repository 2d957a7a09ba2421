"""Liveness (/healthz) and readiness (/readyz) for load balancers and orchestrators.

Served by a middleware placed before TenantMainMiddleware, so they answer on any host (an
unknown one, or the bare IP a load balancer probes) without tenant routing, sessions, CSRF or
ALLOWED_HOSTS (``request.get_host()`` is never called). Bodies name the failed check and a
short reason, never a traceback, a DSN or a password; the details go to the log.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import psycopg
import redis
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2
LIVENESS_PATHS = frozenset({"/healthz", "/healthz/"})
READINESS_PATHS = frozenset({"/readyz", "/readyz/"})


def _reason(exc: BaseException) -> str:
    """A short, secret-free reason: the exception class plus what kind of failure it was."""
    text = str(exc).lower()
    if isinstance(exc, TimeoutError | socket.timeout | redis.TimeoutError) or "timeout" in text:
        kind = "timed out"
    elif "refused" in text:
        kind = "connection refused"
    elif "password" in text or "authentication" in text:
        kind = "authentication failed"
    elif "does not exist" in text:
        kind = "not found"
    else:
        return f"unavailable: {type(exc).__name__}"
    return f"unavailable: {type(exc).__name__} ({kind})"


def check_database(connection: BaseDatabaseWrapper | None = None) -> str:
    """``SELECT 1`` over a fresh connection with the app's settings and a 2 s connect and
    statement timeout, so a hung or unreachable server cannot hold the probe."""
    connection = connection or connections["default"]
    params = connection.get_connection_params()
    params["connect_timeout"] = CHECK_TIMEOUT_SECONDS
    params["options"] = f"{params.get('options', '')} -c statement_timeout={CHECK_TIMEOUT_SECONDS * 1000}"
    try:
        with psycopg.connect(**params) as raw, raw.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not ready", reported below
        logger.warning("Readiness: database check failed: %s", _reason(exc), exc_info=True)
        return _reason(exc)
    return "ok"


def check_broker(url: str | None = None) -> str:
    """PING the Celery broker (Redis) with a 2 s connect and read timeout."""
    url = url or settings.CELERY_BROKER_URL
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # any failure means "not ready", reported below
        logger.warning("Readiness: broker check failed: %s", _reason(exc), exc_info=True)
        return _reason(exc)
    return "ok"


def _json(request: HttpRequest, body: dict, status: int = 200) -> HttpResponse:
    response = JsonResponse(body, status=status)
    if request.method == "HEAD":
        response.content = b""
    response["Cache-Control"] = "no-store"
    return response


def healthz(request: HttpRequest) -> HttpResponse:
    return _json(request, {"status": "ok"})


def readyz(request: HttpRequest) -> HttpResponse:
    checks = {"database": check_database(), "broker": check_broker()}
    if all(result == "ok" for result in checks.values()):
        return _json(request, {"status": "ready", "checks": checks})
    return _json(request, {"status": "unavailable", "checks": checks}, status=503)


class HealthCheckMiddleware:
    """Answers GET/HEAD /healthz and /readyz before tenant routing; everything else passes on."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            if request.path_info in LIVENESS_PATHS:
                return healthz(request)
            if request.path_info in READINESS_PATHS:
                return readyz(request)
        return self.get_response(request)
