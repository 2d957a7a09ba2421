"""Creating and editing objectives and key results, proposing alignment, and the live
quality check. Everything works without JavaScript; HTMX adds rows, swaps a key result's
fields when its type changes, searches for a parent and checks quality as you type."""

from __future__ import annotations

import re
from functools import cached_property

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import can_write
from accounts.ui import add_service_errors, hx_trigger, is_htmx, mark_invalid_fields, safe_next
from okrs import permissions
from okrs.forms.objectives import (
    AlignmentForm,
    KeyResultForm,
    KeyResultFormSet,
    ObjectiveEditForm,
    ObjectiveForm,
    TemplatePickForm,
    int_or_none,
    key_result_initial,
    raw_initial,
    template_prefill,
    unsaved_key_results,
    unsaved_objective,
)
from okrs.models import AlignmentProposal, Cycle, KeyResult, Objective
from okrs.quality import objective_findings
from okrs.selectors import objectives_visible_to
from okrs.selectors.cycles import default_cycle
from okrs.selectors.editing import (
    alignment_candidates,
    open_cycles,
    owners_for,
    parent_token,
    people_for_picker,
)
from okrs.selectors.teams import teams_for_picker
from okrs.selectors.templates import objective_templates, templates_by_function
from okrs.services.alignment import alignment_propose
from okrs.services.objectives import (
    EDIT_REFUSAL,
    key_result_create,
    key_result_update,
    objective_create,
    objective_update,
)
from okrs.views.common import visible_key_result_or_404, visible_objective_or_404

ROW_PREFIX = re.compile(r"^kr(-\d{1,2})?$")


class _RollbackError(Exception):
    """Leave the creation transaction: some part was refused, so nothing is kept."""


class _Choices:
    """What the objective form offers, loaded once per request (a fixed number of queries)."""

    def __init__(self, user):
        self.people = people_for_picker()
        self.owners = owners_for(user, self.people)
        self.teams = list(teams_for_picker())
        self.cycles = list(open_cycles())

    def objective_kwargs(self) -> dict:
        return {"cycles": self.cycles, "owners": self.owners, "teams": self.teams}

    @cached_property
    def templates(self) -> list:
        """The organisation's objective templates (one query, only when the page is shown)."""
        return list(objective_templates())


def _require_writer(user) -> None:
    if not can_write(user):
        raise PermissionDenied(_("Viewers cannot create or change OKRs."))


def _editable_objective(user, pk: int) -> Objective:
    objective = visible_objective_or_404(user, pk)
    if not permissions.can_edit_objective(user, objective):
        raise PermissionDenied(EDIT_REFUSAL)
    return objective


def _kr_form(request, *, prefix: str, people, data=None, initial=None, owner_label=None) -> KeyResultForm:
    return KeyResultForm(
        data,
        prefix=prefix,
        initial=initial,
        people=people,
        owner_label=owner_label,
        row_url=request.path,
    )


def _kr_row_response(request, people, *, owner_label=None):
    """One key result row again, with the fields of the type just chosen (HTMX)."""
    prefix = request.GET.get("kr_row", "")
    if not ROW_PREFIX.match(prefix):
        raise Http404
    bound = _kr_form(request, prefix=prefix, people=people, data=request.POST)
    form = _kr_form(
        request, prefix=prefix, people=people, initial=raw_initial(bound), owner_label=owner_label
    )
    number = int(prefix.rpartition("-")[2]) + 1 if "-" in prefix else None
    return hx_trigger(
        render(request, "okrs/editing/_kr_row.html", {"form": form, "number": number, "only_used": True}),
        **{"okr:form-changed": True},
    )


def _findings(user, objective: Objective, key_results: list[KeyResult]):
    """The quality findings of what is typed, with the owner's visible objective count."""
    count = 0
    if objective.owner_id and objective.cycle_id:
        count = (
            objectives_visible_to(user)
            .filter(cycle_id=objective.cycle_id, owner_id=objective.owner_id)
            .exclude(state=Objective.State.ARCHIVED)
            .exclude(pk=objective.pk)
            .count()
        )
    return objective_findings(objective, key_results, owner_objectives_in_cycle=count + 1)


# --- Create an objective with its key results ----------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def objective_create_view(request):
    user = request.user
    _require_writer(user)
    choices = _Choices(user)
    if request.method == "POST" and "kr_row" in request.GET and is_htmx(request):
        return _kr_row_response(request, choices.people)
    context = {"choices": choices}
    if not choices.cycles:
        return render(request, "okrs/editing/objective_create.html", context)
    if request.method == "GET":
        return _render_create(request, choices, *_blank_create_forms(request, choices))
    objective_form = ObjectiveForm(request.POST, **choices.objective_kwargs())
    formset = KeyResultFormSet(request.POST, prefix="kr", form_kwargs=_row_kwargs(choices))
    alignment_form = AlignmentForm(request.POST, user=user)
    if "add_kr" in request.POST or "refresh" in request.POST:
        # Nothing is saved: the page comes back with one more row, or with the quality
        # check and the parent search done (no JavaScript needed), keeping what was typed.
        add = 1 if "add_kr" in request.POST else 0
        formset = formset.with_rows(add=add)
        if add:
            formset.forms[-1].fields["title"].widget.attrs["autofocus"] = True
        if add and is_htmx(request):
            return hx_trigger(
                render(request, "okrs/editing/_kr_rows.html", {"formset": formset}),
                **{"okr:form-changed": True},
            )
        objective_form = ObjectiveForm(initial=raw_initial(objective_form), **choices.objective_kwargs())
        alignment_form = AlignmentForm(initial=raw_initial(alignment_form), user=user)
        return _render_create(request, choices, objective_form, formset, alignment_form, checked=True)
    rows_valid, parent_valid = formset.is_valid(), alignment_form.is_valid()
    if objective_form.is_valid():
        # Even when some row is not valid yet, the services check the others (and the
        # parent), so every problem shows at once; then it all rolls back.
        objective, proposal = _create_all(
            user, objective_form, formset, alignment_form, commit=rows_valid and parent_valid
        )
        if objective is not None:
            _created_message(request, objective, formset, proposal)
            return redirect("objective", objective.pk)
    for form in [objective_form, alignment_form, *formset.forms]:
        mark_invalid_fields(form)
    return _render_create(request, choices, objective_form, formset, alignment_form, checked=True, status=422)


def _row_kwargs(choices: _Choices) -> dict:
    return {"people": choices.people, "row_url": reverse("objective_create")}


def _blank_create_forms(request, choices: _Choices):
    """The create page's forms; with ``?template=<id>``, prefilled from that template."""
    user = request.user
    cycle_id = request.GET.get("cycle", "")
    cycle = next((c for c in choices.cycles if str(c.pk) == cycle_id), None)
    cycle = cycle or default_cycle(timezone.localdate(), choices.cycles)
    initial = {
        "cycle": cycle.pk if cycle else None,
        "owner": user.pk,
        "team": user.team_id,
        "level": Objective.Level.INDIVIDUAL if user.role == user.Role.MEMBER else Objective.Level.TEAM,
    }
    rows: list[dict] = []
    template = _chosen_template(request, choices)
    if template is not None:
        objective_initial, rows = template_prefill(template)
        initial.update(objective_initial)
    formset = KeyResultFormSet(prefix="kr", rows=rows, form_kwargs=_row_kwargs(choices))
    formset.extra = max(formset.extra, len(rows))  # every suggested key result gets its row
    return ObjectiveForm(initial=initial, **choices.objective_kwargs()), formset, AlignmentForm(user=user)


def _chosen_template(request, choices: _Choices):
    """The template named by ``?template=`` (None when none is, or it does not exist)."""
    template_id = int_or_none(request.GET.get("template"))
    return next((t for t in choices.templates if t.pk == template_id), None)


def _render_create(request, choices, objective_form, formset, alignment_form, *, checked=False, status=200):
    data = request.POST if checked else {}
    cycle = _chosen_cycle(objective_form, choices)
    findings = None
    if checked:
        objective = unsaved_objective(data, cycle=cycle)
        findings = _findings(request.user, objective, unsaved_key_results(data, owner_id=objective.owner_id))
    candidates = alignment_candidates(
        request.user,
        cycle=cycle,
        query=alignment_form["q"].value() or "",
        selected=alignment_form["parent"].value() or "",
    )
    template = None if checked else _chosen_template(request, choices)
    context = {
        "choices": choices,
        "objective_form": objective_form,
        "formset": formset,
        "alignment_form": alignment_form,
        "findings": findings,
        "candidates": candidates,
        "selected": candidates.selected,
        "template_form": TemplatePickForm(
            initial={"template": str(template.pk) if template else ""},
            groups=templates_by_function(choices.templates),
        )
        if choices.templates
        else None,
        "chosen_template": template,
        "template_missing": not checked and bool(request.GET.get("template")) and template is None,
        "chosen_cycle": cycle,
    }
    return render(request, "okrs/editing/objective_create.html", context, status=status)


def _chosen_cycle(form: ObjectiveForm, choices: _Choices) -> Cycle | None:
    value = str(form["cycle"].value() or "")
    return next((c for c in choices.cycles if str(c.pk) == value), None)


def _create_all(user, objective_form, formset, alignment_form, *, commit: bool):
    """The objective, its key results and the proposed parent in one transaction: when
    any part is refused (or ``commit`` is false), every row shows its errors and nothing
    at all is kept."""
    try:
        with transaction.atomic():
            try:
                objective = objective_create(actor=user, **objective_form.cleaned_data)
            except ValidationError as error:
                add_service_errors(objective_form, error)
                raise _RollbackError from error
            failed = not commit
            for form in formset.forms:
                if not (form.has_changed() and form.is_valid()):
                    continue
                try:
                    key_result_create(actor=user, objective=objective, **form.service_kwargs())
                except ValidationError as error:
                    add_service_errors(form, error)
                    failed = True
            proposal = None
            parent = alignment_form.service_kwargs() if alignment_form.is_valid() else {}
            if parent:
                try:
                    proposal = alignment_propose(child=objective, actor=user, **parent)
                except ValidationError as error:
                    add_service_errors(alignment_form, error)
                    failed = True
            if failed:
                raise _RollbackError
            return objective, proposal
    except _RollbackError:
        return None, None


def _created_message(request, objective, formset, proposal) -> None:
    count = len(formset.filled_forms())
    text = ngettext(
        "Objective created with %(count)d key result.", "Objective created with %(count)d key results.", count
    ) % {"count": count}
    if proposal is not None:
        text += " " + _proposal_message(proposal)
    messages.success(request, text)


def _proposal_message(proposal: AlignmentProposal) -> str:
    parent = proposal.parent
    if proposal.state == AlignmentProposal.State.ACCEPTED:
        return _("It now contributes to “%(parent)s”.") % {"parent": parent.title}
    return _("Alignment to “%(parent)s” proposed: %(owner)s will accept it or push back.") % {
        "parent": parent.title,
        "owner": parent.owner.get_full_name(),
    }


def _cycle_named(raw: str | None) -> Cycle | None:
    """The cycle whose id a form field or query parameter holds (None when none is)."""
    cycle_id = int_or_none(raw)
    return Cycle.objects.filter(pk=cycle_id).first() if cycle_id is not None else None


# --- The live quality check -------------------------------------------------------------------------


@login_required
@require_POST
def quality_preview(request):
    """The quality findings for the form as typed so far; nothing is saved, and half-typed
    input (a number not finished yet) counts as not given."""
    data = request.POST
    existing_pk = int_or_none(data.get("objective"))
    if existing_pk is not None:
        base = visible_objective_or_404(request.user, existing_pk)
        objective = unsaved_objective(data, cycle=None, base=base)
        key_results = list(base.key_results.order_by("position", "id"))
    else:
        objective = unsaved_objective(data, cycle=_cycle_named(data.get("cycle")))
        key_results = unsaved_key_results(data, owner_id=objective.owner_id)
    findings = _findings(request.user, objective, key_results)
    return render(request, "okrs/editing/_quality.html", {"findings": findings})


# --- Edit an objective ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def objective_edit(request, pk: int):
    objective = _editable_objective(request.user, pk)
    teams = list(teams_for_picker())
    key_results = list(objective.key_results.select_related("owner").order_by("position", "id"))
    if request.method == "POST":
        form = ObjectiveEditForm(request.POST, objective=objective, teams=teams)
        if form.is_valid():
            changes = form.changes()
            if not changes:
                messages.info(request, _("Nothing was changed."))
                return redirect("objective", objective.pk)
            try:
                objective_update(objective=objective, actor=request.user, **changes)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Objective saved."))
                return redirect("objective", objective.pk)
        mark_invalid_fields(form)
        # Back to the saved values for the check and the page head (the service may have
        # applied some of the refused changes to the instance before validating).
        objective = visible_objective_or_404(request.user, pk)
        status = 422
    else:
        form = ObjectiveEditForm(objective=objective, teams=teams)
        status = 200
    findings = _findings(request.user, objective, key_results)
    context = {"objective": objective, "form": form, "key_results": key_results, "findings": findings}
    return render(request, "okrs/editing/objective_edit.html", context, status=status)


# --- Key results of an existing objective -----------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def key_result_create_view(request, pk: int):
    objective = _editable_objective(request.user, pk)
    people = people_for_picker()
    owner_label = _("%(person)s (the objective's owner)") % {"person": objective.owner.get_full_name()}
    if request.method == "POST" and "kr_row" in request.GET and is_htmx(request):
        return _kr_row_response(request, people, owner_label=owner_label)
    form = _kr_form(request, prefix="kr", people=people, data=request.POST or None, owner_label=owner_label)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                key_result_create(actor=request.user, objective=objective, **form.service_kwargs())
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Key result added."))
                return redirect(safe_next(request, "objective", objective.pk))
        mark_invalid_fields(form)
        status = 422
    context = {"objective": objective, "form": form, "key_result": None}
    return render(request, "okrs/editing/key_result_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def key_result_edit(request, pk: int):
    key_result = visible_key_result_or_404(request.user, pk)
    objective = key_result.objective
    if not permissions.can_edit_objective(request.user, objective):
        raise PermissionDenied(EDIT_REFUSAL)
    people = people_for_picker()
    if request.method == "POST" and "kr_row" in request.GET and is_htmx(request):
        return _kr_row_response(request, people)
    initial = key_result_initial(key_result)
    form = _kr_form(request, prefix="kr", people=people, data=request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            changes = form.changes(key_result)
            if not changes:
                messages.info(request, _("Nothing was changed."))
                return redirect(safe_next(request, "objective", objective.pk))
            try:
                key_result_update(key_result=key_result, actor=request.user, **changes)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Key result saved."))
                return redirect(safe_next(request, "objective", objective.pk))
        mark_invalid_fields(form)
        status = 422
    context = {"objective": objective, "form": form, "key_result": key_result}
    return render(request, "okrs/editing/key_result_form.html", context, status=status)


# --- Alignment ------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def objective_align(request, pk: int):
    """Propose the parent an existing objective contributes to (or re-propose another)."""
    objective = _editable_objective(request.user, pk)
    status = 200
    if request.method == "POST":
        bound = AlignmentForm(request.POST, user=request.user, require_parent=True)
        if "refresh" in request.POST:
            form = AlignmentForm(initial=raw_initial(bound), user=request.user, require_parent=True)
        else:
            form = bound
            if form.is_valid():
                try:
                    proposal = alignment_propose(child=objective, actor=request.user, **form.service_kwargs())
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    messages.success(request, _proposal_message(proposal))
                    return redirect("objective", objective.pk)
            mark_invalid_fields(form)
            status = 422
    else:
        form = AlignmentForm(
            initial={"q": request.GET.get("align-q", ""), "parent": request.GET.get("align-parent", "")},
            user=request.user,
            require_parent=True,
        )
    current_parent = objective.parent_objective or objective.parent_key_result
    candidates = alignment_candidates(
        request.user,
        cycle=objective.cycle,
        query=form["q"].value() or "",
        child=objective,
        selected=form["parent"].value() or parent_token(current_parent),
    )
    context = {
        "objective": objective,
        "alignment_form": form,
        "candidates": candidates,
        "selected": candidates.selected,
        "current_parent": current_parent,
        "open_proposal": objective.alignment_proposals.filter(state=AlignmentProposal.State.PROPOSED)
        .select_related("parent_objective__owner", "parent_key_result__owner")
        .first(),
    }
    return render(request, "okrs/editing/objective_align.html", context, status=status)


@login_required
@require_GET
def alignment_search(request):
    """Objectives and key results an objective could contribute to (HTMX fragment): the
    person's visible ones in the same cycle or its parent, never the objective itself or
    anything below it. At most 10 of each; a fixed number of queries."""
    child = None
    objective_id = int_or_none(request.GET.get("objective"))
    if objective_id is not None:
        child = visible_objective_or_404(request.user, objective_id)
        cycle = child.cycle
    else:
        cycle = _cycle_named(request.GET.get("cycle"))
    candidates = alignment_candidates(
        request.user,
        cycle=cycle,
        query=request.GET.get("align-q", ""),
        child=child,
        selected=request.GET.get("align-parent", ""),
    )
    context = {
        "candidates": candidates,
        "selected": candidates.selected,
        "query": request.GET.get("align-q", ""),
        "cycle": cycle,
        "require_parent": child is not None,
    }
    return render(request, "okrs/editing/_alignment_results.html", context)


urlpatterns = [
    path("objectives/new/", objective_create_view, name="objective_create"),
    path("objectives/<int:pk>/edit/", objective_edit, name="objective_edit"),
    path("objectives/<int:pk>/align/", objective_align, name="objective_align"),
    path("objectives/<int:pk>/key-results/new/", key_result_create_view, name="key_result_create"),
    path("key-results/<int:pk>/edit/", key_result_edit, name="key_result_edit"),
    path("okrs/quality-preview/", quality_preview, name="quality_preview"),
    path("okrs/alignment-search/", alignment_search, name="alignment_search"),
]
