"""What each person owes, in their own time zone: check-ins, reviews, peer feedback —
and the weekly digests. ``run_reminders(now)`` runs in one organisation's schema
(the per-tenant task, or ``manage.py dispatch_reminders``); every notification goes
through ``accounts.notifications.notify_many``, which sends each exactly once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Notification, NotificationSettings, User
from accounts.notifications import (
    NotificationRequest,
    notification_settings,
    notify_many,
    person_language,
    person_timezone,
)
from okrs.models import CheckIn, Cycle, Escalation, KeyResult, Objective
from okrs.selectors.focus import check_in_overdue, check_in_overdue_filter
from reviews.models import PeerFeedbackRequest, Review, ReviewCycle

SEND_FROM_HOUR = 9  # local time
FEEDBACK_NUDGE_AFTER = timedelta(days=2)
REVIEW_DUE_REMINDERS = {3: "due-3", 1: "due-1"}  # days before the due date → period


@dataclass(frozen=True)
class Due(NotificationRequest):
    """Something a person owes, to be sent as a notification; reminders are capped by the
    weekly limit unless said otherwise."""

    link: str = "/"
    capped: bool = True


@dataclass
class RunSummary:
    due: list[Due] = field(default_factory=list)
    sent: int = 0

    def counts(self) -> dict[str, int]:
        by_kind: dict[str, int] = defaultdict(int)
        for item in self.due:
            by_kind[item.kind] += 1
        return dict(by_kind)


def _local(user: User, now: datetime) -> datetime:
    return now.astimezone(person_timezone(user))


def _working_hours(local: datetime) -> bool:
    return local.hour >= SEND_FROM_HOUR


# --- check-ins --------------------------------------------------------------------------


# Only the columns a reminder reads: a run covers every organisation every 15 minutes, and
# building whole rows (timestamps above all) was most of its time. Reading any other field
# of these instances would cost a query each; the query-count test guards that.
PERSON_FIELDS = ("id", "email", "full_name", "timezone", "language", "is_active")
KEY_RESULT_FIELDS = (
    "id", "title", "status", "position", "owner_id", "objective_id", "last_check_in_at", "created_at",
    "objective__cycle_id", "objective__cycle__start_date", "objective__cycle__end_date",
    "objective__cycle__cadence",
)  # fmt: skip


def _person_fields(*relations: str) -> list[str]:
    return [f"{relation}__{name}" for relation in relations for name in PERSON_FIELDS]


def _key_results_in_play(*, overdue_at: datetime | None = None) -> list[KeyResult]:
    """KRs of active objectives in active cycles held by active people; with ``overdue_at``
    only those waiting for a check-in then."""
    rows = KeyResult.objects.filter(
        objective__state=Objective.State.ACTIVE,
        objective__cycle__state=Cycle.State.ACTIVE,
        owner__is_active=True,
    )
    if overdue_at is not None:
        rows = rows.filter(check_in_overdue_filter(overdue_at))
    return list(
        rows.select_related("objective__cycle", "owner")
        .only(*KEY_RESULT_FIELDS, *_person_fields("owner"))
        .order_by("owner_id", "position", "id")
    )


def check_in_reminders(now: datetime, settings: NotificationSettings) -> list[Due]:
    by_owner: dict[int, list[KeyResult]] = defaultdict(list)
    owners: dict[int, User] = {}
    for key_result in _key_results_in_play(overdue_at=now):
        if check_in_overdue(key_result, now):
            by_owner[key_result.owner_id].append(key_result)
            owners[key_result.owner_id] = key_result.owner
    due = []
    for owner_id, waiting in by_owner.items():
        owner = owners[owner_id]
        local = _local(owner, now)
        if local.weekday() != settings.checkin_day or not _working_hours(local):
            continue
        with translation.override(person_language(owner)):
            title = ngettext(
                "Check-in day: %(n)d key result is waiting for your update",
                "Check-in day: %(n)d key results are waiting for your update",
                len(waiting),
            ) % {"n": len(waiting)}
            body = "\n".join(f"• {kr.title}" for kr in waiting)
        due.append(Due(owner, "checkin_due", "checkins", local.date().isoformat(), title, body, "/"))
    return due


# --- reviews and peer feedback ----------------------------------------------------------


def _review_period(due_on, local: datetime) -> str | None:
    days_left = (due_on - local.date()).days
    if days_left < 0:
        return "overdue"
    return REVIEW_DUE_REMINDERS.get(days_left)


def review_reminders(now: datetime) -> list[Due]:
    due = []
    open_reviews = (
        Review.objects.filter(
            review_cycle__state=ReviewCycle.State.OPEN,
            state__in=[Review.State.PENDING, Review.State.SELF_SUBMITTED],
        )
        .select_related("review_cycle", "objective", "participant", "manager")
        .only(
            "id",
            "state",
            "review_cycle__due_on",
            "objective__title",
            *_person_fields("participant", "manager"),
        )
    )
    for review in open_reviews:
        # Pending: the participant owes a self-assessment; submitted: the manager owes calibration.
        person = review.participant if review.state == Review.State.PENDING else review.manager
        if person is None or not person.is_active:
            continue
        local = _local(person, now)
        period = _review_period(review.review_cycle.due_on, local)
        if period is None or not _working_hours(local):
            continue
        with translation.override(person_language(person)):
            if review.state == Review.State.PENDING:
                title = _("Your review of “%(o)s” is due on %(d)s") % {
                    "o": review.objective.title, "d": review.review_cycle.due_on.isoformat(),
                }  # fmt: skip
            else:
                title = _("Calibrate %(p)s's review of “%(o)s” by %(d)s") % {
                    "p": review.participant.get_full_name(), "o": review.objective.title,
                    "d": review.review_cycle.due_on.isoformat(),
                }  # fmt: skip
            if period == "overdue":
                title = _("Overdue: %(t)s") % {"t": title}
        kind = "review_due" if review.state == Review.State.PENDING else "calibration_due"
        due.append(Due(person, kind, f"review:{review.pk}", period, title, link=f"/reviews/{review.pk}/"))
    return due


def feedback_reminders(now: datetime) -> list[Due]:
    due = []
    waiting = (
        PeerFeedbackRequest.objects.filter(
            answered_at__isnull=True, requested_at__lte=now - FEEDBACK_NUDGE_AFTER, reviewer__is_active=True
        )
        .exclude(review__state=Review.State.CLOSED)
        .select_related("reviewer", "review__participant", "review__objective")
        .only(
            "id", "review_id", "review__objective__title", *_person_fields("reviewer", "review__participant")
        )
    )
    for request in waiting:
        if not _working_hours(_local(request.reviewer, now)):
            continue
        with translation.override(person_language(request.reviewer)):
            title = _("%(p)s is waiting for your feedback on “%(o)s”") % {
                "p": request.review.participant.get_full_name(), "o": request.review.objective.title,
            }  # fmt: skip
        due.append(Due(request.reviewer, "feedback_requested", f"feedback:{request.pk}", "2d", title,
                       link=f"/reviews/{request.review_id}/"))  # fmt: skip
    return due


# --- weekly digests -----------------------------------------------------------------------


def digests(now: datetime, settings: NotificationSettings) -> list[Due]:
    """Per person: how their KRs moved this week, what is due, open escalations. Per
    manager, in addition: their reports' KRs at risk and missing check-ins. A fixed
    number of queries however many people there are."""
    recipients = []
    people = User.objects.filter(is_active=True, receive_digests=True).exclude(role=User.Role.VIEWER)
    for person in people.only(*PERSON_FIELDS):
        local = _local(person, now)
        if local.weekday() == settings.digest_day and _working_hours(local):
            recipients.append((person, local))
    if not recipients:
        return []
    key_results = _key_results_in_play()
    week_ago = now - timedelta(days=7)
    moves: dict[int, list[float]] = defaultdict(list)
    for kr_id, value in (
        CheckIn.objects.filter(
            key_result__in=key_results, effective_at__gte=week_ago, correction__isnull=True
        )
        .order_by("key_result_id", "effective_at", "id")
        .values_list("key_result_id", "value")
    ):
        moves[kr_id].append(value)
    open_escalations: dict[int, int] = defaultdict(int)
    for owner_id in Escalation.objects.filter(state__in=["open", "acknowledged"]).values_list(
        "key_result__owner_id", flat=True
    ):
        open_escalations[owner_id] += 1
    managers = dict(
        User.objects.filter(is_active=True, manager__isnull=False).values_list("pk", "manager_id")
    )
    mine: dict[int, list[KeyResult]] = defaultdict(list)
    team: dict[int, list[KeyResult]] = defaultdict(list)
    for key_result in key_results:
        mine[key_result.owner_id].append(key_result)
        if key_result.owner_id in managers:
            team[managers[key_result.owner_id]].append(key_result)
    due = []
    for person, local in recipients:
        with translation.override(person_language(person)):
            lines = _digest_lines(
                person,
                own=mine[person.pk],
                reports=team[person.pk],
                moves=moves,
                escalations=open_escalations,
                now=now,
            )
            if not lines:
                continue
            iso_year, iso_week, _day = local.isocalendar()
            title = _("Your week in OKRs (week %(w)d)") % {"w": iso_week}
        due.append(Due(person, "digest", "weekly", f"{iso_year}-W{iso_week:02d}", title, "\n".join(lines),
                       capped=False))  # fmt: skip
    return due


def _digest_lines(person, *, own, reports, moves, escalations, now) -> list[str]:
    lines = []
    for kr in own:
        values = moves.get(kr.pk)
        if values:
            lines.append(
                _("• %(kr)s: now %(v)s (%(s)s)") % {"kr": kr.title, "v": f"{values[-1]:g}", "s": kr.status}
            )
        elif check_in_overdue(kr, now):
            lines.append(_("• %(kr)s: no check-in this week") % {"kr": kr.title})
    if escalations.get(person.pk):
        lines.append(_("Open escalations on your key results: %(n)d") % {"n": escalations[person.pk]})
    at_risk = [kr for kr in reports if kr.status in {"at_risk", "off_track"}]
    missing = [kr for kr in reports if check_in_overdue(kr, now)]
    if at_risk:
        lines.append(_("Your team — at risk or off track:"))
        lines += [f"  • {kr.title} ({kr.owner.get_full_name()})" for kr in at_risk]
    if missing:
        lines.append(_("Your team — waiting for a check-in:"))
        lines += [f"  • {kr.title} ({kr.owner.get_full_name()})" for kr in missing]
    return lines


# --- the run ----------------------------------------------------------------------------------


def run_reminders(now: datetime, *, dry_run: bool = False) -> RunSummary:
    """Work out everything due at ``now`` in the current organisation and send it (each
    notification once; reminders within the weekly limit)."""
    settings = notification_settings()
    summary = RunSummary()
    summary.due = [
        *check_in_reminders(now, settings),
        *review_reminders(now),
        *feedback_reminders(now),
        *digests(now, settings),
    ]
    if dry_run:
        return summary
    # Most runs find what is due already sent (the task runs every 15 minutes): skip
    # those with one query; notify_many() still guarantees exactly once for the rest.
    already = set(
        Notification.objects.filter(
            kind__in={d.kind for d in summary.due}, period__in={d.period for d in summary.due}
        ).values_list("user_id", "kind", "subject_key", "period")
    )
    sent = notify_many([item for item in summary.due if item.key not in already], now=now, settings=settings)
    summary.sent += len(sent)
    return summary
