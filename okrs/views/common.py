"""Fetching OKR objects named in a URL with the person's visibility applied:
anything they may not see is a 404, never a 403 that confirms it exists."""

from __future__ import annotations

from django.http import Http404

from accounts.models import User
from okrs import permissions
from okrs.models import AlignmentProposal, Escalation, Initiative, KeyResult, Objective


def visible_key_result_or_404(user: User, pk: int) -> KeyResult:
    key_result = (
        KeyResult.objects.select_related("objective__cycle", "objective__owner", "owner")
        .filter(pk=pk)
        .first()
    )
    if key_result is None or not permissions.can_view_objective(user, key_result.objective):
        raise Http404
    return key_result


def visible_objective_or_404(user: User, pk: int) -> Objective:
    objective = Objective.objects.select_related("cycle", "owner", "team").filter(pk=pk).first()
    if objective is None or not permissions.can_view_objective(user, objective):
        raise Http404
    return objective


def visible_escalation_or_404(user: User, pk: int) -> Escalation:
    """An escalation on a key result of an objective ``user`` may see."""
    escalation = (
        Escalation.objects.select_related(
            "key_result__objective__cycle", "key_result__objective__owner", "key_result__owner"
        )
        .filter(pk=pk)
        .first()
    )
    if escalation is None or not permissions.can_view_objective(user, escalation.key_result.objective):
        raise Http404
    return escalation


def visible_initiative_or_404(user: User, pk: int) -> Initiative:
    """An initiative of a key result of an objective ``user`` may see."""
    initiative = (
        Initiative.objects.select_related(
            "key_result__objective__cycle", "key_result__objective__owner", "owner"
        )
        .filter(pk=pk)
        .first()
    )
    if initiative is None or not permissions.can_view_objective(user, initiative.key_result.objective):
        raise Http404
    return initiative


def visible_proposal_or_404(user: User, pk: int) -> AlignmentProposal:
    """An alignment proposal whose proposed objective ``user`` may see, or that ``user`` decides."""
    proposal = (
        AlignmentProposal.objects.select_related(
            "child__cycle",
            "child__owner",
            "proposed_by",
            "parent_objective__owner",
            "parent_key_result__owner",
            "parent_key_result__objective",
        )
        .filter(pk=pk)
        .first()
    )
    if proposal is None or not (
        permissions.can_view_objective(user, proposal.child)
        or permissions.can_decide_alignment(user, proposal)
    ):
        raise Http404
    return proposal
