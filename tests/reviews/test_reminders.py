"""Reminders and digests: due in each person's own time zone, sent exactly once."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from accounts.models import InboxItem, Notification, NotificationSettings, User
from okrs.models import KeyResult
from okrs.services.check_ins import check_in_record
from okrs.services.objectives import key_result_create, objective_create
from reviews.models import PeerFeedbackRequest
from reviews.reminders import run_reminders
from reviews.services import peer_feedback_request

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 15, 11, 0, tzinfo=UTC)


@pytest.fixture
def paged_once(people, quarter):
    """The SRE's objective with two KRs, checked in on Sunday 15 Nov (biweekly cadence)."""
    objective = objective_create(
        actor=people.sre, cycle=quarter, owner=people.sre, title="Paged once", state="active"
    )
    for title, kind, start, target, value in [
        ("Runbooks 0 → 20", "increase", 0, 20, 5), ("Repeat incidents 12 → 2", "decrease", 12, 2, 7),
    ]:  # fmt: skip
        kr = key_result_create(
            actor=people.sre, objective=objective, title=title, kind=kind, start=start, target=target
        )
        check_in_record(key_result=kr, actor=people.sre, value=value, confidence=6, recorded_at=NOW, now=NOW)
    return objective


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def sent_to(user, kind, subject_key=None):
    sent = Notification.objects.filter(user=user, kind=kind)
    if subject_key:
        sent = sent.filter(subject_key=subject_key)
    return list(sent.values_list("subject_key", "period"))


def test_check_in_reminder_comes_on_check_in_day_at_nine_local(people, paged_once):
    # Last check-in 15 Nov (biweekly cadence); Monday 30 Nov is the next check-in day.
    run_reminders(at("2026-11-30T08:59+01:00"))
    assert sent_to(people.sre, "checkin_due") == []

    run_reminders(at("2026-11-30T09:00+01:00"))

    assert sent_to(people.sre, "checkin_due") == [("checkins", "2026-11-30")]
    item = InboxItem.objects.get(user=people.sre, kind="checkin_due")
    assert "Runbooks 0 → 20" in item.body
    assert "Repeat incidents 12 → 2" in item.body


def test_reminders_are_sent_exactly_once_however_often_the_task_runs(people, paged_once):
    first = run_reminders(at("2026-11-30T09:05+01:00"))
    again = run_reminders(at("2026-11-30T09:05+01:00"))
    later_that_day = run_reminders(at("2026-11-30T16:00+01:00"))

    assert first.sent > 0
    assert again.sent == later_that_day.sent == 0
    assert Notification.objects.filter(user=people.sre, kind="checkin_due").count() == 1


def test_each_person_is_reminded_at_nine_in_their_own_time_zone(people, quarter, paged_once):
    User.objects.filter(pk=people.sre.pk).update(timezone="Asia/Shanghai")
    User.objects.filter(pk=people.backend.pk).update(timezone="America/New_York")
    objective = objective_create(
        actor=people.backend, cycle=quarter, owner=people.backend, title="APIs", state="active"
    )
    key_result_create(
        actor=people.backend,
        objective=objective,
        title="p95 400→200 ms",
        kind="decrease",
        start=400,
        target=200,
    )
    from okrs.models import KeyResult

    KeyResult.objects.filter(objective=objective).update(created_at=at("2026-11-01T00:00Z"))

    run_reminders(at("2026-11-30T01:30Z"))  # 09:30 Monday in Shanghai; 20:30 Sunday in New York
    assert sent_to(people.sre, "checkin_due") == [("checkins", "2026-11-30")]
    assert sent_to(people.backend, "checkin_due") == []

    run_reminders(at("2026-11-30T14:00Z"))  # 09:00 Monday in New York

    assert sent_to(people.backend, "checkin_due") == [("checkins", "2026-11-30")]


def test_check_in_day_is_an_organisation_setting(people, paged_once):
    NotificationSettings.objects.update_or_create(pk=1, defaults={"checkin_day": 2})  # Wednesday

    run_reminders(at("2026-11-30T10:00+01:00"))
    assert sent_to(people.sre, "checkin_due") == []
    run_reminders(at("2026-12-02T10:00+01:00"))
    assert sent_to(people.sre, "checkin_due") == [("checkins", "2026-12-02")]


def test_review_reminders_three_days_and_one_day_before_and_once_overdue(people, review):
    # The review cycle is due on 15 Nov.
    for day in ["2026-11-11", "2026-11-12", "2026-11-13", "2026-11-14", "2026-11-16", "2026-11-17"]:
        run_reminders(at(f"{day}T10:00+01:00"))

    periods = [p for s, p in sent_to(people.sre, "review_due") if s == f"review:{review.pk}"]
    assert sorted(periods) == ["due-1", "due-3", "overdue"]
    overdue = InboxItem.objects.get(user=people.sre, kind="review_due", title__startswith="Overdue")
    assert overdue.link == f"/reviews/{review.pk}/"


def test_unanswered_peer_feedback_is_nudged_after_two_days(people, review):
    request = peer_feedback_request(
        review=review, actor=people.sre, reviewer=people.backend, question="How did it go?"
    )
    PeerFeedbackRequest.objects.filter(pk=request.pk).update(requested_at=at("2026-11-12T10:00Z"))

    key = f"feedback:{request.pk}"
    assert sent_to(people.backend, "feedback_requested", key) == [(key, "requested")]  # told when asked
    run_reminders(at("2026-11-13T10:00Z"))
    assert sent_to(people.backend, "feedback_requested", key) == [(key, "requested")]
    run_reminders(at("2026-11-14T10:00Z"))
    run_reminders(at("2026-11-15T10:00Z"))

    assert sorted(sent_to(people.backend, "feedback_requested", key)) == [(key, "2d"), (key, "requested")]


def test_weekly_digest_for_people_and_their_managers(people, paged_once):
    # Friday is the digest day; the SRE checked in on 15 Nov (within the week before 20 Nov).
    run_reminders(at("2026-11-20T09:30+01:00"))

    mine = InboxItem.objects.get(user=people.sre, kind="digest")
    assert "Runbooks 0 → 20: now 5" in mine.body
    lead = InboxItem.objects.get(user=people.lead, kind="digest")
    assert "Your team" in lead.body
    assert sent_to(people.sre, "digest") == [("weekly", "2026-W47")]


def test_muted_digests_are_not_sent(people, paged_once):
    User.objects.filter(pk=people.sre.pk).update(receive_digests=False)

    run_reminders(at("2026-11-20T09:30+01:00"))

    assert sent_to(people.sre, "digest") == []


def test_reminders_of_one_organisation_never_touch_another(acme, globex, people, paged_once):
    with tenant_context(globex):
        before = (Notification.objects.count(), InboxItem.objects.count())

    with tenant_context(acme):
        run_reminders(at("2026-11-30T09:30+01:00"))
        assert Notification.objects.exists()

    with tenant_context(globex):
        assert (Notification.objects.count(), InboxItem.objects.count()) == before


def test_dispatch_reminders_command_dry_run_sends_nothing(capsys, paged_once):
    call_command("dispatch_reminders", now="2026-11-30T09:30+01:00", dry_run=True)

    out = capsys.readouterr().out
    assert "acme: due" in out
    assert "would send" in out
    assert not Notification.objects.filter(kind="checkin_due").exists()


def test_dispatch_reminders_command_explains_bad_input():
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("dispatch_reminders", now="next monday")
    with pytest.raises(CommandError, match="UTC offset"):
        call_command("dispatch_reminders", now="2026-11-30T09:30")
    with pytest.raises(CommandError, match="No serving organisation"):
        call_command("dispatch_reminders", schema="nope")


def test_feedback_request_that_was_answered_is_not_nudged(people, review):
    from reviews.services import peer_feedback_answer

    request = peer_feedback_request(review=review, actor=people.sre, reviewer=people.backend)
    peer_feedback_answer(request=request, actor=people.backend, answer="Great work on the runbooks.")
    PeerFeedbackRequest.objects.filter(pk=request.pk).update(requested_at=at("2026-11-01T10:00Z"))

    run_reminders(at("2026-11-14T10:00Z") + timedelta(days=1))

    assert [p for _, p in sent_to(people.backend, "feedback_requested", f"feedback:{request.pk}")] == [
        "requested"
    ]


# The notification settings, then one query each: the KRs waiting for a check-in, open reviews,
# waiting peer feedback, digest recipients and their KRs, this week's check-ins, open
# escalations, managers.
RUN_QUERIES = 9


def test_working_out_what_is_due_takes_a_fixed_number_of_queries(people, review, paged_once):
    NotificationSettings.objects.update_or_create(pk=1, defaults={"digest_day": 0})  # all on Monday
    request = peer_feedback_request(review=review, actor=people.sre, reviewer=people.backend, question="Q?")
    PeerFeedbackRequest.objects.filter(pk=request.pk).update(requested_at=at("2026-11-20T10:00Z"))
    monday = at("2026-11-30T10:00+01:00")

    with CaptureQueriesContext(connection) as few:
        small = run_reminders(monday, dry_run=True)
    # More of everything: another owner's objective and KRs, another feedback request.
    objective = objective_create(
        actor=people.lead, cycle=review.objective.cycle, owner=people.lead, title="More", state="active"
    )
    for n in range(3):
        key_result_create(actor=people.lead, objective=objective, title=f"KR {n}", kind="increase", start=0,
                          target=10)  # fmt: skip
    KeyResult.objects.filter(objective=objective).update(last_check_in_at=NOW)
    again = peer_feedback_request(review=review, actor=people.sre, reviewer=people.lead, question="Q2?")
    PeerFeedbackRequest.objects.filter(pk=again.pk).update(requested_at=at("2026-11-20T10:00Z"))
    with CaptureQueriesContext(connection) as many:
        large = run_reminders(monday, dry_run=True)

    kinds = {"checkin_due", "review_due", "feedback_requested", "digest"}
    assert kinds <= set(small.counts())
    assert sum(large.counts().values()) > sum(small.counts().values())
    # Reading a column the run did not load would cost a query per person or KR.
    assert len(few) == len(many) == RUN_QUERIES
