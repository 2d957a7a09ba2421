"""Settings — Cycles and review schedule, and Review settings.

The Cycles page and its actions follow the same rules as the services and the API: OKR cycles
are managed by whoever ``okrs.permissions.can_manage_cycles`` allows (org admins and the
organisation's consultants), review cycles by ``reviews.permissions.can_manage_review_cycles``
(the same people). Review settings and prompts are org admins' (the organisation's settings).
Everyone else gets a 403.

The cycles page lives in ``reviews`` because creating or activating an OKR cycle also
schedules its review cycles (``okr_cycle_start``), and only reviews may call okrs."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.permissions import can_manage_organization_settings
from accounts.ui import add_service_errors, mark_invalid_fields, require_permission
from okrs.models import Cycle
from okrs.permissions import can_manage_cycles
from okrs.selectors import okr_settings
from okrs.selectors.editing import open_cycles
from okrs.services.cycles import cycle_close
from reviews.forms_settings import CycleForm, ReviewPromptsForm, ReviewSettingsForm
from reviews.models import ReviewCycle
from reviews.permissions import can_manage_review_cycles
from reviews.selectors import review_settings
from reviews.selectors_settings import cycles_with_review_cycles
from reviews.services import okr_cycle_start, review_cycle_close, review_cycle_open, review_cycles_schedule
from reviews.services.cycle_activation import okr_cycle_activate
from reviews.services.settings import review_prompts_update, review_settings_update


def _scheduled_text(review_cycles: list) -> str:
    count = len(review_cycles)
    return ngettext(
        "%(count)d review cycle was scheduled.", "%(count)d review cycles were scheduled.", count
    ) % {"count": count}


def _cycles_page(request, *, form: CycleForm | None = None, error: str = "", status: int = 200):
    cycles = list(cycles_with_review_cycles())
    # A new cycle starts with the organisation's default cadence (its method).
    form = form or CycleForm(cycles=cycles, initial={"cadence": okr_settings().default_cadence})
    mark_invalid_fields(form)
    return render(
        request,
        "settings/cycles.html",
        {
            "tab": "cycles",
            "cycles": cycles,
            "form": form,
            "error": error,
            "auto_schedule": review_settings().auto_schedule,
        },
        status=status,
    )


@require_permission(can_manage_cycles)
def cycles(request):
    """Every OKR cycle with its review cycles, and the form to create a cycle (it posts here)."""
    if request.method != "POST":
        return _cycles_page(request)
    form = CycleForm(request.POST, cycles=open_cycles())
    if form.is_valid():
        try:
            cycle, scheduled = okr_cycle_start(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            text = _("Cycle “%(name)s” was created as a draft.") % {"name": cycle.name}
            if scheduled:
                text = f"{text} {_scheduled_text(scheduled)}"
            messages.success(request, text)
            return redirect("settings_cycles")
    return _cycles_page(request, form=form, status=422)


def _action(request, run, success):
    """Run a cycle action; a refusal re-renders the page with the reason (422)."""
    try:
        result = run()
    except ValidationError as error:
        return _cycles_page(request, error=" ".join(error.messages), status=422)
    messages.success(request, success(result) if callable(success) else success)
    return redirect("settings_cycles")


@require_POST
@require_permission(can_manage_cycles)
def cycle_activate_view(request, pk: int):
    cycle = get_object_or_404(Cycle, pk=pk)

    def success(result) -> str:
        text = _("“%(name)s” is active: people can check in on its OKRs.") % {"name": cycle.name}
        return f"{text} {_scheduled_text(result[1])}" if result[1] else text

    return _action(request, lambda: okr_cycle_activate(cycle=cycle, actor=request.user), success)


def _confirm_close(
    request, *, name: str, explanation: str, confirm_label: str, testid: str, run, success: str
):
    """Closing cannot be undone: a GET asks for confirmation (the page posts back to the
    same URL), a POST closes."""
    if request.method != "POST":
        context = {
            "tab": "cycles",
            "title": _("Close “%(name)s”?") % {"name": name},
            "explanation": explanation,
            "confirm_label": confirm_label,
            "testid": testid,
        }
        return render(request, "settings/confirm.html", context)
    return _action(request, run, success)


@require_permission(can_manage_cycles)
def cycle_close_view(request, pk: int):
    cycle = get_object_or_404(Cycle, pk=pk)
    return _confirm_close(
        request,
        name=cycle.name,
        explanation=_(
            "Each objective and key result of this cycle gets its final score (its progress now) and "
            "becomes read-only. A closed cycle cannot be reopened."
        ),
        confirm_label=_("Close the cycle"),
        testid="confirm-cycle-close",
        run=lambda: cycle_close(cycle=cycle, actor=request.user),
        success=_("“%(name)s” is closed and its scores are final.") % {"name": cycle.name},
    )


@require_POST
@require_permission(can_manage_review_cycles)
def cycle_schedule_reviews(request, pk: int):
    cycle = get_object_or_404(Cycle, pk=pk)

    def success(scheduled) -> str:
        if not scheduled:
            return _("“%(name)s” already has review cycles; nothing was added.") % {"name": cycle.name}
        return _scheduled_text(scheduled)

    return _action(request, lambda: review_cycles_schedule(cycle=cycle, actor=request.user), success)


@require_POST
@require_permission(can_manage_review_cycles)
def review_cycle_open_view(request, pk: int):
    review_cycle = get_object_or_404(ReviewCycle, pk=pk)
    return _action(
        request,
        lambda: review_cycle_open(review_cycle=review_cycle, actor=request.user),
        _("“%(name)s” is open: each objective owner has a review to write.") % {"name": review_cycle.name},
    )


@require_permission(can_manage_review_cycles)
def review_cycle_close_view(request, pk: int):
    review_cycle = get_object_or_404(ReviewCycle, pk=pk)
    return _confirm_close(
        request,
        name=review_cycle.name,
        explanation=_(
            "Every review in it is closed as it is, including those not yet submitted or calibrated. "
            "A closed review cycle cannot be opened again."
        ),
        confirm_label=_("Close the review cycle"),
        testid="confirm-review-cycle-close",
        run=lambda: review_cycle_close(review_cycle=review_cycle, actor=request.user),
        success=_("“%(name)s” is closed.") % {"name": review_cycle.name},
    )


@require_permission(can_manage_organization_settings)
def review_settings_page(request):
    settings = review_settings()
    # Bound on any POST: with both boxes unticked a POST may carry no field at all.
    form = ReviewSettingsForm(request.POST if request.method == "POST" else None, settings=settings)
    if request.method == "POST" and form.is_valid():
        try:
            review_settings_update(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Review settings saved."))
            return redirect("settings_reviews")
    mark_invalid_fields(form)
    return render(
        request,
        "settings/reviews.html",
        {"tab": "reviews", "form": form, "prompts_form": ReviewPromptsForm(settings=settings)},
        status=422 if form.errors else 200,
    )


@require_POST
@require_permission(can_manage_organization_settings)
def review_prompts_page(request):
    """The self-review prompts (their own form on the review settings page)."""
    settings = review_settings()
    form = ReviewPromptsForm(request.POST, settings=settings)
    if form.is_valid():
        try:
            review_prompts_update(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Self-review prompts saved."))
            return redirect("settings_reviews")
    mark_invalid_fields(form)
    context = {"tab": "reviews", "form": ReviewSettingsForm(settings=settings), "prompts_form": form}
    return render(request, "settings/reviews.html", context, status=422)


urlpatterns = [
    path("settings/cycles/", cycles, name="settings_cycles"),
    path("settings/cycles/<int:pk>/activate/", cycle_activate_view, name="settings_cycle_activate"),
    path("settings/cycles/<int:pk>/close/", cycle_close_view, name="settings_cycle_close"),
    path(
        "settings/cycles/<int:pk>/schedule-reviews/",
        cycle_schedule_reviews,
        name="settings_cycle_schedule_reviews",
    ),
    path("settings/review-cycles/<int:pk>/open/", review_cycle_open_view, name="settings_review_cycle_open"),
    path(
        "settings/review-cycles/<int:pk>/close/", review_cycle_close_view, name="settings_review_cycle_close"
    ),
    path("settings/reviews/", review_settings_page, name="settings_reviews"),
    path("settings/reviews/prompts/", review_prompts_page, name="settings_review_prompts"),
]
