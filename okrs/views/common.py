"""Fetching OKR objects named in a URL with the person's visibility applied:
anything they may not see is a 404, never a 403 that confirms it exists."""

from __future__ import annotations

from django.http import Http404

from accounts.models import User
from okrs import permissions
from okrs.models import KeyResult, Objective


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
