"""Alignment proposals (method §3, a two-way commitment): the owner of an objective
proposes the parent it contributes to; the parent's owner accepts, or declines saying
why. Through ``okrs.services.alignment``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.serializers import StrictInputSerializer
from accounts.api.views import VisibleViewSet, api_router
from accounts.models import User
from okrs.api.filters import AlignmentProposalFilter
from okrs.api.selectors import key_results_visible_to, proposals_visible_to
from okrs.api.serializers import AlignmentProposalSerializer, VisibleRelatedField
from okrs.models import AlignmentProposal, KeyResult, Objective
from okrs.selectors import objectives_visible_to
from okrs.services.alignment import (
    alignment_accept,
    alignment_decide_check,
    alignment_decline,
    alignment_propose,
    alignment_withdraw,
)

RESPONSE_MAX_LENGTH = 2000  # as the web forms


def _objectives(user: User):
    return objectives_visible_to(user).select_related("cycle", "owner")


class ProposalCreateSerializer(StrictInputSerializer):
    child = VisibleRelatedField(
        queryset=Objective.objects.all(),
        visible=_objectives,
        help_text="Your objective (one you may edit) that contributes.",
    )
    parent_objective = VisibleRelatedField(
        queryset=Objective.objects.all(), visible=_objectives, required=False, allow_null=True, default=None
    )
    parent_key_result = VisibleRelatedField(
        queryset=KeyResult.objects.all(),
        visible=key_results_visible_to,
        required=False,
        allow_null=True,
        default=None,
        help_text="Give either parent_objective or parent_key_result: of the same cycle or of the "
        "year it belongs to.",
    )
    message = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Why this contributes."
    )


class AcceptSerializer(StrictInputSerializer):
    response = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=RESPONSE_MAX_LENGTH
    )


class DeclineSerializer(StrictInputSerializer):
    response = serializers.CharField(
        allow_blank=True,
        max_length=RESPONSE_MAX_LENGTH,
        help_text="Why, so the owner can adjust the objective (required).",
    )


class AlignmentProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, VisibleViewSet):
    """Alignment proposals whose contributing objective you may see, or that you decide
    (you own the proposed parent), newest first. Accepted proposals set the objective's
    `parent_objective` / `parent_key_result`."""

    queryset = AlignmentProposal.objects.none()
    serializer_class = AlignmentProposalSerializer
    filterset_class = AlignmentProposalFilter
    ordering_fields = ["id", "created_at"]

    def visible_queryset(self, user):
        return proposals_visible_to(user)

    def _output(self, proposal: AlignmentProposal, code: int = status.HTTP_200_OK) -> Response:
        fresh = AlignmentProposal.objects.select_related("proposed_by", "decided_by").get(pk=proposal.pk)
        return Response(AlignmentProposalSerializer(fresh).data, status=code)

    @extend_schema(request=ProposalCreateSerializer, responses={201: AlignmentProposalSerializer})
    def create(self, request):
        """Propose that an objective you may edit contributes to a parent objective or key
        result. When you may decide for the parent yourself (its owner, or an org admin) it
        is accepted at once; otherwise the parent's owner is told. A newer proposal
        withdraws the objective's open one."""
        data = ProposalCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        proposal = alignment_propose(actor=request.user, **data.validated_data)
        return self._output(proposal, status.HTTP_201_CREATED)

    @extend_schema(request=AcceptSerializer, responses=AlignmentProposalSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Accept an open proposal to align under something you own (org admins: anything),
        with an optional comment."""
        proposal = self.get_object()
        alignment_decide_check(actor=request.user, proposal=proposal)  # before the input
        data = AcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._output(alignment_accept(proposal=proposal, actor=request.user, **data.validated_data))

    @extend_schema(request=DeclineSerializer, responses=AlignmentProposalSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Decline an open proposal, saying why (the proposer is told)."""
        proposal = self.get_object()
        alignment_decide_check(actor=request.user, proposal=proposal)  # before the input
        data = DeclineSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._output(alignment_decline(proposal=proposal, actor=request.user, **data.validated_data))

    @extend_schema(request=None, responses=AlignmentProposalSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw an open proposal of an objective you may edit."""
        proposal = self.get_object()
        return self._output(alignment_withdraw(proposal=proposal, actor=request.user))


router = api_router()
router.register("alignment-proposals", AlignmentProposalViewSet, basename="api-alignment-proposal")
urlpatterns = router.urls
