"""Carrying unfinished objectives into the next cycle, deliberately (method §4)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from okrs import permissions, scoring
from okrs.models import Cycle, KeyResult, Objective
from okrs.recalculation import Clock, refresh_key_result, refresh_objective_chain
from okrs.services.common import require, save_validated

_COPIED_OBJECTIVE_FIELDS = (
    "title",
    "description",
    "owner_id",
    "team_id",
    "level",
    "kind",
    "health_dimension",
    "visibility",
)
_COPIED_KR_FIELDS = (
    "title",
    "owner_id",
    "kind",
    "unit",
    "currency_code",
    "unit_label",
    "target",
    "low",
    "high",
    "weight",
    "position",
)


def _is_unfinished(key_result: KeyResult) -> bool:
    return key_result.kind in scoring.GUARD_RAILS or key_result.progress < 1


@transaction.atomic
def objective_carry_over(*, objective: Objective, to_cycle: Cycle, actor: User) -> Objective:
    """Copy an unfinished objective and its unfinished KRs into ``to_cycle``. Each
    KR starts from its last value; the copy links to its origin (``carried_from``)."""
    require(permissions.can_edit_objective(actor, objective) or permissions.can_manage_cycles(actor))
    if to_cycle.pk == objective.cycle_id or to_cycle.state == Cycle.State.CLOSED:
        raise ValidationError(_("Carry over into a later cycle that is not closed."))
    if objective.progress >= 1:
        raise ValidationError(_("“%(o)s” is finished; there is nothing to carry over.") % {"o": objective})
    if Objective.objects.filter(carried_from=objective, cycle=to_cycle).exists():
        raise ValidationError(_("“%(o)s” was already carried into %(c)s.") % {"o": objective, "c": to_cycle})
    copy = Objective(cycle=to_cycle, carried_from=objective, state=Objective.State.DRAFT)
    for field in _COPIED_OBJECTIVE_FIELDS:
        setattr(copy, field, getattr(objective, field))
    save_validated(copy, actor)
    clock = Clock.current()
    for key_result in objective.key_results.order_by("position", "id"):
        if not _is_unfinished(key_result):
            continue
        new = KeyResult(objective=copy)
        for field in _COPIED_KR_FIELDS:
            setattr(new, field, getattr(key_result, field))
        # The new baseline is where the old cycle ended; guard rails keep their bounds.
        new.start = key_result.current if key_result.current is not None else key_result.start
        if key_result.kind == scoring.MILESTONE:
            new.start, new.target = 0.0, 1.0
        save_validated(new, actor)
        new.objective = copy
        refresh_key_result(new, clock)
    refresh_objective_chain(copy.pk, clock)
    return copy


def cycle_carry_over(*, from_cycle: Cycle, to_cycle: Cycle, actor: User) -> list[Objective]:
    """Carry every unfinished, not yet carried objective of ``from_cycle``."""
    require(permissions.can_manage_cycles(actor))
    candidates = (
        Objective.objects.filter(cycle=from_cycle, progress__lt=1)
        .exclude(state=Objective.State.ARCHIVED)
        .exclude(carried_into__cycle=to_cycle)
        .select_related("cycle", "owner")
    )
    return [objective_carry_over(objective=o, to_cycle=to_cycle, actor=actor) for o in candidates]
