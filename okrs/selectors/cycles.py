"""Which cycle a page shows by default, and the cycles a person can pick from."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from okrs.models import Cycle


def cycles_for_picker() -> QuerySet[Cycle]:
    """Every cycle, the latest first."""
    return Cycle.objects.order_by("-start_date", "name")


def default_cycle(today: date, cycles: list[Cycle] | None = None) -> Cycle | None:
    """The active cycle containing ``today`` (the shortest: the quarter rather than the
    year), else the latest active cycle, else the latest cycle."""
    cycles = list(cycles_for_picker()) if cycles is None else cycles
    active = [c for c in cycles if c.state == Cycle.State.ACTIVE]
    current = [c for c in active if c.start_date <= today <= c.end_date]
    if current:
        return min(current, key=lambda c: (c.end_date - c.start_date, c.pk))
    if active:
        return active[0]
    return cycles[0] if cycles else None
