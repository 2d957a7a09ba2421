"""``check_in_overdue`` (the rule, in Python) and ``check_in_overdue_filter`` (the same rule
as a database filter, so that a reminder run reads only the KRs it concerns) agree on every
cadence, at the edge of each threshold, with and without a check-in, in and out of the cycle."""

from datetime import UTC, date, datetime, timedelta

import pytest

from okrs.models import Cycle, KeyResult
from okrs.selectors.focus import check_in_overdue, check_in_overdue_filter
from okrs.services.cycles import cycle_activate, cycle_create
from okrs.services.objectives import key_result_create, objective_create

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _cycle(people, name: str, cadence: str, start: date, end: date) -> Cycle:
    cycle = cycle_activate(
        cycle=cycle_create(actor=people.ceo, name=name, kind="quarter", start_date=start, end_date=end),
        actor=people.ceo,
    )
    Cycle.objects.filter(pk=cycle.pk).update(cadence=cadence)
    return cycle


@pytest.fixture
def key_results(people) -> list[KeyResult]:
    """For each cadence, in a running cycle: KRs last checked in just before, at and just
    after the threshold, and KRs never checked in, created either side of it. Plus one
    overdue-looking KR in a cycle that has ended and one in a cycle not started yet."""
    cycles = [
        _cycle(people, f"Q4 {cadence}", cadence, date(2026, 10, 1), date(2026, 12, 31))
        for cadence in Cycle.CADENCE_DAYS
    ]
    cycles += [
        _cycle(people, "ended", "weekly", date(2026, 7, 1), date(2026, 11, 29)),
        _cycle(people, "later", "weekly", date(2026, 12, 1), date(2026, 12, 31)),
    ]
    made = []
    for cycle in cycles:
        objective = objective_create(actor=people.sre, cycle=cycle, owner=people.sre, title=cycle.name)
        threshold = NOW - timedelta(days=Cycle.CADENCE_DAYS[cycle.cadence] - 1)
        for n, (checked_in, created) in enumerate(
            [
                (threshold - SECOND, NOW - timedelta(days=90)),
                (threshold, NOW - timedelta(days=90)),
                (threshold + SECOND, NOW - timedelta(days=90)),
                (None, threshold - SECOND),
                (None, threshold),
                (None, threshold + SECOND),
            ]
        ):
            kr = key_result_create(actor=people.sre, objective=objective, title=f"{cycle.name} {n}",
                                   kind="increase", start=0, target=10)  # fmt: skip
            KeyResult.objects.filter(pk=kr.pk).update(last_check_in_at=checked_in, created_at=created)
            made.append(kr.pk)
    return made


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(hours=-1), timedelta(days=3, hours=5)])
def test_the_filter_and_the_rule_pick_the_same_key_results(key_results, offset):
    now = NOW + offset
    rows = KeyResult.objects.filter(pk__in=key_results).select_related("objective__cycle")
    by_rule = {kr.pk for kr in rows if check_in_overdue(kr, now)}
    by_filter = set(rows.filter(check_in_overdue_filter(now)).values_list("pk", flat=True))
    assert by_filter == by_rule
    assert 0 < len(by_rule) < len(key_results)  # both sides of the threshold are present
