"""One review's way through a review cycle (method §4):

pending → self_submitted (the participant) → calibrated (their manager) → closed.
Once calibrated the participant may contest once; the manager resolves the contest,
and the whole exchange stays on the review. A closed review is read-only.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.webhooks import webhook_emit
from okrs.services.common import raise_if, require
from reviews import permissions
from reviews.models import Review, ReviewCycle, ReviewKeyResultScore
from reviews.services.common import (
    differs_noticeably,
    key_result_rows,
    lock_review,
    normalized_scores,
    require_not_closed,
    score_error,
)


def _apply_key_result_scores(rows: dict[int, ReviewKeyResultScore], scores: dict | None, field: str) -> None:
    changed = []
    for key_result_id, value in normalized_scores(scores).items():
        row = rows[key_result_id]
        setattr(row, field, value)
        changed.append(row)
    ReviewKeyResultScore.objects.bulk_update(changed, [field])


def _save(review: Review) -> Review:
    review.full_clean()
    review.save()
    return review


@transaction.atomic
def review_submit_self(
    *,
    review: Review,
    actor: User,
    self_score: float | None,
    key_result_scores: dict[int, float] | None = None,
    went_well: str = "",
    didnt_go_well: str = "",
    learnings: str = "",
    next_steps: str = "",
    problem: str = "",
    information: str = "",
    answer: str = "",
) -> Review:
    """The participant grades their objective 0.0–1.0 and reflects. Submitting again
    while no one has calibrated yet replaces the earlier submission."""
    review = lock_review(review)
    require(
        permissions.can_submit_self_review(actor, review),
        _("Only the participant can submit their self-review."),
    )
    require_not_closed(review)
    if review.state not in {Review.State.PENDING, Review.State.SELF_SUBMITTED}:
        raise ValidationError(_("This review was already calibrated; the self-review can no longer change."))
    texts = {
        "went_well": went_well,
        "didnt_go_well": didnt_go_well,
        "learnings": learnings,
        "next_steps": next_steps,
        "problem": problem,
        "information": information,
        "answer": answer,
    }
    texts = {field: (value or "").strip() for field, value in texts.items()}
    errors = {}
    if message := score_error(self_score):
        errors["self_score"] = message
    rows, message = key_result_rows(review, key_result_scores)
    if message:
        errors["key_result_scores"] = message
    if review.review_cycle.kind == ReviewCycle.Kind.END_OF_CYCLE:
        for field in ("problem", "information", "answer"):
            if not texts[field]:
                errors[field] = _("Describe the problem, what you found out and your answer.")
    raise_if(errors)

    resubmitted = review.state == Review.State.SELF_SUBMITTED
    for field, value in texts.items():
        setattr(review, field, value)
    review.self_score = float(self_score)
    review.state, review.submitted_at = Review.State.SELF_SUBMITTED, timezone.now()
    _apply_key_result_scores(rows, key_result_scores, "self_score")
    review = _save(review)
    webhook_emit("review.submitted", {
        "review": {
            "id": review.pk, "review_cycle_id": review.review_cycle_id, "objective_id": review.objective_id,
            "participant_id": review.participant_id, "manager_id": review.manager_id,
            "self_score": review.self_score, "submitted_at": review.submitted_at, "resubmitted": resubmitted,
        }
    })  # fmt: skip
    return review


@transaction.atomic
def review_calibrate(
    *,
    review: Review,
    actor: User,
    manager_score: float | None,
    comment: str,
    key_result_scores: dict[int, float] | None = None,
) -> Review:
    """The participant's manager (or an org admin) sets the calibrated score. A score
    more than 0.1 away from the self score needs a comment that says why."""
    review = lock_review(review)
    require(
        permissions.can_calibrate_review(actor, review),
        _("Only the participant's manager or an org admin can calibrate this review."),
    )
    require_not_closed(review)
    if review.state == Review.State.PENDING:
        raise ValidationError(_("The participant has not submitted their self-review yet."))
    if review.state == Review.State.CALIBRATED:
        raise ValidationError(_("This review is already calibrated."))
    comment = (comment or "").strip()
    errors = {}
    if message := score_error(manager_score):
        errors["manager_score"] = message
    elif differs_noticeably(manager_score, review.self_score) and not comment:
        errors["comment"] = _(
            "Your score differs from the self score by more than 0.1; say why in a comment."
        )
    rows, message = key_result_rows(review, key_result_scores)
    if message:
        errors["key_result_scores"] = message
    raise_if(errors)

    review.manager_score, review.manager_comment = float(manager_score), comment
    review.calibrated_by, review.calibrated_at = actor, timezone.now()
    review.state = Review.State.CALIBRATED
    _apply_key_result_scores(rows, key_result_scores, "manager_score")
    return _save(review)


@transaction.atomic
def review_contest(*, review: Review, actor: User, reason: str) -> Review:
    """The participant disagrees with the calibration, once. The review stays
    calibrated and cannot be closed until the contest is resolved."""
    review = lock_review(review)
    require(
        permissions.can_contest_review(actor, review),
        _("Only the participant can contest the calibration of their review."),
    )
    require_not_closed(review)
    if review.contested_at is not None:
        raise ValidationError(_("A calibration can be contested only once; this one already was."))
    if review.state != Review.State.CALIBRATED:
        raise ValidationError(_("Only a calibrated review can be contested."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why you contest the calibration.")]})
    review.contest_reason, review.contested_at = reason, timezone.now()
    review.contested_manager_score = review.manager_score
    return _save(review)


@transaction.atomic
def review_resolve_contest(
    *, review: Review, actor: User, resolution: str, manager_score: float | None = None
) -> Review:
    """The calibrator, the participant's manager or an org admin answers the contest,
    and may change the manager score in doing so."""
    review = lock_review(review)
    require(
        permissions.can_resolve_contest(actor, review),
        _("Only the participant's manager or an org admin can resolve this contest."),
    )
    require_not_closed(review)
    if review.contested_at is None:
        raise ValidationError(_("This review's calibration has not been contested."))
    if review.contest_resolved_at is not None:
        raise ValidationError(_("This contest was already resolved."))
    resolution = (resolution or "").strip()
    errors = {}
    if not resolution:
        errors["resolution"] = _("Say how the contest was resolved.")
    if message := score_error(manager_score, required=False):
        errors["manager_score"] = message
    raise_if(errors)

    if manager_score is not None:
        review.manager_score = float(manager_score)
    review.contest_resolution = resolution
    review.contest_resolved_by, review.contest_resolved_at = actor, timezone.now()
    return _save(review)


@transaction.atomic
def review_close(*, review: Review, actor: User) -> Review:
    """Close one calibrated review (a contest must be resolved first); it is read-only
    from then on."""
    review = lock_review(review)
    require(
        permissions.can_close_review(actor, review),
        _("Only the participant's manager or an org admin can close this review."),
    )
    require_not_closed(review)
    if review.state != Review.State.CALIBRATED:
        raise ValidationError(
            _("Only a calibrated review can be closed; this one is “%(state)s”.")
            % {"state": review.get_state_display()}
        )
    if review.is_contested:
        raise ValidationError(_("Resolve the contest before closing this review."))
    review.state, review.closed_at = Review.State.CLOSED, timezone.now()
    return _save(review)
