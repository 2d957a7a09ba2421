"""API tokens over the API. The first token can be created with the person's e-mail and
password (HTTP Basic, this endpoint only) or in the UI; later ones with a token."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.authentication import ApiTokenAuthentication, LockoutAwareBasicAuthentication
from accounts.api.serializers import PlausibleDateTimeField, StrictInputSerializer
from accounts.api.views import VisibleViewSet, api_router
from accounts.models import ApiToken
from accounts.selectors_api_tokens import api_tokens_visible_to
from accounts.services_api_tokens import api_token_create, api_token_revoke


class ApiTokenSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True)
    user_email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id", "name", "scope", "prefix", "user", "user_email",
            "created_at", "expires_at", "last_used_at", "revoked_at",
        ]  # fmt: skip
        read_only_fields = fields


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text="The whole token. Shown only in this response; store it now."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ApiTokenCreateSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    scope = serializers.ChoiceField(choices=ApiToken.Scope.choices, default=ApiToken.Scope.READ)
    expires_at = PlausibleDateTimeField(required=False, allow_null=True)


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, VisibleViewSet):
    """Your API tokens (org admins: everyone's). Tokens are shown once, at creation."""

    queryset = ApiToken.objects.none()
    allow_viewer_writes = True  # their own (read-only) tokens
    serializer_class = ApiTokenSerializer
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication, LockoutAwareBasicAuthentication]
    filterset_fields = ["scope"]
    ordering_fields = ["id", "created_at"]

    def visible_queryset(self, user):
        return api_tokens_visible_to(user)

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request):
        data = ApiTokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = api_token_create(actor=request.user, **data.validated_data)
        body = ApiTokenCreatedSerializer(created.token).data
        body["token"] = created.secret
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = api_token_revoke(actor=request.user, token=self.get_object())
        return Response(ApiTokenSerializer(token).data)


router = api_router()
router.register("tokens", ApiTokenViewSet, basename="api-token")
urlpatterns = router.urls
