"""Reviews over the API, and the requests for peer feedback addressed to me.

A review goes pending → self_submitted (the participant) → calibrated (their manager or
an org admin) → closed; once calibrated the participant may contest once and the manager
resolves the contest. Each step is an action on the review that calls the same service
as the review page, with the same permission function checked first (a 403 whatever was
sent) and the service's rules after (a 400 naming the field). Visibility is the review
page's: anything else is a 404."""

from __future__ import annotations

from functools import cached_property

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.serializers_people import refuse_input
from accounts.api.views import VisibleViewSet, api_router
from accounts.permissions import require
from reviews import permissions
from reviews.api.filters import PeerFeedbackRequestFilter, ReviewFilter
from reviews.api.selectors import peer_feedback_requests_for_api, reviews_for_api
from reviews.api.serializers import (
    CalibrationInputSerializer,
    ContestInputSerializer,
    PeerFeedbackAnswerInputSerializer,
    PeerFeedbackRequestInputSerializer,
    PeerFeedbackRequestSerializer,
    ResolveContestInputSerializer,
    ReviewSerializer,
    SelfReviewInputSerializer,
)
from reviews.models import PeerFeedbackRequest, Review
from reviews.selectors import review_settings
from reviews.services import (
    peer_feedback_answer,
    peer_feedback_request,
    review_calibrate,
    review_close,
    review_contest,
    review_resolve_contest,
    review_submit_self,
)


class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, VisibleViewSet):
    """Reviews you may see: your own, those of the people below you in the reporting lines
    or recorded with you as manager (all of them for org admins and consultants) — never a
    review of a private objective you may not see, unless you take part in it. A colleague
    asked for feedback sees the request (``peer-feedback-requests``), not the review.

    ``grades`` are shown only when the organisation lets review scores feed appraisals, or
    to the participant and whoever may calibrate the review or resolve its contest."""

    queryset = Review.objects.none()
    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter
    ordering_fields = ["id", "updated_at"]

    def visible_queryset(self, user):
        return reviews_for_api(user, settings=self.review_settings)

    @cached_property
    def review_settings(self):
        """Read once per request: the visibility (consultants) and the grades use it."""
        return review_settings()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["scores_feed_appraisal"] = self.review_settings.review_scores_feed_appraisal
        return context

    def _shown(self, review: Review) -> Response:
        review = self.get_queryset().get(pk=review.pk)
        return Response(ReviewSerializer(review, context=self.get_serializer_context()).data)

    def _act(self, request, *, allowed, refusal: str, serializer_class=None, call):
        review = self.get_object()
        require(allowed(request.user, review), refusal)
        if serializer_class is None:
            refuse_input(request)
            data = {}
        else:
            serializer = serializer_class(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        return review, call(review, data)

    @extend_schema(request=SelfReviewInputSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"], url_path="submit-self")
    def submit_self(self, request, pk=None):
        """The participant grades their objective (0.0–1.0) and reflects. Submitting again
        replaces the earlier submission (fields left out become empty) until the review is
        calibrated. End-of-cycle reviews also need ``problem``, ``information`` and ``answer``."""
        review, _result = self._act(
            request,
            allowed=permissions.can_submit_self_review,
            refusal=_("Only the participant can submit their self-review."),
            serializer_class=SelfReviewInputSerializer,
            call=lambda review, data: review_submit_self(review=review, actor=request.user, **data),
        )
        return self._shown(review)

    @extend_schema(request=CalibrationInputSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def calibrate(self, request, pk=None):
        """The participant's manager (anyone above them, or an org admin) sets the calibrated
        grade of a self-submitted review. A grade more than 0.1 away from the self score
        needs a ``comment`` that says why."""
        review, _result = self._act(
            request,
            allowed=permissions.can_calibrate_review,
            refusal=_("Only the participant's manager or an org admin can calibrate this review."),
            serializer_class=CalibrationInputSerializer,
            call=lambda review, data: review_calibrate(review=review, actor=request.user, **data),
        )
        return self._shown(review)

    @extend_schema(request=ContestInputSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def contest(self, request, pk=None):
        """The participant contests the calibration, once, saying why. The review cannot be
        closed until the contest is resolved."""
        review, _result = self._act(
            request,
            allowed=permissions.can_contest_review,
            refusal=_("Only the participant can contest the calibration of their review."),
            serializer_class=ContestInputSerializer,
            call=lambda review, data: review_contest(review=review, actor=request.user, **data),
        )
        return self._shown(review)

    @extend_schema(request=ResolveContestInputSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"], url_path="resolve-contest")
    def resolve_contest(self, request, pk=None):
        """The calibrator, the participant's manager or an org admin answers the contest,
        and may change the calibrated grade (``manager_score``)."""
        review, _result = self._act(
            request,
            allowed=permissions.can_resolve_contest,
            refusal=_("Only the participant's manager or an org admin can resolve this contest."),
            serializer_class=ResolveContestInputSerializer,
            call=lambda review, data: review_resolve_contest(review=review, actor=request.user, **data),
        )
        return self._shown(review)

    @extend_schema(request=None, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close a calibrated review (its contest, if any, resolved first). It is read-only
        from then on."""
        review, _result = self._act(
            request,
            allowed=permissions.can_close_review,
            refusal=_("Only the participant's manager or an org admin can close this review."),
            call=lambda review, data: review_close(review=review, actor=request.user),
        )
        return self._shown(review)

    @extend_schema(request=PeerFeedbackRequestInputSerializer, responses={201: PeerFeedbackRequestSerializer})
    @action(detail=True, methods=["post"], url_path="request-feedback")
    def request_feedback(self, request, pk=None):
        """The participant or their manager asks a colleague (active, not a viewer, not the
        participant) for feedback, once per colleague. The colleague is notified and
        answers through ``peer-feedback-requests``."""
        _review, asked = self._act(
            request,
            allowed=permissions.can_request_peer_feedback,
            refusal=_("Only the participant or their manager can ask for peer feedback."),
            serializer_class=PeerFeedbackRequestInputSerializer,
            call=lambda review, data: peer_feedback_request(review=review, actor=request.user, **data),
        )
        asked = PeerFeedbackRequest.objects.select_related(
            "review__objective", "review__participant", "review__review_cycle", "requested_by", "reviewer"
        ).get(pk=asked.pk)
        return Response(PeerFeedbackRequestSerializer(asked).data, status=status.HTTP_201_CREATED)


class PeerFeedbackRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, VisibleViewSet):
    """Requests for your feedback on a colleague's review (``answered=false``: still
    waiting for you). You see the request and its question, not the review itself."""

    queryset = PeerFeedbackRequest.objects.none()
    serializer_class = PeerFeedbackRequestSerializer
    filterset_class = PeerFeedbackRequestFilter
    ordering_fields = ["id", "requested_at"]

    def visible_queryset(self, user):
        return peer_feedback_requests_for_api(user)

    @extend_schema(request=PeerFeedbackAnswerInputSerializer, responses=PeerFeedbackRequestSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """Answer a request for your feedback, once, while the review is open."""
        asked = self.get_object()
        require(
            permissions.can_answer_peer_feedback(request.user, asked),
            _("Only the colleague who was asked can answer this request."),
        )
        data = PeerFeedbackAnswerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        peer_feedback_answer(request=asked, actor=request.user, answer=data.validated_data["answer"])
        return Response(PeerFeedbackRequestSerializer(self.get_queryset().get(pk=asked.pk)).data)


router = api_router()
router.register("reviews", ReviewViewSet, basename="api-review")
router.register("peer-feedback-requests", PeerFeedbackRequestViewSet, basename="api-peer-feedback-request")
urlpatterns = router.urls
