"""The reviews pages: what I review (my self-assessments, my reports' calibrations,
contests, peer feedback asked of me) and one review's page, whose forms depend on who
looks and where the review stands (method §4). Every action is a POST to its own URL,
goes through ``reviews.services`` and comes back to the review page; bad input
re-renders the page with the errors on the form (422), a refusal is a 403."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.selectors import report_ids
from accounts.ui import add_service_errors, mark_invalid_fields
from okrs import permissions as okr_permissions
from reviews import permissions
from reviews.forms import (
    CalibrationForm,
    ContestForm,
    PeerFeedbackAnswerForm,
    PeerFeedbackRequestForm,
    ResolveContestForm,
    SelfReviewForm,
)
from reviews.models import PeerFeedbackRequest, Review
from reviews.selectors import (
    contests_to_resolve,
    peer_feedback_candidates,
    peer_feedback_to_give,
    review_settings,
    reviews_of_participant,
    reviews_shaped,
    team_reviews,
)
from reviews.services import (
    peer_feedback_answer,
    peer_feedback_request,
    review_calibrate,
    review_close,
    review_contest,
    review_resolve_contest,
    review_submit_self,
)

# --- the reviews page --------------------------------------------------------------------


@login_required
def reviews_page(request):
    user = request.user
    reports = report_ids(user)
    settings = review_settings()
    mine = list(reviews_of_participant(user))
    context = {
        "due": [r for r in mine if r.state == Review.State.PENDING],
        "in_progress": [r for r in mine if r.state in {Review.State.SELF_SUBMITTED, Review.State.CALIBRATED}],
        "closed": [r for r in mine if r.state == Review.State.CLOSED],
        "team": list(team_reviews(user, reports=reports, settings=settings)),
        "contests": list(contests_to_resolve(user, reports=reports, settings=settings)),
        "feedback_requests": list(peer_feedback_to_give(user)),
        "show_scores": settings.review_scores_feed_appraisal,
        "is_manager": bool(reports) or user.is_org_admin,
        "today": timezone.localdate(),
    }
    return render(request, "reviews/reviews.html", context)


# --- one review ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """A review as one person may see it: in full, or (a colleague asked for feedback
    who may not see the review itself) only the request addressed to them."""

    review: Review
    full: bool
    my_request: PeerFeedbackRequest | None


def _visit_or_404(user, pk: int) -> Visit:
    review = reviews_shaped(Review.objects.filter(pk=pk)).first()
    if review is None:
        raise Http404
    mine = next((r for r in review.peer_requests.all() if r.reviewer_id == user.pk), None)
    if permissions.can_open_review(user, review):
        return Visit(review, True, mine)
    if mine is not None:
        return Visit(review, False, mine)
    raise Http404


def _rows(review: Review) -> list:
    rows = list(review.key_result_scores.all())
    for row in rows:
        row.key_result.objective = review.objective  # loaded already: no query in permission checks
    return rows


def _render(request, visit: Visit, *, bound: dict[str, forms.Form] | None = None, status: int = 200):
    """The review page. ``bound`` holds a submitted form that failed: it is shown (with
    its errors) instead of the blank one, whatever the review's state is now."""
    user, review, bound = request.user, visit.review, bound or {}
    for form in bound.values():
        mark_invalid_fields(form)
    my_request, answer_form = visit.my_request, bound.get("answer")
    if (
        answer_form is None
        and my_request is not None
        and my_request.answered_at is None
        and review.state != Review.State.CLOSED
        and permissions.can_answer_peer_feedback(user, my_request)
    ):
        answer_form = PeerFeedbackAnswerForm()
    if not visit.full:
        context = {"review": review, "request_to_me": my_request, "answer_form": answer_form}
        return render(request, "reviews/feedback_request.html", context, status=status)

    rows = _rows(review)
    state, is_open = review.state, review.state != Review.State.CLOSED
    can = {
        "submit": state in {Review.State.PENDING, Review.State.SELF_SUBMITTED}
        and permissions.can_submit_self_review(user, review),
        "calibrate": state == Review.State.SELF_SUBMITTED and permissions.can_calibrate_review(user, review),
        "contest": state == Review.State.CALIBRATED
        and review.contested_at is None
        and permissions.can_contest_review(user, review),
        "resolve": is_open and review.is_contested and permissions.can_resolve_contest(user, review),
        "close": state == Review.State.CALIBRATED
        and not review.is_contested
        and permissions.can_close_review(user, review),
        "request_feedback": is_open and permissions.can_request_peer_feedback(user, review),
    }

    def form_for(key, allowed, make):
        if key in bound:
            return bound[key]
        return make() if allowed else None

    settings = review_settings()
    context = {
        "review": review,
        "rows": rows,
        "is_open": is_open,
        "can_close": can["close"],
        "show_scores": settings.review_scores_feed_appraisal,
        "review_prompts": settings.review_prompts,  # guidance on the self-review form
        "request_to_me": my_request,
        "answer_form": answer_form,
        "self_review_form": form_for(
            "self_review", can["submit"], lambda: SelfReviewForm(review=review, rows=rows)
        ),
        "calibration_form": form_for(
            "calibration", can["calibrate"], lambda: CalibrationForm(review=review, rows=rows)
        ),
        "contest_form": form_for("contest", can["contest"], ContestForm),
        "resolve_form": form_for("resolve", can["resolve"], lambda: ResolveContestForm(review=review)),
        "feedback_form": form_for(
            "feedback",
            can["request_feedback"],
            lambda: PeerFeedbackRequestForm(candidates=peer_feedback_candidates(review)),
        ),
        "is_participant": review.participant_id == user.pk,
        "today": timezone.localdate(),
    }
    if is_open and review.participant_id == user.pk:
        for row in rows:
            row.key_result.can_check_in = okr_permissions.can_check_in(user, row.key_result)
    return render(request, "reviews/review.html", context, status=status)


@login_required
def review_page(request, pk: int):
    return _render(request, _visit_or_404(request.user, pk))


def _saved(request, review: Review, text: str):
    messages.success(request, text)
    return redirect("review", review.pk)


def _act(request, visit: Visit, *, key: str, form: forms.Form, call, success):
    """Run ``call`` (a service call) when ``form`` is valid and come back to the review
    with ``success`` (a text, or a function of what ``call`` returned); otherwise, or when
    the service refuses the input, re-render the page with the errors on ``form`` (422).
    Nothing changes then: every service is atomic."""
    if form.is_valid():
        try:
            result = call(form)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _saved(request, visit.review, success(result) if callable(success) else success)
    return _render(request, visit, bound={key: form}, status=422)


def _review_action(allowed, refusal: str):
    """An action on a review, a POST (a GET on its URL, a reload say, leads back to the
    review) by someone who sees the review in full (else a 404, or a 403 for a colleague
    who sees only the request for feedback addressed to them) and whom ``allowed``, the
    permission behind the action, lets act (else a 403, whatever they posted). The view
    gets the ``Visit``."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(request, pk: int):
            visit = _visit_or_404(request.user, pk)  # an unknown or hidden review: 404, even on a GET
            if request.method != "POST":
                return redirect("review", pk)
            if not visit.full:
                raise PermissionDenied(_("You can answer the request for feedback, not act on the review."))
            if not allowed(request.user, visit.review):
                raise PermissionDenied(refusal)
            return view(request, visit)

        return wrapper

    return decorate


@_review_action(
    permissions.can_submit_self_review, gettext_lazy("Only the participant can submit their self-review.")
)
def submit_self(request, visit: Visit):
    review = visit.review
    return _act(
        request,
        visit,
        key="self_review",
        form=SelfReviewForm(request.POST, review=review, rows=_rows(review)),
        call=lambda f: review_submit_self(review=review, actor=request.user, **f.service_arguments()),
        success=_("Self-assessment submitted. Your manager calibrates it next."),
    )


@_review_action(
    permissions.can_calibrate_review,
    gettext_lazy("Only the participant's manager or an org admin can calibrate this review."),
)
def calibrate(request, visit: Visit):
    review = visit.review
    return _act(
        request,
        visit,
        key="calibration",
        form=CalibrationForm(request.POST, review=review, rows=_rows(review)),
        call=lambda f: review_calibrate(review=review, actor=request.user, **f.service_arguments()),
        success=_("Calibration saved."),
    )


@_review_action(
    permissions.can_contest_review,
    gettext_lazy("Only the participant can contest the calibration of their review."),
)
def contest(request, visit: Visit):
    return _act(
        request,
        visit,
        key="contest",
        form=ContestForm(request.POST),
        call=lambda f: review_contest(review=visit.review, actor=request.user, **f.cleaned_data),
        success=_("Your contest was recorded. Your manager will answer it."),
    )


@_review_action(
    permissions.can_resolve_contest,
    gettext_lazy("Only the participant's manager or an org admin can resolve this contest."),
)
def resolve_contest(request, visit: Visit):
    return _act(
        request,
        visit,
        key="resolve",
        form=ResolveContestForm(request.POST, review=visit.review),
        call=lambda f: review_resolve_contest(review=visit.review, actor=request.user, **f.cleaned_data),
        success=_("Contest resolved."),
    )


@_review_action(
    permissions.can_close_review,
    gettext_lazy("Only the participant's manager or an org admin can close this review."),
)
def close(request, visit: Visit):
    """No form: a refusal (a contest still open, say) shows as a message on the page."""
    try:
        review_close(review=visit.review, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return _render(request, visit, status=422)
    return _saved(request, visit.review, _("Review closed. It is read-only from now on."))


@_review_action(
    permissions.can_request_peer_feedback,
    gettext_lazy("Only the participant or their manager can ask for peer feedback."),
)
def feedback_request(request, visit: Visit):
    review = visit.review
    return _act(
        request,
        visit,
        key="feedback",
        form=PeerFeedbackRequestForm(request.POST, candidates=peer_feedback_candidates(review)),
        call=lambda f: peer_feedback_request(review=review, actor=request.user, **f.cleaned_data),
        success=lambda asked: _("%(person)s was asked for feedback.") % {"person": asked.reviewer},
    )


@login_required
def feedback_answer(request, pk: int, request_pk: int):
    """The one action a colleague who sees only the request addressed to them may take."""
    user, visit = request.user, _visit_or_404(request.user, pk)  # unknown or hidden: 404, even on a GET
    if request.method != "POST":
        return redirect("review", pk)
    asked = next((r for r in visit.review.peer_requests.all() if r.pk == request_pk), None)
    if asked is None or (asked.reviewer_id != user.pk and not visit.full):
        raise Http404
    # Allowed, ``asked`` is the viewer's own request (``visit.my_request``: one per colleague).
    if not permissions.can_answer_peer_feedback(user, asked):
        raise PermissionDenied(_("Only the colleague who was asked can answer this request."))
    return _act(
        request,
        visit,
        key="answer",
        form=PeerFeedbackAnswerForm(request.POST),
        call=lambda f: peer_feedback_answer(request=asked, actor=user, answer=f.cleaned_data["answer"]),
        success=_("Thank you: your feedback was sent."),
    )


urlpatterns = [
    path("reviews/", reviews_page, name="reviews"),
    path("reviews/<int:pk>/", review_page, name="review"),
    path("reviews/<int:pk>/submit/", submit_self, name="review_submit_self"),
    path("reviews/<int:pk>/calibrate/", calibrate, name="review_calibrate"),
    path("reviews/<int:pk>/contest/", contest, name="review_contest"),
    path("reviews/<int:pk>/resolve/", resolve_contest, name="review_resolve_contest"),
    path("reviews/<int:pk>/close/", close, name="review_close"),
    path("reviews/<int:pk>/feedback/request/", feedback_request, name="review_feedback_request"),
    path(
        "reviews/<int:pk>/feedback/<int:request_pk>/answer/", feedback_answer, name="review_feedback_answer"
    ),
]
