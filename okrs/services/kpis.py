from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from okrs import permissions
from okrs.models import KeyResult, Kpi, KpiReading
from okrs.services.common import require


def _threshold_errors(direction: str, green: float, red: float) -> dict[str, list[str]]:
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (green, red)):
        return {"green_threshold": [_("Thresholds must be numbers.")]}
    if direction == Kpi.Direction.HIGHER_IS_BETTER and not green > red:
        return {"green_threshold": [_("When higher is better, green must start above red.")]}
    if direction == Kpi.Direction.LOWER_IS_BETTER and not green < red:
        return {"green_threshold": [_("When lower is better, green must start below red.")]}
    return {}


@transaction.atomic
def kpi_create(
    *,
    actor: User,
    name: str,
    owner: User,
    direction: str,
    green_threshold: float,
    red_threshold: float,
    unit: str = "",
    description: str = "",
) -> Kpi:
    require(permissions.can_manage_kpi(actor, owner.pk))
    if errors := _threshold_errors(direction, green_threshold, red_threshold):
        raise ValidationError(errors)
    kpi = Kpi(
        name=name.strip(),
        owner=owner,
        direction=direction,
        green_threshold=green_threshold,
        red_threshold=red_threshold,
        unit=unit,
        description=description,
    )
    kpi.full_clean()
    kpi.save()
    return kpi


@transaction.atomic
def kpi_reading_record(*, kpi: Kpi, actor: User, value: float, at: datetime | None = None) -> KpiReading:
    require(permissions.can_manage_kpi(actor, kpi.owner_id))
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError({"value": [_("Enter the reading as a number.")]})
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise ValidationError({"at": [_("Give the time with its time zone.")]})
    if at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"at": [_("A reading cannot be in the future.")]})
    return KpiReading.objects.create(kpi=kpi, value=float(value), at=at)


@transaction.atomic
def kpi_link_key_result(*, kpi: Kpi, key_result: KeyResult, actor: User) -> None:
    """Link a KR to the KPI it should move (the method's OKR ↔ KPI traction)."""
    require(permissions.can_edit_objective(actor, key_result.objective))
    kpi.key_results.add(key_result)
