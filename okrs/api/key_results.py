"""Key results: list, read, add to an objective and change — through
``okrs.services.objectives`` (whoever may edit the objective)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from accounts.api.serializers import StrictInputSerializer
from accounts.api.views import VisibleViewSet, api_router
from accounts.models import User
from okrs.api.filters import KeyResultFilter
from okrs.api.selectors import key_results_visible_to, owner_candidates
from okrs.api.serializers import KeyResultSerializer, VisibleRelatedField
from okrs.models import KeyResult, Objective
from okrs.selectors import objectives_visible_to
from okrs.services.objectives import key_result_create, key_result_update

NUMBER_HELP = (
    "Which numbers a type needs: increase / decrease / stay_above / stay_below use `start` and "
    "`target` (the floor or ceiling for the stay_* types); stay_between uses `low` and `high`; "
    "milestone none (0 = not reached, 1 = reached)."
)


def _objectives_for_writes(user: User):
    return objectives_visible_to(user).select_related("cycle", "owner")


class _KeyResultFields(StrictInputSerializer):
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=KeyResult.Kind.choices, help_text=NUMBER_HELP)
    start = serializers.FloatField(required=False, allow_null=True)
    target = serializers.FloatField(required=False, allow_null=True)
    low = serializers.FloatField(required=False, allow_null=True)
    high = serializers.FloatField(required=False, allow_null=True)
    weight = serializers.FloatField(
        required=False, help_text="How much it counts in the objective's progress (default 1)."
    )
    unit = serializers.ChoiceField(choices=KeyResult.Unit.choices, required=False)
    currency_code = serializers.CharField(
        max_length=3,
        required=False,
        allow_blank=True,
        help_text="Three letters (EUR, CNY) when unit is currency.",
    )
    unit_label = serializers.CharField(max_length=40, required=False, allow_blank=True)
    owner = VisibleRelatedField(
        queryset=User.objects.all(),
        visible=owner_candidates,
        required=False,
        allow_null=True,
        help_text="A person id; by default the objective's owner.",
    )
    due_date = serializers.DateField(required=False, allow_null=True)


class KeyResultCreateSerializer(_KeyResultFields):
    objective = VisibleRelatedField(
        queryset=Objective.objects.all(),
        visible=_objectives_for_writes,
        help_text="The objective to add it to (you must be able to edit it).",
    )


class KeyResultUpdateSerializer(_KeyResultFields):
    """Only the fields sent change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in ("title", "kind"):
            self.fields[field].required = False


class KeyResultViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, VisibleViewSet):
    """Key results of the objectives you may see. `current`, `confidence`, `progress`,
    `status`, `forecast` and `score` follow from check-ins (POST /check-ins/) and cannot be
    set directly."""

    queryset = KeyResult.objects.none()
    serializer_class = KeyResultSerializer
    filterset_class = KeyResultFilter
    ordering_fields = ["id", "updated_at", "progress", "title"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def visible_queryset(self, user):
        return key_results_visible_to(user)

    def _output(self, key_result: KeyResult) -> dict:
        fresh = KeyResult.objects.select_related("owner", "objective").get(pk=key_result.pk)
        return KeyResultSerializer(fresh, context=self.get_serializer_context()).data

    @extend_schema(request=KeyResultCreateSerializer, responses={201: KeyResultSerializer})
    def create(self, request):
        """Add a key result to an objective you may edit (its owner, their manager chain or
        an org admin), in a cycle that is not closed."""
        data = KeyResultCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        key_result = key_result_create(actor=request.user, **data.validated_data)
        return Response(self._output(key_result), status=status.HTTP_201_CREATED)

    @extend_schema(request=KeyResultUpdateSerializer, responses=KeyResultSerializer)
    def partial_update(self, request, pk=None):
        """Change some fields of a key result (whoever may edit its objective). Changing the
        type may need other numbers: see `kind`."""
        key_result = self.get_object()
        data = KeyResultUpdateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        key_result_update(key_result=key_result, actor=request.user, **data.validated_data)
        return Response(self._output(key_result))


router = api_router()
router.register("key-results", KeyResultViewSet, basename="api-key-result")
urlpatterns = router.urls
