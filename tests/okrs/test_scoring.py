"""Pure tests for okrs.scoring: no database, no Django models."""

from __future__ import annotations

import ast
import itertools
import math
import random
import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from okrs import scoring
from okrs.scoring import (
    AT_RISK,
    DECREASE,
    DONE,
    GUARD_RAILS,
    INCREASE,
    KINDS,
    MILESTONE,
    NOT_STARTED,
    OFF_TRACK,
    ON_TRACK,
    STAY_ABOVE,
    STAY_BELOW,
    STAY_BETWEEN,
    Thresholds,
    check_in_value_errors,
    cycle_bounds,
    expected_progress,
    forecast,
    key_result_errors,
    key_result_progress,
    key_result_status,
    objective_status,
    score_expectation,
    score_meets_expectation,
    weighted_progress,
)

NAN = math.nan
INF = math.inf
METRIC_KINDS = (INCREASE, DECREASE, MILESTONE)
KIND_MESSAGE = "Choose one of: increase, decrease, stay_above, stay_below, stay_between, milestone."
INCREASE_TARGET_MESSAGE = "Target must be greater than start for an increasing key result."
DECREASE_TARGET_MESSAGE = "Target must be less than start for a decreasing key result."
WEIGHT_MESSAGE = "Weight must be greater than 0."
MILESTONE_MESSAGE = "A milestone is either 0 (not reached) or 1 (reached)."
CONFIDENCE_MESSAGE = "Confidence is a whole number from 0 to 10."

# A valid definition of every kind, as keyword arguments for key_result_progress.
VALID_DEFINITIONS = {
    INCREASE: {"start": 10.0, "target": 20.0},
    DECREASE: {"start": 100.0, "target": 50.0},
    STAY_ABOVE: {"start": 0.0, "target": 99.9},
    STAY_BELOW: {"start": 0.0, "target": 200.0},
    STAY_BETWEEN: {"start": 0.0, "target": 0.0, "low": 10.0, "high": 20.0},
    MILESTONE: {"start": 0.0, "target": 1.0},
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def is_positive_zero(value: float) -> bool:
    return value == 0.0 and math.copysign(1.0, value) == 1.0


# --- constants --------------------------------------------------------------------------------------


def test_given_module_constants_then_they_have_the_published_values():
    assert KINDS == ("increase", "decrease", "stay_above", "stay_below", "stay_between", "milestone")
    assert frozenset({"stay_above", "stay_below", "stay_between"}) == GUARD_RAILS
    assert (NOT_STARTED, ON_TRACK, AT_RISK, OFF_TRACK, DONE) == (
        "not_started",
        "on_track",
        "at_risk",
        "off_track",
        "done",
    )
    assert Thresholds() == Thresholds(at_risk_gap=0.15, off_track_gap=0.30)


def test_given_the_module_then_it_imports_only_the_standard_library_and_translation():
    tree = ast.parse(Path(scoring.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    # Pure: no database, no models; only Django's translation functions for the messages.
    third_party = {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names}
    assert third_party <= {"__future__", "django.utils.translation"}


# --- key_result_errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fields", "expected"),
    [
        # valid definitions
        (INCREASE, {"start": 0, "target": 10}, {}),
        (INCREASE, {"start": -10.5, "target": -10.25}, {}),
        (DECREASE, {"start": 10, "target": 0}, {}),
        (STAY_ABOVE, {"start": 0, "target": 0}, {}),
        (STAY_BELOW, {"start": 5, "target": -5}, {}),
        (STAY_BETWEEN, {"start": None, "target": None, "low": 1, "high": 2}, {}),
        (MILESTONE, {"start": None, "target": None}, {}),
        (MILESTONE, {"start": NAN, "target": INF, "low": NAN, "high": NAN}, {}),
        (INCREASE, {"start": 0, "target": 1, "low": NAN, "high": None}, {}),
        (INCREASE, {"start": 0, "target": 1, "weight": 0.001}, {}),
        # unknown kind
        ("grow", {"start": 0, "target": 1}, {"kind": KIND_MESSAGE}),
        ("", {"start": 0, "target": 1}, {"kind": KIND_MESSAGE}),
        ("Increase", {"start": 0, "target": 1}, {"kind": KIND_MESSAGE}),
        ("grow", {"start": 0, "target": 1, "weight": 0}, {"kind": KIND_MESSAGE, "weight": WEIGHT_MESSAGE}),
        # missing start/target
        *(
            (
                kind,
                {"start": None, "target": None},
                {"start": "Give a start value.", "target": "Give a target value."},
            )
            for kind in (INCREASE, DECREASE, STAY_ABOVE, STAY_BELOW)
        ),
        (INCREASE, {"start": None, "target": 5}, {"start": "Give a start value."}),
        (STAY_BELOW, {"start": 1, "target": None}, {"target": "Give a target value."}),
        # start = target and the wrong direction
        (INCREASE, {"start": 10, "target": 10}, {"target": INCREASE_TARGET_MESSAGE}),
        (INCREASE, {"start": 10, "target": 9.99}, {"target": INCREASE_TARGET_MESSAGE}),
        (DECREASE, {"start": 10, "target": 10}, {"target": DECREASE_TARGET_MESSAGE}),
        (DECREASE, {"start": 10, "target": 10.01}, {"target": DECREASE_TARGET_MESSAGE}),
        (INCREASE, {"start": 0.0, "target": -0.0}, {"target": INCREASE_TARGET_MESSAGE}),
        # non-finite numbers
        (INCREASE, {"start": NAN, "target": 10}, {"start": "Start must be a finite number."}),
        (DECREASE, {"start": 10, "target": -INF}, {"target": "Target must be a finite number."}),
        (
            STAY_ABOVE,
            {"start": INF, "target": NAN},
            {"start": "Start must be a finite number.", "target": "Target must be a finite number."},
        ),
        # stay_between band
        (
            STAY_BETWEEN,
            {"start": 0, "target": 0},
            {"low": "Give the lower bound of the band.", "high": "Give the upper bound of the band."},
        ),
        (STAY_BETWEEN, {"start": 0, "target": 0, "low": 1}, {"high": "Give the upper bound of the band."}),
        (
            STAY_BETWEEN,
            {"start": 0, "target": 0, "low": 5, "high": 5},
            {"high": "The upper bound must be greater than the lower bound."},
        ),
        (
            STAY_BETWEEN,
            {"start": 0, "target": 0, "low": 6, "high": 5},
            {"high": "The upper bound must be greater than the lower bound."},
        ),
        (
            STAY_BETWEEN,
            {"start": 0, "target": 0, "low": NAN, "high": 5},
            {"low": "The lower bound must be a finite number."},
        ),
        (
            STAY_BETWEEN,
            {"start": 0, "target": 0, "low": -INF, "high": INF},
            {
                "low": "The lower bound must be a finite number.",
                "high": "The upper bound must be a finite number.",
            },
        ),
        # weight
        (INCREASE, {"start": 0, "target": 1, "weight": 0}, {"weight": WEIGHT_MESSAGE}),
        (INCREASE, {"start": 0, "target": 1, "weight": 0.0}, {"weight": WEIGHT_MESSAGE}),
        (INCREASE, {"start": 0, "target": 1, "weight": -1}, {"weight": WEIGHT_MESSAGE}),
        (MILESTONE, {"start": None, "target": None, "weight": None}, {"weight": WEIGHT_MESSAGE}),
        (INCREASE, {"start": 0, "target": 1, "weight": NAN}, {"weight": "Weight must be a finite number."}),
        (INCREASE, {"start": 0, "target": 1, "weight": INF}, {"weight": "Weight must be a finite number."}),
        (
            INCREASE,
            {"start": 3, "target": 3, "weight": -2},
            {"target": INCREASE_TARGET_MESSAGE, "weight": WEIGHT_MESSAGE},
        ),
    ],
)
def test_given_a_definition_when_validated_then_errors_are_exactly(kind, fields, expected):
    assert key_result_errors(kind, **fields) == expected


def test_given_no_weight_argument_when_validated_then_the_default_weight_is_valid():
    assert key_result_errors(INCREASE, start=0, target=1) == {}


# --- key_result_progress ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "definition", "current", "expected"),
    [
        # increase 10 -> 20
        (INCREASE, {"start": 10, "target": 20}, 15, 0.5),
        (INCREASE, {"start": 10, "target": 20}, 10, 0.0),
        (INCREASE, {"start": 10, "target": 20}, 12.5, 0.25),
        (INCREASE, {"start": 10, "target": 20}, 20, 1.0),
        (INCREASE, {"start": 10, "target": 20}, 25, 1.0),  # overshoot clamps
        (INCREASE, {"start": 10, "target": 20}, 1e300, 1.0),
        (INCREASE, {"start": 10, "target": 20}, 5, 0.0),  # wrong direction
        (INCREASE, {"start": 10, "target": 20}, -1e300, 0.0),
        (INCREASE, {"start": -10, "target": 10}, 0, 0.5),
        # decrease 100 -> 50
        (DECREASE, {"start": 100, "target": 50}, 75, 0.5),
        (DECREASE, {"start": 100, "target": 50}, 100, 0.0),
        (DECREASE, {"start": 100, "target": 50}, 50, 1.0),
        (DECREASE, {"start": 100, "target": 50}, 40, 1.0),  # overshoot clamps
        (DECREASE, {"start": 100, "target": 50}, 120, 0.0),  # wrong direction
        (DECREASE, {"start": 0, "target": -8}, -2, 0.25),
        # stay_above: target is the floor
        (STAY_ABOVE, {"start": 0, "target": 99.9}, 99.9, 1.0),
        (STAY_ABOVE, {"start": 0, "target": 99.9}, 100, 1.0),
        (STAY_ABOVE, {"start": 0, "target": 99.9}, math.nextafter(99.9, 0), 0.0),
        (STAY_ABOVE, {"start": 0, "target": 99.9}, -5, 0.0),
        # stay_below: target is the ceiling
        (STAY_BELOW, {"start": 0, "target": 200}, 200, 1.0),
        (STAY_BELOW, {"start": 0, "target": 200}, -1, 1.0),
        (STAY_BELOW, {"start": 0, "target": 200}, math.nextafter(200, INF), 0.0),
        (STAY_BELOW, {"start": 0, "target": 200}, 1000, 0.0),
        # stay_between 10..20, width 10
        (STAY_BETWEEN, {"low": 10, "high": 20}, 10, 1.0),  # lower edge inclusive
        (STAY_BETWEEN, {"low": 10, "high": 20}, 20, 1.0),  # upper edge inclusive
        (STAY_BETWEEN, {"low": 10, "high": 20}, 15, 1.0),
        (STAY_BETWEEN, {"low": 10, "high": 20}, 5, 0.5),
        (STAY_BETWEEN, {"low": 10, "high": 20}, 25, 0.5),
        (STAY_BETWEEN, {"low": 10, "high": 20}, 0, 0.0),  # exactly one band width away
        (STAY_BETWEEN, {"low": 10, "high": 20}, 30, 0.0),
        (STAY_BETWEEN, {"low": 10, "high": 20}, -1000, 0.0),  # far outside: floored
        (STAY_BETWEEN, {"low": 10, "high": 20}, 1000, 0.0),
        (STAY_BETWEEN, {"low": -1, "high": 1}, 1.5, 0.75),
        # milestone
        (MILESTONE, {}, 0, 0.0),
        (MILESTONE, {}, 1, 1.0),
        (MILESTONE, {}, 1.0, 1.0),
    ],
)
def test_given_a_value_when_progress_is_computed_then_it_is_exact(kind, definition, current, expected):
    fields = {"start": 0.0, "target": 0.0, **definition}
    result = key_result_progress(kind, current=current, **fields)
    assert result == expected
    assert type(result) is float


@pytest.mark.parametrize(
    ("kind", "definition", "current", "expected"),
    [
        (INCREASE, {"start": 0, "target": 3}, 1, 1 / 3),
        (DECREASE, {"start": 1, "target": 0.9}, 0.97, 0.3),
        (STAY_BETWEEN, {"low": 10, "high": 20}, 9.5, 0.95),  # just below the band
        (STAY_BETWEEN, {"low": 10, "high": 20}, 20.5, 0.95),  # just above the band
        (STAY_BETWEEN, {"low": 10, "high": 20}, 9, 0.9),
        (STAY_BETWEEN, {"low": 0.1, "high": 0.3}, 0.35, 0.75),
    ],
)
def test_given_a_computed_fraction_when_progress_is_computed_then_it_is_approximately(
    kind, definition, current, expected
):
    fields = {"start": 0.0, "target": 0.0, **definition}
    assert key_result_progress(kind, current=current, **fields) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("kind", "start", "target", "current"),
    [
        (INCREASE, 10, 20, 5),
        (INCREASE, 10, 20, 10),
        (INCREASE, -20, -10, -30),
        (DECREASE, 100, 50, 150),
        (DECREASE, 100, 50, 100),
    ],
)
def test_given_wrong_direction_or_no_movement_when_progress_is_computed_then_it_is_positive_zero(
    kind, start, target, current
):
    assert is_positive_zero(key_result_progress(kind, start=start, target=target, current=current))


def test_given_a_value_just_outside_the_band_then_progress_is_below_one():
    below = key_result_progress(STAY_BETWEEN, start=0, target=0, low=10, high=20, current=9.999)
    above = key_result_progress(STAY_BETWEEN, start=0, target=0, low=10, high=20, current=20.001)
    assert 0.99 < below < 1.0
    assert 0.99 < above < 1.0


@pytest.mark.parametrize("kind", KINDS)
def test_given_no_check_in_when_progress_is_computed_then_it_is_zero(kind):
    assert key_result_progress(kind, current=None, **VALID_DEFINITIONS[kind]) == 0.0


def test_given_milestone_when_start_and_target_are_anything_then_they_are_ignored():
    assert key_result_progress(MILESTONE, start=5, target=5, current=1) == 1.0
    assert key_result_progress(MILESTONE, start=NAN, target=-INF, current=0) == 0.0


def test_given_stay_between_when_start_and_target_are_anything_then_they_are_ignored():
    assert key_result_progress(STAY_BETWEEN, start=NAN, target=INF, low=0, high=1, current=0.5) == 1.0


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        (INCREASE, {"start": 10, "target": 10}, INCREASE_TARGET_MESSAGE),
        (INCREASE, {"start": 10, "target": 5}, INCREASE_TARGET_MESSAGE),
        (DECREASE, {"start": 10, "target": 10}, DECREASE_TARGET_MESSAGE),
        (DECREASE, {"start": 10, "target": 15}, DECREASE_TARGET_MESSAGE),
        (INCREASE, {"start": NAN, "target": 10}, "Start must be a finite number."),
        (
            STAY_BETWEEN,
            {"start": 0, "target": 0, "low": 3, "high": 3},
            "The upper bound must be greater than the lower bound.",
        ),
        (
            STAY_BETWEEN,
            {"start": 0, "target": 0},
            "Give the lower bound of the band. Give the upper bound of the band.",
        ),
    ],
)
@pytest.mark.parametrize("current", [None, 0.0, 10.0])
def test_given_an_invalid_definition_when_progress_is_computed_then_value_error_has_the_validation_message(
    kind, fields, message, current
):
    assert " ".join(key_result_errors(kind, **fields).values()) == message
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        key_result_progress(kind, current=current, **fields)


def test_given_an_unknown_kind_when_progress_is_computed_then_value_error():
    with pytest.raises(ValueError, match="Unknown key result kind 'grow'"):
        key_result_progress("grow", start=0, target=1, current=0.5)


@pytest.mark.parametrize("current", [NAN, INF, -INF])
@pytest.mark.parametrize("kind", KINDS)
def test_given_a_non_finite_current_value_when_progress_is_computed_then_value_error(kind, current):
    with pytest.raises(ValueError, match="finite"):
        key_result_progress(kind, current=current, **VALID_DEFINITIONS[kind])


@pytest.mark.parametrize(
    ("kind", "fields", "field"),
    [
        (INCREASE, {"start": -1e308, "target": 1e308}, "start"),
        (DECREASE, {"start": 10.0, "target": -2e15}, "target"),
        (STAY_BETWEEN, {"start": 0, "target": 0, "low": -1.5e15, "high": 1e15}, "low"),
    ],
)
def test_given_numbers_beyond_1e15_when_validated_then_they_are_refused(kind, fields, field):
    errors = key_result_errors(kind, **fields)

    assert errors[field].endswith("must be between -10^15 and 10^15.")


def test_given_the_largest_allowed_numbers_then_progress_is_exact():
    assert key_result_progress(INCREASE, start=-1e15, target=1e15, current=0.0) == 0.5
    assert key_result_errors(INCREASE, start=-1e15, target=1e15) == {}


def test_given_a_check_in_value_beyond_1e15_then_it_is_refused():
    assert check_in_value_errors(INCREASE, 2e15, 5) == {
        "value": "The value must be between -10^15 and 10^15."
    }


def test_given_500_random_valid_metric_definitions_then_progress_is_bounded_and_monotonic():
    rng = random.Random(20240601)  # noqa: S311 - reproducible test data, not cryptography
    for _ in range(500):
        kind = rng.choice((INCREASE, DECREASE))
        if rng.random() < 0.3:  # integer-valued metrics, as entered by people
            start = float(rng.randint(-1000, 1000))
            distance = float(rng.randint(1, 1000))
        else:
            start = rng.uniform(-1e6, 1e6)
            distance = rng.uniform(1e-6, 1e6) * rng.choice((1e-3, 1.0, 1e3))
        target = start + distance if kind == INCREASE else start - distance
        assert key_result_errors(kind, start=start, target=target) == {}

        lowest, highest = min(start, target) - 2 * distance, max(start, target) + 2 * distance
        currents = sorted([start, target, *(rng.uniform(lowest, highest) for _ in range(25))])
        progress = [key_result_progress(kind, start=start, target=target, current=c) for c in currents]

        assert all(0.0 <= p <= 1.0 for p in progress), (kind, start, target)
        pairs = list(itertools.pairwise(progress))
        if kind == INCREASE:
            assert all(a <= b for a, b in pairs), (kind, start, target)
        else:
            assert all(a >= b for a, b in pairs), (kind, start, target)
        assert key_result_progress(kind, start=start, target=target, current=start) == 0.0
        assert key_result_progress(kind, start=start, target=target, current=target) == 1.0


# --- check_in_value_errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "confidence", "expected"),
    [
        (INCREASE, 12.5, 7, {}),
        (INCREASE, -1e9, 0, {}),  # the wrong direction is still a valid reading
        (DECREASE, 0, 10, {}),
        (STAY_BETWEEN, 1e12, 5, {}),
        (MILESTONE, 0, 5, {}),
        (MILESTONE, 1, 5, {}),
        (MILESTONE, 0.0, 5, {}),
        (MILESTONE, 1.0, 5, {}),
        (INCREASE, None, 5, {"value": "Enter the current value."}),
        (MILESTONE, None, 5, {"value": "Enter the current value."}),
        (INCREASE, NAN, 5, {"value": "The value must be a finite number."}),
        (STAY_ABOVE, INF, 5, {"value": "The value must be a finite number."}),
        (STAY_BELOW, -INF, 5, {"value": "The value must be a finite number."}),
        (MILESTONE, NAN, 5, {"value": "The value must be a finite number."}),
        (MILESTONE, 0.5, 5, {"value": MILESTONE_MESSAGE}),
        (MILESTONE, 2, 5, {"value": MILESTONE_MESSAGE}),
        (MILESTONE, -1, 5, {"value": MILESTONE_MESSAGE}),
        (INCREASE, 1, None, {"confidence": CONFIDENCE_MESSAGE}),
        (INCREASE, 1, -1, {"confidence": CONFIDENCE_MESSAGE}),
        (INCREASE, 1, 11, {"confidence": CONFIDENCE_MESSAGE}),
        (INCREASE, 1, 5.5, {"confidence": CONFIDENCE_MESSAGE}),
        (INCREASE, 1, 5.0, {"confidence": CONFIDENCE_MESSAGE}),
        (INCREASE, 1, True, {"confidence": CONFIDENCE_MESSAGE}),
        (INCREASE, 1, "5", {"confidence": CONFIDENCE_MESSAGE}),
        (
            MILESTONE,
            0.5,
            None,
            {"value": MILESTONE_MESSAGE, "confidence": CONFIDENCE_MESSAGE},
        ),
    ],
)
def test_given_a_check_in_when_validated_then_errors_are_exactly(kind, value, confidence, expected):
    assert check_in_value_errors(kind, value, confidence) == expected


def test_given_an_unknown_kind_when_a_check_in_is_validated_then_value_error():
    with pytest.raises(ValueError, match="Unknown key result kind"):
        check_in_value_errors("grow", 1.0, 5)


# --- weighted_progress ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], 0.0),
        ([(0.5, 0.0)], 0.0),
        ([(0.5, 0), (1.0, 0)], 0.0),
        ([(0.5, 1.0)], 0.5),
        ([(1.0, 1.0), (0.0, 1.0)], 0.5),
        ([(1.0, 3.0), (0.0, 1.0)], 0.75),
        ([(1.0, 2.0), (0.25, 0.0)], 1.0),  # a zero-weight item does not count
        ([(1.0, 0.1), (1.0, 0.2), (1.0, 0.7)], 1.0),
        ([(0.0, 5.0), (0.0, 1.0)], 0.0),
    ],
)
def test_given_progress_weight_pairs_when_averaged_then_result_is_exact(items, expected):
    assert weighted_progress(items) == expected


def test_given_a_generator_when_averaged_then_it_is_consumed_once():
    assert weighted_progress((p, w) for p, w in [(1.0, 1.0), (0.5, 2.0)]) == pytest.approx(2 / 3)


def test_given_non_dyadic_values_then_sums_are_taken_left_to_right_in_input_order():
    items = [(0.1, 0.3), (0.7, 0.7), (0.3, 0.1), (0.9, 0.45)]
    numerator = ((0.1 * 0.3 + 0.7 * 0.7) + 0.3 * 0.1) + 0.9 * 0.45
    denominator = ((0.3 + 0.7) + 0.1) + 0.45
    assert weighted_progress(items) == numerator / denominator


# --- cycle_bounds -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start_date", "end_date", "tz", "expected_start", "expected_end"),
    [
        (date(2024, 1, 1), date(2024, 1, 1), "UTC", utc(2024, 1, 1), utc(2024, 1, 2)),
        (date(2024, 1, 1), date(2024, 3, 31), "UTC", utc(2024, 1, 1), utc(2024, 4, 1)),
        (date(2024, 12, 1), date(2024, 12, 31), "UTC", utc(2024, 12, 1), utc(2025, 1, 1)),
        (date(2024, 1, 1), date(2024, 1, 31), "Asia/Shanghai", utc(2023, 12, 31, 16), utc(2024, 1, 31, 16)),
        (
            date(2024, 1, 1),
            date(2024, 1, 31),
            "America/New_York",
            utc(2024, 1, 1, 5),
            utc(2024, 2, 1, 5),
        ),
        # Berlin: CET (+1) at the start, CEST (+2) after the change on 31 March 2024
        (date(2024, 3, 1), date(2024, 3, 31), "Europe/Berlin", utc(2024, 2, 29, 23), utc(2024, 3, 31, 22)),
        (date(2024, 10, 1), date(2024, 10, 31), "Europe/Berlin", utc(2024, 9, 30, 22), utc(2024, 10, 31, 23)),
        # Santiago skips midnight (00:00 -> 01:00) on 3 September 2023: the day starts at 01:00 -03
        (
            date(2023, 9, 3),
            date(2023, 9, 3),
            "America/Santiago",
            utc(2023, 9, 3, 4),
            utc(2023, 9, 4, 3),
        ),
    ],
)
def test_given_dates_and_zone_when_bounds_are_computed_then_they_are_local_midnights_in_utc(
    start_date, end_date, tz, expected_start, expected_end
):
    start, end = cycle_bounds(start_date, end_date, tz)
    assert (start, end) == (expected_start, expected_end)
    assert start.tzinfo is UTC
    assert end.tzinfo is UTC


@pytest.mark.parametrize(
    ("start_date", "end_date", "hours"),
    [
        (date(2024, 3, 1), date(2024, 3, 31), 31 * 24 - 1),  # spring forward loses an hour
        (date(2024, 10, 1), date(2024, 10, 31), 31 * 24 + 1),  # fall back gains one
        (date(2024, 3, 31), date(2024, 3, 31), 23),
        (date(2024, 10, 27), date(2024, 10, 27), 25),
        (date(2024, 6, 1), date(2024, 6, 30), 30 * 24),
    ],
)
def test_given_a_dst_zone_when_bounds_are_computed_then_length_follows_the_wall_clock(
    start_date, end_date, hours
):
    start, end = cycle_bounds(start_date, end_date, "Europe/Berlin")
    assert end - start == timedelta(hours=hours)


def test_given_an_end_before_the_start_when_bounds_are_computed_then_value_error():
    with pytest.raises(ValueError, match="end date must not be before the start date"):
        cycle_bounds(date(2024, 2, 1), date(2024, 1, 31), "UTC")


@pytest.mark.parametrize("tz", ["Not/A_Zone", "", "../etc/passwd"])
def test_given_an_unknown_zone_when_bounds_are_computed_then_value_error(tz):
    with pytest.raises(ValueError, match="Unknown time zone"):
        cycle_bounds(date(2024, 1, 1), date(2024, 1, 31), tz)


# --- expected_progress ------------------------------------------------------------------------------

JANUARY = (date(2024, 1, 1), date(2024, 1, 31))  # 31 days = 744 hours in UTC


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2023, 6, 1), 0.0),  # long before
        (utc(2023, 12, 31, 23, 59, 59), 0.0),  # not started yet
        (utc(2024, 1, 1), 0.0),  # exactly at the start
        (utc(2024, 1, 16, 12), 0.5),  # halfway
        (utc(2024, 1, 4, 21), 0.125),  # 93 of 744 hours
        (utc(2024, 2, 1), 1.0),  # exactly at the end (midnight after the inclusive end date)
        (utc(2024, 1, 31, 23, 59, 59), 1 - 1 / (744 * 3600)),  # the last day still counts
        (utc(2024, 5, 1), 1.0),  # ended
    ],
)
def test_given_a_utc_cycle_when_expected_progress_is_computed_then_it_is_the_elapsed_fraction(now, expected):
    assert expected_progress(*JANUARY, now, "UTC") == pytest.approx(expected)


def test_given_a_leap_february_when_halfway_then_expected_progress_is_one_half():
    assert expected_progress(date(2024, 2, 1), date(2024, 2, 29), utc(2024, 2, 15, 12), "UTC") == 0.5


def test_given_a_one_day_cycle_when_at_local_noon_then_expected_progress_is_one_half():
    noon_in_shanghai = datetime(2024, 5, 5, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert expected_progress(date(2024, 5, 5), date(2024, 5, 5), noon_in_shanghai, "Asia/Shanghai") == 0.5


@pytest.mark.parametrize(
    ("now", "utc_expected", "shanghai_expected"),
    [
        (utc(2024, 1, 1), 0.0, 8 / 744),  # already 08:00 in Shanghai
        (utc(2023, 12, 31, 20), 0.0, 4 / 744),  # started in Shanghai, not yet in UTC
        (utc(2024, 1, 16, 12), 0.5, (15 * 24 + 20) / 744),
        (utc(2024, 1, 31, 20), 740 / 744, 1.0),  # ended in Shanghai, not yet in UTC
    ],
)
def test_given_the_same_instant_when_zones_differ_then_expected_progress_differs(
    now, utc_expected, shanghai_expected
):
    in_utc = expected_progress(*JANUARY, now, "UTC")
    in_shanghai = expected_progress(*JANUARY, now, "Asia/Shanghai")
    assert in_utc == pytest.approx(utc_expected)
    assert in_shanghai == pytest.approx(shanghai_expected)
    assert in_utc != in_shanghai


def test_given_a_berlin_cycle_across_spring_forward_when_halfway_then_expected_is_one_half():
    # 1 March 00:00 CET (29 Feb 23:00 UTC) .. 1 April 00:00 CEST (31 March 22:00 UTC) = 743 hours.
    halfway = utc(2024, 2, 29, 23) + timedelta(hours=743 / 2)
    assert halfway == utc(2024, 3, 16, 10, 30)
    march = (date(2024, 3, 1), date(2024, 3, 31))
    assert expected_progress(*march, halfway, "Europe/Berlin") == 0.5
    # A UTC cycle of the same dates is 744 hours long and started an hour later.
    assert expected_progress(*march, halfway, "UTC") == pytest.approx((371.5 - 1) / 744)


def test_given_a_berlin_cycle_across_spring_forward_when_on_the_last_day_then_the_lost_hour_counts():
    march = (date(2024, 3, 1), date(2024, 3, 31))
    noon_local = datetime(2024, 3, 31, 12, tzinfo=ZoneInfo("Europe/Berlin"))  # 10:00 UTC, 12 h before the end
    assert expected_progress(*march, noon_local, "Europe/Berlin") == pytest.approx((743 - 12) / 743)
    # Naive day counting would give 30.5 / 31.
    assert expected_progress(*march, noon_local, "Europe/Berlin") != pytest.approx(30.5 / 31)


def test_given_now_in_another_zone_then_only_the_instant_matters():
    instant = utc(2024, 1, 10, 6)
    same_in_tokyo = instant.astimezone(ZoneInfo("Asia/Tokyo"))
    same_in_la = instant.astimezone(ZoneInfo("America/Los_Angeles"))
    values = {
        expected_progress(*JANUARY, now, "Europe/Berlin") for now in (instant, same_in_tokyo, same_in_la)
    }
    assert len(values) == 1


def test_given_a_naive_now_when_expected_progress_is_computed_then_value_error():
    naive = utc(2024, 1, 10).replace(tzinfo=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        expected_progress(*JANUARY, naive, "UTC")


# --- key_result_status and objective_status ---------------------------------------------------------

ABOVE_015 = math.nextafter(0.15, 1.0)
ABOVE_030 = math.nextafter(0.30, 1.0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("progress", "expected"), [(0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (1.0, 0.0)])
def test_given_no_check_in_when_status_is_computed_then_not_started(kind, progress, expected):
    status = key_result_status(kind, progress=progress, expected=expected, has_check_in=False)
    assert status == NOT_STARTED


@pytest.mark.parametrize("kind", sorted(GUARD_RAILS))
@pytest.mark.parametrize(
    ("progress", "expected", "status"),
    [
        (1.0, 0.0, ON_TRACK),
        (1.0, 0.5, ON_TRACK),
        (1.0, 1.0, ON_TRACK),  # within bounds at the end: on track, never done
        (0.0, 0.0, OFF_TRACK),  # out of bounds: off track even though nothing was expected yet
        (0.99, 0.0, OFF_TRACK),
        (0.95, 1.0, OFF_TRACK),
    ],
)
def test_given_a_guard_rail_when_status_is_computed_then_expected_is_ignored(
    kind, progress, expected, status
):
    assert key_result_status(kind, progress=progress, expected=expected, has_check_in=True) == status


@pytest.mark.parametrize("kind", METRIC_KINDS)
@pytest.mark.parametrize(
    ("progress", "expected", "status"),
    [
        (1.0, 0.0, DONE),
        (1.0, 1.0, DONE),
        (0.0, 0.0, ON_TRACK),
        (0.6, 0.5, ON_TRACK),  # ahead of schedule
        (0.0, 0.15, ON_TRACK),  # gap exactly 0.15 is still on track
        (0.0, ABOVE_015, AT_RISK),
        (0.0, 0.30, AT_RISK),  # gap exactly 0.30 is still at risk
        (0.0, ABOVE_030, OFF_TRACK),
        (0.0, 1.0, OFF_TRACK),
        (0.5, 0.75, AT_RISK),
        (math.nextafter(1.0, 0.0), 1.0, ON_TRACK),
    ],
)
def test_given_a_metric_key_result_when_status_is_computed_then_the_gap_rule_applies(
    kind, progress, expected, status
):
    assert key_result_status(kind, progress=progress, expected=expected, has_check_in=True) == status


def test_given_a_gap_that_rounds_above_the_threshold_then_comparison_is_plain():
    assert 0.65 - 0.5 > 0.15
    assert key_result_status(INCREASE, progress=0.5, expected=0.65, has_check_in=True) == AT_RISK
    assert objective_status(progress=0.5, expected=0.65, has_check_in=True) == AT_RISK


@pytest.mark.parametrize(
    ("progress", "expected", "status"),
    [
        (0.5, 0.75, ON_TRACK),  # gap 0.25 == at_risk_gap
        (0.5, 0.875, AT_RISK),
        (0.5, 1.0, AT_RISK),  # gap 0.5 == off_track_gap
        (0.25, 1.0, OFF_TRACK),
    ],
)
def test_given_custom_thresholds_when_status_is_computed_then_they_are_used(progress, expected, status):
    thresholds = Thresholds(at_risk_gap=0.25, off_track_gap=0.5)
    kr = key_result_status(
        DECREASE, progress=progress, expected=expected, has_check_in=True, thresholds=thresholds
    )
    objective = objective_status(
        progress=progress, expected=expected, has_check_in=True, thresholds=thresholds
    )
    assert kr == objective == status


def test_given_equal_thresholds_then_there_is_no_at_risk_band():
    thresholds = Thresholds(at_risk_gap=0.25, off_track_gap=0.25)
    assert objective_status(progress=0.0, expected=0.25, has_check_in=True, thresholds=thresholds) == ON_TRACK
    above = math.nextafter(0.25, 1.0)
    assert (
        objective_status(progress=0.0, expected=above, has_check_in=True, thresholds=thresholds) == OFF_TRACK
    )


@pytest.mark.parametrize(
    ("at_risk_gap", "off_track_gap"),
    [(0.3, 0.15), (-0.1, 0.3), (NAN, 0.3), (0.15, INF)],
)
def test_given_inconsistent_thresholds_when_constructed_then_value_error(at_risk_gap, off_track_gap):
    with pytest.raises(ValueError, match="thresholds"):
        Thresholds(at_risk_gap=at_risk_gap, off_track_gap=off_track_gap)


def test_given_an_unknown_kind_when_status_is_computed_then_value_error():
    with pytest.raises(ValueError, match="Unknown key result kind"):
        key_result_status("grow", progress=0.5, expected=0.5, has_check_in=True)


@pytest.mark.parametrize(
    ("progress", "expected", "has_check_in", "status"),
    [
        (0.0, 0.0, False, NOT_STARTED),
        (1.0, 1.0, False, NOT_STARTED),
        (0.0, 0.9, False, NOT_STARTED),
        (1.0, 0.0, True, DONE),
        (1.0, 1.0, True, DONE),
        (0.0, 0.0, True, ON_TRACK),
        (0.0, 0.15, True, ON_TRACK),
        (0.0, ABOVE_015, True, AT_RISK),
        (0.0, 0.30, True, AT_RISK),
        (0.0, ABOVE_030, True, OFF_TRACK),
        (0.25, 1.0, True, OFF_TRACK),
        (0.75, 0.5, True, ON_TRACK),
    ],
)
def test_given_an_objective_when_status_is_computed_then_it_follows_the_rules(
    progress, expected, has_check_in, status
):
    assert objective_status(progress=progress, expected=expected, has_check_in=has_check_in) == status


# --- forecast ---------------------------------------------------------------------------------------

T0 = 1_717_200_000.0  # 2024-06-01T00:00:00Z
DAY = 86_400.0


@pytest.mark.parametrize(
    "points",
    [
        [],
        [(T0, 5.0)],
        [(T0, 5.0), (T0, 7.0)],  # identical timestamps
        [(T0, 1.0), (T0, 2.0), (T0, 3.0)],
        [(0.1, 1.0), (0.1, 2.0), (0.1, 3.0)],  # the mean of 0.1s is not exactly 0.1
    ],
)
def test_given_too_few_points_or_one_instant_when_forecasting_then_none(points):
    assert forecast(points, T0 + DAY) is None


@pytest.mark.parametrize(
    ("points", "at", "expected"),
    [
        ([(0.0, 0.0), (10.0, 5.0)], 20.0, 10.0),  # two points define the line
        ([(0.0, 0.0), (10.0, 5.0)], 5.0, 2.5),  # interpolation
        ([(0.0, 0.0), (10.0, 5.0)], -10.0, -5.0),  # back-projection
        ([(10.0, 5.0), (0.0, 0.0)], 20.0, 10.0),  # order does not matter
        ([(0.0, 1.0), (1.0, 3.0), (2.0, 2.0)], 3.0, 3.0),  # least squares: slope 0.5 through (1, 2)
        ([(0.0, 4.0), (1.0, 4.0), (5.0, 4.0)], 100.0, 4.0),  # flat
        ([(0.0, 1.0), (0.0, 3.0), (2.0, 2.0)], 2.0, 2.0),  # repeated timestamps among others
    ],
)
def test_given_points_when_forecasting_then_the_least_squares_line_is_evaluated(points, at, expected):
    assert forecast(points, at) == pytest.approx(expected)


def test_given_many_points_on_a_perfect_line_at_epoch_scale_then_the_forecast_is_on_the_line():
    slope_per_day = -2.5
    points = [(T0 + i * DAY, 1000.0 + slope_per_day * i) for i in range(90)]
    assert forecast(points, T0 + 120 * DAY) == pytest.approx(1000.0 + slope_per_day * 120, rel=1e-12)
    assert forecast(points, T0) == pytest.approx(1000.0, rel=1e-12)


def test_given_close_timestamps_at_epoch_scale_then_the_centred_formula_keeps_precision():
    # One reading per second; a naive sum-of-squares formula loses most digits here.
    points = [(T0 + i, 0.5 * i) for i in range(10)]
    assert forecast(points, T0 + 100) == pytest.approx(50.0, rel=1e-12)


def test_given_noisy_points_then_the_forecast_matches_the_textbook_solution():
    xs = [1.0, 2.0, 3.0, 4.0, 5.0]
    ys = [2.0, 4.0, 5.0, 4.0, 5.0]
    # slope = 6 / 10 = 0.6, intercept = 4 - 0.6 * 3 = 2.2
    assert forecast(list(zip(xs, ys, strict=True)), 10.0) == pytest.approx(2.2 + 0.6 * 10)


@pytest.mark.parametrize(
    ("points", "at"),
    [
        ([(0.0, 0.0), (1.0, NAN)], 2.0),
        ([(0.0, 0.0), (INF, 1.0)], 2.0),
        ([(0.0, 0.0), (1.0, 1.0)], NAN),
    ],
)
def test_given_non_finite_input_when_forecasting_then_value_error(points, at):
    with pytest.raises(ValueError, match="finite"):
        forecast(points, at)


# --- scores -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("objective_kind", "expected"), [("committed", 1.0), ("aspirational", 0.7)])
def test_given_an_objective_kind_then_the_score_expectation_is(objective_kind, expected):
    assert score_expectation(objective_kind) == expected


@pytest.mark.parametrize(
    ("objective_kind", "score", "meets"),
    [
        ("committed", 1.0, True),
        ("committed", math.nextafter(1.0, 0.0), False),
        ("committed", 0.7, False),
        ("committed", 0.0, False),
        ("aspirational", 0.7, True),  # exactly at the expectation
        ("aspirational", math.nextafter(0.7, 0.0), False),
        ("aspirational", 0.69, False),
        ("aspirational", 0.71, True),
        ("aspirational", 1.0, True),
        ("aspirational", 0.0, False),
    ],
)
def test_given_a_score_when_compared_with_the_expectation_then_the_boundary_is_inclusive(
    objective_kind, score, meets
):
    assert score_meets_expectation(objective_kind, score) is meets


@pytest.mark.parametrize("objective_kind", ["stretch", "", "Committed"])
def test_given_an_unknown_objective_kind_then_value_error(objective_kind):
    with pytest.raises(ValueError, match="Unknown objective kind"):
        score_expectation(objective_kind)
    with pytest.raises(ValueError, match="Unknown objective kind"):
        score_meets_expectation(objective_kind, 1.0)


@pytest.mark.parametrize("score", [NAN, INF])
def test_given_a_non_finite_score_then_value_error(score):
    with pytest.raises(ValueError, match="finite"):
        score_meets_expectation("committed", score)
