"""Reviews over the API: visibility identical to the review page's (private objectives
included), grades only to those who grade unless the organisation lets them feed
appraisals, every workflow step as an action through the same service and permission,
peer feedback asked and answered; refusals change nothing; lists take fixed queries.

Demo data (acme, check-in review 3 open): platform.lead's and growth.lead's reviews are
self-submitted (manager: cto); sre's is calibrated by platform.lead and contested, with
backend's feedback answered; analyst was asked about growth.lead's and has not answered;
cs.lead's and sales.lead's are pending (manager: ceo)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import ApiToken, InboxItem, User
from okrs.models import Cycle, Objective
from okrs.services.objectives import key_result_create, objective_create
from reviews import permissions
from reviews.models import PeerFeedbackRequest, Review, ReviewCycle, ReviewKeyResultScore
from reviews.selectors import review_settings
from reviews.services import review_cycle_create, review_cycle_open
from tests.api_helpers import api_client, session_api, token_api
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REVIEW_FIELDS = {
    "id", "review_cycle", "objective", "participant", "manager", "state", "is_contested", "key_results",
    "grades", "went_well", "didnt_go_well", "learnings", "next_steps", "problem", "information", "answer",
    "submitted_at", "manager_comment", "calibrated_by", "calibrated_at", "contest_reason", "contested_at",
    "contest_resolution", "contest_resolved_by", "contest_resolved_at", "peer_feedback", "closed_at",
    "created_at", "updated_at",
}  # fmt: skip
# Routing (3), session, user, the page, its KR scores, its peer requests, review settings.
ADMIN_LIST_QUERIES = 9
# Routing (3), the token with its person, the person's reporting lines (once per request, for
# visibility and every row's grades), the page, its KR scores, its peer requests, review settings.
MANAGER_TOKEN_LIST_QUERIES = 9
# Routing (3), session, user, the page.
FEEDBACK_LIST_QUERIES = 6


@pytest.fixture(autouse=True)
def settings_row(acme):
    """The review settings row exists, as in an organisation that has used reviews."""
    with tenant_context(acme):
        review_settings()
    connection.set_schema_to_public()


def review_of(acme, local: str) -> Review:
    with tenant_context(acme):
        review = Review.objects.get(participant__email=f"{local}@acme.example", review_cycle__state="open")
    connection.set_schema_to_public()
    return review


def person(acme, local: str) -> User:
    with tenant_context(acme):
        user = User.objects.get(email=f"{local}@acme.example")
    connection.set_schema_to_public()
    return user


def kr_ids(acme, review: Review) -> list[int]:
    with tenant_context(acme):
        ids = list(
            ReviewKeyResultScore.objects.filter(review=review)
            .order_by("id")
            .values_list("key_result_id", flat=True)
        )
    connection.set_schema_to_public()
    return ids


def stored(acme) -> dict:
    """Everything stored about reviews, to show that a refused write changed nothing."""
    with tenant_context(acme):
        state = {
            "reviews": list(Review.objects.order_by("pk").values()),
            "scores": list(ReviewKeyResultScore.objects.order_by("pk").values()),
            "peer": list(PeerFeedbackRequest.objects.order_by("pk").values()),
        }
    connection.set_schema_to_public()
    return state


def set_scores_feed_appraisal(acme, value: bool) -> None:
    with tenant_context(acme):
        settings = review_settings()
        settings.review_scores_feed_appraisal = value
        settings.save()
    connection.set_schema_to_public()


def listed_ids(client, url: str = "/api/v1/reviews/") -> list[int]:
    response = client.get(f"{url}?page_size=100")
    assert response.status_code == 200, response.json()
    assert response.json()["next"] is None
    return sorted(row["id"] for row in response.json()["results"])


@pytest.fixture
def private_review(acme) -> Review:
    """A private objective of backend's (team Platform, manager platform.lead) and a new
    open review cycle of the quarter: a review for every objective of it, this one too."""
    with tenant_context(acme):
        quarter = Cycle.objects.get(name="Q4 2026")
        ceo, backend = (User.objects.get(email=f"{n}@acme.example") for n in ("ceo", "backend"))
        objective = objective_create(
            actor=ceo, cycle=quarter, owner=backend, team=backend.team, title="Quiet on-call",
            visibility=Objective.Visibility.PRIVATE, state="active",
        )  # fmt: skip
        key_result_create(
            actor=ceo, objective=objective, title="Pages 40 → 10", kind="decrease", start=40, target=10
        )
        review_cycle = review_cycle_create(
            actor=ceo, cycle=quarter, kind="calibration", name="Extra calibration",
            opens_on=date(2026, 11, 1), due_on=date(2026, 12, 1),
        )  # fmt: skip
        review_cycle_open(review_cycle=review_cycle, actor=ceo)
        review = Review.objects.get(review_cycle=review_cycle, objective=objective)
    connection.set_schema_to_public()
    return review


# --- visibility ---------------------------------------------------------------------------


def test_everyone_sees_exactly_the_reviews_the_review_page_opens(acme, private_review):
    with tenant_context(acme):
        UserFactory(email="coach@acme.example", role=User.Role.CONSULTANT)
        everyone = list(User.objects.all())
        reviews = list(Review.objects.select_related("objective"))
        expected = {
            u.email: sorted(r.pk for r in reviews if permissions.can_open_review(u, r)) for u in everyone
        }
    connection.set_schema_to_public()
    assert len(reviews) == 5 + 6  # the demo's, and one per eligible objective of the quarter

    seen = {email: listed_ids(session_api(acme, email)) for email in expected}

    assert seen == expected
    assert private_review.pk not in seen["coach@acme.example"]  # a consultant outside its team
    assert private_review.pk in seen["platform.lead@acme.example"]
    assert seen["board@acme.example"] == []


def test_a_private_review_is_404_to_those_who_may_not_see_it(acme, private_review):
    with tenant_context(acme):
        UserFactory(email="coach@acme.example", role=User.Role.CONSULTANT)
    connection.set_schema_to_public()
    url = f"/api/v1/reviews/{private_review.pk}/"

    assert session_api(acme, "coach@acme.example").get(url).status_code == 404
    assert session_api(acme, "sre@acme.example").get(url).status_code == 404  # same team, not a party
    assert session_api(acme, "cto@acme.example").get(url).status_code == 200
    assert session_api(acme, "backend@acme.example").get(url).status_code == 200


def test_a_colleague_asked_for_feedback_sees_the_request_not_the_review(acme):
    review = review_of(acme, "growth.lead")
    client = session_api(acme, "analyst@acme.example")

    assert client.get(f"/api/v1/reviews/{review.pk}/").status_code == 404
    requests = client.get("/api/v1/peer-feedback-requests/").json()["results"]
    assert [r["review"] for r in requests] == [review.pk]


def test_another_organisations_review_is_404(acme, globex):
    with tenant_context(acme):
        top = Review.objects.order_by("-pk").values_list("pk", flat=True).first()
    connection.set_schema_to_public()
    with tenant_context(globex):
        assert not Review.objects.filter(pk=top).exists()
    connection.set_schema_to_public()
    client = session_api(globex, "ceo@globex.example")
    before = stored(acme)

    assert client.get(f"/api/v1/reviews/{top}/").status_code == 404
    assert client.post(f"/api/v1/reviews/{top}/close/").status_code == 404
    assert stored(acme) == before


def test_anonymous_is_401(acme):
    assert api_client(acme).get("/api/v1/reviews/").status_code == 401
    assert api_client(acme).get("/api/v1/peer-feedback-requests/").status_code == 401


# --- what a review shows -------------------------------------------------------------------


def test_a_review_as_its_calibrator_sees_it(acme):
    review = review_of(acme, "sre")

    body = session_api(acme, "platform.lead@acme.example").get(f"/api/v1/reviews/{review.pk}/").json()

    assert set(body) == REVIEW_FIELDS
    assert (body["state"], body["is_contested"]) == ("calibrated", True)
    assert body["participant"] == {
        "id": person(acme, "sre").pk,
        "full_name": "Mei Wang",
        "email": "sre@acme.example",
    }
    assert body["calibrated_by"]["email"] == "platform.lead@acme.example"
    assert body["review_cycle"]["name"] == "Q4 2026: check-in review 3"
    assert [kr["key_result"] for kr in body["key_results"]] == kr_ids(acme, review)
    assert set(body["grades"]) == {"self_score", "manager_score", "contested_manager_score", "key_results"}
    assert body["grades"]["manager_score"] == pytest.approx(review.manager_score)
    assert [(f["reviewer"]["email"], f["answer"]) for f in body["peer_feedback"]] == [
        ("backend@acme.example", "They saved me twice at night.")
    ]


def test_grades_only_for_those_who_grade_unless_they_may_feed_appraisals(acme):
    with tenant_context(acme):
        UserFactory(email="coach@acme.example", role=User.Role.CONSULTANT)
    connection.set_schema_to_public()
    url = f"/api/v1/reviews/{review_of(acme, 'sre').pk}/"

    assert session_api(acme, "coach@acme.example").get(url).json()["grades"] is None
    assert session_api(acme, "sre@acme.example").get(url).json()["grades"] is not None  # the participant
    assert session_api(acme, "cto@acme.example").get(url).json()["grades"] is not None  # may calibrate

    set_scores_feed_appraisal(acme, True)
    assert session_api(acme, "coach@acme.example").get(url).json()["grades"] is not None


def test_filters(acme):
    client = session_api(acme, "ceo@acme.example")
    ids = {local: review_of(acme, local).pk for local in ("cs.lead", "sales.lead", "sre")}

    def found(query: str) -> set[int]:
        response = client.get(f"/api/v1/reviews/?{query}")
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert found("state=pending") == {ids["cs.lead"], ids["sales.lead"]}
    assert found(f"participant={person(acme, 'sre').pk}") == {ids["sre"]}
    assert found(f"manager={person(acme, 'ceo').pk}") == {ids["cs.lead"], ids["sales.lead"]}
    assert len(found("updated_since=2000-01-01T00:00:00Z")) == 5
    assert found("updated_since=2999-01-01T00:00:00Z") == set()
    for query, field in [
        ("state=done", "state"),
        ("updated_since=yesterday", "updated_since"),
        ("objective=a", "objective"),
    ]:
        response = client.get(f"/api/v1/reviews/?{query}")
        assert (response.status_code, set(response.json()["fields"])) == (400, {field})


# --- the workflow --------------------------------------------------------------------------


def test_participant_submits_their_self_review(acme):
    review = review_of(acme, "cs.lead")
    krs = kr_ids(acme, review)
    body = {
        "self_score": 0.6,
        "key_result_scores": [{"key_result": pk, "score": 0.5} for pk in krs],
        "went_well": "  Onboarding calls  ",
    }

    response = session_api(acme, "cs.lead@acme.example").post(
        f"/api/v1/reviews/{review.pk}/submit-self/", body, format="json"
    )

    assert response.status_code == 200, response.json()
    result = response.json()
    assert (result["state"], result["went_well"], result["grades"]["self_score"]) == (
        "self_submitted",
        "Onboarding calls",
        0.6,
    )
    assert [kr["self_score"] for kr in result["grades"]["key_results"]] == [0.5] * len(krs)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"self_score": 1.5}, "self_score"),
        ({"self_score": "abc"}, "self_score"),
        ({}, "self_score"),
        (
            {"self_score": 0.5, "key_result_scores": [{"key_result": 999999, "score": 0.5}]},
            "key_result_scores",
        ),
        ({"self_score": 0.5, "key_result_scores": [{"key_result": "KR", "score": 2}]}, "key_result_scores"),
        (
            {"self_score": 0.5, "key_result_scores": [{"key_result": 1, "score": 0.5, "x": 1}]},
            "key_result_scores",
        ),
        ({"self_score": 0.5, "key_result_scores": {"1": 0.5}}, "key_result_scores"),
        ({"self_score": 0.5, "went_well": "x" * 5001}, "went_well"),
        ({"self_score": 0.5, "state": "closed"}, "state"),
        ({"self_score": 0.5, "manager_score": 1}, "manager_score"),
    ],
)
def test_invalid_self_reviews_name_the_field_and_change_nothing(acme, body, field):
    review = review_of(acme, "cs.lead")
    client = session_api(acme, "cs.lead@acme.example")
    before = stored(acme)

    response = client.post(f"/api/v1/reviews/{review.pk}/submit-self/", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == {field}
    assert stored(acme) == before


def test_a_key_result_scored_twice_is_refused(acme):
    review = review_of(acme, "cs.lead")
    (first, *_rest) = kr_ids(acme, review)
    body = {"self_score": 0.5, "key_result_scores": [{"key_result": first, "score": 0.5}] * 2}

    response = session_api(acme, "cs.lead@acme.example").post(
        f"/api/v1/reviews/{review.pk}/submit-self/", body, format="json"
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"key_result_scores": ["Give each key result one score."]}


def test_only_the_participant_submits_and_nothing_changes(acme):
    review = review_of(acme, "cs.lead")
    manager = session_api(acme, "ceo@acme.example")
    read_only = token_api(acme, "cs.lead@acme.example", scope=ApiToken.Scope.READ)
    before = stored(acme)

    by_manager = manager.post(f"/api/v1/reviews/{review.pk}/submit-self/", {"self_score": 0.5}, format="json")
    by_token = read_only.post(f"/api/v1/reviews/{review.pk}/submit-self/", {"self_score": 0.5}, format="json")

    assert by_manager.status_code == 403
    assert by_manager.json()["detail"] == "Only the participant can submit their self-review."
    assert by_token.status_code == 403
    assert stored(acme) == before


def test_a_viewer_recorded_as_manager_sees_the_review_but_changes_nothing(acme):
    review = review_of(acme, "growth.lead")
    with tenant_context(acme):
        Review.objects.filter(pk=review.pk).update(manager=User.objects.get(email="board@acme.example"))
    connection.set_schema_to_public()
    client = session_api(acme, "board@acme.example")
    before = stored(acme)

    seen = client.get(f"/api/v1/reviews/{review.pk}/")
    calibrated = client.post(
        f"/api/v1/reviews/{review.pk}/calibrate/", {"manager_score": 0.4, "comment": "x"}, format="json"
    )

    assert seen.status_code == 200
    assert calibrated.status_code == 403
    assert stored(acme) == before


def test_calibrating_far_from_the_self_score_needs_a_comment(acme):
    review = review_of(acme, "platform.lead")
    client = session_api(acme, "cto@acme.example")
    before = stored(acme)
    far = 0.0 if review.self_score > 0.5 else 1.0

    silent = client.post(f"/api/v1/reviews/{review.pk}/calibrate/", {"manager_score": far}, format="json")
    assert silent.status_code == 400
    assert set(silent.json()["fields"]) == {"comment"}
    assert stored(acme) == before

    said = client.post(
        f"/api/v1/reviews/{review.pk}/calibrate/",
        {"manager_score": far, "comment": "Not shipped daily."},
        format="json",
    )
    assert said.status_code == 200, said.json()
    assert (said.json()["state"], said.json()["manager_comment"]) == ("calibrated", "Not shipped daily.")
    assert said.json()["calibrated_by"]["email"] == "cto@acme.example"


def test_workflow_steps_out_of_order_are_400_with_the_reason(acme):
    pending = review_of(acme, "cs.lead")
    client = session_api(acme, "ceo@acme.example")
    before = stored(acme)

    calibrate = client.post(f"/api/v1/reviews/{pending.pk}/calibrate/", {"manager_score": 0.5}, format="json")
    close = client.post(f"/api/v1/reviews/{pending.pk}/close/")

    assert calibrate.status_code == 400
    assert calibrate.json()["detail"] == "The participant has not submitted their self-review yet."
    assert close.status_code == 400
    assert "Only a calibrated review can be closed" in close.json()["detail"]
    assert stored(acme) == before


def test_contest_resolve_and_close(acme):
    review = review_of(acme, "platform.lead")
    manager = session_api(acme, "cto@acme.example")
    participant = session_api(acme, "platform.lead@acme.example")
    url = f"/api/v1/reviews/{review.pk}"
    assert (
        manager.post(f"{url}/calibrate/", {"manager_score": review.self_score}, format="json").status_code
        == 200
    )

    contested = participant.post(f"{url}/contest/", {"reason": "The freeze was not ours."}, format="json")
    again = participant.post(f"{url}/contest/", {"reason": "Still."}, format="json")
    blocked = manager.post(f"{url}/close/")
    resolved = manager.post(
        f"{url}/resolve-contest/", {"resolution": "Fair.", "manager_score": 0.7}, format="json"
    )
    closed = manager.post(f"{url}/close/")
    late = participant.post(f"{url}/submit-self/", {"self_score": 0.1}, format="json")

    assert (contested.status_code, contested.json()["is_contested"]) == (200, True)
    assert again.status_code == 400
    assert blocked.status_code == 400
    assert blocked.json()["detail"] == "Resolve the contest before closing this review."
    assert resolved.status_code == 200, resolved.json()
    assert (resolved.json()["grades"]["manager_score"], resolved.json()["is_contested"]) == (0.7, False)
    assert (closed.status_code, closed.json()["state"]) == (200, "closed")
    assert late.status_code == 400
    assert late.json()["detail"] == "This review is closed and read-only."


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("contest", {}, "reason"),
        ("contest", {"reason": "   "}, "reason"),  # the service: say why
        ("resolve-contest", {"resolution": ""}, "resolution"),
        ("resolve-contest", {"resolution": "ok", "manager_score": -1}, "manager_score"),
    ],
)
def test_invalid_contest_input_names_the_field(acme, action, body, field):
    review = review_of(acme, "sre")
    email = "sre@acme.example" if action == "contest" else "platform.lead@acme.example"
    if action == "contest":  # a fresh calibration that can still be contested
        with tenant_context(acme):
            Review.objects.filter(pk=review.pk).update(contested_at=None, contest_reason="")
        connection.set_schema_to_public()
    client = session_api(acme, email)
    before = stored(acme)

    response = client.post(f"/api/v1/reviews/{review.pk}/{action}/", body, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {field}
    assert stored(acme) == before


def test_close_takes_no_input(acme):
    review = review_of(acme, "sre")
    client = session_api(acme, "platform.lead@acme.example")
    before = stored(acme)

    response = client.post(f"/api/v1/reviews/{review.pk}/close/", {"state": "closed"}, format="json")

    assert (response.status_code, set(response.json()["fields"])) == (400, {"state"})
    assert stored(acme) == before


# --- peer feedback -------------------------------------------------------------------------


def test_participant_asks_a_colleague_who_is_notified(acme):
    review = review_of(acme, "cs.lead")
    csm = person(acme, "csm")

    response = session_api(acme, "cs.lead@acme.example").post(
        f"/api/v1/reviews/{review.pk}/request-feedback/",
        {"reviewer": csm.pk, "question": "How was onboarding?"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["review"], body["reviewer"]["email"], body["question"]) == (
        review.pk,
        "csm@acme.example",
        "How was onboarding?",
    )
    assert (body["answered_at"], body["review_state"]) == (None, "pending")
    with tenant_context(acme):
        assert InboxItem.objects.filter(user=csm, kind="feedback_requested").count() == 1


@pytest.mark.parametrize(
    ("reviewer", "field"),
    [
        ("board", "reviewer"),  # a viewer cannot give feedback
        ("cs.lead", "reviewer"),  # the participant
        (999999, "reviewer"),
        ("x", "reviewer"),
    ],
)
def test_invalid_feedback_requests_name_the_reviewer(acme, reviewer, field):
    review = review_of(acme, "cs.lead")
    if isinstance(reviewer, str) and reviewer != "x":
        reviewer = person(acme, reviewer).pk
    client = session_api(acme, "cs.lead@acme.example")
    before = stored(acme)

    response = client.post(
        f"/api/v1/reviews/{review.pk}/request-feedback/", {"reviewer": reviewer}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {field}
    assert stored(acme) == before


def test_asking_the_same_colleague_twice_is_refused(acme):
    review = review_of(acme, "growth.lead")  # analyst was asked already

    response = session_api(acme, "growth.lead@acme.example").post(
        f"/api/v1/reviews/{review.pk}/request-feedback/",
        {"reviewer": person(acme, "analyst").pk},
        format="json",
    )

    assert response.status_code == 400
    assert "already asked" in response.json()["fields"]["reviewer"][0]


def test_colleague_answers_once(acme):
    client = session_api(acme, "analyst@acme.example")
    (waiting,) = client.get("/api/v1/peer-feedback-requests/?answered=false").json()["results"]

    answered = client.post(
        f"/api/v1/peer-feedback-requests/{waiting['id']}/answer/", {"answer": "Very useful."}
    )
    again = client.post(f"/api/v1/peer-feedback-requests/{waiting['id']}/answer/", {"answer": "More."})

    assert answered.status_code == 200, answered.json()
    assert (answered.json()["answer"], answered.json()["answered_at"] is not None) == ("Very useful.", True)
    assert again.status_code == 400
    assert again.json()["detail"] == "This request was already answered."
    assert client.get("/api/v1/peer-feedback-requests/?answered=false").json()["results"] == []


def test_someone_elses_request_is_404_and_stays_unanswered(acme):
    with tenant_context(acme):
        request = PeerFeedbackRequest.objects.get(reviewer__email="analyst@acme.example")
    connection.set_schema_to_public()
    client = session_api(acme, "growth.lead@acme.example")  # who asked
    before = stored(acme)

    assert client.get(f"/api/v1/peer-feedback-requests/{request.pk}/").status_code == 404
    assert (
        client.post(f"/api/v1/peer-feedback-requests/{request.pk}/answer/", {"answer": "x"}).status_code
        == 404
    )
    assert stored(acme) == before


def test_invalid_answers_name_the_field(acme):
    with tenant_context(acme):
        request = PeerFeedbackRequest.objects.get(reviewer__email="analyst@acme.example")
    connection.set_schema_to_public()
    client = session_api(acme, "analyst@acme.example")
    before = stored(acme)

    blank = client.post(
        f"/api/v1/peer-feedback-requests/{request.pk}/answer/", {"answer": " "}, format="json"
    )
    extra = client.post(
        f"/api/v1/peer-feedback-requests/{request.pk}/answer/", {"answer": "x", "reviewer": 1}, format="json"
    )

    assert (blank.status_code, set(blank.json()["fields"])) == (400, {"answer"})
    assert (extra.status_code, set(extra.json()["fields"])) == (400, {"reviewer"})
    assert stored(acme) == before


# --- query counts --------------------------------------------------------------------------


def test_list_queries_do_not_grow(acme, django_assert_num_queries):
    with tenant_context(acme):
        quarter = Cycle.objects.get(name="Q4 2026")
        sre_review = Review.objects.select_related("objective__owner").get(
            participant__email="sre@acme.example"
        )
        objective, sre = sre_review.objective, sre_review.objective.owner
        analyst = User.objects.get(email="analyst@acme.example")
        review_cycles = ReviewCycle.objects.bulk_create(
            ReviewCycle(cycle=quarter, kind="checkin_review", name=f"Extra {n}", opens_on=date(2026, 11, 1),
                        due_on=date(2026, 11, 5))
            for n in range(110)
        )  # fmt: skip
        reviews = Review.objects.bulk_create(
            Review(review_cycle=rc, objective=objective, participant=sre, manager=sre.manager)
            for rc in review_cycles
        )
        ReviewKeyResultScore.objects.bulk_create(
            ReviewKeyResultScore(review=review, key_result=kr)
            for review in reviews
            for kr in objective.key_results.all()
        )
        PeerFeedbackRequest.objects.bulk_create(
            PeerFeedbackRequest(review=review, requested_by=sre, reviewer=analyst, question="?")
            for review in reviews
        )
    connection.set_schema_to_public()

    # An org admin by session; a manager by token (their reporting lines are read once
    # per request even though no middleware saw the token's person).
    clients = [(session_api(acme, "ceo@acme.example"), ADMIN_LIST_QUERIES)]
    clients.append((token_api(acme, "cto@acme.example"), MANAGER_TOKEN_LIST_QUERIES))
    for client, queries in clients:
        client.get("/api/v1/reviews/?page_size=1")  # a token's first use records it; later ones don't
        with django_assert_num_queries(queries):
            small = client.get("/api/v1/reviews/?page_size=10")
        with django_assert_num_queries(queries):
            large = client.get("/api/v1/reviews/?page_size=100")
        assert len(small.json()["results"]) == 10
        assert len(large.json()["results"]) == 100
        assert all(row["grades"] is not None and row["peer_feedback"] for row in large.json()["results"])

    client = session_api(acme, "analyst@acme.example")
    with django_assert_num_queries(FEEDBACK_LIST_QUERIES):
        small = client.get("/api/v1/peer-feedback-requests/?page_size=10")
    with django_assert_num_queries(FEEDBACK_LIST_QUERIES):
        large = client.get("/api/v1/peer-feedback-requests/?page_size=100&answered=false")
    assert len(small.json()["results"]) == 10
    assert len(large.json()["results"]) == 100
