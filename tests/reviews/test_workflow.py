"""A review's way through a review cycle: open (pre-filled) → self-review → calibration
→ contest once → resolution → close; who may do what; peer feedback; what screens show."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from okrs.models import KeyResult
from okrs.services.cycles import cycle_activate, cycle_create
from okrs.services.objectives import key_result_create, objective_create, objective_update
from reviews.models import PeerFeedbackRequest, Review, ReviewCycle, ReviewKeyResultScore
from reviews.selectors import (
    my_reviews,
    review_settings,
    review_summary,
    reviews_shaped,
    reviews_to_calibrate,
)
from reviews.services import (
    peer_feedback_answer,
    peer_feedback_request,
    review_calibrate,
    review_close,
    review_contest,
    review_cycle_close,
    review_cycle_create,
    review_cycle_open,
    review_resolve_contest,
    review_submit_self,
)
from tests.factories import UserFactory
from tests.reviews.conftest import fresh

pytestmark = pytest.mark.django_db

CLOSED = "This review is closed and read-only."


def row(review: Review) -> dict:
    """Everything stored about a review, to show that a refused write changed nothing."""
    return {
        "review": Review.objects.filter(pk=review.pk).values().get(),
        "key_results": list(ReviewKeyResultScore.objects.filter(review=review).order_by("id").values()),
        "peer": list(PeerFeedbackRequest.objects.filter(review=review).order_by("id").values()),
    }


def submit(review, actor, self_score=0.4, **kwargs):
    return review_submit_self(review=review, actor=actor, self_score=self_score, **kwargs)


def calibrated(review, people, manager_score=0.5, comment=""):
    submit(review, people.sre)
    return review_calibrate(review=review, actor=people.lead, manager_score=manager_score, comment=comment)


def contested(review, people):
    calibrated(review, people, manager_score=0.2, comment="Runbooks slipped")
    return review_contest(review=review, actor=people.sre, reason="The runbooks were blocked by the vendor")


def objectives_in(cycle, people, count):
    owners = [people.sre, people.backend, people.analyst, people.lead]
    for n in range(count):
        owner = owners[n % len(owners)]
        objective = objective_create(actor=people.ceo, cycle=cycle, owner=owner, title=f"Objective {n}")
        for k in range(2):
            key_result_create(
                actor=people.ceo,
                objective=objective,
                title=f"KR {n}.{k}",
                kind="increase",
                start=0,
                target=10,
            )


# --- opening ---------------------------------------------------------------------------


def test_opening_prefills_one_review_per_objective(people, deploys, checkin_review):
    review_cycle_open(review_cycle=checkin_review, actor=people.ceo)

    review = Review.objects.get(review_cycle=checkin_review)
    assert fresh(checkin_review).state == "open"
    assert (review.objective, review.participant, review.manager, review.state) == (
        deploys,
        people.sre,
        people.lead,
        "pending",
    )
    # Repeat incidents 12 → 2 at 7: 0.5; runbooks 0 → 20 at 5: 0.25; the objective averages them.
    assert review.self_score == pytest.approx(0.375) == deploys.progress
    scores = list(review.key_result_scores.order_by("id").values_list("key_result__title", "self_score"))
    assert scores == [("Repeat incidents 12 → 2", 0.5), ("Runbooks 0 → 20", 0.25)]
    assert review.key_result_scores.filter(manager_score__isnull=False).count() == 0


def test_opening_skips_archived_objectives_and_owners_who_do_not_take_part(
    people, quarter, deploys, checkin_review
):
    archived = objective_create(actor=people.lead, cycle=quarter, owner=people.lead, title="Old plan")
    objective_update(objective=archived, actor=people.lead, state="archived")
    leaver = UserFactory(email="leaver@acme.example", manager=people.lead)
    objective_create(actor=people.lead, cycle=quarter, owner=leaver, title="Leaver's objective")
    leaver.is_active = False
    leaver.save()
    objective_create(actor=people.ceo, cycle=quarter, owner=people.viewer, title="Board objective")

    review_cycle_open(review_cycle=checkin_review, actor=people.ceo)

    assert list(Review.objects.filter(review_cycle=checkin_review).values_list("objective", flat=True)) == [
        deploys.pk
    ]


def test_a_review_cycle_for_chosen_teams_reviews_only_their_members(people, quarter, deploys):
    objective_create(actor=people.analyst, cycle=quarter, owner=people.analyst, title="Growth experiment")
    platform_only = review_cycle_create(
        actor=people.ceo, cycle=quarter, kind="checkin_review", name="Platform review",
        opens_on=date(2026, 11, 12), due_on=date(2026, 11, 15), teams=[people.sre.team],
    )  # fmt: skip

    review_cycle_open(review_cycle=platform_only, actor=people.ceo)

    assert platform_only.all_participants is False
    assert list(Review.objects.filter(review_cycle=platform_only).values_list("participant", flat=True)) == [
        people.sre.pk
    ]


def test_opening_is_idempotent_and_its_query_count_does_not_grow(people, year, quarter):
    q3 = cycle_activate(
        cycle=cycle_create(
            actor=people.ceo, name="Q3 2026", kind="quarter", start_date=date(2026, 7, 1),
            end_date=date(2026, 9, 30), parent=year,
        ),
        actor=people.ceo,
    )  # fmt: skip
    objectives_in(q3, people, 3)
    objectives_in(quarter, people, 8)
    small, large = (
        review_cycle_create(
            actor=people.ceo,
            cycle=cycle,
            kind="checkin_review",
            name="Review",
            opens_on=cycle.start_date,
            due_on=cycle.end_date,
        )
        for cycle in (q3, quarter)
    )

    with CaptureQueriesContext(connection) as three:
        review_cycle_open(review_cycle=small, actor=people.ceo)
    with CaptureQueriesContext(connection) as eight:
        review_cycle_open(review_cycle=large, actor=people.ceo)
    review_cycle_open(review_cycle=large, actor=people.ceo)

    assert len(three) == len(eight)
    assert Review.objects.filter(review_cycle=small).count() == 3
    assert Review.objects.filter(review_cycle=large).count() == 8
    assert ReviewKeyResultScore.objects.filter(review__review_cycle=large).count() == 16


def test_opening_again_adds_reviews_for_new_objectives_only(people, quarter, deploys, checkin_review):
    review_cycle_open(review_cycle=checkin_review, actor=people.ceo)
    first = Review.objects.get(review_cycle=checkin_review)
    submit(first, people.sre, went_well="Paging rota")
    later = objective_create(actor=people.backend, cycle=quarter, owner=people.backend, title="Faster API")

    review_cycle_open(review_cycle=checkin_review, actor=people.ceo)

    reviews = dict(Review.objects.filter(review_cycle=checkin_review).values_list("objective", "state"))
    assert reviews == {deploys.pk: "self_submitted", later.pk: "pending"}
    assert fresh(first).went_well == "Paging rota"


def test_only_org_admins_and_consultants_run_review_cycles(people, consultant, deploys, checkin_review):
    for actor in (people.cto, people.sre, people.viewer):
        with pytest.raises(PermissionDenied):
            review_cycle_open(review_cycle=checkin_review, actor=actor)
        with pytest.raises(PermissionDenied):
            review_cycle_close(review_cycle=checkin_review, actor=actor)
    assert fresh(checkin_review).state == "scheduled"
    assert not Review.objects.filter(review_cycle=checkin_review).exists()

    review_cycle_open(review_cycle=checkin_review, actor=consultant)

    assert Review.objects.filter(review_cycle=checkin_review).count() == 1


# --- self-review -------------------------------------------------------------------------


def test_participant_submits_and_may_resubmit_until_calibrated(people, review):
    repeats = KeyResult.objects.get(objective=review.objective, title__startswith="Repeat")

    submit(
        review, people.sre, self_score=0.3, key_result_scores={repeats.pk: 0.4}, went_well=" Paging rota ",
        didnt_go_well="Vendor delays", learnings="Ask early", next_steps="Automate",
    )  # fmt: skip
    first = fresh(review)
    submit(review, people.sre, self_score=0.35, went_well="Paging rota and drills")

    again = fresh(review)
    assert (first.state, first.self_score, first.went_well, first.next_steps) == (
        "self_submitted",
        0.3,
        "Paging rota",
        "Automate",
    )
    assert first.submitted_at is not None
    assert (again.state, again.self_score, again.went_well) == (
        "self_submitted",
        0.35,
        "Paging rota and drills",
    )
    assert again.key_result_scores.get(key_result=repeats).self_score == 0.4


def test_only_the_participant_submits_their_self_review(people, review):
    before = row(review)

    for actor in (people.lead, people.ceo, people.backend, people.viewer):
        with pytest.raises(PermissionDenied):
            submit(review, actor)

    assert row(review) == before


def test_scores_outside_zero_to_one_are_field_errors(people, review):
    before = row(review)

    with pytest.raises(ValidationError) as error:
        submit(
            review,
            people.sre,
            self_score=1.2,
            key_result_scores={review.key_result_scores.first().key_result_id: -0.1},
        )
    with pytest.raises(ValidationError, match="not part of this review") as unknown:
        submit(review, people.sre, key_result_scores={999999: 0.5})
    with pytest.raises(ValidationError) as missing:
        submit(review, people.sre, self_score=None)

    assert error.value.message_dict == {
        "self_score": ["A score runs from 0.0 to 1.0."],
        "key_result_scores": ["Each key result score runs from 0.0 to 1.0."],
    }
    assert set(unknown.value.message_dict) == {"key_result_scores"}
    assert missing.value.message_dict == {"self_score": ["Give a score from 0.0 to 1.0."]}
    assert row(review) == before


def test_an_end_of_cycle_review_needs_the_retrospective(people, quarter, deploys):
    end = review_cycle_create(
        actor=people.ceo, cycle=quarter, kind="end_of_cycle", name="Q4 retro",
        opens_on=date(2026, 12, 24), due_on=date(2027, 1, 7),
    )  # fmt: skip
    review_cycle_open(review_cycle=end, actor=people.ceo)
    review = Review.objects.get(review_cycle=end)

    with pytest.raises(
        ValidationError, match="Describe the problem, what you found out and your answer"
    ) as err:
        submit(review, people.sre, problem="Repeat pages", information=" ")
    assert set(err.value.message_dict) == {"information", "answer"}
    assert fresh(review).state == "pending"

    submit(review, people.sre, problem="Repeat pages", information="Same 3 alerts", answer="Fix the alerts")
    assert fresh(review).answer == "Fix the alerts"


# --- calibration ---------------------------------------------------------------------------


@pytest.mark.parametrize("calibrator", ["lead", "cto", "ceo"])
def test_the_manager_chain_or_an_org_admin_calibrates(people, review, calibrator):
    submit(review, people.sre, self_score=0.4)
    actor = getattr(people, calibrator)

    review_calibrate(review=review, actor=actor, manager_score=0.5, comment="")

    review = fresh(review)
    assert (review.state, review.manager_score, review.calibrated_by) == ("calibrated", 0.5, actor)
    assert review.calibrated_at is not None


def test_an_employee_cannot_calibrate(people, review):
    submit(review, people.sre)
    before = row(review)

    with pytest.raises(PermissionDenied):
        review_calibrate(review=review, actor=people.backend, manager_score=0.5, comment="Peer view")

    assert row(review) == before


def test_a_manager_calibrates_only_their_reports(people, quarter, checkin_review):
    objective_create(actor=people.analyst, cycle=quarter, owner=people.analyst, title="Growth experiment")
    review_cycle_open(review_cycle=checkin_review, actor=people.ceo)
    analysts = Review.objects.get(review_cycle=checkin_review, participant=people.analyst)
    submit(analysts, people.analyst)
    before = row(analysts)

    # The platform lead manages the SRE and the backend engineer, not the analyst.
    with pytest.raises(PermissionDenied):
        review_calibrate(review=analysts, actor=people.lead, manager_score=0.4, comment="")

    assert row(analysts) == before


def test_the_participant_cannot_calibrate_themself_even_as_org_admin(people, quarter, checkin_review):
    objective_create(actor=people.ceo, cycle=quarter, owner=people.ceo, title="Company plan")
    review_cycle_open(review_cycle=checkin_review, actor=people.ceo)
    own = Review.objects.get(review_cycle=checkin_review, participant=people.ceo)
    submit(own, people.ceo, self_score=0.9)
    before = row(own)

    with pytest.raises(PermissionDenied):
        review_calibrate(review=own, actor=people.ceo, manager_score=1.0, comment="")

    assert row(own) == before


def test_calibration_waits_for_the_self_review(people, review):
    with pytest.raises(ValidationError, match="not submitted their self-review"):
        review_calibrate(review=review, actor=people.lead, manager_score=0.5, comment="")

    assert fresh(review).state == "pending"


def test_a_score_far_from_the_self_score_needs_a_comment(people, review):
    submit(review, people.sre, self_score=0.4)

    with pytest.raises(ValidationError) as error:
        review_calibrate(review=review, actor=people.lead, manager_score=0.6, comment=" ")
    assert set(error.value.message_dict) == {"comment"}
    assert fresh(review).state == "self_submitted"

    review_calibrate(review=review, actor=people.lead, manager_score=0.5, comment="")  # 0.1 apart: fine
    assert fresh(review).manager_score == 0.5


def test_calibration_is_done_once(people, review):
    calibrated(review, people)

    with pytest.raises(ValidationError, match="already calibrated"):
        review_calibrate(review=review, actor=people.cto, manager_score=0.45, comment="")
    with pytest.raises(ValidationError, match="already calibrated"):
        submit(review, people.sre, self_score=0.9)

    assert (fresh(review).manager_score, fresh(review).self_score) == (0.5, 0.4)


# --- contest and resolution ----------------------------------------------------------------


def test_the_participant_contests_once(people, review):
    calibrated(review, people, manager_score=0.2, comment="Runbooks slipped")

    review_contest(review=review, actor=people.sre, reason=" The vendor blocked the runbooks ")
    first = row(review)
    with pytest.raises(ValidationError, match="only once"):
        review_contest(review=review, actor=people.sre, reason="Again")

    review = fresh(review)
    assert (review.state, review.contest_reason) == ("calibrated", "The vendor blocked the runbooks")
    assert review.contested_at is not None
    assert row(review) == first


def test_contesting_needs_a_calibration_a_reason_and_the_participant(people, review):
    with pytest.raises(ValidationError, match="Only a calibrated review"):
        review_contest(review=review, actor=people.sre, reason="Too early")
    calibrated(review, people)
    before = row(review)

    with pytest.raises(ValidationError) as no_reason:
        review_contest(review=review, actor=people.sre, reason="  ")
    for actor in (people.lead, people.backend, people.viewer):
        with pytest.raises(PermissionDenied):
            review_contest(review=review, actor=actor, reason="On their behalf")

    assert set(no_reason.value.message_dict) == {"reason"}
    assert row(review) == before


def test_resolving_a_contest_keeps_the_whole_exchange(people, review):
    contested(review, people)

    review_resolve_contest(
        review=review, actor=people.lead, resolution="Agreed: the vendor delay was outside our control",
        manager_score=0.35,
    )  # fmt: skip

    review = fresh(review)
    assert (review.state, review.manager_score, review.manager_comment) == (
        "calibrated",
        0.35,
        "Runbooks slipped",
    )
    assert review.contest_reason == "The runbooks were blocked by the vendor"
    assert review.contested_manager_score == 0.2  # the calibrated score that was contested
    assert review.contest_resolution == "Agreed: the vendor delay was outside our control"
    assert (review.contest_resolved_by, review.contested_at is not None) == (people.lead, True)
    with pytest.raises(ValidationError, match="already resolved"):
        review_resolve_contest(review=review, actor=people.cto, resolution="Once more")


def test_resolution_needs_text_and_someone_other_than_the_participant(people, review):
    contested(review, people)
    before = row(review)

    with pytest.raises(ValidationError) as empty:
        review_resolve_contest(review=review, actor=people.lead, resolution=" ", manager_score=1.5)
    for actor in (people.sre, people.backend, people.viewer):
        with pytest.raises(PermissionDenied):
            review_resolve_contest(review=review, actor=actor, resolution="Fine")

    assert set(empty.value.message_dict) == {"resolution", "manager_score"}
    assert row(review) == before


def test_an_uncontested_review_has_nothing_to_resolve(people, review):
    calibrated(review, people)

    with pytest.raises(ValidationError, match="has not been contested"):
        review_resolve_contest(review=review, actor=people.lead, resolution="Nothing to do")


# --- closing -------------------------------------------------------------------------------


def test_closing_needs_a_calibration_and_a_resolved_contest(people, review):
    with pytest.raises(ValidationError, match="Only a calibrated review can be closed"):
        review_close(review=review, actor=people.lead)
    contested(review, people)
    with pytest.raises(ValidationError, match="Resolve the contest before closing"):
        review_close(review=review, actor=people.lead)
    with pytest.raises(PermissionDenied):
        review_close(review=review, actor=people.sre)
    assert fresh(review).state == "calibrated"

    review_resolve_contest(review=review, actor=people.lead, resolution="Kept at 0.2")
    review_close(review=review, actor=people.cto)

    review = fresh(review)
    assert (review.state, review.closed_at is not None) == ("closed", True)


def test_a_closed_review_is_read_only(people, review):
    calibrated(review, people)
    request = peer_feedback_request(review=review, actor=people.sre, reviewer=people.backend)
    review_close(review=review, actor=people.lead)
    before = row(review)

    attempts = [
        lambda: submit(review, people.sre),
        lambda: review_calibrate(review=review, actor=people.lead, manager_score=0.5, comment=""),
        lambda: review_contest(review=review, actor=people.sre, reason="Late"),
        lambda: review_resolve_contest(review=review, actor=people.lead, resolution="Late"),
        lambda: review_close(review=review, actor=people.lead),
        lambda: peer_feedback_request(review=review, actor=people.sre, reviewer=people.analyst),
        lambda: peer_feedback_answer(request=request, actor=people.backend, answer="Late"),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match=CLOSED):
            attempt()

    assert row(review) == before


def test_closing_the_review_cycle_closes_every_review_as_it_is(people, quarter, deploys, checkin_review):
    objective_create(actor=people.backend, cycle=quarter, owner=people.backend, title="Faster API")
    review_cycle_open(review_cycle=checkin_review, actor=people.ceo)
    calibrated(Review.objects.get(review_cycle=checkin_review, objective=deploys), people)

    review_cycle_close(review_cycle=checkin_review, actor=people.ceo)

    reviews = Review.objects.filter(review_cycle=checkin_review).order_by("participant__email")
    assert list(reviews.values_list("participant__email", "state", "self_score", "manager_score")) == [
        ("backend@acme.example", "closed", 0.0, None),
        ("sre@acme.example", "closed", 0.4, 0.5),
    ]
    assert all(r.closed_at is not None for r in reviews)
    assert fresh(checkin_review).state == "closed"
    with pytest.raises(ValidationError, match="cannot be opened again"):
        review_cycle_open(review_cycle=checkin_review, actor=people.ceo)


# --- peer feedback -----------------------------------------------------------------------------


def test_participant_or_manager_asks_colleagues_for_feedback(people, review):
    by_participant = peer_feedback_request(
        review=review, actor=people.sre, reviewer=people.backend, question=" How were the drills? "
    )
    by_manager = peer_feedback_request(review=review, actor=people.lead, reviewer=people.analyst)

    assert (by_participant.requested_by, by_participant.question) == (people.sre, "How were the drills?")
    assert (by_manager.requested_by, by_manager.reviewer) == (people.lead, people.analyst)
    assert by_participant.requested_at is not None


def test_peer_feedback_request_rules(people, review):
    peer_feedback_request(review=review, actor=people.sre, reviewer=people.backend)
    before = row(review)

    with pytest.raises(ValidationError, match="already asked") as duplicate:
        peer_feedback_request(review=review, actor=people.lead, reviewer=people.backend)
    with pytest.raises(ValidationError, match="own view is the self-review"):
        peer_feedback_request(review=review, actor=people.lead, reviewer=people.sre)
    with pytest.raises(ValidationError, match="cannot give feedback"):
        peer_feedback_request(review=review, actor=people.sre, reviewer=people.viewer)
    for actor in (people.backend, people.analyst, people.viewer):
        with pytest.raises(PermissionDenied):
            peer_feedback_request(review=review, actor=actor, reviewer=people.cto)

    assert set(duplicate.value.message_dict) == {"reviewer"}
    assert row(review) == before


def test_only_the_named_reviewer_answers_once(people, review):
    request = peer_feedback_request(review=review, actor=people.sre, reviewer=people.backend)

    for actor in (people.sre, people.lead, people.ceo, people.viewer):
        with pytest.raises(PermissionDenied):
            peer_feedback_answer(request=request, actor=actor, answer="On their behalf")
    with pytest.raises(ValidationError) as empty:
        peer_feedback_answer(request=request, actor=people.backend, answer="  ")
    assert fresh(request).answered_at is None
    assert set(empty.value.message_dict) == {"answer"}

    peer_feedback_answer(request=request, actor=people.backend, answer=" Calm and thorough ")
    answered = fresh(request)
    with pytest.raises(ValidationError, match="already answered"):
        peer_feedback_answer(request=request, actor=people.backend, answer="Changed my mind")

    assert (answered.answer, answered.answered_at is not None) == ("Calm and thorough", True)
    assert fresh(request).answer == "Calm and thorough"


def test_a_viewer_writes_nothing(people, quarter, review, checkin_review):
    request = peer_feedback_request(review=review, actor=people.sre, reviewer=people.backend)
    before, cycles_before = row(review), ReviewCycle.objects.filter(cycle=quarter).count()
    viewer = people.viewer

    attempts = [
        lambda: review_cycle_create(
            actor=viewer,
            cycle=quarter,
            kind="checkin_review",
            name="X",
            opens_on=date(2026, 12, 1),
            due_on=date(2026, 12, 4),
        ),
        lambda: review_cycle_open(review_cycle=checkin_review, actor=viewer),
        lambda: review_cycle_close(review_cycle=checkin_review, actor=viewer),
        lambda: submit(review, viewer),
        lambda: review_calibrate(review=review, actor=viewer, manager_score=0.5, comment=""),
        lambda: review_contest(review=review, actor=viewer, reason="No"),
        lambda: review_resolve_contest(review=review, actor=viewer, resolution="No"),
        lambda: review_close(review=review, actor=viewer),
        lambda: peer_feedback_request(review=review, actor=viewer, reviewer=people.analyst),
        lambda: peer_feedback_answer(request=request, actor=viewer, answer="No"),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()

    assert row(review) == before
    assert ReviewCycle.objects.filter(cycle=quarter).count() == cycles_before
    assert fresh(checkin_review).state == "open"


# --- what screens show ---------------------------------------------------------------------------


def keys_of(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


def test_summary_shows_objective_progress_not_person_scores_by_default(people, review, deploys):
    calibrated(review, people)
    request = peer_feedback_request(
        review=review, actor=people.sre, reviewer=people.backend, question="Drills?"
    )
    peer_feedback_answer(request=request, actor=people.backend, answer="Well run")

    summary = review_summary(fresh(review))

    assert review_settings().review_scores_feed_appraisal is False
    assert not [key for key in keys_of(summary) if "score" in key]
    assert summary["objective_progress"] == pytest.approx(0.375) == deploys.progress
    assert summary["labels"]["objective_progress"] == "Objective progress"
    assert [kr["progress"] for kr in summary["key_results"]] == [0.5, 0.25]
    assert (summary["participant"], summary["manager"], summary["state"]) == (
        "Mei Wang",
        "Linus Chen",
        "calibrated",
    )
    assert summary["peer_feedback"][0]["answer"] == "Well run"
    assert summary["reflection"]["went_well"] == ""


def test_summary_shows_person_scores_when_the_organisation_chooses_so(people, review):
    calibrated(review, people)
    settings = review_settings()
    settings.review_scores_feed_appraisal = True
    settings.save()

    summary = review_summary(fresh(review))

    assert (summary["self_score"], summary["manager_score"]) == (0.4, 0.5)
    assert summary["labels"]["manager_score"] == "Manager score"
    assert [kr["self_score"] for kr in summary["key_results"]] == [0.5, 0.25]
    assert summary["objective_progress"] == pytest.approx(0.375)


def test_reviews_to_calibrate_follow_the_reporting_lines(people, quarter, review, checkin_review):
    objective_create(actor=people.analyst, cycle=quarter, owner=people.analyst, title="Growth experiment")
    review_cycle_open(review_cycle=checkin_review, actor=people.ceo)
    submit(review, people.sre)
    submit(Review.objects.get(review_cycle=checkin_review, participant=people.analyst), people.analyst)

    def waiting(user):
        return sorted(
            r.participant.email for r in reviews_to_calibrate(user).filter(review_cycle=checkin_review)
        )

    assert waiting(people.lead) == ["sre@acme.example"]
    assert waiting(people.cto) == ["analyst@acme.example", "sre@acme.example"]
    assert waiting(people.backend) == []
    assert [r.pk for r in my_reviews(people.sre).filter(review_cycle=checkin_review)] == [review.pk]


def test_listing_and_summarising_reviews_takes_a_fixed_number_of_queries(people, year, quarter):
    objectives_in(quarter, people, 8)
    review_cycle = review_cycle_create(
        actor=people.ceo, cycle=quarter, kind="checkin_review", name="Review",
        opens_on=date(2026, 11, 1), due_on=date(2026, 11, 4),
    )  # fmt: skip
    review_cycle_open(review_cycle=review_cycle, actor=people.ceo)
    for review in Review.objects.filter(review_cycle=review_cycle):
        submit(review, review.participant)
        peer_feedback_request(review=review, actor=review.participant, reviewer=people.cto)
    settings = review_settings()

    def summaries(queryset, limit):
        with CaptureQueriesContext(connection) as queries:
            rows = [
                review_summary(r, settings=settings)
                for r in queryset.filter(review_cycle=review_cycle)[:limit]
            ]
        return len(rows), len(queries)

    assert (
        summaries(reviews_to_calibrate(people.ceo), 1)[1] == summaries(reviews_to_calibrate(people.ceo), 8)[1]
    )
    assert summaries(reviews_shaped(), 1)[1] == summaries(reviews_shaped(), 8)[1]
    assert summaries(my_reviews(people.sre), 1)[1] == summaries(my_reviews(people.sre), 8)[1]
    assert summaries(reviews_to_calibrate(people.ceo), 8)[0] == 8
