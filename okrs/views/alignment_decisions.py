"""Accepting or declining an alignment proposal (method §3: the parent's owner decides;
a decline says why). The forms sit on the objective pages; without JavaScript, and
when something is wrong, the decision has a page of its own."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.ui import add_service_errors, mark_invalid_fields, safe_next
from okrs import permissions
from okrs.forms.objectives import AcceptForm, DeclineForm
from okrs.models import AlignmentProposal
from okrs.services.alignment import alignment_accept, alignment_decline
from okrs.views.common import visible_proposal_or_404


def _require_decider(user, proposal: AlignmentProposal) -> None:
    if not permissions.can_decide_alignment(user, proposal):
        raise PermissionDenied(
            _("Only the owner of the objective or key result proposed as the parent can decide.")
        )


def _page(request, proposal, *, accept_form=None, decline_form=None, status=200):
    for form in (accept_form, decline_form):
        if form is not None:
            mark_invalid_fields(form)
    return render(
        request,
        "okrs/objective_proposal.html",
        {
            "proposal": proposal,
            "parent": proposal.parent,
            "parent_objective": proposal.parent_objective or proposal.parent_key_result.objective,
            "accept_form": accept_form or AcceptForm(prefix="accept"),
            "decline_form": decline_form or DeclineForm(prefix="decline"),
            "next": safe_next(request, "objective", proposal.child_id),
            "decided": proposal.state != AlignmentProposal.State.PROPOSED,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def proposal_accept(request, pk: int):
    proposal = visible_proposal_or_404(request.user, pk)
    _require_decider(request.user, proposal)
    if request.method == "GET":
        return _page(request, proposal)
    form = AcceptForm(request.POST, prefix="accept")
    if form.is_valid():
        try:
            alignment_accept(proposal=proposal, actor=request.user, response=form.cleaned_data["response"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Accepted: “%(child)s” now contributes.") % {"child": proposal.child.title}
            )
            return redirect(safe_next(request, "objective", proposal.child_id))
    proposal.refresh_from_db(fields=["state"])
    return _page(request, proposal, accept_form=form, status=422)


@login_required
@require_http_methods(["GET", "POST"])
def proposal_decline(request, pk: int):
    proposal = visible_proposal_or_404(request.user, pk)
    _require_decider(request.user, proposal)
    if request.method == "GET":
        return _page(request, proposal)
    form = DeclineForm(request.POST, prefix="decline")
    if form.is_valid():
        try:
            alignment_decline(proposal=proposal, actor=request.user, response=form.cleaned_data["response"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Declined. The owner has been told why."))
            return redirect(safe_next(request, "objective", proposal.child_id))
    proposal.refresh_from_db(fields=["state"])
    return _page(request, proposal, decline_form=form, status=422)


urlpatterns = [
    path("alignment-proposals/<int:pk>/accept/", proposal_accept, name="proposal_accept"),
    path("alignment-proposals/<int:pk>/decline/", proposal_decline, name="proposal_decline"),
]
