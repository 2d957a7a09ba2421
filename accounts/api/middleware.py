"""PostgreSQL cannot store or compare NUL characters: a NUL in the query string or path of
an API call would surface as a database error (a 500). Refuse it up front with the envelope."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _


class RejectNulBytesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and (
            "\x00" in request.path
            or "%00" in request.META.get("QUERY_STRING", "")
            or "\x00" in str(request.GET)
        ):
            return JsonResponse(
                {"detail": _("NUL characters are not allowed in URLs."), "code": "invalid", "fields": {}},
                status=400,
            )
        return self.get_response(request)
