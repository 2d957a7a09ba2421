"""Base for the API's viewsets: lists and lookups go through a selector that applies the
person's visibility (anything else is 404), ids in paths are numeric (anything else is 404
before the database sees it)."""

from __future__ import annotations

from rest_framework import routers, viewsets

from accounts.selectors import cache_report_ids_for_request


def api_router() -> routers.SimpleRouter:
    """Routes with ``<int:pk>`` lookups (documented as integers; anything else is 404)."""
    return routers.SimpleRouter(use_regex_path=False)


class VisibleViewSet(viewsets.GenericViewSet):
    """Subclasses set ``queryset = Model.objects.none()`` (for the schema) and implement
    ``visible_queryset(user)`` with the selector that shapes the rows (no N+1)."""

    lookup_value_converter = "int"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # RequestScopedReportsMiddleware runs before DRF authenticates a token: read the
        # person's reporting lines once per request here too, not once per row checked.
        if request.user.is_authenticated:
            cache_report_ids_for_request(request.user)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return self.visible_queryset(self.request.user)
