"""Creating and editing objectives and key results: rules, permissions, audit history, visibility."""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from okrs import scoring
from okrs.models import KeyResult, Objective
from okrs.permissions import can_view_objective
from okrs.selectors import objectives_visible_to, rollup
from okrs.services.check_ins import check_in_record
from okrs.services.cycles import cycle_create
from okrs.services.kpis import kpi_create, kpi_link_key_result, kpi_reading_record
from okrs.services.objectives import key_result_create, key_result_update, objective_create, objective_update
from tests.okrs.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def objective(people, quarter):
    return objective_create(actor=people.lead, cycle=quarter, owner=people.lead, title="Fast platform")


@pytest.mark.parametrize(
    ("definition", "field", "message"),
    [
        ({"kind": "increase", "start": 5, "target": 5}, "target", "greater than start for an increasing"),
        ({"kind": "decrease", "start": 5, "target": 8}, "target", "less than start for a decreasing"),
        ({"kind": "stay_between", "low": 9, "high": 9}, "high", "greater than the lower bound"),
        ({"kind": "increase", "start": 0, "target": 5, "weight": 0}, "weight", "greater than 0"),
        ({"kind": "increase", "start": 0, "target": 5, "weight": -2}, "weight", "greater than 0"),
        ({"kind": "increase", "start": 0, "target": 5, "unit": "currency"}, "currency_code", "three-letter"),
        ({"kind": "grow", "start": 0, "target": 5}, "kind", "Choose one of"),
    ],
)
def test_invalid_key_result_is_refused_with_a_specific_message(people, objective, definition, field, message):
    with pytest.raises(ValidationError) as refused:
        key_result_create(actor=people.lead, objective=objective, title="KR", **definition)

    assert message in " ".join(refused.value.message_dict[field])
    assert not KeyResult.objects.filter(objective=objective).exists()


def test_key_result_owner_defaults_to_the_objective_owner(people, objective):
    kr = key_result_create(
        actor=people.lead, objective=objective, title="KR", kind="increase", start=0, target=5
    )

    assert kr.owner == people.lead
    assert (kr.progress, kr.status) == (0.0, "not_started")


def test_changing_a_target_recalculates(people, objective):
    kr = key_result_create(
        actor=people.lead, objective=objective, title="KR", kind="increase", start=0, target=10
    )
    check_in_record(key_result=kr, actor=people.lead, value=5, confidence=5, now=NOW)

    key_result_update(key_result=KeyResult.objects.get(pk=kr.pk), actor=people.lead, target=20)

    assert KeyResult.objects.get(pk=kr.pk).progress == 0.25


def test_computed_fields_cannot_be_written_through_the_service(people, objective):
    with pytest.raises(ValidationError, match="cannot be changed here: progress, status"):
        objective_update(objective=objective, actor=people.lead, progress=1.0, status="done")

    assert Objective.objects.get(pk=objective.pk).progress == 0.0


def test_people_create_objectives_for_themselves_and_their_reports_only(people, quarter):
    objective_create(actor=people.lead, cycle=quarter, owner=people.sre, title="For my report")

    with pytest.raises(PermissionDenied):
        objective_create(actor=people.sre, cycle=quarter, owner=people.lead, title="For my manager")
    with pytest.raises(PermissionDenied):
        objective_create(actor=people.viewer, cycle=quarter, owner=people.viewer, title="Viewer")


def test_changes_are_kept_in_the_audit_history(people, objective):
    objective_update(objective=objective, actor=people.lead, title="Fast and reliable platform")
    objective_update(objective=Objective.objects.get(pk=objective.pk), actor=people.cto, state="active")

    history = list(
        objective.history.order_by("history_date").values_list("title", "state", "history_user_id")
    )
    assert history == [
        ("Fast platform", "draft", people.lead.pk),
        ("Fast and reliable platform", "draft", people.lead.pk),
        ("Fast and reliable platform", "active", people.cto.pk),
    ]


def test_check_ins_are_in_the_audit_history(people, objective):
    kr = key_result_create(
        actor=people.lead, objective=objective, title="KR", kind="increase", start=0, target=5
    )
    check_in = check_in_record(key_result=kr, actor=people.lead, value=2, confidence=6)

    assert list(check_in.history.values_list("value", "history_type", "history_user_id")) == [
        (2.0, "+", people.lead.pk)
    ]


def test_private_objectives_are_visible_to_owner_manager_chain_team_and_admins(people, quarter):
    private = objective_create(
        actor=people.sre, cycle=quarter, owner=people.sre, title="Private", visibility="private",
        team=people.sre.team,
    )  # fmt: skip

    allowed = {u.email for u in [people.sre, people.lead, people.cto, people.ceo, people.backend]}
    for person in vars(people).values():
        visible = objectives_visible_to(person).filter(pk=private.pk).exists()
        assert visible == can_view_objective(person, private) == (person.email in allowed), person.email


def test_rollup_by_owner_and_team_averages_objectives(people, quarter):
    a = objective_create(
        actor=people.lead, cycle=quarter, owner=people.lead, title="A", team=people.lead.team
    )
    b = objective_create(
        actor=people.lead, cycle=quarter, owner=people.lead, title="B", team=people.lead.team
    )
    for objective, value in [(a, 10), (b, 5)]:
        kr = key_result_create(
            actor=people.lead, objective=objective, title="KR", kind="increase", start=0, target=10
        )
        check_in_record(key_result=kr, actor=people.lead, value=value, confidence=5, now=NOW)

    assert rollup(cycle=quarter, by="owner")[people.lead.pk] == 0.75
    assert rollup(cycle=quarter, by="team")[people.lead.team_id] == 0.75


def test_cycle_dates_and_nesting_are_validated(people, year):
    with pytest.raises(ValidationError, match="on or after its start"):
        cycle_create(
            actor=people.ceo, name="X", kind="custom", start_date=date(2026, 5, 2), end_date=date(2026, 5, 1)
        )
    with pytest.raises(ValidationError, match="must lie within FY2026"):
        cycle_create(
            actor=people.ceo, name="Q1 2027", kind="quarter", start_date=date(2027, 1, 1),
            end_date=date(2027, 3, 31), parent=year,
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        cycle_create(
            actor=people.lead,
            name="Mine",
            kind="custom",
            start_date=date(2026, 1, 1),
            end_date=date(2026, 2, 1),
        )


def test_kpi_thresholds_health_and_traction_link(people, objective):
    churn = kpi_create(
        actor=people.lead, name="Weekly churn", owner=people.lead, direction="lower_is_better",
        green_threshold=2.0, red_threshold=5.0, unit="%",
    )  # fmt: skip
    kr = key_result_create(
        actor=people.lead, objective=objective, title="Churn 4→2", kind="decrease", start=4, target=2
    )
    kpi_link_key_result(kpi=churn, key_result=kr, actor=people.lead)
    kpi_reading_record(kpi=churn, actor=people.lead, value=3.1, at=datetime(2026, 11, 1, tzinfo=UTC))

    assert list(kr.kpis.all()) == [churn]
    assert [scoring.kpi_health(churn.direction, green=2, red=5, value=v) for v in (1.5, 3.1, 5.0, None)] == [
        "green", "amber", "red", "unknown",
    ]  # fmt: skip
    with pytest.raises(ValidationError, match="green must start above red"):
        kpi_create(
            actor=people.lead, name="NPS", owner=people.lead, direction="higher_is_better",
            green_threshold=10, red_threshold=30,
        )  # fmt: skip
    with pytest.raises(ValidationError, match="cannot be in the future"):
        kpi_reading_record(kpi=churn, actor=people.lead, value=1, at=datetime(2099, 1, 1, tzinfo=UTC))


def test_cycle_rollup_averages_its_objectives(people, quarter):
    for value in (10, 0):
        objective = objective_create(actor=people.lead, cycle=quarter, owner=people.lead, title=f"O{value}")
        kr = key_result_create(
            actor=people.lead, objective=objective, title="KR", kind="increase", start=0, target=10
        )
        check_in_record(key_result=kr, actor=people.lead, value=value, confidence=5, now=NOW)

    assert rollup(cycle=quarter, by="cycle") == {quarter.pk: 0.5}
