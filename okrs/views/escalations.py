"""The three lines of defence: acknowledging an escalation with its root cause and
resolving it with a decision. A dialog with HTMX, a plain page without JavaScript; the
rules are ``okrs.escalations``'s."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.ui import add_service_errors, is_htmx, mark_invalid_fields, redirect_with_message, safe_next
from okrs.escalations import (
    escalation_acknowledge,
    escalation_acknowledge_check,
    escalation_resolve,
    escalation_resolve_check,
)
from okrs.forms.escalations import AcknowledgeForm, ResolveForm
from okrs.models import Escalation
from okrs.views.common import visible_escalation_or_404


@login_required
@require_http_methods(["GET", "POST"])
def acknowledge(request, pk: int):
    escalation = visible_escalation_or_404(request.user, pk)
    escalation_acknowledge_check(actor=request.user, escalation=escalation)
    form = AcknowledgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            escalation_acknowledge(
                escalation=escalation, actor=request.user, root_cause=form.cleaned_data["root_cause"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect_with_message(
                request,
                safe_next(request, "objective", escalation.key_result.objective_id),
                _("Root cause recorded. Thank you."),
            )
    return _form_page(request, escalation, form, action="acknowledge")


@login_required
@require_http_methods(["GET", "POST"])
def resolve(request, pk: int):
    escalation = visible_escalation_or_404(request.user, pk)
    escalation_resolve_check(actor=request.user, escalation=escalation)
    form = ResolveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            escalation_resolve(
                escalation=escalation,
                actor=request.user,
                resolution=form.cleaned_data["resolution"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect_with_message(
                request,
                safe_next(request, "objective", escalation.key_result.objective_id),
                _("Escalation resolved."),
            )
    return _form_page(request, escalation, form, action="resolve")


def _form_page(request, escalation: Escalation, form, *, action: str):
    mark_invalid_fields(form)
    key_result = escalation.key_result
    context = {
        "escalation": escalation,
        "kr": key_result,
        "objective": key_result.objective,
        "form": form,
        "action": action,
        "next": safe_next(request, "objective", key_result.objective_id),
    }
    template = "okrs/escalations/dialog.html" if is_htmx(request) else "okrs/escalations/page.html"
    return render(request, template, context, status=422 if form.errors else 200)


urlpatterns = [
    path("escalations/<int:pk>/acknowledge/", acknowledge, name="escalation_acknowledge"),
    path("escalations/<int:pk>/resolve/", resolve, name="escalation_resolve"),
]
