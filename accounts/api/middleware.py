"""Keeps every API answer in the JSON envelope, even where DRF is not involved:

- NUL characters in the path or query string are refused up front (PostgreSQL cannot
  compare them; they would surface as a database error);
- errors produced outside the API views (an unknown URL, the suspended-organisation page,
  an unexpected server error) are rewritten as ``{"detail", "code", "fields"}``."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _

API_PREFIX = "/api/v1/"


def _envelope(status: int) -> JsonResponse:
    known = {
        403: (_("This organisation is unavailable, or you are not allowed to do this."), "permission_denied"),
        404: (_("Not found."), "not_found"),
        405: (_("Method not allowed."), "method_not_allowed"),
    }
    detail, code = known.get(
        status, (_("Something went wrong on our side; it has been logged. Try again later."), "server_error")
    )
    if 400 <= status < 500 and status not in known:
        detail, code = _("The request could not be handled."), "error"
    return JsonResponse({"detail": detail, "code": code, "fields": {}}, status=status)


class ApiEnvelopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        # The path arrives decoded (a %00 in it is a NUL); the query string still encoded.
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return JsonResponse(
                {"detail": _("NUL characters are not allowed in URLs."), "code": "invalid", "fields": {}},
                status=400,
            )
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return _envelope(response.status_code)
        return response
