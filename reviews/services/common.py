"""Helpers shared by the review services."""

from __future__ import annotations

import math
from numbers import Real

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from reviews.models import Review, ReviewKeyResultScore

# A manager's score may differ this much from the self score without a comment.
SILENT_DIFFERENCE = 0.1


def lock_review(review: Review) -> Review:
    """The review, re-read and locked: concurrent writes on it apply one after the other."""
    return Review.objects.select_for_update(of=("self",)).select_related("review_cycle").get(pk=review.pk)


def require_not_closed(review: Review) -> None:
    if review.state == Review.State.CLOSED:
        raise ValidationError(_("This review is closed and read-only."))


def score_error(value: object, *, required: bool = True) -> str | None:
    """The message for a score that is not a number from 0.0 to 1.0, else None."""
    if value is None:
        return _("Give a score from 0.0 to 1.0.") if required else None
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        return _("A score runs from 0.0 to 1.0.")
    return None


def differs_noticeably(a: float | None, b: float | None) -> bool:
    """More than SILENT_DIFFERENCE apart (rounded, so 0.8 vs 0.7 is not "more")."""
    return a is not None and b is not None and round(abs(a - b), 9) > SILENT_DIFFERENCE


def key_result_rows(
    review: Review, scores: dict[int, float] | None
) -> tuple[dict[int, ReviewKeyResultScore], str | None]:
    """The review's KR score rows by key result id, and a message when ``scores`` names a
    key result outside the review or holds a score outside 0.0–1.0."""
    if not scores:
        return {}, None
    rows = {row.key_result_id: row for row in ReviewKeyResultScore.objects.filter(review=review)}
    scores = {getattr(key, "pk", key): value for key, value in scores.items()}
    unknown = sorted(set(scores) - set(rows), key=str)
    if unknown:
        return rows, _("Key result %(ids)s is not part of this review.") % {
            "ids": ", ".join(str(i) for i in unknown)
        }
    if any(score_error(value) for value in scores.values()):
        return rows, _("Each key result score runs from 0.0 to 1.0.")
    return rows, None


def normalized_scores(scores: dict | None) -> dict[int, float]:
    return {getattr(key, "pk", key): float(value) for key, value in (scores or {}).items()}
