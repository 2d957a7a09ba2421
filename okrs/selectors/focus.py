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
    # A subquery, not a join with DISTINCT: PostgreSQL then uses the owner indexes on both
    # tables instead of joining every objective of the cycle (41 → 10 ms at 10,000 objectives).
    holds_a_key_result = KeyResult.objects.filter(owner=user).values("objective_id")
    return (
        Objective.objects.filter(Q(owner=user) | Q(pk__in=holds_a_key_result), cycle=cycle)
        .exclude(state=Objective.State.ARCHIVED)
        .select_related("owner", "cycle")
        .prefetch_related(Prefetch("key_results", queryset=key_results))
        .order_by("title", "id")
    )


def check_in_overdue(key_result: KeyResult, now: datetime) -> bool:
    """Whether ``key_result`` waits for a check-in: its cycle is running and its last
    check-in (or its creation) is a cadence old. A day of slack: a weekly check-in made last
    Tuesday is not overdue on Monday. Needs ``key_result.objective.cycle`` loaded.
    The one rule for My focus and the check-in reminders."""
    cycle = key_result.objective.cycle
    last = key_result.last_check_in_at or key_result.created_at
    running = cycle.start_date <= now.date() <= cycle.end_date
    return running and now - last >= timedelta(days=Cycle.CADENCE_DAYS[cycle.cadence] - 1)


def check_in_overdue_filter(now: datetime) -> Q:
    """``check_in_overdue`` as a filter on key results, so that only those are read (the
    reminder run of a large organisation). The same rule: a test holds the two to each other,
    and the callers still apply ``check_in_overdue`` to what they read."""
    today = now.date()
    stale = Q()
    for cadence, days in Cycle.CADENCE_DAYS.items():
        before = now - timedelta(days=days - 1)
        last_before = Q(last_check_in_at__lte=before) | Q(
            last_check_in_at__isnull=True, created_at__lte=before
        )
        stale |= Q(objective__cycle__cadence=cadence) & last_before
    return Q(objective__cycle__start_date__lte=today, objective__cycle__end_date__gte=today) & stale


def check_ins_due(user: User, now: datetime) -> list[KeyResult]:
    """KRs ``user`` owns in active objectives of active cycles that wait for a check-in
    (``check_in_overdue``). One query."""
    rows = (
        KeyResult.objects.filter(
            check_in_overdue_filter(now),
            owner=user,
            objective__state=Objective.State.ACTIVE,
            objective__cycle__state=Cycle.State.ACTIVE,
        )
        .select_related("objective__cycle")
        .order_by("last_check_in_at", "id")
    )
    return [key_result for key_result in rows if check_in_overdue(key_result, now)]


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
