from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.webhooks import webhook_emit_events
from okrs import escalations, permissions, scoring
from okrs.models import CheckIn, Cycle, KeyResult, Objective
from okrs.recalculation import Clock, refresh_key_result
from okrs.selectors import okr_settings_column, okr_settings_from
from okrs.services.common import raise_if, require


@transaction.atomic
def check_in_record(
    *,
    key_result: KeyResult,
    actor: User,
    value: float | None,
    confidence: int | None,
    what_moved: str = "",
    blockers: str = "",
    next_step: str = "",
    corrects: CheckIn | None = None,
    recorded_at: datetime | None = None,
    now: datetime | None = None,
    hidden_as_missing: bool = False,
) -> CheckIn:
    """Record the current value of a KR, then update the KR, its objective and (when
    aligned children count) the objectives above it, in this transaction.

    ``corrects`` makes this a correction of an earlier check-in: it takes that
    check-in's place in the history; nothing is ever edited or deleted.
    ``recorded_at`` is for imports and demo data only (defaults to now).
    ``hidden_as_missing`` (the API, where only an id is known): a key result the actor may not
    see raises ``KeyResult.DoesNotExist``, as a missing id does, with nothing written, so that
    the answer never confirms that something hidden exists.
    """
    # Lock the KR: concurrent check-ins on it are applied one after the other. Its objective
    # is locked in the same statement (KR first, then objective, as the roll-up chain locks
    # them): when aligned children do not count, it is the whole chain of the roll-up below.
    # The organisation's settings come with the row.
    key_result = (
        KeyResult.objects.select_for_update(of=("self", "objective"))
        .select_related("objective__cycle")
        .annotate(okr_settings_row=okr_settings_column())
        .get(pk=key_result.pk)
    )
    if hidden_as_missing and not permissions.can_view_objective(actor, key_result.objective):
        raise KeyResult.DoesNotExist
    settings = okr_settings_from(key_result.okr_settings_row)
    require(permissions.can_check_in(actor, key_result), _("Only the key result's owner can check in on it."))
    objective = key_result.objective
    if objective.cycle.state == Cycle.State.CLOSED or objective.state in {
        Objective.State.CLOSED,
        Objective.State.ARCHIVED,
    }:
        raise ValidationError(_("This objective is closed; check-ins are no longer accepted."))
    raise_if(scoring.check_in_value_errors(key_result.kind, value, confidence))
    recorded_at = recorded_at or timezone.now()
    effective_at = recorded_at
    if corrects is not None:
        if corrects.key_result_id != key_result.pk:
            raise ValidationError(
                {"corrects": [_("A correction must be for a check-in of the same key result.")]}
            )
        if CheckIn.objects.filter(corrects=corrects).exists():
            raise ValidationError(
                {"corrects": [_("That check-in was already corrected; correct the correction.")]}
            )
        effective_at = corrects.effective_at
    check_in = CheckIn(
        key_result=key_result,
        author=actor,
        value=float(value),
        confidence=int(confidence),
        what_moved=what_moved.strip(),
        blockers=blockers.strip(),
        next_step=next_step.strip(),
        corrects=corrects,
        effective_at=effective_at,
        created_at=recorded_at,
    )
    check_in._history_user = actor
    check_in.save()
    clock = Clock.current(now, settings)
    events: list[tuple[str, dict]] = []
    history, open_levels = escalations.check_in_history(key_result.pk)
    points = refresh_key_result(
        key_result, clock, objective_locked=not clock.rollup_children, events=events, points=history
    )
    escalations.evaluate(key_result, points, clock, clock.escalation_threshold, open_levels=open_levels)
    events.append(("check_in.created", {
        "check_in": {
            "id": check_in.pk, "value": check_in.value, "confidence": check_in.confidence,
            "effective_at": check_in.effective_at, "created_at": check_in.created_at,
            "corrects": corrects.pk if corrects else None, "author": {"id": actor.pk, "email": actor.email},
        },
        "key_result": {
            "id": key_result.pk, "title": key_result.title, "objective_id": key_result.objective_id,
            "current": key_result.current, "progress": key_result.progress, "status": key_result.status,
        },
    }))  # fmt: skip
    webhook_emit_events(events)
    return check_in
