"""Calibration decisions (method §4): keep, change a target or drop an objective, with
the reason recorded. Changes go through the OKR services, so they are validated and
appear in the objective's and key result's audit history."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from okrs import scoring
from okrs.models import KeyResult, Objective
from okrs.services.common import raise_if, require
from okrs.services.objectives import key_result_update, objective_update
from reviews import permissions
from reviews.models import CalibrationDecision, ReviewCycle

_NO_SINGLE_TARGET = frozenset({scoring.MILESTONE, scoring.STAY_BETWEEN})


def _decision_errors(
    objective: Objective,
    decision: str,
    reason: str,
    key_result: KeyResult | None,
    new_target: float | None,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if decision not in CalibrationDecision.Decision.values:
        errors["decision"] = _("Choose keep, change or drop.")
        return errors
    if decision == CalibrationDecision.Decision.CHANGE:
        if key_result is None:
            errors["key_result"] = _("Choose the key result whose target changes.")
        elif key_result.objective_id != objective.pk:
            errors["key_result"] = _("“%(kr)s” is not a key result of “%(o)s”.") % {
                "kr": key_result,
                "o": objective,
            }
        elif key_result.kind in _NO_SINGLE_TARGET:
            errors["key_result"] = _(
                "“%(kr)s” has no single target to change; edit the key result instead."
            ) % {"kr": key_result}
        if new_target is None:
            errors["new_target"] = _("Give the new target.")
        if not reason:
            errors["reason"] = _("Record why the target changes.")
        return errors
    if key_result is not None or new_target is not None:
        errors["key_result"] = _("Only a change of target names a key result and a new target.")
    if decision == CalibrationDecision.Decision.DROP and not reason:
        errors["reason"] = _("Record why the objective is dropped.")
    return errors


@transaction.atomic
def calibration_decide(
    *,
    review_cycle: ReviewCycle,
    objective: Objective,
    actor: User,
    decision: str,
    reason: str = "",
    key_result: KeyResult | None = None,
    new_target: float | None = None,
) -> CalibrationDecision:
    """Record a calibration decision about ``objective`` (of the calibration's OKR cycle,
    or of one of its quarters when that is a year) and apply it.

    keep: nothing changes. change: ``key_result``'s target becomes ``new_target``
    (``okrs.services.objectives.key_result_update``). drop: the objective is archived
    with the reason as its closing note (``objective_update``). The OKR services check
    their own permissions (a consultant may record decisions but only change OKRs they
    may edit) and validation; their errors propagate and nothing is recorded then.
    """
    review_cycle = ReviewCycle.objects.select_related("cycle").get(pk=review_cycle.pk)
    objective = Objective.objects.select_for_update(of=("self",)).select_related("cycle").get(pk=objective.pk)
    require(
        permissions.can_decide_calibration(actor, objective),
        _("Only org admins, consultants and the owner's managers decide at a calibration."),
    )
    if review_cycle.kind != ReviewCycle.Kind.CALIBRATION:
        raise ValidationError(
            _("“%(name)s” is not a calibration; decisions are recorded at calibrations.")
            % {"name": review_cycle}
        )
    if review_cycle.state != ReviewCycle.State.OPEN:
        raise ValidationError(
            _("“%(name)s” is not open; decisions are recorded while a calibration is open.")
            % {"name": review_cycle}
        )
    # A year's calibration also decides on its quarters' objectives (method §5: an
    # escalated tactical objective goes on the calibration agenda).
    if review_cycle.cycle_id not in {objective.cycle_id, objective.cycle.parent_id}:
        message = _("“%(o)s” is not part of %(cycle)s.") % {"o": objective, "cycle": review_cycle.cycle}
        raise ValidationError({"objective": [message]})
    if objective.state == Objective.State.ARCHIVED:
        raise ValidationError(_("“%(o)s” was already dropped.") % {"o": objective})
    reason = (reason or "").strip()
    if key_result is not None:
        key_result = KeyResult.objects.select_related("objective__cycle").get(pk=key_result.pk)
    raise_if(_decision_errors(objective, decision, reason, key_result, new_target))

    if decision == CalibrationDecision.Decision.CHANGE:
        key_result_update(key_result=key_result, actor=actor, target=new_target)
    elif decision == CalibrationDecision.Decision.DROP:
        objective_update(
            objective=objective, actor=actor, state=Objective.State.ARCHIVED, closing_note=reason
        )
    record = CalibrationDecision(
        review_cycle=review_cycle,
        objective=objective,
        decision=decision,
        reason=reason,
        key_result=key_result,
        new_target=new_target,
        decided_by=actor,
    )
    record.full_clean()
    record.save()
    return record
