"""Closing a cycle (scores) and carrying unfinished objectives into the next one."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from okrs import scoring
from okrs.models import KeyResult, Objective
from okrs.services.carry_over import cycle_carry_over, objective_carry_over
from okrs.services.check_ins import check_in_record
from okrs.services.cycles import cycle_activate, cycle_close, cycle_create
from okrs.services.objectives import key_result_create, objective_create
from tests.okrs.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def next_quarter(people, year):
    q1 = cycle_create(
        actor=people.ceo,
        name="Q1 2027",
        kind="quarter",
        start_date=date(2027, 1, 1),
        end_date=date(2027, 3, 31),
    )
    return cycle_activate(cycle=q1, actor=people.ceo)


@pytest.fixture
def half_done(people, quarter):
    objective = objective_create(
        actor=people.lead, cycle=quarter, owner=people.lead, title="Faster deploys", kind="aspirational"
    )
    done = key_result_create(actor=people.lead, objective=objective, title="Docs", kind="milestone")
    deploys = key_result_create(
        actor=people.lead, objective=objective, title="Deploy 40→10 min", kind="decrease", start=40, target=10
    )
    floor = key_result_create(
        actor=people.lead,
        objective=objective,
        title="Uptime ≥ 99.9",
        kind="stay_above",
        start=99.5,
        target=99.9,
    )
    check_in_record(key_result=done, actor=people.lead, value=1, confidence=10, now=NOW)
    check_in_record(key_result=deploys, actor=people.lead, value=25, confidence=6, now=NOW)
    check_in_record(key_result=floor, actor=people.lead, value=99.95, confidence=8, now=NOW)
    return Objective.objects.get(pk=objective.pk)


def test_closing_freezes_scores_at_progress(people, quarter, half_done):
    cycle_close(cycle=quarter, actor=people.ceo, now=NOW)

    objective = Objective.objects.get(pk=half_done.pk)
    scores = dict(KeyResult.objects.filter(objective=objective).values_list("title", "score"))
    assert scores == {"Docs": 1.0, "Deploy 40→10 min": 0.5, "Uptime ≥ 99.9": 1.0}
    assert objective.state == "closed"
    assert objective.score == pytest.approx(2.5 / 3)
    # Aspirational: 0.7 is the bar; committed would need 1.0.
    assert scoring.score_meets_expectation("aspirational", objective.score)
    assert not scoring.score_meets_expectation("committed", objective.score)
    assert objective.history.first().state == "closed"


def test_carry_over_starts_from_the_last_value_and_links_the_origin(people, half_done, next_quarter):
    copy = objective_carry_over(objective=half_done, to_cycle=next_quarter, actor=people.lead)

    assert (copy.carried_from, copy.cycle, copy.state, copy.owner) == (
        half_done,
        next_quarter,
        "draft",
        people.lead,
    )
    carried = list(copy.key_results.order_by("position").values_list("title", "kind", "start", "target"))
    # The reached milestone stays behind; the guard rail keeps its bounds.
    assert carried == [
        ("Deploy 40→10 min", "decrease", 25.0, 10.0),
        ("Uptime ≥ 99.9", "stay_above", 99.95, 99.9),
    ]
    assert copy.progress == 0.0


def test_carry_over_happens_once_per_cycle(people, half_done, next_quarter):
    objective_carry_over(objective=half_done, to_cycle=next_quarter, actor=people.lead)

    with pytest.raises(ValidationError, match="already carried"):
        objective_carry_over(objective=half_done, to_cycle=next_quarter, actor=people.lead)
    assert cycle_carry_over(from_cycle=half_done.cycle, to_cycle=next_quarter, actor=people.ceo) == []


def test_finished_objectives_are_not_carried(people, quarter, next_quarter):
    objective = objective_create(actor=people.lead, cycle=quarter, owner=people.lead, title="Done")
    kr = key_result_create(actor=people.lead, objective=objective, title="M", kind="milestone")
    check_in_record(key_result=kr, actor=people.lead, value=1, confidence=10, now=NOW)

    with pytest.raises(ValidationError, match="nothing to carry over"):
        objective_carry_over(
            objective=Objective.objects.get(pk=objective.pk), to_cycle=next_quarter, actor=people.lead
        )
