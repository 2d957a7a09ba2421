"""OKR formulas: the single source of truth for progress, validation, status, forecasts and scores.

Everything here is a pure function of plain values (numbers, strings, dates): no Django models, no
database, no settings, standard library only. Models, forms, serializers, services, SQL annotations and
reports must call these functions (or, for SQL, mirror them exactly) rather than re-deriving a formula.

Key result kinds
    ``increase`` / ``decrease``  a metric moves from ``start`` towards ``target``; progress is the
                                 fraction of the way covered, clamped to [0, 1] (moving the wrong way
                                 counts as 0, overshooting as 1).
    ``stay_above``               a guard rail: the value must stay at or above ``target`` (the floor).
    ``stay_below``               a guard rail: the value must stay at or below ``target`` (the ceiling).
    ``stay_between``             a guard rail: the value must stay within ``low <= value <= high``; outside
                                 the band progress falls linearly with the distance to the nearest edge,
                                 reaching 0 one band-width away.
    ``milestone``                done (1) or not done (0).

Progress of a key result is always in [0, 1]; without a check-in it is 0. An objective's progress is the
weighted mean of its key results' progress (:func:`weighted_progress`).

Statuses
    Expected progress is the elapsed fraction of the cycle, measured between local midnights in the
    organisation's time zone (the end date is inclusive), so DST changes and the zone itself matter.
    For metric key results and objectives the status follows the gap ``expected - progress``: on track
    up to ``Thresholds.at_risk_gap`` (inclusive), at risk up to ``Thresholds.off_track_gap`` (inclusive),
    off track beyond; full progress is ``done``. Guard rails are judged on the last value only: on track
    when it is within bounds, off track otherwise; they are never ``done``. Nothing checked in yet is
    ``not_started``.

Forecast
    Ordinary least squares line of value against time (epoch seconds) through the check-ins,
    evaluated at a given instant.

Scores
    A committed objective is expected to score 1.0, an aspirational one 0.7.

Floats are compared plainly (no epsilon): a gap of exactly 0.15 is on track with the default thresholds,
but ``0.65 - 0.5`` is ``0.15000000000000002`` and therefore at risk. Invalid input raises ``ValueError``;
callers are expected to validate definitions with :func:`key_result_errors` and check-ins with
:func:`check_in_value_errors` first, which return field -> message dictionaries suitable for forms and
API responses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

__all__ = [
    "ASPIRATIONAL",
    "AT_RISK",
    "COMMITTED",
    "DECREASE",
    "DEFAULT_THRESHOLDS",
    "DONE",
    "GUARD_RAILS",
    "HIGHER_IS_BETTER",
    "INCREASE",
    "KINDS",
    "LOWER_IS_BETTER",
    "MAX_MAGNITUDE",
    "MILESTONE",
    "NOT_STARTED",
    "OBJECTIVE_KINDS",
    "OFF_TRACK",
    "ON_TRACK",
    "STATUSES",
    "STAY_ABOVE",
    "STAY_BELOW",
    "STAY_BETWEEN",
    "Thresholds",
    "check_in_value_errors",
    "clamp01",
    "cycle_bounds",
    "expected_progress",
    "expected_value",
    "forecast",
    "key_result_errors",
    "key_result_progress",
    "key_result_status",
    "kpi_health",
    "objective_status",
    "score_expectation",
    "score_meets_expectation",
    "weighted_progress",
]

# --- Key result kinds ---------------------------------------------------------------------------------

INCREASE, DECREASE, STAY_ABOVE, STAY_BELOW, STAY_BETWEEN, MILESTONE = (
    "increase",
    "decrease",
    "stay_above",
    "stay_below",
    "stay_between",
    "milestone",
)
KINDS = (INCREASE, DECREASE, STAY_ABOVE, STAY_BELOW, STAY_BETWEEN, MILESTONE)
GUARD_RAILS = frozenset({STAY_ABOVE, STAY_BELOW, STAY_BETWEEN})

# --- Statuses -----------------------------------------------------------------------------------------

NOT_STARTED, ON_TRACK, AT_RISK, OFF_TRACK, DONE = "not_started", "on_track", "at_risk", "off_track", "done"
STATUSES = (NOT_STARTED, ON_TRACK, AT_RISK, OFF_TRACK, DONE)

# --- Objective kinds (scoring expectations) -----------------------------------------------------------

COMMITTED, ASPIRATIONAL = "committed", "aspirational"
OBJECTIVE_KINDS = (COMMITTED, ASPIRATIONAL)
_SCORE_EXPECTATIONS: dict[str, float] = {COMMITTED: 1.0, ASPIRATIONAL: 0.7}

# --- Messages -----------------------------------------------------------------------------------------

# Messages are marked here (gettext_noop) and translated when an error is reported (_), in the
# language active at that moment: the person's, in the web UI and the API.
_FIELD_LABELS = {
    "start": gettext_noop("Start"),
    "target": gettext_noop("Target"),
    "low": gettext_noop("The lower bound"),
    "high": gettext_noop("The upper bound"),
    "weight": gettext_noop("Weight"),
    "value": gettext_noop("The value"),
}
_MISSING_MESSAGES = {
    "start": gettext_noop("Give a start value."),
    "target": gettext_noop("Give a target value."),
    "low": gettext_noop("Give the lower bound of the band."),
    "high": gettext_noop("Give the upper bound of the band."),
}
_WEIGHT_MESSAGE = gettext_noop("Weight must be greater than 0.")
_VALUE_MISSING_MESSAGE = gettext_noop("Enter the current value.")
_MILESTONE_VALUE_MESSAGE = gettext_noop("A milestone is either 0 (not reached) or 1 (reached).")
_CONFIDENCE_MESSAGE = gettext_noop("Confidence is a whole number from 0 to 10.")
_CONFIDENCE_RANGE = range(11)


# Business figures stay far below this; the bound keeps every difference, product and
# square in the formulas (and in the bulk SQL, which raises on float8 overflow) finite.
MAX_MAGNITUDE = 1e15


def _kind_message() -> str:
    return _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(KINDS)}


def _finite_message(field: str) -> str:
    return _("%(field)s must be a finite number.") % {"field": _(_FIELD_LABELS[field])}


def _magnitude_message(field: str) -> str:
    return _("%(field)s must be between -10^15 and 10^15.") % {"field": _(_FIELD_LABELS[field])}


def _unknown_kind(kind: str) -> ValueError:
    return ValueError(f"Unknown key result kind {kind!r}. {_kind_message()}")


@dataclass(frozen=True)
class Thresholds:
    """Organisation settings for the gap rule (``expected - progress``), fractions of the whole.

    A gap up to ``at_risk_gap`` (inclusive) is on track, up to ``off_track_gap`` (inclusive) at risk,
    anything larger off track. Both must be finite with ``0 <= at_risk_gap <= off_track_gap``.
    """

    at_risk_gap: float = 0.15
    off_track_gap: float = 0.30

    def __post_init__(self) -> None:
        if not (math.isfinite(self.at_risk_gap) and math.isfinite(self.off_track_gap)):
            raise ValueError("Status thresholds must be finite numbers.")
        if not 0 <= self.at_risk_gap <= self.off_track_gap:
            raise ValueError("Status thresholds must satisfy 0 <= at_risk_gap <= off_track_gap.")


DEFAULT_THRESHOLDS = Thresholds()


# --- Key result definitions and progress --------------------------------------------------------------


def _required_number(errors: dict[str, str], field: str, value: float | None) -> float | None:
    """The value as a float, or None after recording why it is missing or not finite."""
    if value is None:
        errors[field] = _(_MISSING_MESSAGES[field])
        return None
    if not math.isfinite(value):
        errors[field] = _finite_message(field)
        return None
    if abs(value) > MAX_MAGNITUDE:
        errors[field] = _magnitude_message(field)
        return None
    return float(value)


def key_result_errors(
    kind: str,
    *,
    start: float | None,
    target: float | None,
    low: float | None = None,
    high: float | None = None,
    weight: float | None = 1.0,
) -> dict[str, str]:
    """Validate a key result definition: ``{}`` when valid, else field -> message.

    Only the fields a kind uses are checked: ``start`` and ``target`` for increase, decrease,
    stay_above and stay_below; ``low`` and ``high`` for stay_between; none for milestone. The weight is
    always checked.
    """
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["kind"] = _kind_message()
    elif kind == STAY_BETWEEN:
        low_value = _required_number(errors, "low", low)
        high_value = _required_number(errors, "high", high)
        if low_value is not None and high_value is not None and not low_value < high_value:
            errors["high"] = _("The upper bound must be greater than the lower bound.")
    elif kind != MILESTONE:
        start_value = _required_number(errors, "start", start)
        target_value = _required_number(errors, "target", target)
        if start_value is not None and target_value is not None:
            if kind == INCREASE and not target_value > start_value:
                errors["target"] = _("Target must be greater than start for an increasing key result.")
            elif kind == DECREASE and not target_value < start_value:
                errors["target"] = _("Target must be less than start for a decreasing key result.")

    if weight is None:
        errors["weight"] = _(_WEIGHT_MESSAGE)
    elif not math.isfinite(weight):
        errors["weight"] = _finite_message("weight")
    elif not weight > 0:
        errors["weight"] = _(_WEIGHT_MESSAGE)
    elif weight > MAX_MAGNITUDE:
        errors["weight"] = _magnitude_message("weight")
    return errors


def _ratio(numerator_high: float, numerator_low: float, span_high: float, span_low: float) -> float:
    """``(numerator_high - numerator_low) / (span_high - span_low)``: the exact operations the
    bulk SQL performs. Inputs are bounded by MAX_MAGNITUDE, so nothing overflows."""
    return (numerator_high - numerator_low) / (span_high - span_low)


def clamp01(value: float) -> float:
    """``value`` limited to [0, 1]."""
    return max(0.0, min(1.0, value))


def key_result_progress(
    kind: str,
    *,
    start: float | None,
    target: float | None,
    current: float | None,
    low: float | None = None,
    high: float | None = None,
) -> float:
    """Progress of a key result in [0, 1] given its latest value ``current`` (``None``: no check-in → 0).

    Fields a kind does not use may be ``None`` (start and target of a milestone or a band).
    Raises ``ValueError`` for an unknown kind, an invalid definition (with the messages of
    :func:`key_result_errors`) or a non-finite ``current``.
    """
    if kind not in KINDS:
        raise _unknown_kind(kind)
    errors = key_result_errors(kind, start=start, target=target, low=low, high=high)
    if errors:
        raise ValueError(" ".join(errors.values()))
    if current is None:
        return 0.0
    if not math.isfinite(current):
        raise ValueError(_finite_message("value"))
    value = float(current)

    if kind == MILESTONE:
        return 1.0 if value >= 1 else 0.0
    if kind == STAY_BETWEEN:
        if low is None or high is None:  # pragma: no cover - excluded by key_result_errors above
            raise ValueError(_(_MISSING_MESSAGES["low" if low is None else "high"]))
        band_low, band_high = float(low), float(high)
        if band_low <= value <= band_high:
            return 1.0
        if value < band_low:
            return clamp01(1.0 - _ratio(band_low, value, band_high, band_low))
        return clamp01(1.0 - _ratio(value, band_high, band_high, band_low))

    start_value, target_value = float(start), float(target)
    if kind == STAY_ABOVE:
        return 1.0 if value >= target_value else 0.0
    if kind == STAY_BELOW:
        return 1.0 if value <= target_value else 0.0
    if kind == INCREASE:
        return clamp01(_ratio(value, start_value, target_value, start_value))
    return clamp01(_ratio(start_value, value, start_value, target_value))  # DECREASE


def check_in_value_errors(kind: str, value: float | None, confidence: int | None) -> dict[str, str]:
    """Validate a check-in: ``{}`` when valid, else field -> message.

    Any finite value is accepted (a metric may move the wrong way), except that a milestone is 0 or 1.
    Confidence must be an ``int`` (not a bool or float) from 0 to 10. Raises ``ValueError`` for an
    unknown kind, which is a broken key result rather than a user error.
    """
    if kind not in KINDS:
        raise _unknown_kind(kind)
    errors: dict[str, str] = {}
    if value is None:
        errors["value"] = _(_VALUE_MISSING_MESSAGE)
    elif not math.isfinite(value):
        errors["value"] = _finite_message("value")
    elif abs(value) > MAX_MAGNITUDE:
        errors["value"] = _magnitude_message("value")
    elif kind == MILESTONE and value not in (0, 1):
        errors["value"] = _(_MILESTONE_VALUE_MESSAGE)
    if (
        confidence is None
        or isinstance(confidence, bool)
        or not isinstance(confidence, int)
        or confidence not in _CONFIDENCE_RANGE
    ):
        errors["confidence"] = _(_CONFIDENCE_MESSAGE)
    return errors


def weighted_progress(items: Iterable[tuple[float, float]]) -> float:
    """Weighted mean of ``(progress, weight)`` pairs; 0.0 for no items or a total weight of 0.

    The numerator (sum of ``progress * weight``) and denominator (sum of ``weight``) are accumulated
    left to right in input order, starting from 0.0, so a SQL ``SUM`` over the same ordered rows gives
    the same float. Do not change this to ``math.fsum`` or reorder it.
    """
    numerator = 0.0
    denominator = 0.0
    for progress, weight in items:
        numerator += progress * weight
        denominator += weight
    if denominator == 0:
        return 0.0
    return numerator / denominator


# --- Cycle time ---------------------------------------------------------------------------------------


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown time zone {tz!r}.") from exc


def cycle_bounds(start_date: date, end_date: date, tz: str) -> tuple[datetime, datetime]:
    """The instants a cycle starts and ends, as aware UTC datetimes.

    The cycle starts at local midnight of ``start_date`` in ``tz`` and ends at local midnight of the day
    after ``end_date`` (the end date is inclusive). Where a DST change skips midnight, the day starts at
    the first instant that exists (``fold=0``). Raises ``ValueError`` for an unknown zone or an end date
    before the start date.
    """
    if end_date < start_date:
        raise ValueError("The end date must not be before the start date.")
    zone = _zone(tz)
    start = datetime.combine(start_date, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(date.fromordinal(end_date.toordinal() + 1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def expected_progress(start_date: date, end_date: date, now: datetime, tz: str) -> float:
    """Elapsed fraction of the cycle at ``now`` (timezone-aware), clamped to [0, 1]."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime.")
    start, end = cycle_bounds(start_date, end_date, tz)
    instant = now.astimezone(UTC)
    if instant <= start:
        return 0.0
    if instant >= end:
        return 1.0
    return (instant - start) / (end - start)


def expected_value(kind: str, *, start: float | None, target: float | None, expected: float) -> float | None:
    """The value a metric key result (increase or decrease) should show when ``expected`` of the
    cycle has elapsed: the point on the straight line from ``start`` to ``target`` (the expected
    pace). ``None`` for guard rails and milestones, which have no pace."""
    if kind not in (INCREASE, DECREASE) or start is None or target is None:
        return None
    return start + expected * (target - start)


# --- Statuses -----------------------------------------------------------------------------------------


def _gap_status(progress: float, expected: float, thresholds: Thresholds) -> str:
    gap = expected - progress
    if gap <= thresholds.at_risk_gap:
        return ON_TRACK
    if gap <= thresholds.off_track_gap:
        return AT_RISK
    return OFF_TRACK


def key_result_status(
    kind: str,
    *,
    progress: float,
    expected: float,
    has_check_in: bool,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> str:
    """Status of a key result from its progress and the cycle's expected progress.

    No check-in → not started. Guard rails are on track when within bounds (progress 1) and off track
    otherwise, whatever the expected progress. Metric key results (increase, decrease, milestone) are
    done at full progress, else judged by the gap rule.
    """
    if kind not in KINDS:
        raise _unknown_kind(kind)
    if not has_check_in:
        return NOT_STARTED
    if kind in GUARD_RAILS:
        return ON_TRACK if progress >= 1 else OFF_TRACK
    if progress >= 1:
        return DONE
    return _gap_status(progress, expected, thresholds)


def objective_status(
    *,
    progress: float,
    expected: float,
    has_check_in: bool,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> str:
    """Status of an objective: not started without any check-in, done at full progress, else the gap rule."""
    if not has_check_in:
        return NOT_STARTED
    if progress >= 1:
        return DONE
    return _gap_status(progress, expected, thresholds)


# --- Forecast -----------------------------------------------------------------------------------------


def forecast(points: Sequence[tuple[float, float]], at: float) -> float | None:
    """Least-squares projection of value at epoch ``at`` from ``(epoch_seconds, value)`` points.

    ``None`` with fewer than two points or when every point has the same time (no line is defined).
    Uses the centred formula (means from correctly rounded sums) to avoid cancellation with large epoch
    values. Raises ``ValueError`` for non-finite input.
    """
    if not math.isfinite(at):
        raise ValueError("The forecast time must be a finite number.")
    if len(points) < 2:
        return None
    xs = [float(x) for x, _ in points]
    ys = [float(y) for _, y in points]
    if not all(math.isfinite(v) for v in (*xs, *ys)):
        raise ValueError("Forecast points must be finite numbers.")
    if all(x == xs[0] for x in xs):
        return None
    n = len(xs)
    mean_x = math.fsum(xs) / n
    mean_y = math.fsum(ys) / n
    sxx = math.fsum((x - mean_x) ** 2 for x in xs)
    if sxx == 0:  # distinct times so close together that the squares underflow
        return None
    sxy = math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    return mean_y + slope * (at - mean_x)


# --- Scores -------------------------------------------------------------------------------------------


def score_expectation(objective_kind: str) -> float:
    """The score an objective is expected to reach: committed 1.0, aspirational 0.7."""
    try:
        return _SCORE_EXPECTATIONS[objective_kind]
    except KeyError:
        raise ValueError(
            f"Unknown objective kind {objective_kind!r}. Choose one of: {', '.join(OBJECTIVE_KINDS)}."
        ) from None


def score_meets_expectation(objective_kind: str, score: float) -> bool:
    """True when ``score`` reaches the expectation for the objective kind (inclusive, plain comparison)."""
    expectation = score_expectation(objective_kind)
    if not math.isfinite(score):
        raise ValueError("The score must be a finite number.")
    return score >= expectation


# --- KPIs -----------------------------------------------------------------------------------------------

HIGHER_IS_BETTER, LOWER_IS_BETTER = "higher_is_better", "lower_is_better"


def kpi_health(direction: str, *, green: float, red: float, value: float | None) -> str:
    """``"green"``, ``"amber"``, ``"red"`` for a KPI reading against its thresholds (inclusive),
    ``"unknown"`` without a reading."""
    if value is None:
        return "unknown"
    if direction == HIGHER_IS_BETTER:
        return "green" if value >= green else "red" if value <= red else "amber"
    if direction == LOWER_IS_BETTER:
        return "green" if value <= green else "red" if value >= red else "amber"
    raise ValueError(f"Unknown KPI direction {direction!r}.")
