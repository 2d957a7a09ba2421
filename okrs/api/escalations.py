"""Escalations — the three lines of defence (method §5): read them, record the root cause
(acknowledge) and close them with a decision (resolve), through ``okrs.escalations``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.serializers import StrictInputSerializer
from accounts.api.views import VisibleViewSet, api_router
from okrs.api.filters import EscalationFilter
from okrs.api.selectors import escalations_visible_to
from okrs.api.serializers import EscalationSerializer
from okrs.escalations import (
    escalation_acknowledge,
    escalation_acknowledge_check,
    escalation_resolve,
    escalation_resolve_check,
)
from okrs.models import Escalation

RESOLUTIONS = [
    (value, label)
    for value, label in Escalation.Resolution.choices
    if value != Escalation.Resolution.AUTO_RECOVERED  # set by the platform only
]


class AcknowledgeSerializer(StrictInputSerializer):
    root_cause = serializers.CharField(
        allow_blank=True, help_text="What is holding this key result back (required)."
    )


class ResolveSerializer(StrictInputSerializer):
    resolution = serializers.ChoiceField(choices=RESOLUTIONS)
    note = serializers.CharField(allow_blank=True, help_text="What was decided (required).")


class EscalationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, VisibleViewSet):
    """Escalations of key results behind pace, on objectives you may see, newest first.
    Level 1: the owner and their manager are told, a root cause is due within 24 hours;
    level 2: the objective needs a decision; level 3: it goes on the calibration agenda.
    They close themselves when the key result is back on track."""

    queryset = Escalation.objects.none()
    serializer_class = EscalationSerializer
    filterset_class = EscalationFilter
    ordering_fields = ["id", "opened_at", "level"]

    def visible_queryset(self, user):
        return escalations_visible_to(user)

    def _output(self, escalation: Escalation) -> Response:
        fresh = escalations_visible_to(self.request.user).get(pk=escalation.pk)
        return Response(EscalationSerializer(fresh).data)

    @extend_schema(request=AcknowledgeSerializer, responses=EscalationSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Record the root cause of an open escalation: the key result's owner, the
        objective's owner, their manager chain or an org admin."""
        escalation = self.get_object()
        escalation_acknowledge_check(actor=request.user, escalation=escalation)  # before the input
        data = AcknowledgeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        escalation_acknowledge(escalation=escalation, actor=request.user, **data.validated_data)
        return self._output(escalation)

    @extend_schema(request=ResolveSerializer, responses=EscalationSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Close an escalation with a decision — recovered, target changed or objective
        dropped — and a note: whoever may edit the objective."""
        escalation = self.get_object()
        escalation_resolve_check(actor=request.user, escalation=escalation)  # before the input
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        escalation_resolve(escalation=escalation, actor=request.user, **data.validated_data)
        return self._output(escalation)


router = api_router()
router.register("escalations", EscalationViewSet, basename="api-escalation")
urlpatterns = router.urls
