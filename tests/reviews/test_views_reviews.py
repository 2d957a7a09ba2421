"""The reviews pages: the list of what I review, and one review's page whose forms depend
on the viewer and the review's state (self-assessment → calibration → contest → close),
peer feedback asked and answered; refusals change nothing; query counts stay flat.

Demo data (acme, check-in review 3 open): platform.lead's and growth.lead's reviews are
self-submitted (manager: cto); sre's is calibrated by platform.lead and contested, with
backend's feedback answered; analyst was asked about growth.lead's and has not answered;
cs.lead's and sales.lead's are pending (manager: ceo)."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs.models import Cycle, Objective
from okrs.services.objectives import key_result_create, objective_create
from reviews.models import PeerFeedbackRequest, Review, ReviewCycle, ReviewKeyResultScore, ReviewSettings
from reviews.selectors import review_settings
from reviews.services import review_calibrate, review_cycle_create, review_cycle_open, review_submit_self
from tests.factories import UserFactory
from tests.web import get_counting, sign_in

pytestmark = pytest.mark.django_db

# Routing (3), session, user, reporting lines, my reviews, review settings, my reports'
# reviews, contests to resolve, feedback asked of me, inbox badge.
REVIEWS_QUERIES = 12
# Routing (3), session, user, the review + its KR scores + its peer requests (3), review
# settings, colleagues to ask for feedback, inbox badge. (A participant's and a recorded
# manager's rights need no query: they are on the review.)
REVIEW_QUERIES = 11

ACTION_FORMS = (
    "self-review-form",
    "calibration-form",
    "contest-form",
    "resolve-form",
    "close-form",
    "feedback-request-form",
    "feedback-answer-form",
)


@pytest.fixture(autouse=True)
def settings_row(acme):
    """The review settings row exists, as in an organisation that has used reviews."""
    with tenant_context(acme):
        review_settings()
    connection.set_schema_to_public()


def review_of(acme, local: str) -> Review:
    with tenant_context(acme):
        review = Review.objects.select_related("objective").get(participant__email=f"{local}@acme.example")
    connection.set_schema_to_public()
    return review


def stored(acme, review: Review) -> dict:
    """Everything stored about a review, to show that a refused write changed nothing."""
    with tenant_context(acme):
        state = {
            "review": Review.objects.filter(pk=review.pk).values().get(),
            "scores": list(ReviewKeyResultScore.objects.filter(review=review).order_by("id").values()),
            "peer": list(PeerFeedbackRequest.objects.filter(review=review).order_by("id").values()),
        }
    connection.set_schema_to_public()
    return state


def kr_ids(acme, review: Review) -> list[int]:
    with tenant_context(acme):
        ids = list(
            ReviewKeyResultScore.objects.filter(review=review)
            .order_by("id")
            .values_list("key_result_id", flat=True)
        )
    connection.set_schema_to_public()
    return ids


def person(acme, local: str) -> User:
    with tenant_context(acme):
        user = User.objects.get(email=f"{local}@acme.example")
    connection.set_schema_to_public()
    return user


def forms_in(html: str) -> set[str]:
    return {name for name in ACTION_FORMS if f'data-testid="{name}"' in html}


def self_review_data(acme, review: Review, **overrides) -> dict:
    data = {"self_score": "0.6", "went_well": "Onboarding calls", "didnt_go_well": "", "learnings": ""}
    data.update({f"kr_{pk}": "0.5" for pk in kr_ids(acme, review)})
    data.update(overrides)
    return data


def calibration_data(acme, review: Review, **overrides) -> dict:
    data = {"manager_score": "0.6", "comment": ""}
    data.update({f"kr_{pk}": "0.5" for pk in kr_ids(acme, review)})
    data.update(overrides)
    return data


def set_scores_feed_appraisal(acme, value: bool) -> None:
    with tenant_context(acme):
        settings = review_settings()
        settings.review_scores_feed_appraisal = value
        settings.save()
    connection.set_schema_to_public()


# --- the reviews page ----------------------------------------------------------------------


def test_manager_sees_the_calibration_table(acme, acme_client):
    sign_in(acme_client, acme, "cto@acme.example")
    response, queries = get_counting(acme_client, "/reviews/")
    html = response.content.decode()
    assert response.status_code == 200
    # platform.lead's and growth.lead's to calibrate; sre's (below platform.lead) calibrated, contested
    assert html.count('data-testid="calibration-row"') == 3
    assert html.count('data-testid="calibrate-link"') == 2
    assert "Linus Chen" in html
    assert "Sofia Rossi" in html
    assert 'data-testid="reviews-contests"' in html
    assert queries == REVIEWS_QUERIES


def test_first_line_manager_sees_the_contest_to_resolve(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    html = acme_client.get("/reviews/").content.decode()
    assert html.count('data-testid="contest-item"') == 1
    assert html.count('data-testid="calibration-row"') == 1  # sre's, calibrated and contested
    assert 'data-state="contested"' in html
    assert html.count('data-testid="review-in-progress-item"') == 1  # their own, self-submitted


def test_participant_sees_their_reviews_and_no_manager_sections(acme, acme_client):
    sign_in(acme_client, acme, "cs.lead@acme.example")
    html = acme_client.get("/reviews/").content.decode()
    assert html.count('data-testid="review-due-item"') == 1
    assert "overdue since" in html  # the demo review cycle was due a week ago
    sign_in(acme_client, acme, "sre@acme.example")
    html = acme_client.get("/reviews/").content.decode()
    assert 'data-testid="calibration-table"' not in html
    assert 'data-testid="reviews-team"' not in html


def test_colleague_sees_the_feedback_asked_of_them(acme, acme_client):
    sign_in(acme_client, acme, "analyst@acme.example")
    html = acme_client.get("/reviews/").content.decode()
    assert html.count('data-testid="feedback-request-item"') == 1
    assert "Grow where customers already love us" in html


def test_viewer_and_new_people_get_empty_states_without_controls(acme, acme_client):
    sign_in(acme_client, acme, "board@acme.example")
    response = acme_client.get("/reviews/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "No self-assessment is waiting for you." in html
    assert "No closed review yet." in html
    assert 'class="btn' not in html.split('id="main"')[1].split("</main>")[0]


def test_scores_show_in_the_table_only_when_they_may_feed_appraisals(acme, acme_client):
    sign_in(acme_client, acme, "cto@acme.example")
    html = acme_client.get("/reviews/").content.decode()
    assert 'data-testid="proposed-score"' not in html
    assert "objective progress" in html.lower()

    set_scores_feed_appraisal(acme, True)
    html = acme_client.get("/reviews/").content.decode()
    assert html.count('data-testid="proposed-score"') == 3
    assert html.count('data-testid="calibrated-score"') == 3


def test_reviews_page_queries_do_not_grow_with_reviews(acme, acme_client):
    sign_in(acme_client, acme, "cto@acme.example")
    _, few = get_counting(acme_client, "/reviews/")
    with tenant_context(acme):
        quarter = Cycle.objects.get(kind=Cycle.Kind.QUARTER, state=Cycle.State.ACTIVE)
        ceo, backend = (User.objects.get(email=f"{n}@acme.example") for n in ("ceo", "backend"))
        for number in range(15):
            objective = objective_create(
                actor=ceo, cycle=quarter, owner=backend, title=f"Backend objective {number}", state="active"
            )
            key_result_create(
                actor=ceo, objective=objective, title=f"KR {number}", kind="increase", start=0, target=10
            )
        extra = review_cycle_create(
            actor=ceo, cycle=quarter, kind="checkin_review", name="Extra review",
            opens_on=quarter.start_date, due_on=quarter.end_date,
        )  # fmt: skip
        review_cycle_open(review_cycle=extra, actor=ceo)
        for review in Review.objects.filter(review_cycle=extra, participant=backend)[:5]:
            review_submit_self(review=review, actor=backend, self_score=0.5)
    connection.set_schema_to_public()

    response, many = get_counting(acme_client, "/reviews/")
    assert response.content.decode().count('data-testid="calibration-row"') > 20
    assert few == many == REVIEWS_QUERIES


def test_reading_the_review_pages_writes_no_settings(acme, acme_client):
    review = review_of(acme, "cs.lead")
    with tenant_context(acme):
        ReviewSettings.objects.all().delete()
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "cs.lead@acme.example")
    assert acme_client.get("/reviews/").status_code == 200
    assert acme_client.get(f"/reviews/{review.pk}/").status_code == 200
    with tenant_context(acme):
        assert not ReviewSettings.objects.exists()


def test_globex_reviews_page_renders_in_chinese(globex, globex_client):
    sign_in(globex_client, globex, "cto@globex.example")
    response = globex_client.get("/reviews/")
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert 'data-testid="calibration-table"' in html


# --- one review: who sees what -------------------------------------------------------------


def test_participant_gets_a_prefilled_self_assessment(acme, acme_client):
    review = review_of(acme, "cs.lead")
    sign_in(acme_client, acme, "cs.lead@acme.example")
    response, queries = get_counting(acme_client, f"/reviews/{review.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert forms_in(html) == {"self-review-form", "feedback-request-form"}
    with tenant_context(acme):
        objective = Objective.objects.get(pk=review.objective_id)
        krs = list(objective.key_results.order_by("id"))
    connection.set_schema_to_public()
    assert f'name="self_score" value="{round(objective.progress, 2)}"' in html
    for kr in krs:
        assert f'name="kr_{kr.pk}" value="{round(kr.progress, 2)}"' in html
    assert f'data-testid="check-in-{krs[0].pk}"' in html  # the owner can check in from here
    assert queries == REVIEW_QUERIES


def test_manager_gets_the_calibration_form_prefilled_with_the_proposal(acme, acme_client):
    review = review_of(acme, "platform.lead")
    sign_in(acme_client, acme, "cto@acme.example")
    response, queries = get_counting(acme_client, f"/reviews/{review.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert forms_in(html) == {"calibration-form", "feedback-request-form"}
    assert f'name="manager_score" value="{round(review.self_score, 2)}"' in html
    assert 'data-testid="reflection"' in html
    assert "Parallel builds cut the deploy time in half." in html
    assert 'data-testid="check-in-' not in html
    assert queries == REVIEW_QUERIES


def test_contested_review_shows_the_exchange_and_the_resolve_form(acme, acme_client):
    review = review_of(acme, "sre")
    sign_in(acme_client, acme, "sre@acme.example")
    response, queries = get_counting(acme_client, f"/reviews/{review.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert forms_in(html) == {"feedback-request-form"}  # contested once already
    assert "Two of the repeats came from a vendor outage" in html
    assert "They saved me twice at night." in html
    assert queries == REVIEW_QUERIES

    sign_in(acme_client, acme, "platform.lead@acme.example")
    html = acme_client.get(f"/reviews/{review.pk}/").content.decode()
    assert forms_in(html) == {"resolve-form", "feedback-request-form"}  # no close while contested


def test_review_page_queries_do_not_grow_with_key_results_and_feedback(acme, acme_client):
    review = review_of(acme, "cs.lead")
    sign_in(acme_client, acme, "cs.lead@acme.example")
    _, few = get_counting(acme_client, f"/reviews/{review.pk}/")
    with tenant_context(acme):
        for number in range(8):
            ReviewKeyResultScore.objects.create(
                review=review,
                key_result=key_result_create(
                    actor=review.participant, objective=review.objective, title=f"Extra KR {number}",
                    kind="increase", start=0, target=10,
                ),
            )  # fmt: skip
        for user in User.objects.exclude(pk=review.participant_id).exclude(role="viewer")[:6]:
            PeerFeedbackRequest.objects.create(review=review, requested_by=review.participant, reviewer=user)
    connection.set_schema_to_public()
    response, many = get_counting(acme_client, f"/reviews/{review.pk}/")
    assert response.content.decode().count('data-testid="peer-feedback-item"') == 6
    assert few == many == REVIEW_QUERIES


def test_people_who_may_not_see_a_review_get_404(acme, acme_client):
    review = review_of(acme, "platform.lead")
    for local in ("board", "sre", "cs.lead"):
        sign_in(acme_client, acme, f"{local}@acme.example")
        assert acme_client.get(f"/reviews/{review.pk}/").status_code == 404
    assert acme_client.get("/reviews/999999/").status_code == 404


def test_private_objective_review_is_hidden_from_a_consultant(acme, acme_client):
    review = review_of(acme, "platform.lead")
    with tenant_context(acme):
        UserFactory(email="coach@acme.example", role=User.Role.CONSULTANT)
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "coach@acme.example")
    assert acme_client.get(f"/reviews/{review.pk}/").status_code == 200
    with tenant_context(acme):
        Objective.objects.filter(pk=review.objective_id).update(visibility=Objective.Visibility.PRIVATE)
    connection.set_schema_to_public()
    assert acme_client.get(f"/reviews/{review.pk}/").status_code == 404
    sign_in(acme_client, acme, "cto@acme.example")  # the manager chain still sees it
    assert acme_client.get(f"/reviews/{review.pk}/").status_code == 200


def test_grades_show_read_only_only_when_they_may_feed_appraisals(acme, acme_client):
    review = review_of(acme, "sre")
    sign_in(acme_client, acme, "ceo@acme.example")
    html = acme_client.get(f"/reviews/{review.pk}/").content.decode()
    assert 'data-testid="review-grades"' not in html
    set_scores_feed_appraisal(acme, True)
    html = acme_client.get(f"/reviews/{review.pk}/").content.decode()
    assert 'data-testid="review-grades"' in html


# --- one review: the workflow through the forms ---------------------------------------------


def test_participant_submits_the_self_assessment(acme, acme_client):
    review = review_of(acme, "cs.lead")
    ids = kr_ids(acme, review)
    sign_in(acme_client, acme, "cs.lead@acme.example")
    data = self_review_data(acme, review, **{f"kr_{ids[0]}": "0.7", "learnings": "Call within a day"})
    response = acme_client.post(f"/reviews/{review.pk}/submit/", data, follow=True)
    assert response.redirect_chain == [(f"/reviews/{review.pk}/", 302)]
    assert b"Self-assessment submitted." in response.content
    after = stored(acme, review)
    assert after["review"]["state"] == "self_submitted"
    assert (after["review"]["self_score"], after["review"]["learnings"]) == (0.6, "Call within a day")
    assert [row["self_score"] for row in after["scores"]] == [0.7, 0.5]


def test_bad_self_assessment_is_a_422_on_the_field_and_changes_nothing(acme, acme_client):
    review = review_of(acme, "cs.lead")
    before = stored(acme, review)
    ids = kr_ids(acme, review)
    sign_in(acme_client, acme, "cs.lead@acme.example")
    response = acme_client.post(
        f"/reviews/{review.pk}/submit/",
        self_review_data(acme, review, self_score="1.5", **{f"kr_{ids[1]}": "x"}),
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert 'name="self_score" value="1.5"' in html
    assert 'aria-invalid="true"' in html
    assert "A score runs from 0.0 to 1.0." in html
    assert "Enter a number." in html
    assert stored(acme, review) == before


def test_end_of_cycle_needs_the_retrospective(acme, acme_client):
    review = review_of(acme, "cs.lead")
    with tenant_context(acme):
        ReviewCycle.objects.filter(pk=review.review_cycle_id).update(kind=ReviewCycle.Kind.END_OF_CYCLE)
    connection.set_schema_to_public()
    before = stored(acme, review)
    sign_in(acme_client, acme, "cs.lead@acme.example")
    assert b'<fieldset data-testid="retrospective">' in acme_client.get(f"/reviews/{review.pk}/").content
    response = acme_client.post(f"/reviews/{review.pk}/submit/", self_review_data(acme, review))
    assert response.status_code == 422
    assert response.content.decode().count("Describe the problem, what you found out and your answer.") == 3
    assert stored(acme, review) == before


def test_manager_calibrates_and_a_big_change_needs_a_comment(acme, acme_client):
    review = review_of(acme, "platform.lead")
    before = stored(acme, review)
    sign_in(acme_client, acme, "cto@acme.example")
    refused = acme_client.post(
        f"/reviews/{review.pk}/calibrate/", calibration_data(acme, review, manager_score="0.1")
    )
    assert refused.status_code == 422
    assert "say why in a comment" in refused.content.decode()
    assert stored(acme, review) == before

    response = acme_client.post(
        f"/reviews/{review.pk}/calibrate/",
        calibration_data(acme, review, manager_score="0.1", comment="Failure rate barely moved"),
    )
    assert response.status_code == 302
    after = stored(acme, review)
    assert (after["review"]["state"], after["review"]["manager_score"]) == ("calibrated", 0.1)
    assert after["review"]["manager_comment"] == "Failure rate barely moved"
    assert {row["manager_score"] for row in after["scores"]} == {0.5}


def test_participant_contests_once_then_the_manager_resolves_and_closes(acme, acme_client):
    review = review_of(acme, "platform.lead")
    with tenant_context(acme):
        review_calibrate(
            review=review, actor=User.objects.get(email="cto@acme.example"), manager_score=0.3, comment="Slow"
        )
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "platform.lead@acme.example")
    html = acme_client.get(f"/reviews/{review.pk}/").content.decode()
    assert "contest-form" in forms_in(html)
    before = stored(acme, review)
    empty = acme_client.post(f"/reviews/{review.pk}/contest/", {"reason": "  "})
    assert empty.status_code == 422
    assert "Say why you contest the calibration." in empty.content.decode()
    assert stored(acme, review) == before
    assert acme_client.post(f"/reviews/{review.pk}/contest/", {"reason": "Vendor delays"}).status_code == 302
    assert stored(acme, review)["review"]["contest_reason"] == "Vendor delays"

    sign_in(acme_client, acme, "cto@acme.example")
    blocked = acme_client.post(f"/reviews/{review.pk}/close/")
    assert blocked.status_code == 422
    assert "Resolve the contest before closing this review." in blocked.content.decode()
    assert stored(acme, review)["review"]["state"] == "calibrated"
    resolved = acme_client.post(
        f"/reviews/{review.pk}/resolve/", {"resolution": "Agreed", "manager_score": "0.5"}
    )
    assert resolved.status_code == 302
    assert acme_client.post(f"/reviews/{review.pk}/close/").status_code == 302
    after = stored(acme, review)["review"]
    assert (after["state"], after["manager_score"], after["contest_resolution"]) == ("closed", 0.5, "Agreed")

    for local in ("cto", "platform.lead"):
        sign_in(acme_client, acme, f"{local}@acme.example")
        html = acme_client.get(f"/reviews/{review.pk}/").content.decode()
        assert forms_in(html) == set()
        assert 'data-testid="review-read-only"' in html


def test_refusals_are_403_and_change_nothing(acme, acme_client):
    own = review_of(acme, "platform.lead")
    contested = review_of(acme, "sre")
    before = (stored(acme, own), stored(acme, contested))
    sign_in(acme_client, acme, "platform.lead@acme.example")
    assert acme_client.post(f"/reviews/{own.pk}/calibrate/", calibration_data(acme, own)).status_code == 403
    assert acme_client.post(f"/reviews/{own.pk}/close/").status_code == 403
    assert (
        acme_client.post(f"/reviews/{contested.pk}/submit/", self_review_data(acme, contested)).status_code
        == 403
    )
    assert acme_client.post(f"/reviews/{contested.pk}/contest/", {"reason": "Mine"}).status_code == 403
    sign_in(acme_client, acme, "sre@acme.example")
    assert acme_client.post(f"/reviews/{contested.pk}/resolve/", {"resolution": "Self"}).status_code == 403
    sign_in(acme_client, acme, "board@acme.example")
    assert acme_client.post(f"/reviews/{own.pk}/submit/", self_review_data(acme, own)).status_code == 404
    assert (stored(acme, own), stored(acme, contested)) == before


def test_get_on_an_action_leads_back_to_the_review(acme, acme_client):
    review = review_of(acme, "cs.lead")
    sign_in(acme_client, acme, "cs.lead@acme.example")
    response = acme_client.get(f"/reviews/{review.pk}/submit/")
    assert (response.status_code, response["Location"]) == (302, f"/reviews/{review.pk}/")


# --- peer feedback --------------------------------------------------------------------------


def test_participant_asks_a_colleague_and_bad_choices_are_field_errors(acme, acme_client):
    review = review_of(acme, "growth.lead")
    analyst, backend, board = (person(acme, n) for n in ("analyst", "backend", "board"))
    sign_in(acme_client, acme, "growth.lead@acme.example")
    html = acme_client.get(f"/reviews/{review.pk}/").content.decode()
    assert f'<option value="{backend.pk}">' in html
    assert f'<option value="{analyst.pk}">' not in html  # already asked
    assert f'<option value="{board.pk}">' not in html  # read-only people give no feedback
    before = stored(acme, review)
    for reviewer in (analyst, board, review.participant_id):
        pk = getattr(reviewer, "pk", reviewer)
        response = acme_client.post(f"/reviews/{review.pk}/feedback/request/", {"reviewer": pk})
        assert response.status_code == 422
        assert "Choose one of the colleagues in the list." in response.content.decode()
    assert stored(acme, review) == before

    response = acme_client.post(
        f"/reviews/{review.pk}/feedback/request/", {"reviewer": backend.pk, "question": "Was the API ready?"}
    )
    assert response.status_code == 302
    asked = stored(acme, review)["peer"]
    assert [(r["reviewer_id"], r["question"]) for r in asked[1:]] == [(backend.pk, "Was the API ready?")]


def test_colleague_answers_on_a_page_that_shows_only_their_request(acme, acme_client):
    review = review_of(acme, "growth.lead")
    sign_in(acme_client, acme, "analyst@acme.example")
    response, queries = get_counting(acme_client, f"/reviews/{review.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="feedback-request-page"' in html
    assert "Was the referral analysis useful?" in html
    assert 'data-testid="reflection"' not in html
    assert 'data-testid="review-outcome"' not in html
    assert forms_in(html) == {"feedback-answer-form"}
    # No settings, no colleagues to pick; one query for the reporting lines (may they see the review?).
    assert queries == REVIEW_QUERIES - 1
    with tenant_context(acme):
        asked = PeerFeedbackRequest.objects.get(review=review, reviewer__email="analyst@acme.example")
    connection.set_schema_to_public()
    url = f"/reviews/{review.pk}/feedback/{asked.pk}/answer/"
    before = stored(acme, review)

    empty = acme_client.post(url, {"answer": " "})
    assert empty.status_code == 422
    assert 'aria-invalid="true"' in empty.content.decode()
    assert stored(acme, review) == before
    assert acme_client.post(url, {"answer": "Yes, it shaped the campaign."}).status_code == 302
    assert stored(acme, review)["peer"][0]["answer"] == "Yes, it shaped the campaign."
    html = acme_client.get(f"/reviews/{review.pk}/").content.decode()
    assert forms_in(html) == set()
    assert 'data-testid="my-answer"' in html


def test_only_the_colleague_asked_may_answer(acme, acme_client):
    review = review_of(acme, "growth.lead")
    with tenant_context(acme):
        asked = PeerFeedbackRequest.objects.get(review=review)
    connection.set_schema_to_public()
    url = f"/reviews/{review.pk}/feedback/{asked.pk}/answer/"
    before = stored(acme, review)
    sign_in(acme_client, acme, "backend@acme.example")  # may not see the review: 404
    assert acme_client.post(url, {"answer": "Me too"}).status_code == 404
    sign_in(acme_client, acme, "growth.lead@acme.example")  # sees the review, was not asked: 403
    assert acme_client.post(url, {"answer": "Me too"}).status_code == 403
    other = review_of(acme, "sre")
    sign_in(acme_client, acme, "analyst@acme.example")  # a request of another review: 404
    assert (
        acme_client.post(f"/reviews/{other.pk}/feedback/{asked.pk}/answer/", {"answer": "x"}).status_code
        == 404
    )
    assert acme_client.post(f"/reviews/{review.pk}/submit/", {"self_score": "1"}).status_code == 403
    assert stored(acme, review) == before
