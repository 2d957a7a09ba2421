"""The three lines of defence: escalation levels, notifications, acknowledge, resolve,
auto-resolution."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import InboxItem, Notification, User
from okrs.escalations import _audience, check_in_history, escalation_acknowledge, escalation_resolve, sweep
from okrs.models import CheckIn, Escalation, Objective, OkrSettings
from okrs.recalculation import Clock
from okrs.services.check_ins import check_in_record
from okrs.services.objectives import key_result_create, key_result_update, objective_create
from tests.okrs.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def behind(people, quarter):
    """An increasing KR owned by the SRE (manager: the platform lead)."""
    objective = objective_create(
        actor=people.lead, cycle=quarter, owner=people.lead, title="Reliable platform"
    )
    return key_result_create(
        actor=people.lead, objective=objective, title="Automated runbooks from 0 to 20", kind="increase",
        start=0, target=20, owner=people.sre,
    )  # fmt: skip


def check_in(kr, person, value, days_ago=0):
    at = NOW - timedelta(days=days_ago)
    return check_in_record(key_result=kr, actor=person, value=value, confidence=4, recorded_at=at, now=NOW)


def levels(kr):
    return sorted(
        Escalation.objects.filter(key_result=kr).exclude(state="resolved").values_list("level", flat=True)
    )


def test_one_check_in_behind_is_not_an_escalation(people, behind):
    check_in(behind, people.sre, 1)

    assert levels(behind) == []


def test_two_consecutive_check_ins_behind_open_level_one_for_owner_and_manager(people, behind):
    check_in(behind, people.sre, 1, days_ago=14)
    check_in(behind, people.sre, 2)

    (escalation,) = Escalation.objects.filter(key_result=behind)
    assert (escalation.level, escalation.state, escalation.behind_check_ins) == (1, "open", 2)
    assert escalation.root_cause_due_at == NOW + timedelta(hours=24)
    told = set(
        Notification.objects.filter(subject_key=f"escalation:{escalation.pk}").values_list("user", flat=True)
    )
    assert told == {people.sre.pk, people.lead.pk}
    assert InboxItem.objects.filter(user=people.sre, kind="escalation", title__contains="root-cause").exists()


def test_still_behind_opens_level_two_then_three(people, behind):
    # Q4 began on 1 Oct; 30, 20 and 10 days before NOW nothing had moved: behind each time.
    for days_ago in (30, 20, 10):
        check_in(behind, people.sre, 0, days_ago=days_ago)
    assert levels(behind) == [1, 2]
    assert Objective.objects.get(pk=behind.objective_id).needs_decision is True
    level_two = Escalation.objects.get(key_result=behind, level=2)
    told = set(
        Notification.objects.filter(subject_key=f"escalation:{level_two.pk}").values_list("user", flat=True)
    )
    assert told == {people.lead.pk, people.ceo.pk}  # objective owner / manager, and the org admin

    check_in(behind, people.sre, 1)

    assert levels(behind) == [1, 2, 3]


def test_an_escalation_never_opens_twice_for_the_same_level(people, behind):
    check_in(behind, people.sre, 1, days_ago=14)
    check_in(behind, people.sre, 2)
    sweep(Clock.current(NOW), threshold=2)
    sweep(Clock.current(NOW), threshold=2)

    assert Escalation.objects.filter(key_result=behind, level=1).count() == 1


def test_a_check_ins_history_read_is_its_effective_check_ins_and_open_levels(people, behind):
    # What the check-in reads in one statement after locking the KR: a corrected check-in is
    # replaced by its correction (at the corrected one's time); a resolved escalation is not open.
    first = check_in(behind, people.sre, 0, days_ago=30)
    for days_ago in (20, 10):
        check_in(behind, people.sre, 0, days_ago=days_ago)
    check_in_record(key_result=behind, actor=people.sre, value=3, confidence=5, corrects=first, now=NOW)
    assert levels(behind) == [1, 2]
    Escalation.objects.filter(key_result=behind, level=1).update(state="acknowledged")
    Escalation.objects.filter(key_result=behind, level=2).update(state="resolved")
    Escalation.objects.create(key_result=behind, level=3, behind_check_ins=3, opened_at=NOW)

    points, open_levels = check_in_history(behind.pk)

    expected = list(
        CheckIn.objects.filter(key_result=behind, correction__isnull=True)
        .order_by("effective_at", "id")
        .values_list("effective_at", "value", "confidence")
    )
    assert points == expected
    assert [value for _, value, _ in points] == [3.0, 0.0, 0.0]
    assert open_levels == {1, 3}


def test_back_on_track_closes_escalations_with_a_note(people, behind):
    for days_ago in (30, 20, 10):
        check_in(behind, people.sre, 0, days_ago=days_ago)
    assert levels(behind) == [1, 2]

    check_in(behind, people.sre, 15)

    assert levels(behind) == []
    notes = set(Escalation.objects.filter(key_result=behind).values_list("resolution", "resolution_note"))
    assert notes == {("auto_recovered", f"Back on track on {NOW.date().isoformat()}; closed automatically.")}
    assert Objective.objects.get(pk=behind.objective_id).needs_decision is False


def test_changing_the_target_and_recalculating_closes_escalations(people, behind):
    check_in(behind, people.sre, 1, days_ago=14)
    check_in(behind, people.sre, 2)
    key_result_update(key_result=behind, actor=people.lead, target=3)  # 2 of 3 is on pace

    sweep(Clock.current(NOW), threshold=2)

    assert levels(behind) == []


def test_threshold_is_an_organisation_setting(people, behind):
    OkrSettings.objects.update_or_create(pk=1, defaults={"escalation_threshold": 3})

    check_in(behind, people.sre, 1, days_ago=14)
    check_in(behind, people.sre, 2)

    assert levels(behind) == []


def user_locks(queries) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "accounts_user"' in q["sql"] and "FOR UPDATE" in q["sql"]]


def inserts_into(table: str, queries) -> int:
    return sum(q["sql"].startswith(f'INSERT INTO "{table}"') for q in queries)


def told_of(escalation: Escalation) -> list[int]:
    return sorted(
        Notification.objects.filter(subject_key=f"escalation:{escalation.pk}").values_list("user", flat=True)
    )


def test_levels_opened_together_are_told_in_one_insert_without_locking_anybody(people, behind):
    """A check-in that opens levels 1, 2 and 3 at once (the threshold was lowered) records all
    their notifications with one insert, and locks no person: the keys name the escalations it
    has just opened. Before, each level locked its own audience: owner and manager, then the
    admins too (lower ids, after the others), and two such check-ins deadlocked (seen under the
    load benchmark)."""
    OkrSettings.objects.update_or_create(pk=1, defaults={"escalation_threshold": 9})
    for days_ago in (30, 20, 10):
        check_in(behind, people.sre, 0, days_ago=days_ago)
    assert levels(behind) == []
    OkrSettings.objects.filter(pk=1).update(escalation_threshold=2)

    with CaptureQueriesContext(connection) as queries:
        check_in(behind, people.sre, 0)

    assert levels(behind) == [1, 2, 3]
    assert user_locks(queries.captured_queries) == []
    assert inserts_into("accounts_notification", queries.captured_queries) == 1
    assert inserts_into("accounts_inboxitem", queries.captured_queries) == 1
    admins = sorted(
        User.objects.filter(role=User.Role.ORG_ADMIN, is_active=True).values_list("pk", flat=True)
    )
    level = {e.level: e for e in Escalation.objects.filter(key_result=behind)}
    assert told_of(level[1]) == sorted({people.sre.pk, people.lead.pk})
    assert told_of(level[2]) == sorted({people.lead.pk, *admins})  # objective owner and manager: the lead
    assert told_of(level[3]) == admins


def test_the_sweep_tells_of_every_escalation_it_opens_in_one_insert_without_locking_anybody(
    people, behind, quarter
):
    OkrSettings.objects.update_or_create(pk=1, defaults={"escalation_threshold": 9})
    second = key_result_create(
        actor=people.lead, objective=behind.objective, title="Pages answered within 5 minutes from 0 to 9",
        kind="increase", start=0, target=9, owner=people.lead,
    )  # fmt: skip
    for days_ago in (30, 20, 10):
        check_in(behind, people.sre, 0, days_ago=days_ago)
        check_in(second, people.lead, 0, days_ago=days_ago)

    with CaptureQueriesContext(connection) as queries:
        sweep(Clock.current(NOW), threshold=2)

    assert levels(behind) == [1, 2]
    assert levels(second) == [1, 2]
    assert user_locks(queries.captured_queries) == []
    assert inserts_into("accounts_notification", queries.captured_queries) == 1
    for escalation in Escalation.objects.filter(key_result__in=[behind, second]).select_related("key_result"):
        assert told_of(escalation) == sorted(p.pk for p in _audience(escalation.level, escalation.key_result))


def test_acknowledge_needs_a_root_cause_and_the_right_person(people, behind):
    check_in(behind, people.sre, 1, days_ago=14)
    check_in(behind, people.sre, 2)
    escalation = Escalation.objects.get(key_result=behind)

    with pytest.raises(PermissionDenied):
        escalation_acknowledge(escalation=escalation, actor=people.analyst, root_cause="Not mine")
    with pytest.raises(ValidationError, match="root cause"):
        escalation_acknowledge(escalation=escalation, actor=people.sre, root_cause=" ")
    assert Escalation.objects.get(pk=escalation.pk).state == "open"

    escalation_acknowledge(escalation=escalation, actor=people.sre, root_cause="Alert noise hides real work")

    escalation.refresh_from_db()
    assert (escalation.state, escalation.acknowledged_by) == ("acknowledged", people.sre)


def test_resolve_records_the_decision(people, behind):
    check_in(behind, people.sre, 1, days_ago=14)
    check_in(behind, people.sre, 2)
    escalation = Escalation.objects.get(key_result=behind)

    with pytest.raises(PermissionDenied):
        escalation_resolve(escalation=escalation, actor=people.sre, resolution="recovered", note="x")
    with pytest.raises(ValidationError, match="Say what was decided"):
        escalation_resolve(escalation=escalation, actor=people.lead, resolution="target_changed", note="")
    resolved = escalation_resolve(
        escalation=escalation, actor=people.lead, resolution="target_changed", note="Target lowered to 12"
    )

    assert (resolved.state, resolved.resolution, resolved.resolved_by) == (
        "resolved",
        "target_changed",
        people.lead,
    )
