"""Settings — Notifications: check-in day, digest day, the weekly reminder limit and the
chat webhook. Org admins only; everyone else gets a 403."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from accounts.forms_settings import NotificationSettingsForm
from accounts.notifications import notification_settings
from accounts.permissions import can_manage_organization_settings
from accounts.services_settings import notification_settings_update
from accounts.ui import add_service_errors, mark_invalid_fields, require_permission


@require_permission(can_manage_organization_settings)
def notifications(request):
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST)
        if form.is_valid():
            try:
                notification_settings_update(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Notification settings saved."))
                return redirect("settings_notifications")
    else:
        form = NotificationSettingsForm(initial=model_to_dict(notification_settings()))
    mark_invalid_fields(form)
    return render(
        request,
        "settings/notifications.html",
        {"tab": "notifications", "form": form},
        status=422 if form.errors else 200,
    )


urlpatterns = [path("settings/notifications/", notifications, name="settings_notifications")]
