"""OpenAPI: every operation documents its error responses (the one envelope) next to its
success response, so integrators see 400/401/403/404/429 (and 415 for uploads) without reading
the code."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny

from accounts.api.serializers import ErrorSerializer

_DESCRIPTIONS = {
    "400": "The input is not valid; `fields` names each field with its messages. Nothing was changed.",
    "401": "No valid session or API token for this organisation.",
    "403": "Signed in, but not allowed to do this (role, object rule or a read-only token). Nothing changed.",
    "404": "No such object, or not visible to you.",
    "415": "The body's Content-Type is not one this operation accepts (see its request body).",
    "422": "The Idempotency-Key was already used for a different request.",
    "429": "Quota used up; retry after the number of seconds in the Retry-After header.",
}


class ApiAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        # Any operation can meet bad input (body, filters, cursor), a missing object and a quota.
        public = any(isinstance(p, AllowAny) for p in self.view.get_permissions())
        codes = ["400"] + ([] if public else ["401", "403"]) + ["404"]
        if getattr(self.view, "idempotent_create", False) and self.method == "POST":
            codes.append("422")
        # Uploads take multipart bodies; a body of another type is refused before anything else.
        if self.method in {"POST", "PUT", "PATCH"} and any(
            issubclass(parser, MultiPartParser) for parser in self.view.parser_classes
        ):
            codes.append("415")
        return [*codes, "429"]

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = _DESCRIPTIONS[code]
                responses[code] = response
        return responses
