"""Webhook endpoints over the API (org admins only): register, change, turn on or off,
rotate the secret, send a test event, delete, and read each endpoint's delivery log.
Everything goes through ``accounts.webhooks``; see docs/webhooks.md for the payloads,
headers and how to verify the signature."""

from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from accounts.api.permissions import IsActiveAndTokenScopeAllows
from accounts.api.serializers import StrictInputSerializer
from accounts.api.views import VisibleViewSet, api_router
from accounts.models import WebhookDelivery, WebhookEndpoint
from accounts.permissions import can_manage_webhooks
from accounts.webhooks import (
    EVENTS,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_test,
    webhook_endpoint_update,
)
from accounts.webhooks_selectors import webhook_deliveries, webhook_endpoints_visible_to

NO_STORE = {"Cache-Control": "no-store"}  # responses carrying a secret


class CanManageWebhooks(BasePermission):
    message = _("Only org admins manage webhooks.")

    def has_permission(self, request, view) -> bool:
        return can_manage_webhooks(request.user)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENTS))
    state = serializers.SerializerMethodField(
        help_text="`active`; `failing` (active, but deliveries fail since `failing_since`; it is "
        "turned off after 24 h); `disabled` (turned off: see `disabled_reason`)."
    )
    created_by = serializers.IntegerField(source="created_by_id", read_only=True, allow_null=True)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id", "url", "description", "events", "is_active", "state", "failing_since",
            "disabled_at", "disabled_reason", "created_by", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_state(self, endpoint: WebhookEndpoint) -> str:
        if not endpoint.is_active:
            return "disabled"
        return "failing" if endpoint.failing_since else "active"


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret. Shown only in this response (creation, rotation); store it now.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateSerializer(StrictInputSerializer):
    url = serializers.CharField(
        max_length=500,
        help_text="https:// (or http://) address that receives the POSTs. Internal addresses are refused "
        "in production.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENTS), allow_empty=False, help_text="The events to send."
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class WebhookEndpointUpdateSerializer(StrictInputSerializer):
    """Only the fields sent change."""

    url = serializers.CharField(max_length=500, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENTS), allow_empty=False, required=False
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(
        required=False,
        help_text="false turns the endpoint off; true turns it on again and clears its failing state.",
    )


class WebhookDeliverySerializer(serializers.ModelSerializer):
    endpoint = serializers.IntegerField(source="endpoint_id", read_only=True)
    payload = serializers.JSONField(read_only=True, help_text="The event's `data`.")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "endpoint", "event", "event_id", "state", "attempts", "created_at", "last_attempt_at",
            "next_attempt_at", "response_status", "latency_ms", "response_excerpt", "error", "payload",
        ]  # fmt: skip
        read_only_fields = fields


class WebhookEndpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, VisibleViewSet
):
    """Webhook endpoints of the organisation (org admins only; anyone else gets 403).
    Each receives the events it subscribed to as signed JSON POSTs, retried with backoff
    for about 24 h; an endpoint failing for 24 h is turned off and the admins are told."""

    queryset = WebhookEndpoint.objects.none()
    serializer_class = WebhookEndpointSerializer
    permission_classes = [IsActiveAndTokenScopeAllows, CanManageWebhooks]
    filterset_fields = ["is_active"]
    ordering_fields = ["id", "created_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def visible_queryset(self, user):
        return webhook_endpoints_visible_to(user)

    @extend_schema(
        request=WebhookEndpointCreateSerializer, responses={201: WebhookEndpointWithSecretSerializer}
    )
    def create(self, request):
        """Register an endpoint. The response carries the signing `secret`, shown only
        this once."""
        data = WebhookEndpointCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = webhook_endpoint_create(actor=request.user, **data.validated_data)
        body = WebhookEndpointWithSecretSerializer(endpoint).data
        body["secret"] = secret
        return Response(body, status=status.HTTP_201_CREATED, headers=NO_STORE)

    @extend_schema(request=WebhookEndpointUpdateSerializer, responses=WebhookEndpointSerializer)
    def partial_update(self, request, pk=None):
        """Change the URL, events, description, or turn the endpoint off / on."""
        endpoint = self.get_object()
        data = WebhookEndpointUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_update(actor=request.user, endpoint=endpoint, **data.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    def destroy(self, request, pk=None):
        """Delete the endpoint with its secret and delivery log (to pause it and keep the log,
        PATCH `is_active: false` instead)."""
        webhook_endpoint_delete(actor=request.user, endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=WebhookEndpointWithSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """Replace the signing secret; the new one (in this response only) signs every
        delivery from now on and the old one stops verifying."""
        endpoint, secret = webhook_endpoint_rotate_secret(actor=request.user, endpoint=self.get_object())
        body = WebhookEndpointWithSecretSerializer(endpoint).data
        body["secret"] = secret
        return Response(body, headers=NO_STORE)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Queue a `ping` event to this endpoint (attempted once, also when turned off);
        follow its outcome in the endpoint's deliveries."""
        delivery = webhook_endpoint_test(actor=request.user, endpoint=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=WebhookDelivery.State.choices)
    event = django_filters.ChoiceFilter(choices=[(e, e) for e in (*EVENTS, "ping")])

    class Meta:
        model = WebhookDelivery
        fields = ["state", "event"]


class WebhookDeliveryViewSet(mixins.ListModelMixin, VisibleViewSet):
    """The deliveries of one endpoint, newest first: the event, its state (pending,
    delivered, retrying, failed), attempts, the last answer's status, latency and the
    first 500 characters of its body."""

    queryset = WebhookDelivery.objects.none()
    serializer_class = WebhookDeliverySerializer
    permission_classes = [IsActiveAndTokenScopeAllows, CanManageWebhooks]
    filterset_class = WebhookDeliveryFilter
    ordering_fields = ["id"]

    def visible_queryset(self, user):
        endpoint = get_object_or_404(webhook_endpoints_visible_to(user), pk=self.kwargs["webhook_pk"])
        return webhook_deliveries(endpoint.pk)


router = api_router()
router.register("webhooks", WebhookEndpointViewSet, basename="api-webhook")
router.register(
    "webhooks/<int:webhook_pk>/deliveries", WebhookDeliveryViewSet, basename="api-webhook-delivery"
)
urlpatterns = router.urls
