"""Review cycles: create, schedule from the OKR cycle's rhythm (method §4), open, close."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Team, User
from okrs import scoring
from okrs.models import Cycle, KeyResult, Objective
from okrs.services.common import raise_if, require
from okrs.services.cycles import cycle_create as okr_cycle_create
from reviews import permissions
from reviews.models import Review, ReviewCycle, ReviewKeyResultScore
from reviews.selectors import review_settings

CHECKIN_REVIEW_DAYS = 3  # a check-in review is due this many days after it opens
CALIBRATION_DAYS = 7  # a calibration is due a week after it opens
END_OF_CYCLE_LEAD_DAYS = 7  # the end-of-cycle review opens a week before the cycle ends
END_OF_CYCLE_GRACE_DAYS = 7  # and is due a week after it ends
BATCH_SIZE = 1000  # rows per INSERT when a review cycle opens


@transaction.atomic
def review_cycle_create(
    *,
    actor: User,
    cycle: Cycle,
    kind: str,
    name: str,
    opens_on: date,
    due_on: date,
    teams: Iterable[Team] | None = None,
) -> ReviewCycle:
    """A review cycle of ``cycle``; everyone takes part unless ``teams`` names the teams
    whose members do."""
    require(
        permissions.can_manage_review_cycles(actor),
        _("Only org admins and consultants set up review cycles."),
    )
    teams = list(teams or [])
    errors = {}
    if opens_on and due_on and due_on < opens_on:
        errors["due_on"] = _("A review cycle is due on or after the day it opens.")
    if opens_on and opens_on < cycle.start_date:
        errors["opens_on"] = _("A review cycle cannot open before its OKR cycle starts (%(date)s).") % {
            "date": cycle.start_date.isoformat()
        }
    raise_if(errors)
    review_cycle = ReviewCycle(
        cycle=cycle,
        kind=kind,
        name=(name or "").strip(),
        opens_on=opens_on,
        due_on=due_on,
        all_participants=not teams,
    )
    review_cycle.full_clean()
    review_cycle.save()
    if teams:
        review_cycle.teams.set(teams)
    return review_cycle


# --- scheduling ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedReviewCycle:
    kind: str
    name: str
    opens_on: date
    due_on: date


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _named(template: str, **values) -> str:
    return (template % values)[: ReviewCycle._meta.get_field("name").max_length]


def review_plan(cycle: Cycle) -> list[PlannedReviewCycle]:
    """The review cycles an OKR cycle's rhythm calls for, in date order (pure).

    Quarter or custom cycle: a check-in review every cadence period (due three days
    later) until the end-of-cycle review takes over, one calibration at the midpoint and
    one end-of-cycle review (opens a week before the end, due a week after). Annual
    cycle: only a calibration at each quarter boundary and the end-of-cycle review —
    the check-in rhythm runs in its quarters.
    """
    start, end = cycle.start_date, cycle.end_date
    end_opens = max(start, end - timedelta(days=END_OF_CYCLE_LEAD_DAYS))
    plan: list[PlannedReviewCycle] = []
    if cycle.kind == Cycle.Kind.ANNUAL:
        for quarter in (2, 3, 4):
            opens = _add_months(start, 3 * (quarter - 1))
            if opens > end:
                break
            plan.append(
                PlannedReviewCycle(
                    ReviewCycle.Kind.CALIBRATION,
                    _named(_("%(cycle)s: quarter %(n)d calibration"), cycle=cycle.name, n=quarter),
                    opens,
                    min(opens + timedelta(days=CALIBRATION_DAYS), end),
                )
            )
    else:
        period = timedelta(days=Cycle.CADENCE_DAYS[cycle.cadence])
        opens, number = start + period, 1
        while opens < end_opens:
            plan.append(
                PlannedReviewCycle(
                    ReviewCycle.Kind.CHECKIN_REVIEW,
                    _named(_("%(cycle)s: check-in review %(n)d"), cycle=cycle.name, n=number),
                    opens,
                    opens + timedelta(days=CHECKIN_REVIEW_DAYS),
                )
            )
            opens, number = opens + period, number + 1
        midpoint = start + timedelta(days=(end - start).days // 2)
        plan.append(
            PlannedReviewCycle(
                ReviewCycle.Kind.CALIBRATION,
                _named(_("%(cycle)s: mid-cycle calibration"), cycle=cycle.name),
                midpoint,
                min(midpoint + timedelta(days=CALIBRATION_DAYS), end),
            )
        )
    plan.append(
        PlannedReviewCycle(
            ReviewCycle.Kind.END_OF_CYCLE,
            _named(_("%(cycle)s: end-of-cycle review"), cycle=cycle.name),
            end_opens,
            end + timedelta(days=END_OF_CYCLE_GRACE_DAYS),
        )
    )
    return sorted(plan, key=lambda planned: (planned.opens_on, planned.kind))


@transaction.atomic
def review_cycles_schedule(*, cycle: Cycle, actor: User) -> list[ReviewCycle]:
    """Schedule the review cycles of ``cycle`` (see ``review_plan``). Idempotent: when the
    cycle already has review cycles nothing happens and the list is empty."""
    require(
        permissions.can_manage_review_cycles(actor),
        _("Only org admins and consultants set up review cycles."),
    )
    # The lock makes two concurrent calls schedule once.
    cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.state == Cycle.State.CLOSED:
        raise ValidationError(
            _("“%(cycle)s” is closed; add a review cycle by hand if one is still needed.") % {"cycle": cycle}
        )
    if ReviewCycle.objects.filter(cycle=cycle).exists():
        return []
    return ReviewCycle.objects.bulk_create(
        ReviewCycle(
            cycle=cycle,
            kind=planned.kind,
            name=planned.name,
            opens_on=planned.opens_on,
            due_on=planned.due_on,
        )
        for planned in review_plan(cycle)
    )


def review_cycles_auto_schedule(*, cycle: Cycle, actor: User) -> list[ReviewCycle]:
    """Called when an OKR cycle is created or activated: schedules its review cycles
    when the organisation has automatic scheduling on."""
    if not review_settings().auto_schedule:
        return []
    return review_cycles_schedule(cycle=cycle, actor=actor)


@transaction.atomic
def okr_cycle_start(**cycle_fields) -> tuple[Cycle, list[ReviewCycle]]:
    """The entry point for creating an OKR cycle (web UI, API, onboarding): creates it
    with ``okrs.services.cycles.cycle_create`` and, when the organisation has automatic
    scheduling on, schedules its review cycles from the cadence in the same transaction.
    (okrs cannot call reviews, so the composition lives here.)"""
    cycle = okr_cycle_create(**cycle_fields)
    return cycle, review_cycles_auto_schedule(cycle=cycle, actor=cycle_fields["actor"])


# --- opening and closing -------------------------------------------------------------


def _lock_review_cycle(review_cycle: ReviewCycle) -> ReviewCycle:
    return ReviewCycle.objects.select_for_update(of=("self",)).select_related("cycle").get(pk=review_cycle.pk)


@transaction.atomic
def review_cycle_open(*, review_cycle: ReviewCycle, actor: User) -> ReviewCycle:
    """Open the review cycle: one review per objective of the OKR cycle (not archived)
    whose owner takes part — active, not a viewer, and in one of the chosen teams
    unless everyone takes part. Each is pre-filled: the self score is the objective's
    progress, each key result's self score its progress, the manager the owner's manager.

    Idempotent: opening again adds reviews only for objectives that have none yet.
    A fixed number of queries, whatever the number of objectives.
    """
    require(
        permissions.can_manage_review_cycles(actor),
        _("Only org admins and consultants open review cycles."),
    )
    review_cycle = _lock_review_cycle(review_cycle)
    if review_cycle.state == ReviewCycle.State.CLOSED:
        raise ValidationError(_("“%(name)s” is closed; it cannot be opened again.") % {"name": review_cycle})
    objectives = (
        Objective.objects.filter(cycle_id=review_cycle.cycle_id, owner__is_active=True)
        .exclude(state=Objective.State.ARCHIVED)
        .exclude(owner__role=User.Role.VIEWER)
        .exclude(reviews__review_cycle=review_cycle)
    )
    if not review_cycle.all_participants:
        objectives = objectives.filter(owner__team__in=review_cycle.teams.all())
    objectives = list(
        objectives.select_related("owner")
        .prefetch_related(
            Prefetch(
                "key_results",
                queryset=KeyResult.objects.only("id", "objective_id", "progress").order_by("position", "id"),
            )
        )
        .order_by("id")
    )
    reviews = Review.objects.bulk_create(
        (
            Review(
                review_cycle=review_cycle,
                objective=objective,
                participant_id=objective.owner_id,
                manager_id=objective.owner.manager_id,
                self_score=scoring.clamp01(objective.progress),
            )
            for objective in objectives
        ),
        batch_size=BATCH_SIZE,
    )
    ReviewKeyResultScore.objects.bulk_create(
        (
            ReviewKeyResultScore(
                review=review, key_result=key_result, self_score=scoring.clamp01(key_result.progress)
            )
            for review, objective in zip(reviews, objectives, strict=True)
            for key_result in objective.key_results.all()
        ),
        batch_size=BATCH_SIZE,
    )
    if review_cycle.state != ReviewCycle.State.OPEN:
        review_cycle.state = ReviewCycle.State.OPEN
        review_cycle.save(update_fields=["state"])
    return review_cycle


@transaction.atomic
def review_cycle_close(*, review_cycle: ReviewCycle, actor: User) -> ReviewCycle:
    """Close the review cycle and every review in it; reviews still pending (or not yet
    calibrated, or with an open contest) are closed as they are."""
    require(
        permissions.can_manage_review_cycles(actor),
        _("Only org admins and consultants close review cycles."),
    )
    review_cycle = _lock_review_cycle(review_cycle)
    if review_cycle.state == ReviewCycle.State.CLOSED:
        return review_cycle
    now = timezone.now()
    Review.objects.filter(review_cycle=review_cycle).exclude(state=Review.State.CLOSED).update(
        state=Review.State.CLOSED, closed_at=now, updated_at=now
    )
    review_cycle.state = ReviewCycle.State.CLOSED
    review_cycle.save(update_fields=["state"])
    return review_cycle
