from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from accounts.models import User
from accounts.webhooks import webhook_emit_many
from okrs import permissions
from okrs.models import Cycle, KeyResult, Objective
from okrs.recalculation import Clock, recalculate_all
from okrs.selectors import okr_settings
from okrs.services.common import require


def objective_closed_payload(objective: Objective, *, by_cycle: bool) -> dict:
    """The ``objective.closed`` webhook event's data."""
    return {
        "objective": {
            "id": objective.pk, "title": objective.title, "cycle_id": objective.cycle_id,
            "owner_id": objective.owner_id, "team_id": objective.team_id, "score": objective.score,
            "progress": objective.progress, "status": objective.status,
        },
        "closed_with_cycle": by_cycle,
    }  # fmt: skip


def _validate_nesting(cycle: Cycle) -> None:
    if cycle.parent_id is None:
        return
    parent = cycle.parent
    if parent.kind != Cycle.Kind.ANNUAL or cycle.kind == Cycle.Kind.ANNUAL:
        raise ValidationError(
            {"parent": [_("Only a quarter or a custom cycle can be part of an annual cycle.")]}
        )
    if cycle.start_date < parent.start_date or cycle.end_date > parent.end_date:
        raise ValidationError(
            {
                "parent": [
                    _("%(cycle)s must lie within %(parent)s.") % {"cycle": cycle.name, "parent": parent.name}
                ]
            }
        )


@transaction.atomic
def cycle_create(
    *,
    actor: User,
    name: str,
    kind: str,
    start_date: date,
    end_date: date,
    parent: Cycle | None = None,
    cadence: str | None = None,
    state: str = Cycle.State.DRAFT,
) -> Cycle:
    """No ``cadence``: the organisation's default (``OkrSettings.default_cadence``, its method)."""
    require(permissions.can_manage_cycles(actor))
    if not cadence:
        cadence = okr_settings().default_cadence
    if start_date and end_date and end_date < start_date:
        raise ValidationError({"end_date": [_("The cycle must end on or after its start date.")]})
    cycle = Cycle(
        name=name.strip(),
        kind=kind,
        start_date=start_date,
        end_date=end_date,
        parent=parent,
        cadence=cadence,
        state=state,
    )
    cycle.full_clean()
    _validate_nesting(cycle)
    cycle.save()
    return cycle


@transaction.atomic
def cycle_activate(*, cycle: Cycle, actor: User) -> Cycle:
    require(permissions.can_manage_cycles(actor))
    if cycle.state == Cycle.State.CLOSED:
        raise ValidationError(_("A closed cycle cannot be reopened."))
    cycle.state = Cycle.State.ACTIVE
    cycle.save(update_fields=["state"])
    return cycle


@transaction.atomic
def cycle_close(*, cycle: Cycle, actor: User, now: datetime | None = None) -> Cycle:
    """Close the cycle: recalculate once more, then freeze each objective's and KR's
    score at its progress (score at close = progress at close)."""
    require(permissions.can_manage_cycles(actor))
    if cycle.state == Cycle.State.CLOSED:
        return cycle
    recalculate_all(Clock.current(now))
    objectives = list(Objective.objects.filter(cycle=cycle).exclude(state=Objective.State.ARCHIVED))
    key_results = list(KeyResult.objects.filter(objective__in=objectives))
    for key_result in key_results:
        key_result.score = key_result.progress
    newly_closed = [o for o in objectives if o.state != Objective.State.CLOSED]
    for objective in objectives:
        objective.score, objective.state = objective.progress, Objective.State.CLOSED
    # Set-based, with one audit-history row per object.
    bulk_update_with_history(key_results, KeyResult, ["score"], default_user=actor)
    bulk_update_with_history(objectives, Objective, ["score", "state"], default_user=actor)
    webhook_emit_many("objective.closed", [objective_closed_payload(o, by_cycle=True) for o in newly_closed])
    cycle.state = Cycle.State.CLOSED
    cycle.save(update_fields=["state"])
    return cycle
