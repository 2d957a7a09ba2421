"""The objective page: header, key results with their charts and check-in history,
initiatives, linked KPIs, alignment (with alignment decisions), quality findings,
escalations and the audit history.

After a check-in in the dialog the page hears ``okr:checked-in`` and fetches
``objective_live``: every KR's facts, chart and check-in history, and the escalations,
swapped in place (out-of-band) without a reload."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.ui import add_service_errors, is_htmx, mark_invalid_fields
from okrs import permissions
from okrs.forms.objectives import InitiativeForm
from okrs.models import KeyResult, Objective
from okrs.selectors.objective_page import initiatives_of, objective_page
from okrs.services.objectives import initiative_create, initiative_set_done
from okrs.views.comments import comment_section
from okrs.views.common import visible_initiative_or_404, visible_key_result_or_404, visible_objective_or_404


def _page_context(request, objective: Objective) -> dict:
    page = objective_page(request.user, objective, now=timezone.now())
    return {"page": page, "objective": objective, "cycle": objective.cycle, "can_edit": page.can_edit}


def render_objective_page(
    request, objective: Objective, *, status: int = 200, bound_forms=None, comment_form=None
):
    context = _page_context(request, objective)
    context.update(comment_section(request.user, objective, form=comment_form))
    if context["can_edit"]:
        bound_forms = bound_forms or {}
        for kr in context["page"].key_results:
            kr.initiative_form = bound_forms.get(kr.pk) or InitiativeForm(key_result=kr)
    return render(request, "okrs/objective.html", context, status=status)


@login_required
@require_GET
def objective_detail(request, pk: int):
    objective = visible_objective_or_404(request.user, pk)
    return render_objective_page(request, objective)


@login_required
@require_GET
def objective_live(request, pk: int):
    """Out-of-band fragments of the parts a check-in changes (for ``okr:checked-in``)."""
    # Read afresh: the check-in changed cached values (progress, needs_decision, …).
    objective = visible_objective_or_404(request.user, pk)
    return render(request, "okrs/objective_live.html", _page_context(request, objective))


def _initiatives_response(request, kr: KeyResult, *, can_edit: bool, form=None, status: int = 200):
    kr.initiatives_list = initiatives_of(request.user, kr, can_edit=can_edit)
    if can_edit:
        kr.initiative_form = form or InitiativeForm(key_result=kr)
    return render(
        request,
        "okrs/objective_initiatives.html",
        {"kr": kr, "can_edit": can_edit, "partial": True},
        status=status,
    )


@login_required
@require_POST
def initiative_add(request, pk: int):
    key_result = visible_key_result_or_404(request.user, pk)
    objective = key_result.objective
    if not permissions.can_edit_objective(request.user, objective):
        raise PermissionDenied(
            _("Only the objective's owner, their manager or an org admin can add initiatives.")
        )
    form = InitiativeForm(request.POST, key_result=key_result)
    if form.is_valid():
        try:
            initiative_create(actor=request.user, key_result=key_result, title=form.cleaned_data["title"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if is_htmx(request):
                return _initiatives_response(request, key_result, can_edit=True)
            messages.success(request, _("Initiative added."))
            return redirect(f"{reverse('objective', args=[objective.pk])}#kr-{key_result.pk}")
    mark_invalid_fields(form)
    if is_htmx(request):
        return _initiatives_response(request, key_result, can_edit=True, form=form, status=422)
    return render_objective_page(request, objective, status=422, bound_forms={key_result.pk: form})


@login_required
@require_POST
def initiative_done(request, pk: int):
    initiative = visible_initiative_or_404(request.user, pk)
    key_result = initiative.key_result
    can_edit = permissions.can_edit_objective(request.user, key_result.objective)
    if not permissions.can_set_initiative_done(request.user, initiative, can_edit=can_edit):
        raise PermissionDenied(_("Only the initiative's owner or the objective's owner can change it."))
    done = request.POST.get("done", "") in {"1", "true", "on", "yes"}
    initiative_set_done(initiative=initiative, actor=request.user, done=done)
    if is_htmx(request):
        return _initiatives_response(request, key_result, can_edit=can_edit)
    messages.success(request, _("Initiative updated."))
    return redirect(f"{reverse('objective', args=[key_result.objective_id])}#kr-{key_result.pk}")


urlpatterns = [
    path("objectives/<int:pk>/", objective_detail, name="objective"),
    path("objectives/<int:pk>/live/", objective_live, name="objective_live"),
    path("key-results/<int:pk>/initiatives/new/", initiative_add, name="initiative_add"),
    path("initiatives/<int:pk>/done/", initiative_done, name="initiative_done"),
]
