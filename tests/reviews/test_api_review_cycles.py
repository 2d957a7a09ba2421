"""Review cycles over the API: org admins and consultants see every one and open or close
them; everyone else sees the review cycles holding a review they may see. Refusals change
nothing; the list takes a fixed number of queries.

Demo data (acme): eleven review cycles scheduled from the FY and Q4 cycles; "check-in
review 3" is open with five reviews (platform.lead, sre, growth.lead, cs.lead, sales.lead)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import ApiToken, Team
from okrs.models import Cycle
from reviews.models import Review, ReviewCycle
from tests.api_helpers import api_client, session_api, token_api
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADMIN = "ceo@acme.example"
FIELDS = {
    "id", "cycle", "cycle_name", "kind", "name", "opens_on", "due_on", "state", "all_participants", "teams",
    "created_at",
}  # fmt: skip
# Routing (3), session, user, the page, its teams (prefetched).
ADMIN_LIST_QUERIES = 7
# … and the person's reporting lines (for the visible reviews inside the page's query).
MANAGER_LIST_QUERIES = 8


def review_cycle_id(organization, name_part: str) -> int:
    with tenant_context(organization):
        pk = ReviewCycle.objects.get(name__contains=name_part).pk
    connection.set_schema_to_public()
    return pk


def stored(organization) -> dict:
    with tenant_context(organization):
        state = {
            "review_cycles": list(ReviewCycle.objects.order_by("pk").values()),
            "reviews": list(Review.objects.order_by("pk").values()),
        }
    connection.set_schema_to_public()
    return state


def listed(client, query: str = "") -> list[dict]:
    response = client.get(f"/api/v1/review-cycles/?page_size=100&{query}")
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_org_admin_sees_every_review_cycle(acme):
    rows = listed(session_api(acme, ADMIN), "ordering=id")

    assert len(rows) == 11
    assert all(set(row) == FIELDS for row in rows)
    open_one = next(r for r in rows if r["state"] == "open")
    assert open_one | {"id": 0, "cycle": 0, "opens_on": "", "due_on": "", "created_at": ""} == {
        "id": 0, "cycle": 0, "cycle_name": "Q4 2026", "kind": "checkin_review",
        "name": "Q4 2026: check-in review 3", "opens_on": "", "due_on": "", "state": "open",
        "all_participants": True, "teams": [], "created_at": "",
    }  # fmt: skip


def test_consultant_sees_every_review_cycle(acme):
    with tenant_context(acme):
        UserFactory(email="coach@acme.example", role="consultant")
    connection.set_schema_to_public()

    assert len(listed(session_api(acme, "coach@acme.example"))) == 11


@pytest.mark.parametrize(
    ("email", "names"),
    [
        ("sre@acme.example", {"Q4 2026: check-in review 3"}),  # their own review
        ("cto@acme.example", {"Q4 2026: check-in review 3"}),  # their reports' reviews
        ("analyst@acme.example", set()),  # asked for feedback only: the request, not the review
        ("board@acme.example", set()),
    ],
)
def test_others_see_the_review_cycles_holding_a_review_they_see(acme, email, names):
    assert {r["name"] for r in listed(session_api(acme, email))} == names


def test_filters(acme):
    client = session_api(acme, ADMIN)
    with tenant_context(acme):
        year = Cycle.objects.get(name="FY2026")
    connection.set_schema_to_public()

    assert [r["name"] for r in listed(client, "state=open")] == ["Q4 2026: check-in review 3"]
    assert len(listed(client, "kind=calibration")) == 4
    assert {r["cycle_name"] for r in listed(client, f"cycle={year.pk}")} == {"FY2026"}
    for query, field in [("state=ajar", "state"), ("cycle=x", "cycle"), ("kind=party", "kind")]:
        response = client.get(f"/api/v1/review-cycles/?{query}")
        assert (response.status_code, set(response.json()["fields"])) == (400, {field})


def test_org_admin_opens_a_review_cycle(acme):
    pk = review_cycle_id(acme, "check-in review 4")
    with tenant_context(acme):
        before = Review.objects.count()
    connection.set_schema_to_public()

    response = session_api(acme, ADMIN).post(f"/api/v1/review-cycles/{pk}/open/")

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "open"
    with tenant_context(acme):
        assert Review.objects.filter(review_cycle_id=pk).count() == 5
        assert Review.objects.count() == before + 5


def test_org_admin_closes_a_review_cycle_and_it_cannot_be_opened_again(acme):
    pk = review_cycle_id(acme, "check-in review 3")
    client = session_api(acme, ADMIN)

    closed = client.post(f"/api/v1/review-cycles/{pk}/close/")
    before = stored(acme)
    reopened = client.post(f"/api/v1/review-cycles/{pk}/open/")

    assert closed.status_code == 200
    assert closed.json()["state"] == "closed"
    with tenant_context(acme):
        assert set(Review.objects.filter(review_cycle_id=pk).values_list("state", flat=True)) == {"closed"}
    connection.set_schema_to_public()
    assert reopened.status_code == 400
    assert "cannot be opened again" in reopened.json()["detail"]
    assert stored(acme) == before


def test_a_participant_cannot_open_or_close_and_nothing_changes(acme):
    client = session_api(acme, "sre@acme.example")
    visible = review_cycle_id(acme, "check-in review 3")
    invisible = review_cycle_id(acme, "check-in review 4")
    before = stored(acme)

    closing = client.post(f"/api/v1/review-cycles/{visible}/close/")
    opening = client.post(f"/api/v1/review-cycles/{invisible}/open/")

    assert closing.status_code == 403
    assert closing.json()["detail"] == "Only org admins and consultants close review cycles."
    assert opening.status_code == 404
    assert stored(acme) == before


def test_read_only_token_cannot_open(acme):
    client = token_api(acme, ADMIN, scope=ApiToken.Scope.READ)
    pk = review_cycle_id(acme, "check-in review 4")
    before = stored(acme)

    response = client.post(f"/api/v1/review-cycles/{pk}/open/")

    assert response.status_code == 403
    assert stored(acme) == before


def test_actions_take_no_input(acme):
    client = session_api(acme, ADMIN)
    pk = review_cycle_id(acme, "check-in review 4")
    before = stored(acme)

    response = client.post(f"/api/v1/review-cycles/{pk}/open/", {"state": "open"}, format="json")

    assert (response.status_code, set(response.json()["fields"])) == (400, {"state"})
    assert stored(acme) == before


def test_another_organisations_review_cycle_is_404(acme, globex):
    with tenant_context(acme):
        top = ReviewCycle.objects.order_by("-pk").values_list("pk", flat=True).first()
    connection.set_schema_to_public()
    with tenant_context(globex):
        template = ReviewCycle.objects.first()
        outside = ReviewCycle.objects.create(
            id=top + 1, cycle=template.cycle, kind="calibration", name="Globex only",
            opens_on=template.opens_on, due_on=template.due_on,
        )  # fmt: skip
    connection.set_schema_to_public()
    client = session_api(acme, ADMIN)

    assert client.get(f"/api/v1/review-cycles/{outside.pk}/").status_code == 404
    assert client.post(f"/api/v1/review-cycles/{outside.pk}/open/").status_code == 404
    with tenant_context(globex):
        assert ReviewCycle.objects.get(pk=outside.pk).state == "scheduled"


def test_anonymous_is_401(acme):
    assert api_client(acme).get("/api/v1/review-cycles/").status_code == 401


def test_list_queries_do_not_grow(acme, django_assert_num_queries):
    with tenant_context(acme):
        quarter = Cycle.objects.get(name="Q4 2026")
        objective = Review.objects.get(participant__email="sre@acme.example").objective
        teams = list(Team.objects.all()[:2])
        extra = ReviewCycle.objects.bulk_create(
            ReviewCycle(
                cycle=quarter, kind="checkin_review", name=f"Extra {n}", all_participants=False,
                opens_on=date(2026, 10, 1) + timedelta(days=n % 60), due_on=date(2026, 12, 31),
            )
            for n in range(110)
        )  # fmt: skip
        for review_cycle in extra:
            review_cycle.teams.set(teams)
        # One review of the sre's in each, so their managers see them all too.
        Review.objects.bulk_create(
            Review(
                review_cycle=rc,
                objective=objective,
                participant=objective.owner,
                manager=objective.owner.manager,
            )
            for rc in extra
        )
    connection.set_schema_to_public()

    for email, queries in [(ADMIN, ADMIN_LIST_QUERIES), ("cto@acme.example", MANAGER_LIST_QUERIES)]:
        client = session_api(acme, email)
        with django_assert_num_queries(queries):
            small = client.get("/api/v1/review-cycles/?page_size=10")
        with django_assert_num_queries(queries):
            large = client.get("/api/v1/review-cycles/?page_size=100")
        assert len(small.json()["results"]) == 10
        assert len(large.json()["results"]) == 100
        assert len(large.json()["results"][0]["teams"]) == 2
