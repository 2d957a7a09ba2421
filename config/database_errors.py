"""PostgreSQL down or restarting: a clean 503 instead of a 500, and a fresh connection next time.

While the database restarts (a failover, ``pg_ctl restart``, a maintenance window), every query
raises ``django.db.OperationalError`` or ``InterfaceError``. ``DatabaseUnavailableMiddleware``
turns those into ``503 Service Unavailable`` with ``Retry-After``: a static page on the web
(``templates/503.html``, rendered without a request, so no context processor queries the
database) and the API's error envelope (``code: "service_unavailable"``) under ``/api/``.
The DRF exception handler (``accounts.api.exceptions``) answers API views the same way.

Each such request logs one ERROR line (the request id is added by ``config.logging``), never a
traceback to the user, and closes the broken connection so that the next request connects
again: the web processes recover on their own once PostgreSQL is back (docs/operations.md).

Where the error is caught:

- in tenant routing (``TenantMainMiddleware``, the first query of every request): Django wraps
  each middleware in ``convert_exception_to_response``, which would turn it into a 500 before it
  reaches us, so this middleware calls the tenant middleware directly (the wrapper's
  ``__wrapped__``) and converts every other exception exactly as Django's wrapper would;
- in a view or while rendering its template: ``process_exception``;
- anywhere else further in (a later middleware, the session save): Django has already made a 500
  and logged it with its traceback; the ``got_request_exception`` signal notes the cause on the
  request and the 500 is replaced by the same 503 on the way out.
"""

from __future__ import annotations

import contextlib
import logging
import sys

from django.core.handlers.exception import response_for_exception
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5
API_PREFIX = "/api/"
CODE = "service_unavailable"
_CAUSE = "_database_unavailable_cause"
_LOGGED = "_database_unavailable_logged"


def api_message() -> str:
    return _("The service is briefly unavailable. Try again in a few seconds.")


def _reason(exc: BaseException) -> str:
    """The exception class and the first line of its message (psycopg's are one line plus hints)."""
    first_line = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__


def close_broken_connections() -> None:
    """Close this thread's database connections that no longer answer (``SELECT 1``), so the
    next query connects anew. Django would also do it when the request finishes (its
    ``errors_occurred`` check) and CONN_HEALTH_CHECKS before the next use; doing it here keeps
    recovery independent of those settings."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            continue
        with contextlib.suppress(Exception):
            if not connection.is_usable():
                connection.close()


def database_unavailable(request: HttpRequest, exc: BaseException, *, log: bool = True) -> None:
    """What every 503 of this module does first: one ERROR line per request, then the broken
    connection is dropped."""
    if log and not getattr(request, _LOGGED, False):
        logger.error(
            "Database unavailable during %s %s (answered 503): %s",
            request.method, request.path, _reason(exc),
        )  # fmt: skip
    setattr(request, _LOGGED, True)
    close_broken_connections()


def mark_logged(response: HttpResponse) -> HttpResponse:
    """Django logs every 5xx response ("Service Unavailable: /path"); ours was logged already,
    with its cause, so that second line is left out."""
    response._has_been_logged = True
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def unavailable_response(request: HttpRequest, exc: BaseException, *, log: bool = True) -> HttpResponse:
    """503 for ``request``: the JSON envelope under /api/, else the static page, in the
    language the browser asks for (no database is needed to choose it)."""
    database_unavailable(request, exc, log=log)
    with translation.override(translation.get_language_from_request(request)):
        if request.path.startswith(API_PREFIX):
            response = JsonResponse({"detail": api_message(), "code": CODE, "fields": {}}, status=503)
        else:
            html = render_to_string(
                "503.html",
                {"retry_after": RETRY_AFTER_SECONDS, "language": translation.get_language()},
            )
            response = HttpResponse(html, status=503, content_type="text/html; charset=utf-8")
            response["Content-Language"] = translation.get_language()
    return mark_logged(response)


def _note_database_error(sender, request=None, **kwargs) -> None:
    """``got_request_exception`` fires inside Django's ``except`` block: remember a database
    error on the request so that the 500 made from it becomes a 503 on the way out."""
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, DATABASE_ERRORS):
        setattr(request, _CAUSE, exc)


class DatabaseUnavailableMiddleware:
    """Place right after ``config.health.HealthCheckMiddleware`` and before
    ``TenantMainMiddleware`` (/readyz reports the database itself)."""

    def __init__(self, get_response):
        # Undo Django's convert_exception_to_response around the next middleware (tenant
        # routing), so its database errors reach us; __call__ converts the rest as it would.
        self.get_response = getattr(get_response, "__wrapped__", get_response)
        got_request_exception.connect(_note_database_error, dispatch_uid="config.database_errors.note")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        except DATABASE_ERRORS as exc:
            return unavailable_response(request, exc)
        except Exception as exc:  # what Django's own wrapper would have done with it
            return response_for_exception(request, exc)
        cause = getattr(request, _CAUSE, None)
        if cause is not None and response.status_code == 500:
            # Django has logged this one as "Internal Server Error", with its traceback.
            return unavailable_response(request, cause, log=False)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_ERRORS):
            return unavailable_response(request, exception)
        return None
