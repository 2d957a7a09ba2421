"""Structured logs: every line carries the organisation (schema) and the request id.

The request id lives in a context variable set by ``RequestIdMiddleware`` (first in MIDDLEWARE)
and, in a Celery worker, restored from the task's message header (``config.celery``), so a
request and the tasks it enqueued share one id. ``RequestContextFilter`` copies it, and the
connection's schema, onto each record as it reaches the handler; the formatters show them as
``[org req]`` (development) or as JSON keys (production). See docs/operations.md.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from django.core.signals import request_finished
from django_tenants.log import TenantContextFilter
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept only when it cannot break a log line or a header (no spaces, quotes, newlines).
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(value: str | None) -> str:
    """The caller's X-Request-ID when it is a sane token, else a fresh one."""
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


class RequestIdMiddleware:
    """Sets the request id for everything logged while the request runs and echoes it back.

    Placed before TenantMainMiddleware so tenant routing's own log lines carry it too; it never
    calls ``request.get_host()``, so it does not trip ALLOWED_HOSTS for the health endpoints.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        request_finished.connect(_forget_request_id, dispatch_uid="config.logging.forget_request_id")

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        # Not reset on the way out: Django logs "Not Found: …" / "Forbidden: …" after the
        # middleware chain has returned; the id is cleared when the response is closed.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


def _forget_request_id(**kwargs) -> None:
    request_id_var.set(None)


class RequestContextFilter(TenantContextFilter):
    """django-tenants' ``schema_name`` filter, plus ``organization`` (the schema of the
    connection: "public" for platform-level work) and ``request_id`` ("-" when none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            super().filter(record)
        except Exception:  # a log line must never fail because the connection is odd
            record.schema_name = "-"
            record.domain_url = None
        record.organization = record.schema_name
        record.request_id = request_id_var.get() or "-"
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: timestamp, level, logger, message, organization, request_id,
    then any ``extra=`` fields (the HTTP request object Django attaches is left out)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", ["levelname", "name", "message", "organization", "request_id"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault(
            "reserved_attrs", [*RESERVED_ATTRS, "taskName", "request", "schema_name", "domain_url"]
        )
        super().__init__(*args, **kwargs)
