"""Reads for the review API: the reviews, review cycles and peer feedback requests a
person may see, as querysets shaped so a page of any size takes a fixed number of
queries. Visibility is the web UI's: ``reviews.permissions.can_open_review`` for a review
(its parties, the participant's manager chain, org admins and consultants — and, for
anyone but the parties, only if they may see the objective: private objectives never
leak; consultants read reviews of private objectives only when the organisation allows
it), review cycles through the reviews in them (all of them for whoever manages review
cycles), and a peer feedback request for the colleague it is addressed to."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.selectors import report_ids
from okrs.selectors import objectives_visible_to
from reviews import permissions
from reviews.models import PeerFeedbackRequest, Review, ReviewCycle, ReviewSettings
from reviews.selectors import readable_reviews, reviews_shaped


def reviews_visible_to(user: User, *, settings: ReviewSettings | None = None) -> QuerySet[Review]:
    """The queryset form of ``permissions.can_open_review`` (a test holds them equal).
    Consultants see every review, less those of private objectives while the organisation
    keeps these from them (``readable_reviews``: the settings read once, for consultants only)."""
    if not user.is_active:
        return Review.objects.none()
    if user.is_org_admin:
        return Review.objects.all()
    if user.role == User.Role.CONSULTANT:
        return readable_reviews(user, Review.objects.all(), settings=settings)
    parties = Q(participant=user) | Q(manager=user) | Q(calibrated_by=user)
    reports = report_ids(user)
    if not reports:
        return Review.objects.filter(parties)
    visible_objectives = objectives_visible_to(user).values("pk")
    return Review.objects.filter(
        parties | (Q(participant_id__in=reports) & Q(objective__in=visible_objectives))
    )


def reviews_for_api(user: User, *, settings: ReviewSettings | None = None) -> QuerySet[Review]:
    """Visible reviews with everything the API shows (``reviews_shaped``: three queries)."""
    return reviews_shaped(reviews_visible_to(user, settings=settings))


def review_cycles_for_api(user: User) -> QuerySet[ReviewCycle]:
    """Every review cycle for those who manage them; for everyone else the review cycles
    holding a review they may see. With the OKR cycle and the teams taking part."""
    review_cycles = ReviewCycle.objects.all()
    if not permissions.can_manage_review_cycles(user):
        review_cycles = review_cycles.filter(pk__in=reviews_visible_to(user).values("review_cycle_id"))
    return review_cycles.select_related("cycle").prefetch_related("teams")


def peer_feedback_requests_for_api(user: User) -> QuerySet[PeerFeedbackRequest]:
    """The requests for feedback addressed to ``user``, answered or not."""
    return PeerFeedbackRequest.objects.filter(reviewer=user).select_related(
        "review__objective", "review__participant", "review__review_cycle", "requested_by", "reviewer"
    )
