"""KPIs (the baseline health metrics) and their readings, as on the KPI board: everyone
sees every KPI; a KPI's owner (or an org admin) records its readings."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from accounts.api.idempotency import idempotent
from accounts.api.serializers import PlausibleDateTimeField, StrictInputSerializer
from accounts.api.views import VisibleViewSet, api_router
from accounts.models import User
from okrs.api.filters import KpiFilter, KpiReadingFilter
from okrs.api.selectors import owner_candidates
from okrs.api.serializers import KpiReadingSerializer, KpiSerializer, VisibleRelatedField
from okrs.models import Kpi, KpiReading
from okrs.selectors.kpis import kpis_for_board
from okrs.services.kpis import kpi_create, kpi_reading_record


class KpiCreateSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    owner = VisibleRelatedField(
        queryset=User.objects.all(),
        visible=owner_candidates,
        required=False,
        help_text="Yourself (the default); org admins may name anyone.",
    )
    direction = serializers.ChoiceField(choices=Kpi.Direction.choices)
    green_threshold = serializers.FloatField(help_text="Green from this value on.")
    red_threshold = serializers.FloatField(help_text="Red from this value on.")
    unit = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class KpiReadingCreateSerializer(StrictInputSerializer):
    value = serializers.FloatField()
    at = PlausibleDateTimeField(
        required=False, allow_null=True, default=None, help_text="When it was measured (default: now)."
    )


class KpiViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, VisibleViewSet):
    """KPIs with their latest reading, health and the key results linked to them (those of
    objectives you may see). Readings: /kpis/{id}/readings/."""

    queryset = Kpi.objects.none()
    serializer_class = KpiSerializer
    filterset_class = KpiFilter
    ordering_fields = ["id", "name"]

    def visible_queryset(self, user):
        return kpis_for_board(user)

    @extend_schema(request=KpiCreateSerializer, responses={201: KpiSerializer})
    def create(self, request):
        """Create a KPI owned by you (org admins: by anyone). Green must start above red
        when higher is better, below it when lower is better."""
        data = KpiCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["owner"] = values.get("owner") or request.user
        kpi = kpi_create(actor=request.user, **values)
        fresh = kpis_for_board(request.user).get(pk=kpi.pk)
        return Response(KpiSerializer(fresh).data, status=status.HTTP_201_CREATED)


class KpiReadingViewSet(mixins.ListModelMixin, VisibleViewSet):
    """Readings of one KPI, newest first."""

    queryset = KpiReading.objects.none()
    serializer_class = KpiReadingSerializer
    filterset_class = KpiReadingFilter
    ordering_fields = ["id", "at"]
    idempotent_create = True

    def kpi(self) -> Kpi:
        kpi = Kpi.objects.filter(pk=self.kwargs["kpi_id"]).first()
        if kpi is None:
            raise Http404
        return kpi

    def visible_queryset(self, user):
        return KpiReading.objects.filter(kpi=self.kpi())

    @extend_schema(request=KpiReadingCreateSerializer, responses={201: KpiReadingSerializer})
    @idempotent
    def create(self, request, kpi_id=None):
        """Record a reading (the KPI's owner or an org admin); not in the future.

        Send an `Idempotency-Key` header to retry safely: a repeated key returns the first
        response (header `Idempotent-Replayed: true`) and records nothing new; the same key
        with a different body is refused with 422."""
        kpi = self.kpi()
        data = KpiReadingCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reading = kpi_reading_record(kpi=kpi, actor=request.user, **data.validated_data)
        return Response(KpiReadingSerializer(reading).data, status=status.HTTP_201_CREATED)


router = api_router()
router.register("kpis", KpiViewSet, basename="api-kpi")
router.register("kpis/<int:kpi_id>/readings", KpiReadingViewSet, basename="api-kpi-reading")
urlpatterns = router.urls
