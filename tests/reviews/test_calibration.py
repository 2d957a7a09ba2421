"""Calibration decisions (method §4): keep, change a target or drop an objective, with
the reason recorded, applied through the OKR services and visible in their history."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from okrs.models import KeyResult, Objective
from okrs.services.objectives import objective_create
from reviews.models import CalibrationDecision
from reviews.services import calibration_decide, review_cycle_close, review_cycle_create, review_cycle_open
from tests.reviews.conftest import fresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def calibration(people, quarter, deploys):
    review_cycle = review_cycle_create(
        actor=people.ceo, cycle=quarter, kind="calibration", name="Q4 mid-cycle calibration",
        opens_on=date(2026, 11, 15), due_on=date(2026, 11, 22),
    )  # fmt: skip
    return review_cycle_open(review_cycle=review_cycle, actor=people.ceo)


@pytest.fixture
def repeats(deploys) -> KeyResult:
    return KeyResult.objects.get(objective=deploys, title__startswith="Repeat")


def decide(calibration, objective, actor, decision, **kwargs):
    return calibration_decide(
        review_cycle=calibration, objective=objective, actor=actor, decision=decision, **kwargs
    )


def state_of(objective: Objective) -> tuple:
    objective = fresh(objective)
    targets = list(objective.key_results.order_by("id").values_list("target", flat=True))
    return (
        objective.state,
        objective.closing_note,
        targets,
        objective.history.count(),
        KeyResult.history.filter(objective_id=objective.pk).count(),
        CalibrationDecision.objects.filter(objective=objective).count(),
    )


def test_keep_records_the_decision_and_changes_nothing(people, calibration, deploys):
    before = state_of(deploys)

    decision = decide(calibration, deploys, people.lead, "keep", reason=" On course ")

    assert (decision.decision, decision.reason, decision.decided_by) == ("keep", "On course", people.lead)
    assert decision.decided_at is not None
    assert state_of(deploys)[:5] == before[:5]


def test_change_moves_a_target_through_the_okr_services(people, calibration, deploys, repeats):
    decision = decide(
        calibration, deploys, people.cto, "change", key_result=repeats, new_target=4,
        reason="A competitor cut prices; we fix the worst alerts first",
    )  # fmt: skip

    kr = fresh(repeats)
    assert kr.target == 4
    # 12 → 4 at 7: five of eight incidents gone.
    assert kr.progress == pytest.approx(5 / 8)
    latest = kr.history.first()
    assert (latest.target, latest.history_user, latest.history_type) == (4, people.cto, "~")
    assert list(kr.history.order_by("history_date").values_list("target", flat=True))[-2:] == [2, 4]
    assert (decision.key_result, decision.new_target) == (repeats, 4)


def test_drop_archives_the_objective_with_the_reason(people, calibration, deploys):
    decide(calibration, deploys, people.ceo, "drop", reason="Superseded by the managed paging service")

    objective = fresh(deploys)
    assert (objective.state, objective.closing_note) == (
        "archived",
        "Superseded by the managed paging service",
    )
    latest = objective.history.first()
    assert (latest.state, latest.closing_note, latest.history_user) == (
        "archived",
        "Superseded by the managed paging service",
        people.ceo,
    )
    with pytest.raises(ValidationError, match="already dropped"):
        decide(calibration, deploys, people.ceo, "drop", reason="Again")


def test_a_change_the_okr_services_refuse_is_not_recorded(people, calibration, deploys, repeats):
    before = state_of(deploys)

    # A decreasing KR's target must stay below its start (12).
    with pytest.raises(ValidationError, match="Target must be less than start") as error:
        decide(calibration, deploys, people.lead, "change", key_result=repeats, new_target=15, reason="Relax")

    assert set(error.value.message_dict) == {"target"}
    assert state_of(deploys) == before


def test_change_and_drop_need_their_details_and_a_reason(people, calibration, deploys, repeats, quarter):
    other = objective_create(actor=people.backend, cycle=quarter, owner=people.backend, title="Faster API")
    before = state_of(deploys)

    with pytest.raises(ValidationError) as change:
        decide(calibration, deploys, people.lead, "change")
    with pytest.raises(ValidationError) as drop:
        decide(calibration, deploys, people.lead, "drop", reason=" ")
    with pytest.raises(ValidationError, match="is not a key result of") as foreign:
        decide(calibration, other, people.lead, "change", key_result=repeats, new_target=4, reason="Why")
    with pytest.raises(ValidationError) as extra:
        decide(calibration, deploys, people.lead, "keep", key_result=repeats, new_target=4)
    with pytest.raises(ValidationError, match="Choose keep, change or drop"):
        decide(calibration, deploys, people.lead, "pause", reason="Why")

    assert set(change.value.message_dict) == {"key_result", "new_target", "reason"}
    assert set(drop.value.message_dict) == {"reason"}
    assert set(foreign.value.message_dict) == {"key_result"}
    assert set(extra.value.message_dict) == {"key_result"}
    assert state_of(deploys) == before


def test_only_admins_consultants_and_the_owners_managers_decide(people, calibration, deploys, repeats):
    before = state_of(deploys)

    for actor in (people.sre, people.backend, people.analyst, people.viewer):
        with pytest.raises(PermissionDenied):
            decide(calibration, deploys, actor, "drop", reason="Not mine to drop")

    assert state_of(deploys) == before


def test_a_consultant_records_decisions_but_changes_okrs_only_where_allowed(
    people, consultant, calibration, deploys, repeats
):
    decide(calibration, deploys, consultant, "keep", reason="Coach: keep the focus")
    before = state_of(deploys)

    # okrs.permissions.can_edit_objective does not let a consultant edit the SRE's OKRs.
    with pytest.raises(PermissionDenied):
        decide(calibration, deploys, consultant, "change", key_result=repeats, new_target=4, reason="Coach")

    assert state_of(deploys) == before
    assert list(CalibrationDecision.objects.filter(objective=deploys).values_list("decision", flat=True)) == [
        "keep"
    ]


def test_decisions_need_an_open_calibration_of_the_objectives_cycle(
    people, year, quarter, calibration, deploys, checkin_review
):
    scheduled = review_cycle_create(
        actor=people.ceo, cycle=quarter, kind="calibration", name="Later calibration",
        opens_on=date(2026, 12, 1), due_on=date(2026, 12, 8),
    )  # fmt: skip
    strategic = objective_create(actor=people.ceo, cycle=year, owner=people.cto, title="Technology moat")

    with pytest.raises(ValidationError, match="is not a calibration"):
        decide(review_cycle_open(review_cycle=checkin_review, actor=people.ceo), deploys, people.ceo, "keep")
    with pytest.raises(ValidationError, match="is not open"):
        decide(scheduled, deploys, people.ceo, "keep")
    with pytest.raises(ValidationError, match="is not part of Q4 2026"):
        decide(calibration, strategic, people.ceo, "keep")
    review_cycle_close(review_cycle=calibration, actor=people.ceo)
    with pytest.raises(ValidationError, match="is not open"):
        decide(calibration, deploys, people.ceo, "keep")

    assert not CalibrationDecision.objects.filter(objective__in=[deploys, strategic]).exists()


def test_a_years_calibration_also_decides_on_its_quarters_objectives(people, year, deploys):
    strategic = review_cycle_open(
        review_cycle=review_cycle_create(
            actor=people.ceo, cycle=year, kind="calibration", name="FY2026 quarter 4 calibration",
            opens_on=date(2026, 10, 1), due_on=date(2026, 10, 8),
        ),
        actor=people.ceo,
    )  # fmt: skip

    decide(strategic, deploys, people.ceo, "drop", reason="Competitor cut prices; we keep customers instead")

    assert fresh(deploys).state == "archived"
    assert CalibrationDecision.objects.get(objective=deploys).review_cycle == strategic
