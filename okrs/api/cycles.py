"""Cycles (read only; organisation admins manage them in the settings pages)."""

from __future__ import annotations

from rest_framework import mixins

from accounts.api.views import VisibleViewSet, api_router
from okrs.api.filters import CycleFilter
from okrs.api.serializers import CycleSerializer
from okrs.models import Cycle
from okrs.selectors.cycles import cycles_for_picker


class CycleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, VisibleViewSet):
    """OKR cycles: the annual (strategic) cycles and the quarters (or custom periods) that
    are part of them. Everyone in the organisation sees every cycle."""

    queryset = Cycle.objects.none()
    serializer_class = CycleSerializer
    filterset_class = CycleFilter
    ordering_fields = ["id", "start_date"]

    def visible_queryset(self, user):
        return cycles_for_picker()


router = api_router()
router.register("cycles", CycleViewSet, basename="api-cycle")
urlpatterns = router.urls
