"""Settings — Notifications: check-in day, digest day, the weekly reminder limit and the
chat webhook. Org admins only; everyone else gets a 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from accounts.forms_settings import NotificationSettingsForm
from accounts.permissions import can_manage_organization_settings
from accounts.selectors_settings import notification_settings_current
from accounts.services_settings import notification_settings_update
from accounts.ui import add_service_errors, mark_invalid_fields


@login_required
def notifications(request):
    if not can_manage_organization_settings(request.user):
        raise PermissionDenied(_("Only org admins change the notification settings."))
    settings = notification_settings_current()
    initial = {
        "checkin_day": settings.checkin_day,
        "digest_day": settings.digest_day,
        "max_reminders_per_week": settings.max_reminders_per_week,
        "chat_webhook_url": settings.chat_webhook_url,
    }
    form = NotificationSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            notification_settings_update(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Notification settings saved."))
            return redirect("settings_notifications")
    mark_invalid_fields(form)
    return render(
        request,
        "settings/notifications.html",
        {"tab": "notifications", "form": form, "settings": settings},
        status=422 if form.errors else 200,
    )


urlpatterns = [path("settings/notifications/", notifications, name="settings_notifications")]
