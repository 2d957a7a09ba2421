"""Scheduling review cycles from the OKR cycle's rhythm (method §4), and creating them by hand."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from okrs.services.cycles import cycle_activate, cycle_close, cycle_create
from reviews.models import ReviewCycle
from reviews.selectors import review_settings
from reviews.services import review_cycle_create, review_cycles_auto_schedule, review_cycles_schedule

pytestmark = pytest.mark.django_db


def schedule_of(cycle) -> list[tuple[str, date, date]]:
    return list(
        ReviewCycle.objects.filter(cycle=cycle)
        .order_by("opens_on", "kind")
        .values_list("kind", "opens_on", "due_on")
    )


def test_a_biweekly_quarter_gets_check_in_reviews_a_calibration_and_an_end_of_cycle_review(people, quarter):
    created = review_cycles_schedule(cycle=quarter, actor=people.ceo)

    # Q4 2026: 1 Oct – 31 Dec. A check-in review every 14 days, due 3 days later, until the
    # end-of-cycle review opens a week before the end; the calibration at the midpoint.
    checkin = "checkin_review"
    assert schedule_of(quarter) == [
        (checkin, date(2026, 10, 15), date(2026, 10, 18)),
        (checkin, date(2026, 10, 29), date(2026, 11, 1)),
        (checkin, date(2026, 11, 12), date(2026, 11, 15)),
        ("calibration", date(2026, 11, 15), date(2026, 11, 22)),
        (checkin, date(2026, 11, 26), date(2026, 11, 29)),
        (checkin, date(2026, 12, 10), date(2026, 12, 13)),
        ("end_of_cycle", date(2026, 12, 24), date(2027, 1, 7)),
    ]
    assert len(created) == 7
    assert {(rc.state, rc.all_participants) for rc in created} == {("scheduled", True)}
    names = list(
        ReviewCycle.objects.filter(cycle=quarter).order_by("opens_on", "kind").values_list("name", flat=True)
    )
    assert names[:4] == [
        "Q4 2026: check-in review 1",
        "Q4 2026: check-in review 2",
        "Q4 2026: check-in review 3",
        "Q4 2026: mid-cycle calibration",
    ]
    assert names[-1] == "Q4 2026: end-of-cycle review"


def test_scheduling_is_idempotent(people, quarter):
    review_cycles_schedule(cycle=quarter, actor=people.ceo)

    again = review_cycles_schedule(cycle=quarter, actor=people.ceo)

    assert again == []
    assert ReviewCycle.objects.filter(cycle=quarter).count() == 7


@pytest.mark.parametrize(("cadence", "checkins"), [("weekly", 11), ("monthly", 2)])
def test_the_cadence_sets_the_check_in_reviews(people, year, cadence, checkins):
    cycle = cycle_create(
        actor=people.ceo, name=f"Q3 {cadence}", kind="quarter", start_date=date(2026, 7, 1),
        end_date=date(2026, 9, 30), parent=year, cadence=cadence,
    )  # fmt: skip

    review_cycles_schedule(cycle=cycle, actor=people.ceo)

    opens = [o for kind, o, _due in schedule_of(cycle) if kind == "checkin_review"]
    step = {"weekly": 7, "monthly": 31}[cadence]
    assert len(opens) == checkins
    assert opens == [date(2026, 7, 1) + timedelta(days=step * n) for n in range(1, checkins + 1)]
    assert max(opens) < date(2026, 9, 23)  # the end-of-cycle review takes over from there


def test_an_annual_cycle_gets_a_calibration_each_quarter_and_an_end_of_cycle_review(people, year):
    review_cycles_schedule(cycle=year, actor=people.ceo)

    assert schedule_of(year) == [
        ("calibration", date(2026, 4, 1), date(2026, 4, 8)),
        ("calibration", date(2026, 7, 1), date(2026, 7, 8)),
        ("calibration", date(2026, 10, 1), date(2026, 10, 8)),
        ("end_of_cycle", date(2026, 12, 24), date(2027, 1, 7)),
    ]


def test_a_short_custom_cycle_still_gets_its_reviews_inside_it(people):
    sprint = cycle_create(
        actor=people.ceo, name="Launch sprint", kind="custom", start_date=date(2026, 11, 2),
        end_date=date(2026, 11, 6), cadence="weekly",
    )  # fmt: skip

    review_cycles_schedule(cycle=sprint, actor=people.ceo)

    assert schedule_of(sprint) == [
        ("end_of_cycle", date(2026, 11, 2), date(2026, 11, 13)),
        ("calibration", date(2026, 11, 4), date(2026, 11, 6)),
    ]


def test_auto_scheduling_follows_the_setting(people, year, quarter):
    settings = review_settings()
    assert settings.auto_schedule is True
    settings.auto_schedule = False
    settings.save()

    assert review_cycles_auto_schedule(cycle=quarter, actor=people.ceo) == []
    assert not ReviewCycle.objects.filter(cycle=quarter).exists()

    settings.auto_schedule = True
    settings.save()
    assert len(review_cycles_auto_schedule(cycle=quarter, actor=people.ceo)) == 7


def test_only_org_admins_and_consultants_schedule(people, consultant, quarter):
    for actor in (people.cto, people.sre, people.viewer):
        with pytest.raises(PermissionDenied):
            review_cycles_schedule(cycle=quarter, actor=actor)
    assert not ReviewCycle.objects.filter(cycle=quarter).exists()

    assert len(review_cycles_schedule(cycle=quarter, actor=consultant)) == 7


def test_a_closed_cycle_is_not_scheduled(people, year):
    cycle = cycle_activate(
        cycle=cycle_create(
            actor=people.ceo, name="Q1 2026", kind="quarter", start_date=date(2026, 1, 1),
            end_date=date(2026, 3, 31), parent=year,
        ),
        actor=people.ceo,
    )  # fmt: skip
    cycle_close(cycle=cycle, actor=people.ceo)

    with pytest.raises(ValidationError, match="is closed"):
        review_cycles_schedule(cycle=cycle, actor=people.ceo)
    assert not ReviewCycle.objects.filter(cycle=cycle).exists()


def test_creating_a_review_cycle_by_hand(people, quarter):
    review_cycle = review_cycle_create(
        actor=people.ceo, cycle=quarter, kind="calibration", name=" Pricing shock calibration ",
        opens_on=date(2026, 11, 20), due_on=date(2026, 11, 20), teams=[people.sre.team, people.analyst.team],
    )  # fmt: skip

    assert (review_cycle.name, review_cycle.state, review_cycle.all_participants) == (
        "Pricing shock calibration",
        "scheduled",
        False,
    )
    assert set(review_cycle.teams.all()) == {people.sre.team, people.analyst.team}


def test_a_review_cycle_must_fit_its_dates(people, quarter):
    with pytest.raises(ValidationError) as error:
        review_cycle_create(
            actor=people.ceo, cycle=quarter, kind="checkin_review", name="Backwards",
            opens_on=date(2026, 9, 20), due_on=date(2026, 9, 10),
        )  # fmt: skip
    with pytest.raises(ValidationError) as bad:
        review_cycle_create(
            actor=people.ceo, cycle=quarter, kind="appraisal", name=" ",
            opens_on=date(2026, 10, 20), due_on=date(2026, 10, 21),
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        review_cycle_create(
            actor=people.cto, cycle=quarter, kind="checkin_review", name="Mine",
            opens_on=date(2026, 10, 20), due_on=date(2026, 10, 21),
        )  # fmt: skip

    assert set(error.value.message_dict) == {"due_on", "opens_on"}
    assert set(bad.value.message_dict) == {"kind", "name"}
    assert not ReviewCycle.objects.filter(cycle=quarter).exists()


def test_starting_an_okr_cycle_schedules_its_reviews_when_the_setting_is_on(people):
    from reviews.models import ReviewSettings
    from reviews.services import okr_cycle_start

    dates = {"start_date": date(2027, 1, 1), "end_date": date(2027, 3, 31)}
    cycle, scheduled = okr_cycle_start(actor=people.ceo, name="Q1 2027", kind="quarter", **dates)
    assert len(scheduled) == ReviewCycle.objects.filter(cycle=cycle).count() > 0

    ReviewSettings.objects.update_or_create(pk=1, defaults={"auto_schedule": False})
    q2 = {"start_date": date(2027, 4, 1), "end_date": date(2027, 6, 30)}
    other, none = okr_cycle_start(actor=people.ceo, name="Q2 2027", kind="quarter", **q2)
    assert none == []
    assert not ReviewCycle.objects.filter(cycle=other).exists()
