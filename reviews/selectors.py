"""Reads for reviews: querysets already shaped for their callers, and the review
summary that screens and exports show."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Prefetch, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import report_ids
from okrs.models import Objective
from reviews.models import PeerFeedbackRequest, Review, ReviewCycle, ReviewKeyResultScore, ReviewSettings


def review_settings() -> ReviewSettings:
    """The review settings, or the defaults (unsaved) while nobody changed them: reading
    never writes (``review_settings_update`` creates the row)."""
    return ReviewSettings.objects.filter(pk=1).first() or ReviewSettings(pk=1)


def reviews_shaped(reviews: QuerySet[Review] | None = None) -> QuerySet[Review]:
    """Reviews with everything ``review_summary`` reads: three queries for any number."""
    reviews = Review.objects.all() if reviews is None else reviews
    return reviews.select_related(
        "review_cycle__cycle", "objective", "participant", "manager", "calibrated_by", "contest_resolved_by"
    ).prefetch_related(
        Prefetch(
            "key_result_scores",
            queryset=ReviewKeyResultScore.objects.select_related("key_result").order_by(
                "key_result__position", "key_result_id"
            ),
        ),
        Prefetch(
            "peer_requests",
            queryset=PeerFeedbackRequest.objects.select_related("reviewer", "requested_by").order_by(
                "requested_at", "id"
            ),
        ),
    )


def my_reviews(user: User) -> QuerySet[Review]:
    """The reviews ``user`` takes part in, the latest review cycle first."""
    return reviews_shaped(Review.objects.filter(participant=user)).order_by(
        "-review_cycle__opens_on", "review_cycle_id", "objective__title", "id"
    )


def readable_reviews(
    user: User, reviews: QuerySet[Review], *, settings: ReviewSettings | None = None
) -> QuerySet[Review]:
    """``reviews`` less those of private objectives when ``user`` is a consultant the
    organisation keeps from them (the queryset form of that part of
    ``permissions.can_view_review``): the settings are read once, not per row, and only
    for consultants."""
    from reviews.permissions import consultant_kept_from_private_reviews  # it reads review_settings here

    if not consultant_kept_from_private_reviews(user, settings=settings):
        return reviews
    parties = Q(participant=user) | Q(manager=user) | Q(calibrated_by=user)
    return reviews.filter(parties | ~Q(objective__visibility=Objective.Visibility.PRIVATE))


def reviews_to_calibrate(user: User, *, settings: ReviewSettings | None = None) -> QuerySet[Review]:
    """Self-submitted reviews waiting for ``user``'s calibration: those of the people below
    them in the reporting lines, or recorded with them as manager; never their own."""
    mine = Q(manager=user) | Q(participant_id__in=report_ids(user))
    reviews = Review.objects.filter(mine, state=Review.State.SELF_SUBMITTED).exclude(participant=user)
    return reviews_shaped(readable_reviews(user, reviews, settings=settings)).order_by(
        "review_cycle__due_on", "participant__full_name", "participant__email", "id"
    )


def peer_feedback_to_give(user: User) -> QuerySet[PeerFeedbackRequest]:
    """Open requests for ``user``'s feedback, on reviews that are not closed."""
    return (
        PeerFeedbackRequest.objects.filter(reviewer=user, answered_at__isnull=True)
        .exclude(review__state=Review.State.CLOSED)
        .select_related("review__objective", "review__participant", "review__review_cycle", "requested_by")
        .order_by("review__review_cycle__due_on", "requested_at", "id")
    )


def _person(user: User | None) -> str | None:
    return str(user) if user is not None else None


def review_summary(review: Review, *, settings: ReviewSettings | None = None) -> dict[str, Any]:
    """What a screen or an export shows of a review.

    Method §6: OKR attainment is shown as *objective progress*. Person scores (the
    self and manager scores) appear only when the organisation lets review scores feed
    appraisals; otherwise no key of the summary is named like a score. Shape the reviews
    with ``reviews_shaped`` (and pass ``settings``) to summarise many in a fixed number
    of queries.
    """
    settings = settings or review_settings()
    with_scores = settings.review_scores_feed_appraisal
    if "key_result_scores" not in getattr(review, "_prefetched_objects_cache", {}):
        review = reviews_shaped(Review.objects.filter(pk=review.pk)).get()
    objective, review_cycle = review.objective, review.review_cycle

    key_results = []
    for row in review.key_result_scores.all():
        item: dict[str, Any] = {"id": row.key_result_id, "title": row.key_result.title}
        item["progress"] = row.key_result.progress
        if with_scores:
            item["self_score"], item["manager_score"] = row.self_score, row.manager_score
        key_results.append(item)

    labels = {"objective_progress": _("Objective progress"), "progress": _("Key result progress")}
    summary: dict[str, Any] = {
        "id": review.pk,
        "review_cycle": {
            "id": review_cycle.pk,
            "name": review_cycle.name,
            "kind": review_cycle.kind,
            "state": review_cycle.state,
            "opens_on": review_cycle.opens_on,
            "due_on": review_cycle.due_on,
            "okr_cycle": review_cycle.cycle.name,
        },
        "objective": {"id": objective.pk, "title": objective.title, "state": objective.state},
        "objective_progress": objective.progress,
        "key_results": key_results,
        "participant": _person(review.participant),
        "manager": _person(review.manager),
        "state": review.state,
        "submitted_at": review.submitted_at,
        "reflection": {
            "went_well": review.went_well,
            "didnt_go_well": review.didnt_go_well,
            "learnings": review.learnings,
            "next_steps": review.next_steps,
        },
        "retrospective": {
            "problem": review.problem,
            "information": review.information,
            "answer": review.answer,
        },
        "calibration": {
            "comment": review.manager_comment,
            "calibrated_by": _person(review.calibrated_by),
            "calibrated_at": review.calibrated_at,
        },
        "contest": None,
        "peer_feedback": [
            {
                "reviewer": _person(request.reviewer),
                "requested_by": _person(request.requested_by),
                "question": request.question,
                "answer": request.answer,
                "answered_at": request.answered_at,
            }
            for request in review.peer_requests.all()
        ],
        "closed_at": review.closed_at,
        "labels": labels,
    }
    if review.contested_at is not None:
        summary["contest"] = {
            "reason": review.contest_reason,
            "contested_at": review.contested_at,
            "resolution": review.contest_resolution,
            "resolved_by": _person(review.contest_resolved_by),
            "resolved_at": review.contest_resolved_at,
        }
    if with_scores:
        summary["self_score"], summary["manager_score"] = review.self_score, review.manager_score
        labels["self_score"], labels["manager_score"] = _("Self score"), _("Manager score")
    return summary


def self_reviews_due(user: User) -> QuerySet[Review]:
    """``user``'s reviews waiting for their self-assessment, in open review cycles."""
    return (
        Review.objects.filter(
            participant=user, state=Review.State.PENDING, review_cycle__state=ReviewCycle.State.OPEN
        )
        .select_related("objective", "review_cycle")
        .order_by("review_cycle__due_on", "id")
    )


# --- the reviews pages -----------------------------------------------------------------


def reviews_of_participant(user: User) -> QuerySet[Review]:
    """All of ``user``'s own reviews for the reviews page (cycle and objective loaded),
    the latest review cycle first; one query."""
    return (
        Review.objects.filter(participant=user)
        .select_related("review_cycle", "objective")
        .order_by("-review_cycle__opens_on", "-review_cycle_id", "objective__title", "id")
    )


def _reviews_below(user: User, reports: list[int]) -> Q:
    """Reviews of the people below ``user`` in the reporting lines or recorded with them
    as manager; for org admins also those with no manager above (nobody else calibrates them)."""
    below = Q(manager=user) | Q(participant_id__in=reports)
    if user.is_org_admin:
        below |= Q(manager__isnull=True)
    return below


def team_reviews(
    user: User, *, reports: list[int] | None = None, settings: ReviewSettings | None = None
) -> QuerySet[Review]:
    """The reviews ``user`` follows as a manager and that are not closed: those waiting for
    calibration first, then calibrated ones (to close), then those still waiting for the
    self-review. Never their own; for a consultant, only those they may read
    (``readable_reviews``). Pass ``reports`` (``report_ids(user)``) and ``settings`` to save
    their queries."""
    reports = report_ids(user) if reports is None else reports
    order = Case(
        When(state=Review.State.SELF_SUBMITTED, then=Value(0)),
        When(state=Review.State.CALIBRATED, then=Value(1)),
        default=Value(2),
    )
    return (
        readable_reviews(user, Review.objects.filter(_reviews_below(user, reports)), settings=settings)
        .exclude(participant=user)
        .exclude(state=Review.State.CLOSED)
        .select_related("review_cycle", "objective", "participant")
        .annotate(needs=order)
        .order_by("needs", "review_cycle__due_on", "participant__full_name", "participant__email", "id")
    )


def contests_to_resolve(
    user: User, *, reports: list[int] | None = None, settings: ReviewSettings | None = None
) -> QuerySet[Review]:
    """Contested calibrations ``user`` may resolve: they calibrated it, or the participant
    is below them; never their own (for a consultant, only those they may read). Oldest
    contest first."""
    reports = report_ids(user) if reports is None else reports
    reviews = Review.objects.filter(_reviews_below(user, reports) | Q(calibrated_by=user))
    return (
        readable_reviews(user, reviews, settings=settings)
        .filter(contested_at__isnull=False, contest_resolved_at__isnull=True)
        .exclude(participant=user)
        .exclude(state=Review.State.CLOSED)
        .select_related("review_cycle", "objective", "participant")
        .order_by("contested_at", "id")
    )


def peer_feedback_candidates(review: Review) -> QuerySet[User]:
    """Colleagues who may be asked for feedback on ``review``: people who can give it
    (active, not read-only: ``permissions.can_give_peer_feedback``), not the participant,
    not asked on this review yet. One query."""
    asked = PeerFeedbackRequest.objects.filter(review=review).values("reviewer_id")
    return (
        User.objects.filter(is_active=True)
        .exclude(role=User.Role.VIEWER)
        .exclude(pk=review.participant_id)
        .exclude(pk__in=asked)
        .order_by("full_name", "email", "id")
    )
