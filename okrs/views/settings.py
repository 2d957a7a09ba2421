"""Settings — OKRs: status thresholds, the escalation threshold and roll-up of aligned
objectives. Org admins only; everyone else gets a 403."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from accounts.permissions import can_manage_organization_settings
from accounts.ui import add_service_errors, mark_invalid_fields, require_permission
from okrs.forms.settings import OkrSettingsForm
from okrs.selectors import okr_settings
from okrs.services.settings import okr_settings_update

EXAMPLE_EXPECTED = 0.5


@require_permission(can_manage_organization_settings)
def okr_settings_page(request):
    settings = okr_settings()
    form = OkrSettingsForm(request.POST or None, settings=settings)
    if request.method == "POST" and form.is_valid():
        try:
            okr_settings_update(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("OKR settings saved."))
            return redirect("settings_okrs")
    mark_invalid_fields(form)
    return render(
        request,
        "settings/okrs.html",
        {
            "tab": "okrs",
            "form": form,
            "settings": settings,
            # A worked example of the current rule: a key result expected at 50% by today.
            "at_risk_below": max(0.0, EXAMPLE_EXPECTED - settings.at_risk_gap),
            "off_track_below": max(0.0, EXAMPLE_EXPECTED - settings.off_track_gap),
        },
        status=422 if form.errors else 200,
    )


urlpatterns = [path("settings/okrs/", okr_settings_page, name="settings_okrs")]
