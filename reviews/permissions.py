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
from reviews.models import PeerFeedbackRequest, Review


def can_manage_review_cycles(user: User) -> bool:
    """Create, schedule, open and close review cycles: whoever sets up OKR cycles."""
    return okr_permissions.can_manage_cycles(user)


def can_view_review(user: User, review: Review) -> bool:
    """Peer reviewers see their request (and its question), not the review itself."""
    if not user.is_active:
        return False
    if user.pk in {review.participant_id, review.manager_id, review.calibrated_by_id}:
        return True
    if user.is_org_admin or user.role == User.Role.CONSULTANT:
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


def can_open_review(user: User, review: Review) -> bool:
    """The review page shows the objective, its key results and the reflection: besides
    ``can_view_review``, a private objective stays hidden from those who may not see it
    (a consultant outside its team, say), except the review's own parties. The review's
    ``objective`` should be loaded."""
    if not can_view_review(user, review):
        return False
    if user.pk in {review.participant_id, review.manager_id, review.calibrated_by_id}:
        return True
    return okr_permissions.can_view_objective(user, review.objective)
