"""Pieces shared by the review API's viewsets."""

from __future__ import annotations

from accounts.models import User
from reviews import permissions
from reviews.models import Review


def shows_review_scores(user: User, review: Review, *, scores_feed_appraisal: bool) -> bool:
    """Method §6: grades are shown to everyone who sees the review only when the
    organisation lets review scores feed appraisals. Otherwise only to the people who
    grade: the participant (their self-assessment, the calibration they may contest) and
    whoever may calibrate the review or resolve its contest — as the review page's forms
    show them."""
    return (
        scores_feed_appraisal
        or review.participant_id == user.pk
        or permissions.can_calibrate_review(user, review)
        or permissions.can_resolve_contest(user, review)
    )
