"""One function per permission decision on reviews, shared by the web UI and the API.

Viewers and deactivated people write nothing. A participant never calibrates, resolves
or closes their own review; their managers (the one recorded when the review opened, or
anyone above the participant in the reporting lines) and org admins do.
"""

from __future__ import annotations

from accounts.models import User
from accounts.permissions import can_write
from accounts.selectors import manages
from okrs import permissions as okr_permissions
from okrs.models import Objective
from reviews.models import PeerFeedbackRequest, Review, ReviewSettings
from reviews.selectors import review_settings


def can_manage_review_cycles(user: User) -> bool:
    """Create, schedule, open and close review cycles: whoever sets up OKR cycles."""
    return okr_permissions.can_manage_cycles(user)


def consultant_kept_from_private_reviews(user: User, *, settings: ReviewSettings | None = None) -> bool:
    """Whether ``user`` is a consultant and the organisation keeps reviews of private
    objectives from consultants (``ReviewSettings.consultants_see_private_reviews`` off, the
    default) — unless they take part in the review. Reads the settings (one query, unless
    ``settings`` is given) only for consultants."""
    if user.role != User.Role.CONSULTANT:
        return False
    settings = settings or review_settings()
    return not settings.consultants_see_private_reviews


def _is_party(user: User, review: Review) -> bool:
    return user.pk in {review.participant_id, review.manager_id, review.calibrated_by_id}


def _is_private(review: Review) -> bool:
    return review.objective.visibility == Objective.Visibility.PRIVATE


def can_view_review(user: User, review: Review, *, settings: ReviewSettings | None = None) -> bool:
    """Peer reviewers see their request (and its question), not the review itself. A
    consultant reads a review of a private objective only when the organisation allows it
    (``consultant_kept_from_private_reviews``). The review's ``objective`` should be loaded;
    pass ``settings`` when deciding for many reviews."""
    if not user.is_active:
        return False
    if _is_party(user, review):
        return True
    if user.role == User.Role.CONSULTANT:
        return not (_is_private(review) and consultant_kept_from_private_reviews(user, settings=settings))
    if user.is_org_admin:
        return True
    return manages(user, review.participant_id)


def can_submit_self_review(user: User, review: Review) -> bool:
    return can_write(user) and review.participant_id == user.pk


def can_calibrate_review(user: User, review: Review) -> bool:
    if not can_write(user) or review.participant_id == user.pk:
        return False
    return user.is_org_admin or review.manager_id == user.pk or manages(user, review.participant_id)


def can_contest_review(user: User, review: Review) -> bool:
    return can_submit_self_review(user, review)


def can_resolve_contest(user: User, review: Review) -> bool:
    if not can_write(user) or review.participant_id == user.pk:
        return False
    return review.calibrated_by_id == user.pk or can_calibrate_review(user, review)


def can_close_review(user: User, review: Review) -> bool:
    return can_calibrate_review(user, review)


def can_request_peer_feedback(user: User, review: Review) -> bool:
    return can_submit_self_review(user, review) or can_calibrate_review(user, review)


def can_answer_peer_feedback(user: User, request: PeerFeedbackRequest) -> bool:
    return can_write(user) and request.reviewer_id == user.pk


def can_give_peer_feedback(user: User) -> bool:
    """Whether ``user`` may be asked for peer feedback at all."""
    return can_write(user)


def can_decide_calibration(user: User, objective: Objective) -> bool:
    """Keep, change or drop an objective at a calibration: org admins, consultants and
    the owner's manager chain (not the owner alone)."""
    if not can_write(user):
        return False
    if user.is_org_admin or user.role == User.Role.CONSULTANT:
        return True
    return manages(user, objective.owner_id)


def can_open_review(user: User, review: Review, *, settings: ReviewSettings | None = None) -> bool:
    """The review page shows the objective, its key results and the reflection: besides
    ``can_view_review``, a private objective stays hidden from those who may not see it,
    except the review's own parties — and consultants once the organisation lets them read
    reviews of private objectives (``can_view_review`` refuses them otherwise). The review's
    ``objective`` should be loaded."""
    if not can_view_review(user, review, settings=settings):
        return False
    if _is_party(user, review) or user.role == User.Role.CONSULTANT:
        return True
    return okr_permissions.can_view_objective(user, review.objective)
