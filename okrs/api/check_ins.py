"""Check-ins: list and record (append-only — never changed or deleted; a mistake is
fixed with a correction). Recording goes through ``okrs.services.check_ins``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from accounts.api.idempotency import idempotent
from accounts.api.serializers import StrictInputSerializer
from accounts.api.views import VisibleViewSet, api_router
from okrs.api.filters import CheckInFilter
from okrs.api.selectors import check_in_as_recorded, check_ins_visible_to, key_results_visible_to
from okrs.api.serializers import CheckInSerializer, VisibleRelatedField
from okrs.models import CheckIn, KeyResult
from okrs.services.check_ins import check_in_record


class CheckInCreateSerializer(StrictInputSerializer):
    # Looked up by the check-in's lock, a hidden one answered as missing: see CheckInViewSet.create.
    key_result = VisibleRelatedField(
        queryset=KeyResult.objects.all(), visible=key_results_visible_to, resolve=False
    )
    value = serializers.FloatField(help_text="The key result's current value (a milestone: 0 or 1).")
    confidence = serializers.IntegerField(
        min_value=0,
        max_value=10,
        help_text="0–10: how sure you are it will be reached by the end of the cycle.",
    )
    what_moved = serializers.CharField(required=False, allow_blank=True, default="")
    blockers = serializers.CharField(required=False, allow_blank=True, default="")
    next_step = serializers.CharField(required=False, allow_blank=True, default="")
    corrects = VisibleRelatedField(
        queryset=CheckIn.objects.all(),
        visible=check_ins_visible_to,
        required=False,
        allow_null=True,
        default=None,
        help_text="To correct an earlier check-in of the same key result: its id. The correction "
        "takes its place in the history.",
    )


class CheckInViewSet(mixins.ListModelMixin, VisibleViewSet):
    """Check-ins of the key results of objectives you may see, newest first."""

    queryset = CheckIn.objects.none()
    serializer_class = CheckInSerializer
    filterset_class = CheckInFilter
    ordering_fields = ["id", "created_at", "effective_at"]
    idempotent_create = True

    def visible_queryset(self, user):
        return check_ins_visible_to(user)

    @extend_schema(request=CheckInCreateSerializer, responses={201: CheckInSerializer})
    @idempotent
    def create(self, request):
        """Record a key result's current value and confidence (its owner, the objective's
        owner or an org admin). Progress, status and forecast of the key result and its
        objective are updated at once; escalations open when it stays behind pace.

        Send an `Idempotency-Key` header (e.g. a UUID) to retry safely: a repeated key
        returns the first response (header `Idempotent-Replayed: true`) and records nothing
        new; the same key with a different body is refused with 422."""
        data = CheckInCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        key_result_id = fields.pop("key_result")
        try:
            check_in = check_in_record(
                actor=request.user,
                key_result=KeyResult(pk=key_result_id),
                hidden_as_missing=True,
                **fields,
            )
        except KeyResult.DoesNotExist:
            raise data.fields["key_result"].does_not_exist(key_result_id) from None
        return Response(
            CheckInSerializer(check_in_as_recorded(check_in)).data, status=status.HTTP_201_CREATED
        )


router = api_router()
router.register("check-ins", CheckInViewSet, basename="api-check-in")
urlpatterns = router.urls
