"""Home — "My focus": what I owe now and my objectives for the current cycle.

It lives in ``reviews`` because it gathers from both OKRs and reviews, and reviews is
the app allowed to import from okrs (never the other way round)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.utils import timezone

from accounts.permissions import can_write
from okrs import permissions as okr_permissions
from okrs.selectors.cycles import cycles_for_picker, default_cycle
from okrs.selectors.focus import (
    alignment_decisions_waiting,
    check_ins_due,
    escalations_awaiting_root_cause,
    my_objectives,
)
from reviews.selectors import peer_feedback_to_give, reviews_to_calibrate, self_reviews_due
from tenants.page_cache import cached_page


@login_required
def home(request):
    """My focus, kept whole in the cache until the organisation's data changes
    (``tenants.page_cache``)."""
    return cached_page(
        request,
        "focus",
        "reviews/focus.html",
        "reviews/focus_content.html",
        lambda: focus_context(request.user),
    )


def focus_context(user) -> dict:
    now = timezone.now()
    cycle = default_cycle(timezone.localdate(now), list(cycles_for_picker()))
    objectives = list(my_objectives(user, cycle)) if cycle else []
    owed = {
        "check_ins_due": check_ins_due(user, now),
        "reviews_due": list(self_reviews_due(user)),
        "to_calibrate": list(reviews_to_calibrate(user)),
        "feedback_requested": list(peer_feedback_to_give(user)),
        "escalations": list(escalations_awaiting_root_cause(user)),
        "alignment_decisions": list(alignment_decisions_waiting(user)),
    }
    for objective in objectives:
        for key_result in objective.key_results.all():
            key_result.objective = objective  # already loaded: permission checks need no query
            key_result.can_check_in = okr_permissions.can_check_in(user, key_result)
    return {
        **owed,
        "owes_nothing": not any(owed.values()),
        "cycle": cycle,
        "objectives": objectives,
        "can_create": can_write(user),
    }
