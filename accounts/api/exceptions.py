"""One error envelope for every API error: ``{"detail": "...", "code": "...", "fields": {...}}``.

Services raise Django's ValidationError / PermissionDenied (the UI turns them into form
errors); here they become 400 / 403 with the same messages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.database_errors import CODE, DATABASE_ERRORS, api_message, database_unavailable, mark_logged


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _flatten(value)]
    return [str(detail)]


def _field_errors(detail) -> dict:
    """DRF's nested error detail as plain strings, keyed by field (nested for nested input)."""
    if isinstance(detail, dict):
        return {str(key): _field_errors(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [str(item) for item in detail]
        return [_field_errors(item) for item in detail]
    return [str(detail)]


def _from_django(exc: Exception) -> exceptions.APIException:
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {
                ("non_field_errors" if field == "__all__" else field): messages
                for field, messages in exc.message_dict.items()
            }
        else:
            detail = {"non_field_errors": exc.messages}
        return exceptions.ValidationError(detail)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    return exc


def api_exception_handler(exc, context):
    if isinstance(exc, DATABASE_ERRORS):  # database down or restarting: 503, not 500
        database_unavailable(context["request"], exc)
        return mark_logged(error_response(status.HTTP_503_SERVICE_UNAVAILABLE, api_message(), CODE))
    if isinstance(exc, (DjangoValidationError, DjangoPermissionDenied)):
        exc = _from_django(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_errors(exc.detail) if isinstance(exc.detail, dict) else {}
        non_field = fields.pop("non_field_errors", []) if isinstance(fields, dict) else []
        if not isinstance(exc.detail, dict):
            non_field = _flatten(exc.detail)
        messages = non_field or _flatten(fields)
        detail = (
            non_field[0] if non_field else _("Some fields are not valid: %(f)s.") % {"f": ", ".join(fields)}
        )
        if len(messages) == 1 and non_field:
            detail = messages[0]
        body = {"detail": detail, "code": "invalid", "fields": fields}
    elif isinstance(exc, Http404):
        body = {"detail": _("Not found."), "code": "not_found", "fields": {}}
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        body = {"detail": " ".join(_flatten(detail)), "code": code, "fields": {}}
    response.data = body
    return response


def error_response(status_code: int, detail: str, code: str) -> Response:
    return Response({"detail": detail, "code": code, "fields": {}}, status=status_code)


__all__ = ["api_exception_handler", "error_response", "status"]
