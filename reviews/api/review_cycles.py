"""Review cycles over the API: the organisation's review rhythm (check-in reviews,
calibrations, end-of-cycle reviews). Opening one creates a review per objective; closing
it closes every review in it. Same services and rules as the settings pages."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.serializers_people import refuse_input
from accounts.api.views import VisibleViewSet, api_router
from accounts.permissions import require
from reviews import permissions
from reviews.api.filters import ReviewCycleFilter
from reviews.api.selectors import review_cycles_for_api
from reviews.api.serializers import ReviewCycleSerializer
from reviews.models import ReviewCycle
from reviews.services import review_cycle_close, review_cycle_open


class ReviewCycleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, VisibleViewSet):
    """Review cycles. Org admins and consultants see all of them (scheduled ones too) and
    open or close them; everyone else sees the review cycles holding a review they can see
    (their own, their reports')."""

    queryset = ReviewCycle.objects.none()
    serializer_class = ReviewCycleSerializer
    filterset_class = ReviewCycleFilter
    ordering_fields = ["id", "opens_on", "due_on"]

    def visible_queryset(self, user):
        return review_cycles_for_api(user)

    def _shown(self, review_cycle: ReviewCycle) -> Response:
        return Response(ReviewCycleSerializer(self.get_queryset().get(pk=review_cycle.pk)).data)

    @extend_schema(request=None, responses=ReviewCycleSerializer)
    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        """Open the review cycle (org admins, consultants): one review per objective of its
        OKR cycle whose owner takes part, pre-filled from the current progress. Opening
        again only adds reviews for objectives that have none yet. A closed review cycle
        cannot be opened again."""
        review_cycle = self.get_object()
        require(
            permissions.can_manage_review_cycles(request.user),
            _("Only org admins and consultants open review cycles."),
        )
        refuse_input(request)
        return self._shown(review_cycle_open(review_cycle=review_cycle, actor=request.user))

    @extend_schema(request=None, responses=ReviewCycleSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the review cycle and every review in it, as they are (org admins,
        consultants). Cannot be undone; closing a closed one changes nothing."""
        review_cycle = self.get_object()
        require(
            permissions.can_manage_review_cycles(request.user),
            _("Only org admins and consultants close review cycles."),
        )
        refuse_input(request)
        return self._shown(review_cycle_close(review_cycle=review_cycle, actor=request.user))


router = api_router()
router.register("review-cycles", ReviewCycleViewSet, basename="api-review-cycle")
urlpatterns = router.urls
