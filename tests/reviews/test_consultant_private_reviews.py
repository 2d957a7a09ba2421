"""Consultants do not read reviews of private objectives unless the organisation allows it
(ReviewSettings.consultants_see_private_reviews, off by default; org admins turn it on in
the review settings): not on the review page, not in the calibration lists, not over the
API — and all of them once granted. The setting is read once per request, not per row.

Demo data (acme, check-in review open): sre's review is calibrated by platform.lead and
contested, with a reflection and backend's answered feedback; platform.lead's and
growth.lead's are self-submitted."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs.models import Objective
from reviews import permissions
from reviews.api.selectors import reviews_visible_to
from reviews.models import Review, ReviewSettings
from reviews.selectors import contests_to_resolve, review_settings, team_reviews
from reviews.services.settings import review_settings_update
from tests.api_helpers import session_api, tenant
from tests.factories import UserFactory
from tests.web import sign_in

pytestmark = pytest.mark.django_db

COACH = "coach@acme.example"
CALIBRATION_COMMENT = "Repeat incidents are still the main source of pages."
CONTEST_REASON = "Two of the repeats came from a vendor outage outside our control."
PEER_ANSWER = "They saved me twice at night."


@pytest.fixture
def coach(acme) -> User:
    return tenant(acme, lambda: UserFactory(email=COACH, full_name="Casey Coach", role=User.Role.CONSULTANT))


@pytest.fixture
def private_review(acme) -> Review:
    """sre's contested review, its objective made private."""

    def make():
        review = Review.objects.select_related("objective").get(
            participant__email="sre@acme.example", contested_at__isnull=False
        )
        Objective.objects.filter(pk=review.objective_id).update(visibility=Objective.Visibility.PRIVATE)
        return Review.objects.select_related("objective").get(pk=review.pk)

    return tenant(acme, make)


def grant(acme, value: bool = True) -> None:
    """The org admin's switch, through the settings service."""

    def update():
        current = review_settings()
        review_settings_update(
            actor=User.objects.get(email="ceo@acme.example"),
            review_scores_feed_appraisal=current.review_scores_feed_appraisal,
            auto_schedule=current.auto_schedule,
            consultants_see_private_reviews=value,
        )

    tenant(acme, update)


def settings_reads(queries: CaptureQueriesContext) -> int:
    return sum(ReviewSettings._meta.db_table in q["sql"] for q in queries.captured_queries)


# --- The decision --------------------------------------------------------------------------------------


def test_the_permission_hides_private_reviews_from_consultants_until_granted(acme, coach, private_review):
    with tenant_context(acme):
        public = Review.objects.select_related("objective").exclude(
            objective__visibility=Objective.Visibility.PRIVATE
        )[0]
        lead = User.objects.get(email="platform.lead@acme.example")
        hidden = ReviewSettings(consultants_see_private_reviews=False)
        shown = ReviewSettings(consultants_see_private_reviews=True)

        assert permissions.can_view_review(coach, private_review) is False  # the default
        assert permissions.can_open_review(coach, private_review, settings=hidden) is False
        assert permissions.can_open_review(coach, private_review, settings=shown) is True
        assert permissions.can_open_review(coach, public, settings=hidden) is True
        # The rule is about consultants: the calibrator still sees it.
        assert permissions.can_open_review(lead, private_review, settings=hidden) is True


def test_a_consultant_in_the_objectives_team_still_needs_the_grant(acme, coach, private_review):
    with tenant_context(acme):
        coach.team = private_review.objective.team
        coach.save()
        hidden = permissions.can_open_review(coach, private_review)
    grant(acme)
    with tenant_context(acme):
        shown = permissions.can_open_review(coach, private_review)

    assert private_review.objective.team is not None
    assert (hidden, shown) == (False, True)


def test_the_api_queryset_matches_the_permission_in_both_settings(acme, coach, private_review):
    for granted in (False, True):
        grant(acme, granted)
        with tenant_context(acme):
            every = list(Review.objects.select_related("objective").order_by("id"))
            expected = [r.pk for r in every if permissions.can_open_review(coach, r)]
            visible = sorted(reviews_visible_to(coach).values_list("pk", flat=True))

            assert visible == expected
            assert (private_review.pk in visible) is granted
            assert len(visible) == len(every) - (0 if granted else 1)


# --- The review page -----------------------------------------------------------------------------------


def test_the_review_page_is_hidden_from_a_consultant_until_granted(acme, acme_client, coach, private_review):
    sign_in(acme_client, acme, COACH)
    url = f"/reviews/{private_review.pk}/"

    hidden = acme_client.get(url)
    grant(acme)
    shown = acme_client.get(url)

    assert hidden.status_code == 404
    assert CALIBRATION_COMMENT not in hidden.content.decode()
    assert shown.status_code == 200
    html = shown.content.decode()
    assert private_review.went_well in html  # the self-review text
    assert CALIBRATION_COMMENT in html
    assert CONTEST_REASON in html


def test_actions_on_a_hidden_review_are_not_found(acme, acme_client, coach, private_review):
    sign_in(acme_client, acme, COACH)
    before = tenant(acme, lambda: Review.objects.filter(pk=private_review.pk).values().get())

    response = acme_client.post(f"/reviews/{private_review.pk}/close/")

    assert response.status_code == 404
    assert tenant(acme, lambda: Review.objects.filter(pk=private_review.pk).values().get()) == before


# --- The calibration lists -----------------------------------------------------------------------------


@pytest.fixture
def coach_above_the_cto(acme, coach) -> User:
    """The coach at the top of the CTO's reporting line: the platform reviews are below them."""
    tenant(acme, lambda: User.objects.filter(email="cto@acme.example").update(manager=coach))
    return coach


def test_calibration_lists_leave_out_private_reviews_until_granted(
    acme, acme_client, coach_above_the_cto, private_review
):
    sign_in(acme_client, acme, COACH)

    hidden = acme_client.get("/reviews/").content.decode()
    with tenant_context(acme):
        hidden_team = list(team_reviews(coach_above_the_cto).values_list("pk", flat=True))
        hidden_contests = list(contests_to_resolve(coach_above_the_cto).values_list("pk", flat=True))
    grant(acme)
    shown = acme_client.get("/reviews/").content.decode()
    with tenant_context(acme):
        shown_team = list(team_reviews(coach_above_the_cto).values_list("pk", flat=True))
        shown_contests = list(contests_to_resolve(coach_above_the_cto).values_list("pk", flat=True))

    row = f'data-testid="calibration-row" data-review="{private_review.pk}"'
    assert private_review.pk not in hidden_team
    assert hidden_team  # the other platform reviews are listed
    assert hidden_contests == []
    assert row not in hidden
    assert private_review.objective.title not in hidden
    assert private_review.pk in shown_team
    assert shown_contests == [private_review.pk]
    assert row in shown
    assert f'href="/reviews/{private_review.pk}/#contest"' in shown


def test_the_reviews_page_reads_the_setting_once(acme, acme_client, coach_above_the_cto, private_review):
    sign_in(acme_client, acme, COACH)

    with CaptureQueriesContext(connection) as queries:
        response = acme_client.get("/reviews/")

    assert response.status_code == 200
    assert settings_reads(queries) == 1


# --- The API -------------------------------------------------------------------------------------------


def test_the_api_hides_private_reviews_from_a_consultant_until_granted(acme, coach, private_review):
    client = session_api(acme, COACH)
    total = tenant(acme, Review.objects.count)

    hidden_list = client.get("/api/v1/reviews/?page_size=100")
    hidden_detail = client.get(f"/api/v1/reviews/{private_review.pk}/")
    grant(acme)
    shown_list = client.get("/api/v1/reviews/?page_size=100")
    shown_detail = client.get(f"/api/v1/reviews/{private_review.pk}/")

    hidden_ids = [r["id"] for r in hidden_list.json()["results"]]
    shown_ids = [r["id"] for r in shown_list.json()["results"]]
    assert hidden_list.status_code == 200
    assert private_review.pk not in hidden_ids
    assert len(hidden_ids) == total - 1
    assert hidden_detail.status_code == 404
    assert PEER_ANSWER not in hidden_list.content.decode()
    assert private_review.pk in shown_ids
    assert len(shown_ids) == total
    assert shown_detail.status_code == 200
    assert shown_detail.json()["id"] == private_review.pk


def test_the_api_reads_the_setting_once_per_request(acme, coach, private_review):
    client = session_api(acme, COACH)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/reviews/?page_size=100")

    assert response.status_code == 200
    assert settings_reads(queries) == 1


# --- The settings page ---------------------------------------------------------------------------------


def test_org_admins_turn_the_grant_on_and_off_on_the_review_settings_page(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")

    page = acme_client.get("/settings/reviews/").content.decode()
    on = acme_client.post(
        "/settings/reviews/", {"auto_schedule": "on", "consultants_see_private_reviews": "on"}
    )
    granted = tenant(acme, lambda: review_settings().consultants_see_private_reviews)
    off = acme_client.post("/settings/reviews/", {"auto_schedule": "on"})
    revoked = tenant(acme, lambda: review_settings().consultants_see_private_reviews)

    assert 'name="consultants_see_private_reviews"' in page
    assert "Consultants may read reviews of private objectives" in page
    assert 'id="id_consultants_see_private_reviews_helptext"' in page
    assert (on.status_code, off.status_code) == (302, 302)
    assert (granted, revoked) == (True, False)


def test_only_org_admins_change_the_grant(acme, acme_client, coach):
    before = tenant(acme, lambda: review_settings().consultants_see_private_reviews)

    for email in (COACH, "platform.lead@acme.example"):
        sign_in(acme_client, acme, email)
        response = acme_client.post("/settings/reviews/", {"consultants_see_private_reviews": "on"})
        assert response.status_code == 403, email

    assert tenant(acme, lambda: review_settings().consultants_see_private_reviews) == before
