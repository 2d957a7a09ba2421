"""Peer feedback on a review (method §6: qualitative signals count too)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notifications import notify
from okrs.services.common import require
from reviews import permissions
from reviews.models import PeerFeedbackRequest, Review
from reviews.services.common import lock_review, require_not_closed


@transaction.atomic
def peer_feedback_request(
    *, review: Review, actor: User, reviewer: User, question: str = ""
) -> PeerFeedbackRequest:
    """The participant or their manager asks a colleague for feedback, once per colleague."""
    review = lock_review(review)
    require(
        permissions.can_request_peer_feedback(actor, review),
        _("Only the participant or their manager can ask for peer feedback."),
    )
    require_not_closed(review)
    if reviewer.pk == review.participant_id:
        raise ValidationError(
            {"reviewer": [_("Ask a colleague: the participant's own view is the self-review.")]}
        )
    if not permissions.can_give_peer_feedback(reviewer):
        raise ValidationError(
            {
                "reviewer": [
                    _("%(person)s cannot give feedback (deactivated or read-only).") % {"person": reviewer}
                ]
            }
        )
    # The review lock serialises requests, so this check cannot race with another.
    if PeerFeedbackRequest.objects.filter(review=review, reviewer=reviewer).exists():
        raise ValidationError(
            {
                "reviewer": [
                    _("%(person)s was already asked for feedback on this review.") % {"person": reviewer}
                ]
            }
        )
    request = PeerFeedbackRequest(
        review=review, requested_by=actor, reviewer=reviewer, question=(question or "").strip()
    )
    request.full_clean()
    request.save()
    notify(
        user=reviewer, kind="feedback_requested", subject_key=f"feedback:{request.pk}", period="requested",
        title=_("%(p)s asks for your feedback on “%(o)s”") % {
            "p": review.participant.get_full_name(), "o": review.objective.title,
        },
        body=request.question, link=f"/reviews/{review.pk}/",
    )  # fmt: skip
    return request


@transaction.atomic
def peer_feedback_answer(*, request: PeerFeedbackRequest, actor: User, answer: str) -> PeerFeedbackRequest:
    """The colleague asked answers, once."""
    request = (
        PeerFeedbackRequest.objects.select_for_update(of=("self",))
        .select_related("review")
        .get(pk=request.pk)
    )
    require(
        permissions.can_answer_peer_feedback(actor, request),
        _("Only the colleague who was asked can answer this request."),
    )
    require_not_closed(request.review)
    if request.answered_at is not None:
        raise ValidationError(_("This request was already answered."))
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": [_("Write your feedback before sending it.")]})
    request.answer, request.answered_at = answer, timezone.now()
    request.save(update_fields=["answer", "answered_at"])
    return request
