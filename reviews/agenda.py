"""The agenda of a calibration review (method §4 and §5)."""

from __future__ import annotations

from django.db.models import Q

from okrs.models import Cycle, Escalation, Objective
from reviews.models import ReviewCycle


def escalated_objectives_for_calibration(review_cycle: ReviewCycle) -> list[Objective]:
    """The agenda of a calibration: objectives of the cycle (and its quarters) with an
    open level-3 escalation (method §5, the third line of defence)."""
    cycles = Cycle.objects.filter(Q(pk=review_cycle.cycle_id) | Q(parent_id=review_cycle.cycle_id))
    return list(
        Objective.objects.filter(
            cycle__in=cycles,
            key_results__escalations__level=3,
            key_results__escalations__state__in=[Escalation.State.OPEN, Escalation.State.ACKNOWLEDGED],
        )
        .distinct()
        .select_related("owner", "cycle")
    )
