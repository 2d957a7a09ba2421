"""/api/v1/cycles/ (read only) and /api/v1/initiatives/ (list, read, create, done)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from accounts.models import User
from okrs.models import Cycle, Initiative, KeyResult, Objective
from tests.api_helpers import count_queries, session_api, tenant, token_api

pytestmark = pytest.mark.django_db

CYCLES, INITIATIVES = "/api/v1/cycles/", "/api/v1/initiatives/"
LEAD, SRE, ANALYST, CEO, VIEWER = (
    "platform.lead@acme.example", "sre@acme.example", "analyst@acme.example", "ceo@acme.example",
    "board@acme.example",
)  # fmt: skip
DEPLOY_TIME = "Deploy time from 40 to 10 minutes"  # the platform lead's KR, with one initiative


def initiative_rows(organization) -> list[tuple]:
    return tenant(
        organization,
        lambda: list(Initiative.objects.order_by("id").values_list("id", "title", "done", "owner_id")),
    )


# --- Cycles ---------------------------------------------------------------------------------------------


def test_cycles_list_filter_and_order(acme):
    client = session_api(acme, VIEWER)  # everyone reads cycles
    year, quarter = tenant(
        acme, lambda: (Cycle.objects.get(kind="annual"), Cycle.objects.get(kind="quarter"))
    )

    listed = client.get(CYCLES).json()["results"]
    by_start = client.get(f"{CYCLES}?ordering=start_date").json()["results"]
    quarters = client.get(f"{CYCLES}?kind=quarter&state=active").json()["results"]
    single = client.get(f"{CYCLES}{quarter.pk}/").json()

    assert [c["id"] for c in listed] == [quarter.pk, year.pk]  # newest first
    assert [c["id"] for c in by_start] == [year.pk, quarter.pk]
    assert [c["id"] for c in quarters] == [quarter.pk]
    assert single == {
        "id": quarter.pk, "name": quarter.name, "kind": "quarter", "state": "active",
        "start_date": quarter.start_date.isoformat(), "end_date": quarter.end_date.isoformat(),
        "parent": year.pk, "cadence": quarter.cadence, "created_at": single["created_at"],
    }  # fmt: skip
    assert client.get(f"{CYCLES}?kind=decade").status_code == 400
    assert client.get(f"{CYCLES}999999/").status_code == 404


def test_cycles_are_read_only(acme):
    client = session_api(acme, CEO)
    quarter = tenant(acme, lambda: Cycle.objects.get(kind="quarter"))

    assert client.post(CYCLES, {"name": "Q9"}, format="json").status_code == 405
    assert client.patch(f"{CYCLES}{quarter.pk}/", {"name": "Q9"}, format="json").status_code == 405


def test_cycles_query_count_is_constant(acme):
    def make():
        first = date(2020, 1, 1)
        Cycle.objects.bulk_create(
            Cycle(name=f"Sprint {n}", kind="custom", start_date=first + timedelta(days=14 * n),
                  end_date=first + timedelta(days=14 * n + 13))
            for n in range(110)
        )  # fmt: skip

    tenant(acme, make)
    client = session_api(acme, SRE)

    small, small_count = count_queries(lambda: client.get(f"{CYCLES}?page_size=10"))
    large, large_count = count_queries(lambda: client.get(f"{CYCLES}?page_size=100"))

    assert (len(small.json()["results"]), len(large.json()["results"])) == (10, 100)
    assert small_count == large_count == 6  # host lookup (3), session, user, cycles


# --- Initiatives ----------------------------------------------------------------------------------------


def test_initiatives_list_and_filters(acme):
    client = session_api(acme, SRE)
    kr = tenant(acme, lambda: KeyResult.objects.get(title=DEPLOY_TIME))
    initiative = tenant(acme, lambda: Initiative.objects.get(key_result=kr))

    listed = client.get(INITIATIVES).json()["results"]
    by_kr = client.get(f"{INITIATIVES}?key_result={kr.pk}&done=false").json()["results"]
    done = client.get(f"{INITIATIVES}?done=true").json()["results"]

    row = next(r for r in listed if r["id"] == initiative.pk)
    assert row == {
        "id": initiative.pk, "key_result": kr.pk, "objective": kr.objective_id,
        "title": "Parallelise the integration test suite",
        "owner": {"id": initiative.owner_id, "full_name": "Linus Chen", "email": LEAD},
        "done": False, "created_at": row["created_at"],
    }  # fmt: skip
    assert [r["id"] for r in by_kr] == [initiative.pk]
    assert done == []
    assert client.get(f"{INITIATIVES}{initiative.pk}/").json() == row
    assert client.get(f"{INITIATIVES}?done=perhaps").status_code == 400


def test_initiatives_of_invisible_objectives_are_hidden(acme):
    kr = tenant(acme, lambda: KeyResult.objects.get(title=DEPLOY_TIME))
    initiative = tenant(acme, lambda: Initiative.objects.get(key_result=kr))
    tenant(acme, lambda: Objective.objects.filter(pk=kr.objective_id).update(visibility="private"))

    assert session_api(acme, ANALYST).get(f"{INITIATIVES}{initiative.pk}/").status_code == 404
    assert session_api(acme, ANALYST).get(INITIATIVES).json()["results"] == []
    assert session_api(acme, SRE).get(f"{INITIATIVES}{initiative.pk}/").status_code == 200


def test_initiatives_query_count_is_constant(acme):
    def make():
        kr = KeyResult.objects.get(title=DEPLOY_TIME)
        owner = User.objects.get(email=SRE)
        Initiative.objects.bulk_create(
            Initiative(key_result=kr, title=f"Step {n}", owner=owner) for n in range(110)
        )

    tenant(acme, make)
    client = session_api(acme, SRE)

    small, small_count = count_queries(lambda: client.get(f"{INITIATIVES}?page_size=10"))
    large, large_count = count_queries(lambda: client.get(f"{INITIATIVES}?page_size=100"))

    assert (len(small.json()["results"]), len(large.json()["results"])) == (10, 100)
    # host lookup (3), session, user, initiatives with owner and KR (the reporting lines are a subquery)
    assert small_count == large_count == 6


def test_create_and_tick_off_an_initiative(acme):
    kr = tenant(acme, lambda: KeyResult.objects.get(title=DEPLOY_TIME))
    client = session_api(acme, LEAD)

    created = client.post(
        INITIATIVES, {"key_result": kr.pk, "title": "Cache the Docker layers"}, format="json"
    )
    ticked = client.post(f"{INITIATIVES}{created.json()['id']}/done/", {"done": True}, format="json")
    reopened = client.post(f"{INITIATIVES}{created.json()['id']}/done/", {"done": False}, format="json")

    assert created.status_code == 201, created.json()
    assert (created.json()["title"], created.json()["owner"]["email"], created.json()["done"]) == (
        "Cache the Docker layers", LEAD, False,
    )  # fmt: skip
    assert (ticked.status_code, ticked.json()["done"]) == (200, True)
    assert (reopened.status_code, reopened.json()["done"]) == (200, False)


def test_initiative_refusals_change_nothing(acme):
    kr = tenant(acme, lambda: KeyResult.objects.get(title=DEPLOY_TIME))
    initiative = tenant(acme, lambda: Initiative.objects.get(key_result=kr))
    before = initiative_rows(acme)

    member = session_api(acme, SRE).post(INITIATIVES, {"key_result": kr.pk, "title": "Mine"}, format="json")
    blank = session_api(acme, LEAD).post(INITIATIVES, {"key_result": kr.pk, "title": ""}, format="json")
    unknown = session_api(acme, LEAD).post(
        INITIATIVES, {"key_result": kr.pk, "title": "x", "done": True}, format="json"
    )
    not_owner = session_api(acme, SRE).post(
        f"{INITIATIVES}{initiative.pk}/done/", {"done": True}, format="json"
    )
    not_bool = session_api(acme, LEAD).post(
        f"{INITIATIVES}{initiative.pk}/done/", {"done": "maybe"}, format="json"
    )
    viewer = session_api(acme, VIEWER).post(
        f"{INITIATIVES}{initiative.pk}/done/", {"done": True}, format="json"
    )
    read_token = token_api(acme, LEAD, scope="read").post(
        f"{INITIATIVES}{initiative.pk}/done/", {"done": True}, format="json"
    )

    assert member.status_code == 403
    assert set(blank.json()["fields"]) == {"title"}
    assert set(unknown.json()["fields"]) == {"done"}
    assert not_owner.status_code == 403
    assert set(not_bool.json()["fields"]) == {"done"}
    assert (viewer.status_code, read_token.status_code) == (403, 403)
    assert initiative_rows(acme) == before
