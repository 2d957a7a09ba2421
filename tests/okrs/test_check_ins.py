"""Recording check-ins: validation, corrections, append-only history, incremental
recalculation with a bounded number of queries."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from okrs.models import CheckIn, KeyResult, Objective, OkrSettings
from okrs.selectors import okr_settings, okr_settings_column, okr_settings_from
from okrs.services.check_ins import check_in_record
from okrs.services.cycles import cycle_close
from okrs.services.objectives import key_result_create, objective_create
from okrs.services.settings import okr_settings_update
from tests.okrs.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def objective(people, quarter):
    return objective_create(
        actor=people.lead, cycle=quarter, owner=people.lead, title="Fast, reliable platform"
    )


@pytest.fixture
def uptime(people, objective):
    return key_result_create(
        actor=people.lead, objective=objective, title="Deploy time from 40 to 10 minutes", kind="decrease",
        start=40, target=10, owner=people.sre,
    )  # fmt: skip


@pytest.fixture
def adoption(people, objective):
    return key_result_create(
        actor=people.lead, objective=objective, title="Teams on the platform from 2 to 12", kind="increase",
        start=2, target=12, weight=3,
    )  # fmt: skip


def record(key_result, actor, value, confidence=7, **kwargs):
    # A fixed clock: results must not depend on the day the suite runs.
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("recorded_at", NOW)
    return check_in_record(key_result=key_result, actor=actor, value=value, confidence=confidence, **kwargs)


def fresh(instance):
    return type(instance).objects.get(pk=instance.pk)


def test_check_in_updates_key_result_and_objective(people, uptime, adoption, objective):
    record(uptime, people.sre, 25, confidence=8, what_moved="Parallel builds")

    kr, obj = fresh(uptime), fresh(objective)
    assert (kr.current, kr.confidence) == (25.0, 8)
    assert kr.progress == pytest.approx(0.5)
    # Q4 in Berlin runs 2209 hours (clocks go back on 25 Oct); 15 Nov 11:00 UTC is hour 1093.
    assert kr.status == "on_track"
    # Objective: (0.5 × 1 + 0 × 3) / 4; adoption has no check-in yet.
    assert obj.progress == pytest.approx(0.125)
    assert obj.expected_progress == pytest.approx(1093 / 2209)
    assert obj.status == "off_track"


def test_moving_the_wrong_way_is_zero_progress(people, uptime):
    record(uptime, people.sre, 55)

    assert fresh(uptime).progress == 0.0
    assert fresh(uptime).status == "off_track"


def test_reaching_the_target_is_done(people, uptime):
    record(uptime, people.sre, 9.5)

    assert (fresh(uptime).progress, fresh(uptime).status) == (1.0, "done")


def test_forecast_needs_two_check_ins_and_projects_to_cycle_end(people, adoption):
    record(adoption, people.lead, 4, recorded_at=NOW - timedelta(days=14))
    assert fresh(adoption).forecast is None

    record(adoption, people.lead, 6, recorded_at=NOW)

    # +2 teams a fortnight; cycle end (1 Jan 00:00 Berlin = 31 Dec 23:00 UTC) is 46.5 days after NOW.
    assert fresh(adoption).forecast == pytest.approx(6 + 2 * 46.5 / 14)


def test_correction_takes_the_place_of_the_corrected_check_in(people, adoption):
    first = record(adoption, people.lead, 5, recorded_at=NOW - timedelta(days=7))
    record(adoption, people.lead, 6, recorded_at=NOW - timedelta(days=1))

    correction = record(adoption, people.lead, 4, corrects=first)

    kr = fresh(adoption)
    assert kr.current == 6.0  # the newer check-in still stands
    assert correction.effective_at == first.effective_at
    assert CheckIn.objects.filter(key_result=adoption).count() == 3  # nothing was edited or deleted


def test_correcting_the_latest_check_in_changes_the_current_value(people, adoption):
    latest = record(adoption, people.lead, 8)

    record(adoption, people.lead, 7, corrects=latest)

    assert fresh(adoption).current == 7.0
    assert fresh(adoption).progress == pytest.approx(0.5)


def test_a_check_in_is_corrected_once(people, adoption, uptime):
    first = record(adoption, people.lead, 5)
    record(adoption, people.lead, 4, corrects=first)

    with pytest.raises(ValidationError, match="already corrected"):
        record(adoption, people.lead, 3, corrects=first)
    with pytest.raises(ValidationError, match="same key result"):
        record(uptime, people.sre, 30, corrects=first)


def test_check_ins_are_append_only_in_the_model_and_the_database(people, adoption):
    check_in = record(adoption, people.lead, 5)

    with pytest.raises(ValueError, match="append-only"):
        check_in.save()
    with transaction.atomic(), pytest.raises(IntegrityError, match="append-only"):
        CheckIn.objects.filter(pk=check_in.pk).update(value=99)
    assert fresh(check_in).value == 5.0


@pytest.mark.parametrize(
    ("value", "confidence", "field", "message"),
    [
        (None, 5, "value", "Enter the current value."),
        (float("nan"), 5, "value", "must be a finite number"),
        (5, 11, "confidence", "whole number from 0 to 10"),
        (5, -1, "confidence", "whole number from 0 to 10"),
        (5, None, "confidence", "whole number from 0 to 10"),
    ],
)
def test_bad_check_in_is_refused_and_changes_nothing(people, adoption, value, confidence, field, message):
    with pytest.raises(ValidationError) as refused:
        record(adoption, people.lead, value, confidence=confidence)

    assert message in refused.value.message_dict[field][0]
    assert not CheckIn.objects.filter(key_result=adoption).exists()
    assert fresh(adoption).current is None


def test_milestone_accepts_only_zero_or_one(people, objective):
    milestone = key_result_create(
        actor=people.lead, objective=objective, title="SOC 2 report", kind="milestone"
    )

    with pytest.raises(ValidationError, match="either 0"):
        record(milestone, people.lead, 0.5)
    record(milestone, people.lead, 1)

    assert (fresh(milestone).progress, fresh(milestone).status) == (1.0, "done")


def test_only_owners_check_in(people, adoption):
    with pytest.raises(PermissionDenied):
        record(adoption, people.analyst, 5)
    with pytest.raises(PermissionDenied):
        record(adoption, people.viewer, 5)

    assert not CheckIn.objects.filter(key_result=adoption).exists()


def test_key_result_owner_and_objective_owner_and_admin_may_check_in(people, uptime):
    record(uptime, people.sre, 30)  # KR owner
    record(uptime, people.lead, 29)  # objective owner
    record(uptime, people.ceo, 28)  # org admin

    assert CheckIn.objects.filter(key_result=uptime).count() == 3


def test_closed_cycle_refuses_check_ins(people, quarter, adoption):
    cycle_close(cycle=quarter, actor=people.ceo, now=NOW)

    with pytest.raises(ValidationError, match="closed"):
        record(fresh(adoption), people.lead, 5)


def test_check_in_write_takes_a_bounded_number_of_queries(people, quarter, objective, adoption):
    # On pace, so no escalation opens (that would add notifications; see test_escalations).
    record(adoption, people.lead, 8)
    with CaptureQueriesContext(connection) as small:
        record(adoption, people.lead, 9)
    # Grow the organisation: many more objectives, KRs and check-ins elsewhere.
    for i in range(30):
        other = Objective.objects.create(cycle=quarter, owner=people.analyst, title=f"Other {i}")
        kr = KeyResult.objects.create(objective=other, owner=people.analyst, title="x", start=0, target=10)
        CheckIn.objects.bulk_create(
            CheckIn(key_result=kr, author=people.analyst, value=v, confidence=5, effective_at=NOW)
            for v in range(5)
        )

    with CaptureQueriesContext(connection) as large:
        record(adoption, people.lead, 10)

    assert len(large.captured_queries) == len(small.captured_queries) <= 15


@pytest.mark.parametrize("saved", [False, True])
def test_the_settings_read_with_the_key_result_are_the_organisations(people, adoption, saved):
    """The check-in reads the settings in its lock statement (``okr_settings_column``): the same
    values as ``okr_settings()``, the defaults while nobody saved any."""
    if saved:
        okr_settings_update(
            actor=people.ceo, at_risk_gap=0.2, off_track_gap=0.45, escalation_threshold=4,
            rollup_aligned_children=True,
        )  # fmt: skip
    row = KeyResult.objects.annotate(row=okr_settings_column()).get(pk=adoption.pk).row
    from_row, expected = okr_settings_from(row), okr_settings()

    assert (row is not None) == saved
    fields = [field.attname for field in OkrSettings._meta.concrete_fields]
    assert [getattr(from_row, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert from_row._state.adding is expected._state.adding
