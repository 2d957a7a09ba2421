"""Activating an OKR cycle from the review side: okrs cannot call reviews, so the
composition "activate, then schedule its review cycles when the organisation has
automatic scheduling on" lives here (like ``okr_cycle_start`` for creation)."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from okrs.models import Cycle
from okrs.services.cycles import cycle_activate
from reviews.models import ReviewCycle
from reviews.services.cycles import review_cycles_auto_schedule


@transaction.atomic
def okr_cycle_activate(*, cycle: Cycle, actor: User) -> tuple[Cycle, list[ReviewCycle]]:
    cycle = cycle_activate(cycle=cycle, actor=actor)
    return cycle, review_cycles_auto_schedule(cycle=cycle, actor=actor)
