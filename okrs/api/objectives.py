"""Objectives: list (with ``?expand=key_results``), read, create and change — through
``okrs.services.objectives``, so the rules and permissions are the web UI's."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from accounts.api.serializers import StrictInputSerializer
from accounts.api.views import VisibleViewSet, api_router
from accounts.models import Team, User
from okrs.api.filters import ObjectiveFilter
from okrs.api.selectors import objectives_for_api, owner_candidates
from okrs.api.serializers import ObjectiveSerializer, ObjectiveWithKeyResultsSerializer, VisibleRelatedField
from okrs.models import Cycle, Objective
from okrs.services.objectives import objective_create, objective_update
from tenants.page_cache import cached_text

EXPANSIONS = frozenset({"key_results"})

EXPAND_PARAMETER = OpenApiParameter(
    "expand",
    str,
    enum=sorted(EXPANSIONS),
    description="`key_results`: include each objective's key results (same number of queries for any page).",
)


class ObjectiveCreateSerializer(StrictInputSerializer):
    cycle = serializers.PrimaryKeyRelatedField(
        queryset=Cycle.objects.all(), help_text="A cycle that is not closed."
    )
    owner = VisibleRelatedField(
        queryset=User.objects.all(),
        visible=owner_candidates,
        required=False,
        help_text="Yourself (the default) or someone you may create objectives for (your reports; "
        "anyone for org admins).",
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, default=None
    )
    level = serializers.ChoiceField(choices=Objective.Level.choices, default=Objective.Level.TEAM)
    kind = serializers.ChoiceField(choices=Objective.Kind.choices, default=Objective.Kind.COMMITTED)
    health_dimension = serializers.ChoiceField(
        choices=Objective.HealthDimension.choices, default=Objective.HealthDimension.CUSTOMER_VALUE
    )
    visibility = serializers.ChoiceField(
        choices=Objective.Visibility.choices, default=Objective.Visibility.ORGANIZATION
    )
    state = serializers.ChoiceField(
        choices=[Objective.State.DRAFT, Objective.State.ACTIVE],
        default=Objective.State.DRAFT,
        help_text="Draft while you shape it; active when you commit.",
    )


class ObjectiveUpdateSerializer(StrictInputSerializer):
    """Only the fields sent change. Cycle and owner do not change here; progress, status and
    scores are computed."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    level = serializers.ChoiceField(choices=Objective.Level.choices, required=False)
    kind = serializers.ChoiceField(choices=Objective.Kind.choices, required=False)
    health_dimension = serializers.ChoiceField(choices=Objective.HealthDimension.choices, required=False)
    visibility = serializers.ChoiceField(choices=Objective.Visibility.choices, required=False)
    state = serializers.ChoiceField(
        choices=Objective.State.choices,
        required=False,
        help_text="Close an objective with state `closed` (and a `closing_note`); archived ones are "
        "left out of progress, counts and dashboards.",
    )
    closing_note = serializers.CharField(
        required=False, allow_blank=True, help_text="When you close or archive it: what happened and why."
    )


@extend_schema_view(
    list=extend_schema(parameters=[EXPAND_PARAMETER], responses=ObjectiveWithKeyResultsSerializer),
    retrieve=extend_schema(parameters=[EXPAND_PARAMETER], responses=ObjectiveWithKeyResultsSerializer),
)
class ObjectiveViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, VisibleViewSet):
    """Objectives you may see — as in the web UI: everything public in the organisation,
    and private objectives when you own them, manage their owner, are in their team or are
    an org admin. Progress, status, expected progress and score are computed by the platform
    and cannot be set."""

    queryset = Objective.objects.none()
    serializer_class = ObjectiveSerializer
    filterset_class = ObjectiveFilter
    ordering_fields = ["id", "updated_at", "progress", "title"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def expansions(self) -> frozenset[str]:
        if getattr(self, "swagger_fake_view", False):
            return frozenset()
        asked = {
            part.strip()
            for value in self.request.query_params.getlist("expand")
            for part in value.split(",")
            if part.strip()
        }
        unknown = asked - EXPANSIONS
        if unknown:
            raise serializers.ValidationError(
                {
                    "expand": [
                        _("Only key_results can be expanded, not: %(v)s.") % {"v": ", ".join(sorted(unknown))}
                    ]
                }
            )
        return frozenset(asked)

    def visible_queryset(self, user):
        expand = self.action in {"list", "retrieve"} and "key_results" in self.expansions()
        return objectives_for_api(user, with_key_results=expand)

    def get_serializer_class(self):
        if self.action in {"list", "retrieve"} and "key_results" in self.expansions():
            return ObjectiveWithKeyResultsSerializer
        return ObjectiveSerializer

    def list(self, request, *args, **kwargs):
        """The JSON of a page is cached until the organisation's data changes
        (``tenants.page_cache``); other formats (the browsable API) are rendered each time."""
        if request.accepted_renderer.format != "json":
            return super().list(request, *args, **kwargs)

        def render() -> str:
            response = super(ObjectiveViewSet, self).list(request, *args, **kwargs)
            # Rendered as DRF would render it (the same renderer, media type and context).
            response.accepted_renderer = request.accepted_renderer
            response.accepted_media_type = request.accepted_media_type
            response.renderer_context = self.get_renderer_context()
            return response.render().content.decode()

        body = cached_text(request, "api-objectives", render, vary=(request.accepted_media_type,))
        return HttpResponse(body, content_type=request.accepted_renderer.media_type)

    def _output(self, objective: Objective) -> dict:
        fresh = Objective.objects.select_related("owner", "team").get(pk=objective.pk)
        return ObjectiveSerializer(fresh, context=self.get_serializer_context()).data

    @extend_schema(request=ObjectiveCreateSerializer, responses={201: ObjectiveSerializer})
    def create(self, request):
        """Create an objective in a cycle that is not closed, for yourself or (managers, org
        admins) for someone you may create objectives for. Add key results with
        POST /key-results/ and propose its alignment with POST /alignment-proposals/."""
        data = ObjectiveCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        objective = objective_create(actor=request.user, **data.validated_data)
        return Response(self._output(objective), status=status.HTTP_201_CREATED)

    @extend_schema(request=ObjectiveUpdateSerializer, responses=ObjectiveSerializer)
    def partial_update(self, request, pk=None):
        """Change some fields of an objective (its owner, their manager chain or an org admin).
        Closing: send `{"state": "closed", "closing_note": "…"}`. Objectives of a closed
        cycle no longer change."""
        objective = self.get_object()
        data = ObjectiveUpdateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        objective_update(objective=objective, actor=request.user, **data.validated_data)
        return Response(self._output(objective))


router = api_router()
router.register("objectives", ObjectiveViewSet, basename="api-objective")
urlpatterns = router.urls
