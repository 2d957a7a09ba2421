"""/api/v1/key-results/: visible through their objective, filters, constant queries, and
create / PATCH through the key result services (whoever may edit the objective)."""

from __future__ import annotations

import pytest

from accounts.models import User
from okrs.models import Cycle, KeyResult, Objective
from tests.api_helpers import count_queries, session_api, tenant, token_api

pytestmark = pytest.mark.django_db

URL = "/api/v1/key-results/"
SRE, LEAD, ANALYST, CEO, VIEWER = (
    "sre@acme.example", "platform.lead@acme.example", "analyst@acme.example", "ceo@acme.example",
    "board@acme.example",
)  # fmt: skip


def objective_titled(organization, title_start: str) -> Objective:
    return tenant(
        organization, lambda: Objective.objects.select_related("owner").get(title__startswith=title_start)
    )


def kr_titled(organization, title: str) -> KeyResult:
    return tenant(organization, lambda: KeyResult.objects.select_related("objective").get(title=title))


def all_pages(client, url: str) -> list[dict]:
    rows, response = [], client.get(url)
    while True:
        assert response.status_code == 200, response.json()
        rows += response.json()["results"]
        if not response.json()["next"]:
            return rows
        response = client.get(response.json()["next"])


def snapshot(organization) -> list[tuple]:
    return tenant(
        organization,
        lambda: list(
            KeyResult.objects.order_by("id").values_list("id", "title", "kind", "start", "target", "owner_id")
        ),
    )


def make_private(organization, title_start: str) -> Objective:
    objective = objective_titled(organization, title_start)
    tenant(organization, lambda: Objective.objects.filter(pk=objective.pk).update(visibility="private"))
    return objective


# --- Reading ----------------------------------------------------------------------------------------


def test_list_and_retrieve_with_the_bi_fields(acme):
    client = session_api(acme, SRE)
    kr = kr_titled(acme, "Deploy time from 40 to 10 minutes")

    rows = all_pages(client, URL)
    single = client.get(f"{URL}{kr.pk}/")

    assert len(rows) == tenant(acme, KeyResult.objects.count)
    assert single.status_code == 200
    body = single.json()
    assert body == next(r for r in rows if r["id"] == kr.pk)
    assert (body["objective"], body["cycle"], body["title"], body["kind"]) == (
        kr.objective_id, kr.objective.cycle_id, kr.title, "decrease",
    )  # fmt: skip
    assert (body["start"], body["target"], body["unit"], body["unit_label"]) == (
        40.0,
        10.0,
        "number",
        "minutes",
    )
    assert body["owner"]["email"] == LEAD
    assert body["current"] == kr.current
    assert body["confidence"] == kr.confidence
    assert body["progress"] == pytest.approx(kr.progress)
    assert body["status"] == kr.status
    assert body["last_check_in_at"] is not None


def test_key_results_of_invisible_objectives_are_hidden(acme):
    private = make_private(acme, "Grow where customers")  # the growth lead's, team Growth
    kr = tenant(acme, private.key_results.first)

    outsider = {r["id"] for r in all_pages(session_api(acme, SRE), URL)}
    insider = {r["id"] for r in all_pages(session_api(acme, ANALYST), URL)}

    assert kr.pk not in outsider
    assert kr.pk in insider
    assert session_api(acme, SRE).get(f"{URL}{kr.pk}/").status_code == 404
    assert session_api(acme, SRE).get(f"{URL}999999/").status_code == 404


def test_filters(acme):
    client = session_api(acme, CEO)
    deploys = objective_titled(acme, "Ship changes safely")
    year = tenant(acme, lambda: Cycle.objects.get(kind="annual"))
    cto = tenant(acme, lambda: User.objects.get(email="cto@acme.example"))

    def ids(query):
        return sorted(r["id"] for r in all_pages(client, f"{URL}?{query}"))

    def expected(**filters):
        return sorted(
            tenant(acme, lambda: list(KeyResult.objects.filter(**filters).values_list("id", flat=True)))
        )

    assert ids(f"objective={deploys.pk}") == expected(objective=deploys) != []
    assert ids(f"cycle={year.pk}") == expected(objective__cycle=year) != []
    assert ids(f"owner={cto.pk}") == expected(owner=cto) != []
    assert ids("status=off_track") == expected(status="off_track")
    assert ids("updated_since=2100-01-01T00:00:00Z") == []
    assert ids("objective=999999") == []
    bad = client.get(f"{URL}?status=late&cycle=x")
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"status", "cycle"}


def test_list_query_count_is_constant(acme):
    def make():
        owner = User.objects.get(email=SRE)
        objective = Objective.objects.create(
            title="Many", cycle=Cycle.objects.get(kind="quarter"), owner=owner, team=owner.team
        )
        KeyResult.objects.bulk_create(
            KeyResult(objective=objective, title=f"KR {n}", owner=owner, start=0, target=10)
            for n in range(110)
        )

    tenant(acme, make)
    client = session_api(acme, SRE)

    small, small_count = count_queries(lambda: client.get(f"{URL}?page_size=10"))
    large, large_count = count_queries(lambda: client.get(f"{URL}?page_size=100"))

    assert (len(small.json()["results"]), len(large.json()["results"])) == (10, 100)
    # host lookup (3), session, user, key results with owner, objective and cycle (the reporting
    # lines are a subquery)
    assert small_count == large_count == 6


# --- Creating -----------------------------------------------------------------------------------------


def test_the_objective_owner_adds_a_key_result(acme):
    deploys = objective_titled(acme, "Ship changes safely")
    sre = tenant(acme, lambda: User.objects.get(email=SRE))

    response = session_api(acme, LEAD).post(
        URL,
        {
            "objective": deploys.pk, "title": "Rollbacks under 5 minutes", "kind": "decrease", "start": 30,
            "target": 5, "unit_label": "minutes", "owner": sre.pk, "due_date": "2026-12-15",
        },
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["objective"], body["title"], body["start"], body["target"]) == (
        deploys.pk, "Rollbacks under 5 minutes", 30.0, 5.0,
    )  # fmt: skip
    assert (body["owner"]["id"], body["due_date"], body["weight"]) == (sre.pk, "2026-12-15", 1.0)
    assert (body["progress"], body["status"], body["current"]) == (0.0, "not_started", None)
    assert tenant(acme, lambda: KeyResult.objects.get(pk=body["id"]).position) == 4


def test_owner_defaults_to_the_objectives_owner_and_milestones_need_no_numbers(acme):
    deploys = objective_titled(acme, "Ship changes safely")

    response = session_api(acme, CEO).post(
        URL, {"objective": deploys.pk, "title": "Canary releases live", "kind": "milestone"}, format="json"
    )

    assert response.status_code == 201
    assert (response.json()["owner"]["email"], response.json()["start"], response.json()["target"]) == (
        LEAD,
        0.0,
        1.0,
    )


def test_create_validation_errors_name_the_field(acme):
    deploys = objective_titled(acme, "Ship changes safely")
    private = make_private(acme, "Grow where customers")
    client = session_api(acme, LEAD)
    before = snapshot(acme)

    def post(body):
        return client.post(
            URL, {"objective": deploys.pk, "title": "x", "kind": "increase", **body}, format="json"
        )

    wrong_way = post({"start": 10, "target": 5})
    missing = post({"start": 10})
    unknown = post({"start": 1, "target": 2, "progress": 0.5, "current": 2})
    not_a_number = post({"start": "ten", "target": 20})
    band = post({"kind": "stay_between", "low": 80, "high": 20})
    currency = post({"start": 1, "target": 2, "unit": "currency", "currency_code": "E1"})
    invisible = post({"objective": private.pk, "start": 1, "target": 2})

    assert wrong_way.status_code == 400
    assert wrong_way.json()["fields"] == {
        "target": ["Target must be greater than start for an increasing key result."]
    }
    assert set(missing.json()["fields"]) == {"target"}
    assert set(unknown.json()["fields"]) == {"progress", "current"}
    assert set(not_a_number.json()["fields"]) == {"start"}
    assert set(band.json()["fields"]) == {"high"}
    assert set(currency.json()["fields"]) == {"currency_code"}
    # An objective you may not see reads as one that does not exist.
    assert invisible.status_code == 400
    assert invisible.json()["fields"]["objective"] == [f'Invalid pk "{private.pk}" - object does not exist.']
    assert snapshot(acme) == before


def test_refused_creates_change_nothing(acme):
    deploys = objective_titled(acme, "Ship changes safely")
    body = {"objective": deploys.pk, "title": "Sneaky", "kind": "increase", "start": 1, "target": 2}
    before = snapshot(acme)

    member = session_api(acme, SRE).post(URL, body, format="json")  # may not edit the lead's objective
    viewer = session_api(acme, VIEWER).post(URL, body, format="json")
    read_token = token_api(acme, LEAD, scope="read").post(URL, body, format="json")

    assert member.status_code == 403
    assert viewer.status_code == 403
    assert read_token.status_code == 403
    assert snapshot(acme) == before


# --- Changing -----------------------------------------------------------------------------------------


def test_patch_changes_the_fields_sent(acme):
    kr = kr_titled(acme, "Deploy time from 40 to 10 minutes")

    response = session_api(acme, LEAD).patch(
        f"{URL}{kr.pk}/", {"target": 8, "title": "Deploy time to 8 minutes"}, format="json"
    )

    assert response.status_code == 200, response.json()
    saved = tenant(acme, lambda: KeyResult.objects.get(pk=kr.pk))
    assert (saved.title, saved.start, saved.target, saved.kind) == (
        "Deploy time to 8 minutes",
        40.0,
        8.0,
        "decrease",
    )
    assert response.json()["target"] == 8.0


def test_patch_refusals_change_nothing(acme):
    kr = kr_titled(acme, "Deploy time from 40 to 10 minutes")
    private = make_private(acme, "Grow where customers")
    hidden = tenant(acme, private.key_results.first)
    url = f"{URL}{kr.pk}/"
    before = snapshot(acme)

    computed = session_api(acme, LEAD).patch(
        url, {"progress": 1, "status": "done", "objective": 1}, format="json"
    )
    invalid = session_api(acme, LEAD).patch(url, {"target": 50}, format="json")  # above start when decreasing
    member = session_api(acme, SRE).patch(url, {"title": "Mine"}, format="json")
    viewer = session_api(acme, VIEWER).patch(url, {"title": "Mine"}, format="json")
    invisible = session_api(acme, SRE).patch(f"{URL}{hidden.pk}/", {"title": "x"}, format="json")
    delete = session_api(acme, CEO).delete(url)

    assert computed.status_code == 400
    assert set(computed.json()["fields"]) == {"progress", "status", "objective"}
    assert invalid.status_code == 400
    assert set(invalid.json()["fields"]) == {"target"}
    assert (member.status_code, viewer.status_code, invisible.status_code) == (403, 403, 404)
    assert delete.status_code == 405
    assert snapshot(acme) == before
