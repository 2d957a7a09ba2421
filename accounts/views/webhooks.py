"""Settings — Webhooks: the organisation's endpoints with their state (active, failing
since, turned off), registering one (its secret is shown once), changing its events,
turning it on or off, rotating the secret, sending a test event, deleting it, and its
recent deliveries. Org admins only; everyone else gets a 403."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms_webhooks import WebhookEndpointForm
from accounts.models import WebhookEndpoint
from accounts.permissions import can_manage_webhooks
from accounts.ui import add_service_errors, mark_invalid_fields, redirect_with_message, require_permission
from accounts.webhooks import (
    private_targets_allowed,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_test,
    webhook_endpoint_update,
)
from accounts.webhooks_selectors import recent_webhook_deliveries, webhook_endpoints_for_settings


def _list_page(request, form, *, created=None, status=200):
    mark_invalid_fields(form)
    context = {
        "tab": "webhooks",
        "form": form,
        "created": created,
        "endpoints": webhook_endpoints_for_settings(),
        "private_allowed": private_targets_allowed(),
    }
    response = render(request, "settings/webhooks.html", context, status=status)
    if created:
        response["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response


@require_permission(can_manage_webhooks)
def webhooks(request):
    """The list, and the form to register an endpoint (it posts here). The response to
    a registration shows the secret, once."""
    if request.method != "POST":
        return _list_page(request, WebhookEndpointForm())
    form = WebhookEndpointForm(request.POST)
    if form.is_valid():
        try:
            created = webhook_endpoint_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _list_page(request, WebhookEndpointForm(), created=created, status=201)
    return _list_page(request, form, status=422)


def _detail_page(request, endpoint: WebhookEndpoint, form=None, *, secret: str = "", status=200):
    form = form or WebhookEndpointForm(
        initial={"url": endpoint.url, "description": endpoint.description, "events": endpoint.events}
    )
    mark_invalid_fields(form)
    context = {
        "tab": "webhooks",
        "endpoint": endpoint,
        "form": form,
        "secret": secret,
        "deliveries": recent_webhook_deliveries(endpoint.pk),
    }
    response = render(request, "settings/webhooks_detail.html", context, status=status)
    if secret:
        response["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response


@require_permission(can_manage_webhooks)
def webhook_detail(request, pk: int):
    """One endpoint: its settings form (posts here), actions and recent deliveries."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if request.method != "POST":
        return _detail_page(request, endpoint)
    form = WebhookEndpointForm(request.POST)
    if form.is_valid():
        try:
            webhook_endpoint_update(actor=request.user, endpoint=endpoint, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect_with_message(
                request, reverse("settings_webhook", args=[pk]), _("Webhook endpoint saved.")
            )
    return _detail_page(request, endpoint, form, status=422)


@require_POST
@require_permission(can_manage_webhooks)
def webhook_enable(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    webhook_endpoint_update(actor=request.user, endpoint=endpoint, is_active=True)
    return redirect_with_message(
        request, reverse("settings_webhook", args=[pk]), _("The endpoint is on: new events are sent to it.")
    )


@require_POST
@require_permission(can_manage_webhooks)
def webhook_disable(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    webhook_endpoint_update(actor=request.user, endpoint=endpoint, is_active=False)
    return redirect_with_message(
        request, reverse("settings_webhook", args=[pk]), _("The endpoint is off: no events are sent to it.")
    )


@require_POST
@require_permission(can_manage_webhooks)
def webhook_rotate_secret(request, pk: int):
    """The new secret is shown in this response only."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    endpoint, secret = webhook_endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
    return _detail_page(request, endpoint, secret=secret)


@require_POST
@require_permission(can_manage_webhooks)
def webhook_test(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    webhook_endpoint_test(actor=request.user, endpoint=endpoint)
    return redirect_with_message(
        request,
        reverse("settings_webhook", args=[pk]),
        _("A test event is on its way; reload in a few seconds to see how the endpoint answered."),
    )


@require_POST
@require_permission(can_manage_webhooks)
def webhook_delete(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    webhook_endpoint_delete(actor=request.user, endpoint=endpoint)
    return redirect_with_message(
        request,
        reverse("settings_webhooks"),
        _("The endpoint %(url)s and its delivery log were deleted.") % {"url": endpoint.url},
    )


urlpatterns = [
    path("settings/webhooks/", webhooks, name="settings_webhooks"),
    path("settings/webhooks/<int:pk>/", webhook_detail, name="settings_webhook"),
    path("settings/webhooks/<int:pk>/enable/", webhook_enable, name="settings_webhook_enable"),
    path("settings/webhooks/<int:pk>/disable/", webhook_disable, name="settings_webhook_disable"),
    path(
        "settings/webhooks/<int:pk>/rotate-secret/",
        webhook_rotate_secret,
        name="settings_webhook_rotate_secret",
    ),
    path("settings/webhooks/<int:pk>/test/", webhook_test, name="settings_webhook_test"),
    path("settings/webhooks/<int:pk>/delete/", webhook_delete, name="settings_webhook_delete"),
]
