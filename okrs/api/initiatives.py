"""Initiatives: the activities that serve a key result (tracked, never scored)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.serializers import StrictInputSerializer
from accounts.api.views import VisibleViewSet, api_router
from accounts.permissions import require
from okrs import permissions
from okrs.api.filters import InitiativeFilter
from okrs.api.selectors import initiatives_visible_to, key_results_visible_to
from okrs.api.serializers import InitiativeSerializer, VisibleRelatedField
from okrs.models import Initiative, KeyResult
from okrs.services.objectives import initiative_create, initiative_set_done


class InitiativeCreateSerializer(StrictInputSerializer):
    key_result = VisibleRelatedField(queryset=KeyResult.objects.all(), visible=key_results_visible_to)
    title = serializers.CharField(max_length=200)


class InitiativeDoneSerializer(StrictInputSerializer):
    done = serializers.BooleanField()


class InitiativeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, VisibleViewSet):
    """Initiatives of the key results of objectives you may see."""

    queryset = Initiative.objects.none()
    serializer_class = InitiativeSerializer
    filterset_class = InitiativeFilter
    ordering_fields = ["id", "created_at"]

    def visible_queryset(self, user):
        return initiatives_visible_to(user)

    def _output(self, initiative: Initiative) -> dict:
        return InitiativeSerializer(initiatives_visible_to(self.request.user).get(pk=initiative.pk)).data

    @extend_schema(request=InitiativeCreateSerializer, responses={201: InitiativeSerializer})
    def create(self, request):
        """Add an initiative to a key result whose objective you may edit; you own it."""
        data = InitiativeCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        initiative = initiative_create(actor=request.user, **data.validated_data)
        return Response(self._output(initiative), status=status.HTTP_201_CREATED)

    @extend_schema(request=InitiativeDoneSerializer, responses=InitiativeSerializer)
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        """Tick an initiative off (`{"done": true}`) or reopen it (`{"done": false}`): its
        owner, or whoever may edit the objective."""
        initiative = self.get_object()
        require(permissions.can_set_initiative_done(request.user, initiative))  # before reading the input
        data = InitiativeDoneSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        initiative_set_done(initiative=initiative, actor=request.user, done=data.validated_data["done"])
        return Response(self._output(initiative))


router = api_router()
router.register("initiatives", InitiativeViewSet, basename="api-initiative")
urlpatterns = router.urls
