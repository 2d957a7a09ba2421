"""What a person owes now, for "My focus": OKR side (reviews add theirs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import User
from okrs.models import AlignmentProposal, Cycle, Escalation, KeyResult, Objective

OPEN_OBJECTIVE_STATES = (Objective.State.DRAFT, Objective.State.ACTIVE)


def my_objectives(user: User, cycle: Cycle) -> QuerySet[Objective]:
    """Objectives of ``cycle`` that ``user`` owns or holds a KR of, with their KRs: two queries."""
    key_results = KeyResult.objects.select_related("owner").order_by("position", "id")
    return (
        Objective.objects.filter(Q(owner=user) | Q(key_results__owner=user), cycle=cycle)
        .exclude(state=Objective.State.ARCHIVED)
        .distinct()
        .select_related("owner", "cycle")
        .prefetch_related(Prefetch("key_results", queryset=key_results))
        .order_by("title", "id")
    )


def check_ins_due(user: User, now: datetime) -> list[KeyResult]:
    """KRs ``user`` owns in active objectives of active cycles whose last check-in is older
    than the cycle's cadence (or missing). One query."""
    rows = (
        KeyResult.objects.filter(
            owner=user,
            objective__state=Objective.State.ACTIVE,
            objective__cycle__state=Cycle.State.ACTIVE,
            objective__cycle__start_date__lte=now.date(),
        )
        .select_related("objective__cycle")
        .order_by("last_check_in_at", "id")
    )
    due = []
    for key_result in rows:
        cadence = Cycle.CADENCE_DAYS[key_result.objective.cycle.cadence]
        if key_result.last_check_in_at is None or key_result.last_check_in_at <= now - timedelta(
            days=cadence
        ):
            due.append(key_result)
    return due


def escalations_awaiting_root_cause(user: User) -> QuerySet[Escalation]:
    """Open escalations on KRs ``user`` owns, one per KR (the highest level): each waits
    for their root-cause note."""
    return (
        Escalation.objects.filter(state=Escalation.State.OPEN, key_result__owner=user)
        .select_related("key_result__objective")
        .order_by("key_result_id", "-level")
        .distinct("key_result_id")
    )


def alignment_decisions_waiting(user: User) -> QuerySet[AlignmentProposal]:
    """Proposals to align under something ``user`` owns, waiting for their answer."""
    return (
        AlignmentProposal.objects.filter(
            Q(parent_objective__owner=user) | Q(parent_key_result__owner=user),
            state=AlignmentProposal.State.PROPOSED,
        )
        .select_related("child__owner", "parent_objective", "parent_key_result")
        .order_by("created_at", "id")
    )
