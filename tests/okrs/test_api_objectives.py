"""/api/v1/objectives/: the UI's visibility (private objectives included for those allowed),
filters, ordering, ?expand=key_results with constant queries, and writes through the
objective services (create, PATCH incl. closing)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import Team, User
from okrs.models import AlignmentProposal, Cycle, Escalation, KeyResult, Kpi, Objective
from okrs.selectors import objectives_visible_to
from tests.api_helpers import api_client, count_queries, session_api, tenant, token_api

pytestmark = pytest.mark.django_db

URL = "/api/v1/objectives/"
SRE, LEAD, ANALYST, CEO, VIEWER = (
    "sre@acme.example", "platform.lead@acme.example", "analyst@acme.example", "ceo@acme.example",
    "board@acme.example",
)  # fmt: skip


def person(organization, email: str) -> User:
    return tenant(organization, lambda: User.objects.select_related("team").get(email=email))


def quarter(organization) -> Cycle:
    return tenant(organization, lambda: Cycle.objects.get(kind=Cycle.Kind.QUARTER))


def objective_titled(organization, title_start: str) -> Objective:
    return tenant(organization, lambda: Objective.objects.get(title__startswith=title_start))


def private_objective(organization, owner_email: str, title: str = "Quietly fix the pager rota") -> Objective:
    def make():
        owner = User.objects.get(email=owner_email)
        return Objective.objects.create(
            title=title, cycle=Cycle.objects.get(kind=Cycle.Kind.QUARTER), owner=owner, team=owner.team,
            visibility=Objective.Visibility.PRIVATE, state=Objective.State.ACTIVE,
        )  # fmt: skip

    return tenant(organization, make)


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
            Objective.objects.order_by("id").values_list("id", "title", "state", "closing_note", "team_id")
        ),
    )


# --- Reading ----------------------------------------------------------------------------------------


def test_list_shows_what_the_ui_shows_with_the_bi_fields(acme):
    client = session_api(acme, SRE)
    sre = person(acme, SRE)
    expected = tenant(acme, lambda: sorted(objectives_visible_to(sre).values_list("id", flat=True)))

    rows = all_pages(client, URL)

    assert sorted(row["id"] for row in rows) == expected
    deploys = objective_titled(acme, "Ship changes safely")
    (row,) = [r for r in rows if r["id"] == deploys.pk]
    assert set(row) == {
        "id", "title", "description", "cycle", "owner", "team", "level", "kind", "health_dimension",
        "visibility", "state", "parent_objective", "parent_key_result", "carried_from", "progress", "status",
        "expected_progress", "score", "needs_decision", "closing_note", "created_at", "updated_at",
    }  # fmt: skip
    assert row["owner"] == {"id": deploys.owner_id, "full_name": "Linus Chen", "email": LEAD}
    assert row["team"] == {"id": deploys.team_id, "name": "Platform"}
    assert row["cycle"] == deploys.cycle_id
    assert row["parent_key_result"] == deploys.parent_key_result_id
    assert row["progress"] == pytest.approx(deploys.progress)
    assert row["status"] == deploys.status
    assert row["expected_progress"] == pytest.approx(deploys.expected_progress)
    # ISO 8601 with the offset of the person's time zone (Acme: Europe/Berlin).
    assert datetime.fromisoformat(row["updated_at"]) == deploys.updated_at
    assert row["updated_at"][-6:] in {"+01:00", "+02:00"}
    assert "key_results" not in row


def test_private_objectives_are_visible_exactly_as_in_the_ui(acme):
    private = private_objective(acme, SRE)

    def ids(email):
        return {r["id"] for r in all_pages(session_api(acme, email), URL)}

    assert private.pk in ids(SRE)  # owner
    assert private.pk in ids(LEAD)  # manager (and same team)
    assert private.pk in ids(CEO)  # org admin
    assert private.pk not in ids(ANALYST)  # another team, not in the reporting line
    assert session_api(acme, ANALYST).get(f"{URL}{private.pk}/").status_code == 404
    assert session_api(acme, LEAD).get(f"{URL}{private.pk}/").status_code == 200


def test_another_organisations_objectives_are_never_reachable(acme, globex):
    acme_max = tenant(acme, lambda: Objective.objects.order_by("-id").values_list("id", flat=True)[0])

    def make_globex():
        owner = User.objects.get(email="ceo@globex.example")
        cycle = Cycle.objects.get(kind=Cycle.Kind.QUARTER)
        made = None
        while made is None or made.pk <= acme_max:
            made = Objective.objects.create(title="环球专属目标", cycle=cycle, owner=owner)
        return made

    globex_only = tenant(globex, make_globex)

    response = session_api(acme, CEO).get(f"{URL}{globex_only.pk}/")
    on_globex = session_api(acme, CEO)
    on_globex.defaults["HTTP_HOST"] = "globex.localhost"
    token_on_globex = token_api(acme, CEO)
    token_on_globex.defaults["HTTP_HOST"] = "globex.localhost"

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found", "fields": {}}
    assert on_globex.get(f"{URL}{globex_only.pk}/").status_code == 401
    assert token_on_globex.get(URL).status_code == 401
    assert api_client(acme).get(URL).status_code == 401


def test_filters(acme):
    client = session_api(acme, CEO)
    q = quarter(acme)
    lead = person(acme, LEAD)
    engineering = tenant(acme, lambda: Team.objects.get(name="Product & Engineering"))
    platform = tenant(acme, lambda: Team.objects.get(name="Platform"))

    def titles(query: str) -> set[str]:
        return {r["title"][:20] for r in all_pages(client, f"{URL}?{query}")}

    def expected(**filters) -> set[str]:
        return set(
            tenant(
                acme,
                lambda: [t[:20] for t in Objective.objects.filter(**filters).values_list("title", flat=True)],
            )
        )

    assert titles(f"cycle={q.pk}") == expected(cycle=q)
    assert titles(f"owner={lead.pk}") == expected(owner=lead) == {"Ship changes safely "}
    # A team includes its sub-teams (as the explorer's team filter).
    assert titles(f"team={engineering.pk}") == expected(
        team__in=tenant(
            acme, lambda: list(Team.objects.filter(name__in=["Product & Engineering", "Platform", "Growth"]))
        )
    )
    assert titles(f"team={platform.pk}") == {"Ship changes safely ", "Nobody is woken up t"}
    assert titles("level=company") == expected(level="company")
    assert titles("health_dimension=technology_moat") == expected(health_dimension="technology_moat")
    assert titles("state=active") == expected(state="active")
    some_status = tenant(acme, lambda: Objective.objects.values_list("status", flat=True).first())
    assert titles(f"status={some_status}") == expected(status=some_status)
    # updated_since: only what changed at or after the moment given.
    touched = objective_titled(acme, "Land the enterprise")
    later = timezone.now() + timedelta(days=1)
    tenant(acme, lambda: Objective.objects.filter(pk=touched.pk).update(updated_at=later))
    assert titles("updated_since=" + later.isoformat().replace("+00:00", "Z")) == {"Land the enterprise "}
    # Ids of nothing (or of another organisation's rows) match nothing.
    assert titles("owner=999999") == set()
    assert titles("team=999999") == set()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status"),
        ("cycle=abc", "cycle"),
        ("owner=-1", "owner"),
        ("team=99999999999999999999", "team"),
        ("updated_since=yesterday", "updated_since"),
        ("level=galaxy", "level"),
        ("expand=owners", "expand"),
    ],
)
def test_invalid_filter_values_are_a_400_naming_the_parameter(acme, query, field):
    response = session_api(acme, SRE).get(f"{URL}?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == {field}


def test_ordering(acme):
    client = session_api(acme, CEO)

    by_progress = [r["progress"] for r in all_pages(client, f"{URL}?ordering=progress")]
    by_title = [r["title"] for r in all_pages(client, f"{URL}?ordering=-title")]

    assert by_progress == sorted(by_progress)
    assert by_title == sorted(by_title, reverse=True)


def test_expand_key_results_inline(acme):
    client = session_api(acme, SRE)
    deploys = objective_titled(acme, "Ship changes safely")

    listed = all_pages(client, f"{URL}?expand=key_results")
    single = client.get(f"{URL}{deploys.pk}/?expand=key_results").json()

    (row,) = [r for r in listed if r["id"] == deploys.pk]
    expected = tenant(
        acme, lambda: list(deploys.key_results.order_by("position", "id").values_list("id", "title"))
    )
    assert [(kr["id"], kr["title"]) for kr in row["key_results"]] == expected
    assert row["key_results"] == single["key_results"]
    kr = row["key_results"][0]
    assert kr["objective"] == deploys.pk
    assert kr["cycle"] == deploys.cycle_id
    assert kr["owner"]["email"] == LEAD
    assert {
        "current",
        "confidence",
        "progress",
        "status",
        "forecast",
        "last_check_in_at",
        "start",
        "target",
    } <= set(kr)


def _many_objectives(organization, count: int = 105, key_results: int = 3) -> None:
    def make():
        owner = User.objects.get(email=SRE)
        cycle = Cycle.objects.get(kind=Cycle.Kind.QUARTER)
        objectives = Objective.objects.bulk_create(
            Objective(title=f"Objective {n}", cycle=cycle, owner=owner, team=owner.team) for n in range(count)
        )
        KeyResult.objects.bulk_create(
            KeyResult(objective=o, title=f"KR {n}", owner=owner, start=0, target=10, position=n)
            for o in objectives
            for n in range(key_results)
        )

    tenant(organization, make)


@pytest.mark.parametrize(("email", "queries"), [(CEO, 6), (SRE, 6)])
def test_list_query_count_is_constant_with_and_without_expansion(acme, email, queries):
    _many_objectives(acme)
    client = session_api(acme, email)

    small, small_count = count_queries(lambda: client.get(f"{URL}?page_size=10"))
    large, large_count = count_queries(lambda: client.get(f"{URL}?page_size=100"))
    small_x, small_x_count = count_queries(lambda: client.get(f"{URL}?page_size=10&expand=key_results"))
    large_x, large_x_count = count_queries(lambda: client.get(f"{URL}?page_size=100&expand=key_results"))

    assert (len(small.json()["results"]), len(large.json()["results"])) == (10, 100)
    assert sum(len(r["key_results"]) for r in large_x.json()["results"]) == 300
    # host lookup (3: public schema, domain, tenant schema), session, user, objectives (the
    # reporting lines, for a member, are a subquery of it)
    assert small_count == large_count == queries
    assert small_x_count == large_x_count == queries + 1  # + key results with their owners
    assert small_x.status_code == 200


def test_token_list_query_count_is_constant(acme):
    _many_objectives(acme)
    client = token_api(acme, SRE, scope="read")
    client.get(URL)  # stamps the token's last use (at most once a minute)

    _, small = count_queries(lambda: client.get(f"{URL}?page_size=10&expand=key_results"))
    _, large = count_queries(lambda: client.get(f"{URL}?page_size=100&expand=key_results"))

    # host lookup (3), token with its user, objectives (the reporting lines are a subquery), key results
    assert small == large == 6


# --- Creating -----------------------------------------------------------------------------------------


def test_create_for_yourself(acme):
    client = session_api(acme, SRE)
    q = quarter(acme)
    sre = person(acme, SRE)

    response = client.post(
        URL,
        {"cycle": q.pk, "title": "Cut alert noise in half", "level": "individual", "team": sre.team_id},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"]["id"] == sre.pk
    assert (body["title"], body["level"], body["state"], body["visibility"]) == (
        "Cut alert noise in half", "individual", "draft", "organization",
    )  # fmt: skip
    assert (body["progress"], body["status"], body["score"]) == (0.0, "not_started", None)
    saved = tenant(acme, lambda: Objective.objects.get(pk=body["id"]))
    assert (saved.owner_id, saved.cycle_id, saved.team_id) == (sre.pk, q.pk, sre.team_id)
    assert tenant(acme, lambda: saved.history.first().history_user_id) == sre.pk


def test_managers_create_for_their_reports_but_members_not_for_others(acme):
    q = quarter(acme)
    sre, backend = person(acme, SRE), person(acme, "backend@acme.example")
    before = snapshot(acme)

    refused = session_api(acme, SRE).post(
        URL, {"cycle": q.pk, "title": "For a colleague", "owner": backend.pk}, format="json"
    )
    allowed = session_api(acme, LEAD).post(
        URL, {"cycle": q.pk, "title": "For Mei", "owner": sre.pk}, format="json"
    )

    assert refused.status_code == 403
    assert refused.json()["detail"] == "You can create objectives for yourself and your reports."
    assert allowed.status_code == 201
    assert allowed.json()["owner"]["id"] == sre.pk
    assert len(snapshot(acme)) == len(before) + 1


def test_create_validation_names_the_field_and_refuses_unknown_fields(acme):
    client = session_api(acme, SRE)
    q = quarter(acme)
    viewer = person(acme, VIEWER)
    before = snapshot(acme)

    missing = client.post(URL, {"cycle": q.pk}, format="json")
    unknown = client.post(
        URL, {"cycle": q.pk, "title": "x", "progress": 1.0, "status": "done"}, format="json"
    )
    bad_choice = client.post(URL, {"cycle": q.pk, "title": "x", "level": "galaxy"}, format="json")
    bad_owner = client.post(URL, {"cycle": q.pk, "title": "x", "owner": viewer.pk}, format="json")
    no_cycle = client.post(URL, {"cycle": 999999, "title": "x"}, format="json")
    archived_state = client.post(URL, {"cycle": q.pk, "title": "x", "state": "closed"}, format="json")

    assert missing.status_code == 400
    assert missing.json()["fields"] == {"title": ["This field is required."]}
    assert unknown.status_code == 400
    assert set(unknown.json()["fields"]) == {"progress", "status"}
    assert set(bad_choice.json()["fields"]) == {"level"}
    assert set(bad_owner.json()["fields"]) == {"owner"}  # viewers own nothing
    assert set(no_cycle.json()["fields"]) == {"cycle"}
    assert set(archived_state.json()["fields"]) == {"state"}
    assert snapshot(acme) == before


def test_create_in_a_closed_cycle_is_refused(acme):
    q = quarter(acme)
    tenant(acme, lambda: Cycle.objects.filter(pk=q.pk).update(state=Cycle.State.CLOSED))
    before = snapshot(acme)

    response = session_api(acme, SRE).post(URL, {"cycle": q.pk, "title": "Too late"}, format="json")

    assert response.status_code == 400
    assert "closed" in response.json()["detail"]
    assert snapshot(acme) == before


def test_viewers_and_read_tokens_cannot_create(acme):
    q = quarter(acme)
    before = snapshot(acme)
    body = {"cycle": q.pk, "title": "Board wish"}

    viewer = session_api(acme, VIEWER).post(URL, body, format="json")
    read_token = token_api(acme, SRE, scope="read").post(URL, body, format="json")

    assert viewer.status_code == 403
    assert viewer.json()["detail"] == "Viewers can look at everything they may see but change nothing."
    assert read_token.status_code == 403
    assert "read-only" in read_token.json()["detail"]
    assert snapshot(acme) == before


def test_write_token_creates_as_its_owner(acme):
    q = quarter(acme)

    response = token_api(acme, SRE).post(URL, {"cycle": q.pk, "title": "By script"}, format="json")

    assert response.status_code == 201
    assert response.json()["owner"]["email"] == SRE


# --- Changing -----------------------------------------------------------------------------------------


def test_owner_patches_some_fields_only(acme):
    deploys = objective_titled(acme, "Ship changes safely")
    client = session_api(acme, LEAD)

    response = client.patch(
        f"{URL}{deploys.pk}/", {"title": "Ship safely, daily", "kind": "aspirational"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["title"], response.json()["kind"]) == ("Ship safely, daily", "aspirational")
    saved = tenant(acme, lambda: Objective.objects.get(pk=deploys.pk))
    assert (saved.title, saved.kind, saved.description, saved.team_id, saved.state) == (
        "Ship safely, daily", "aspirational", deploys.description, deploys.team_id, deploys.state,
    )  # fmt: skip


def test_closing_an_objective_with_a_note(acme):
    deploys = objective_titled(acme, "Ship changes safely")

    response = session_api(acme, "cto@acme.example").patch(
        f"{URL}{deploys.pk}/",
        {"state": "closed", "closing_note": "Daily deploys are routine now."},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["state"], response.json()["closing_note"]) == (
        "closed",
        "Daily deploys are routine now.",
    )


def test_patch_refusals_change_nothing(acme):
    deploys = objective_titled(acme, "Ship changes safely")
    private = private_objective(acme, SRE)
    before = snapshot(acme)
    url = f"{URL}{deploys.pk}/"

    not_editor = session_api(acme, ANALYST).patch(url, {"title": "Mine now"}, format="json")
    viewer = session_api(acme, VIEWER).patch(url, {"title": "Mine now"}, format="json")
    read_token = token_api(acme, LEAD, scope="read").patch(url, {"title": "Mine now"}, format="json")
    computed = session_api(acme, LEAD).patch(url, {"progress": 1, "owner": 1, "cycle": 1}, format="json")
    invisible = session_api(acme, ANALYST).patch(f"{URL}{private.pk}/", {"title": "x"}, format="json")
    blank = session_api(acme, LEAD).patch(url, {"title": ""}, format="json")
    no_op_stranger = session_api(acme, ANALYST).patch(url, {}, format="json")
    put = session_api(acme, LEAD).put(url, {"title": "x"}, format="json")
    delete = session_api(acme, CEO).delete(url)

    assert not_editor.status_code == 403
    assert viewer.status_code == 403
    assert read_token.status_code == 403
    assert computed.status_code == 400
    assert set(computed.json()["fields"]) == {"progress", "owner", "cycle"}
    assert invisible.status_code == 404
    assert set(blank.json()["fields"]) == {"title"}
    assert no_op_stranger.status_code == 403
    assert (put.status_code, delete.status_code) == (405, 405)
    assert snapshot(acme) == before


def test_patch_without_changes_is_a_no_op_for_an_editor(acme):
    deploys = objective_titled(acme, "Ship changes safely")
    history = tenant(acme, deploys.history.count)

    response = session_api(acme, LEAD).patch(f"{URL}{deploys.pk}/", {"title": deploys.title}, format="json")

    assert response.status_code == 200
    assert response.json()["title"] == deploys.title
    assert tenant(acme, deploys.history.count) == history


def test_ids_that_exist_only_in_another_organisation_are_404_everywhere(acme, globex):
    pk = 10**6  # far above anything acme has

    def make_globex_rows():
        ceo = User.objects.get(email="ceo@globex.example")
        cycle = Cycle.objects.create(pk=pk, name="环球", start_date="2026-01-01", end_date="2026-03-31")
        objective = Objective.objects.create(pk=pk, title="环球", cycle=cycle, owner=ceo)
        parent = Objective.objects.create(pk=pk + 1, title="环球 2", cycle=cycle, owner=ceo)
        kr = KeyResult.objects.create(pk=pk, objective=objective, title="环球", owner=ceo, start=0, target=1)
        kr.initiatives.create(pk=pk, title="环球", owner=ceo)
        kpi = Kpi.objects.create(pk=pk, name="环球", owner=ceo, green_threshold=2, red_threshold=1)
        kpi.readings.create(pk=pk, value=1, at=timezone.now())
        AlignmentProposal.objects.create(pk=pk, child=objective, parent_objective=parent, proposed_by=ceo)
        Escalation.objects.create(pk=pk, key_result=kr, level=1)

    tenant(globex, make_globex_rows)
    client = session_api(acme, CEO)
    paths = [
        "cycles", "objectives", "key-results", "initiatives", "kpis", "alignment-proposals", "escalations",
    ]  # fmt: skip

    for path in paths:
        assert client.get(f"/api/v1/{path}/{pk}/").status_code == 404, path
    assert client.get(f"/api/v1/kpis/{pk}/readings/").status_code == 404
    assert client.post(f"/api/v1/kpis/{pk}/readings/", {"value": 1}, format="json").status_code == 404
    assert client.patch(f"{URL}{pk}/", {"title": "x"}, format="json").status_code == 404
    assert (
        client.post(f"/api/v1/escalations/{pk}/acknowledge/", {"root_cause": "x"}, format="json").status_code
        == 404
    )
    assert client.post(f"/api/v1/alignment-proposals/{pk}/accept/", {}, format="json").status_code == 404
    assert client.post(f"/api/v1/initiatives/{pk}/done/", {"done": True}, format="json").status_code == 404
    assert client.get("/api/v1/check-ins/", {"key_result": pk}).json()["results"] == []
    assert tenant(globex, lambda: Objective.objects.get(pk=pk).title) == "环球"
