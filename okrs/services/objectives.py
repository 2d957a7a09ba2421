from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Team, User
from accounts.webhooks import webhook_emit
from okrs import permissions, scoring
from okrs.models import Cycle, Initiative, KeyResult, Objective
from okrs.recalculation import Clock, refresh_key_result, refresh_objective_chain
from okrs.services.common import differing, raise_if, reject_unknown_fields, require, save_validated
from okrs.services.cycles import objective_closed_payload

EDIT_REFUSAL = gettext_lazy("Only the objective's owner, their manager or an org admin can change it.")
STATE_REFUSAL = gettext_lazy(
    "Only the objective's owner, their manager or an org admin can activate, close or archive it."
)
OBJECTIVE_FIELDS = frozenset(
    {
        "title",
        "description",
        "team",
        "level",
        "kind",
        "health_dimension",
        "visibility",
        "state",
        "closing_note",
    }
)
KEY_RESULT_FIELDS = frozenset(
    {
        "title",
        "owner",
        "kind",
        "unit",
        "currency_code",
        "unit_label",
        "start",
        "target",
        "low",
        "high",
        "weight",
        "due_date",
    }
)


def _require_open(cycle: Cycle) -> None:
    if cycle.state == Cycle.State.CLOSED:
        raise ValidationError(
            _("The cycle “%(cycle)s” is closed; its OKRs can no longer change.") % {"cycle": cycle}
        )


@transaction.atomic
def objective_create(
    *,
    actor: User,
    cycle: Cycle,
    title: str,
    owner: User | None = None,
    description: str = "",
    team: Team | None = None,
    level: str = Objective.Level.TEAM,
    kind: str = Objective.Kind.COMMITTED,
    health_dimension: str = Objective.HealthDimension.CUSTOMER_VALUE,
    visibility: str = Objective.Visibility.ORGANIZATION,
    state: str = Objective.State.DRAFT,
) -> Objective:
    owner = owner or actor  # by default, your own objective
    require(
        permissions.can_create_objective_for(actor, owner),
        _("You can create objectives for yourself and your reports."),
    )
    _require_open(cycle)
    if not owner.is_active:
        raise ValidationError(
            {"owner": [_("%(person)s is deactivated and cannot own objectives.") % {"person": owner}]}
        )
    objective = Objective(
        cycle=cycle,
        owner=owner,
        title=(title or "").strip(),
        description=description,
        team=team,
        level=level,
        kind=kind,
        health_dimension=health_dimension,
        visibility=visibility,
        state=state,
    )
    save_validated(objective, actor)
    refresh_objective_chain(objective.pk, Clock.current())
    return objective


@transaction.atomic
def objective_update(*, objective: Objective, actor: User, **changes) -> Objective:
    """Change the given fields; values equal to the saved ones are left alone, and when
    nothing differs nothing is saved (still refused to anyone who may not edit)."""
    require(permissions.can_edit_objective(actor, objective), EDIT_REFUSAL)
    reject_unknown_fields(changes, OBJECTIVE_FIELDS)
    changes = differing(objective, changes)
    if not changes:
        return objective
    if "state" in changes and not permissions.can_change_objective_state(actor, objective):
        # On the field, so the edit form shows it where it was chosen (a consultant coaching a draft).
        raise ValidationError({"state": [STATE_REFUSAL]})
    _require_open(objective.cycle)
    was_closed = objective.state == Objective.State.CLOSED
    for field, value in changes.items():
        setattr(objective, field, value)
    save_validated(objective, actor)
    refresh_objective_chain(objective.pk, Clock.current())
    if objective.state == Objective.State.CLOSED and not was_closed:
        objective.refresh_from_db(fields=["progress", "status"])
        webhook_emit("objective.closed", objective_closed_payload(objective, by_cycle=False))
    return objective


def _key_result_errors(kr: KeyResult) -> dict[str, str]:
    errors = scoring.key_result_errors(
        kr.kind, start=kr.start, target=kr.target, low=kr.low, high=kr.high, weight=kr.weight
    )
    if kr.unit == KeyResult.Unit.CURRENCY and not (len(kr.currency_code) == 3 and kr.currency_code.isalpha()):
        errors["currency_code"] = _("Give the three-letter currency code, for example EUR or CNY.")
    return errors


@transaction.atomic
def key_result_create(
    *,
    actor: User,
    objective: Objective,
    title: str,
    kind: str,
    start: float | None = None,
    target: float | None = None,
    low: float | None = None,
    high: float | None = None,
    weight: float = 1.0,
    unit: str = KeyResult.Unit.NUMBER,
    currency_code: str = "",
    unit_label: str = "",
    owner: User | None = None,
    due_date: date | None = None,
) -> KeyResult:
    require(permissions.can_edit_objective(actor, objective), EDIT_REFUSAL)
    _require_open(objective.cycle)
    if kind == scoring.MILESTONE:
        start, target = 0.0, 1.0
    position = (objective.key_results.aggregate(m=Max("position"))["m"] or 0) + 1
    key_result = KeyResult(
        objective=objective,
        title=(title or "").strip(),
        kind=kind,
        start=start,
        target=target,
        low=low,
        high=high,
        weight=weight,
        unit=unit,
        currency_code=(currency_code or "").upper(),
        unit_label=unit_label,
        owner=owner or objective.owner,
        due_date=due_date,
        position=position,
    )
    raise_if(_key_result_errors(key_result))
    save_validated(key_result, actor)
    refresh_key_result(key_result, Clock.current())
    return key_result


@transaction.atomic
def key_result_update(*, key_result: KeyResult, actor: User, **changes) -> KeyResult:
    """As ``objective_update``; no owner means the objective's owner (as on creation)."""
    require(permissions.can_edit_objective(actor, key_result.objective), EDIT_REFUSAL)
    reject_unknown_fields(changes, KEY_RESULT_FIELDS)
    if "owner" in changes and changes["owner"] is None:
        changes["owner"] = key_result.objective.owner
    changes = differing(key_result, changes)
    if not changes:
        return key_result
    _require_open(key_result.objective.cycle)
    for field, value in changes.items():
        setattr(key_result, field, value)
    if key_result.kind == scoring.MILESTONE:
        key_result.start, key_result.target = 0.0, 1.0
    raise_if(_key_result_errors(key_result))
    save_validated(key_result, actor)
    refresh_key_result(key_result, Clock.current())
    return key_result


@transaction.atomic
def initiative_create(
    *, actor: User, key_result: KeyResult, title: str, owner: User | None = None
) -> Initiative:
    require(permissions.can_edit_objective(actor, key_result.objective), EDIT_REFUSAL)
    _require_open(key_result.objective.cycle)
    initiative = Initiative(key_result=key_result, title=(title or "").strip(), owner=owner or actor)
    initiative.full_clean()
    initiative.save()
    return initiative


@transaction.atomic
def initiative_set_done(*, initiative: Initiative, actor: User, done: bool) -> Initiative:
    require(permissions.can_set_initiative_done(actor, initiative))
    initiative.done = done
    initiative.save(update_fields=["done"])
    return initiative
