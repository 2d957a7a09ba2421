"""``Idempotency-Key`` on POST: the first successful response is stored with the key (for
the person sending it); a repeat returns that response and creates nothing new. The
record is written in the same transaction as the created row, so a crash between the two
cannot happen, and two concurrent requests with one key create one row."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import wraps

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response

from accounts.api.exceptions import error_response
from accounts.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# How long a key is remembered: retries come within minutes; a day leaves room for outages.
KEEP_FOR = timedelta(days=1)


def _request_digest(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(record: IdempotencyRecord, digest: str) -> Response:
    if record.request_digest != digest:
        return error_response(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            _("This Idempotency-Key was already used for a different request; use a new key."),
            "idempotency_key_reused",
        )
    return Response(record.body, status=record.status_code, headers={"Idempotent-Replayed": "true"})


def idempotent(handler):
    """Decorate a view's ``create``/``post``; without the header it changes nothing."""

    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not key.strip() or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            return error_response(
                status.HTTP_400_BAD_REQUEST,
                _("Idempotency-Key must be 1 to %(n)d printable characters, e.g. a UUID.")
                % {"n": MAX_KEY_LENGTH},
                "invalid_idempotency_key",
            )
        digest = _request_digest(request)
        existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if existing is not None and existing.created_at < timezone.now() - KEEP_FOR:
            existing.delete()  # expired: the key starts afresh
            existing = None
        if existing is not None:
            return _replay(existing, digest)
        try:
            with transaction.atomic():
                response = handler(view, request, *args, **kwargs)
                if status.is_success(response.status_code):
                    IdempotencyRecord.objects.create(
                        user=request.user, key=key, method=request.method, path=request.path[:300],
                        request_digest=digest, status_code=response.status_code, body=response.data,
                    )  # fmt: skip
        except IntegrityError:
            # The same key was stored by a concurrent request first: this one's work was
            # rolled back; answer with the stored response.
            existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
            if existing is None:
                raise
            return _replay(existing, digest)
        return response

    return wrapper


def idempotency_records_expire(*, now=None) -> int:
    """Delete the records older than KEEP_FOR (daily, per organisation)."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=(now or timezone.now()) - KEEP_FOR).delete()
    return deleted
