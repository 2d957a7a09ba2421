"""People, teams and me over the API: everyone reads, org admins write through the same
services as the settings pages; refusals change nothing; lists take a fixed number of
queries. Demo data (acme): 12 people in 6 teams, ceo the only org admin, board a viewer."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import ApiToken, Team, User
from tests.api_helpers import api_client, session_api, token_api

pytestmark = pytest.mark.django_db

ADMIN = "ceo@acme.example"
MEMBER = "sre@acme.example"
VIEWER = "board@acme.example"
USER_FIELDS = {
    "id", "email", "full_name", "role", "team", "manager", "timezone", "language", "is_active", "date_joined",
}  # fmt: skip
# Routing (3), session, user, the page.
USERS_QUERIES = 6
# Routing (3), session, user, the page (with member counts), the team tree (for the paths).
TEAMS_QUERIES = 7


def people(acme) -> dict[str, User]:
    with tenant_context(acme):
        by_local = {u.email.split("@")[0]: u for u in User.objects.all()}
    connection.set_schema_to_public()
    return by_local


def stored_people(acme) -> list[dict]:
    with tenant_context(acme):
        rows = list(User.objects.order_by("pk").values())
    connection.set_schema_to_public()
    return rows


def stored_teams(acme) -> list[dict]:
    with tenant_context(acme):
        rows = list(Team.objects.order_by("pk").values())
    connection.set_schema_to_public()
    return rows


def team_id(acme, name: str) -> int:
    with tenant_context(acme):
        pk = Team.objects.get(name=name).pk
    connection.set_schema_to_public()
    return pk


def all_pages(client, url: str) -> list[dict]:
    rows, response = [], client.get(url)
    while True:
        assert response.status_code == 200, response.json()
        rows += response.json()["results"]
        if not response.json()["next"]:
            return rows
        response = client.get(response.json()["next"])


# --- users: reading ------------------------------------------------------------------------


def test_everyone_reads_everyone_with_the_documented_fields_only(acme):
    with tenant_context(acme):
        User.objects.filter(email="csm@acme.example").update(is_active=False)
    connection.set_schema_to_public()

    rows = all_pages(session_api(acme, VIEWER), "/api/v1/users/?ordering=email")

    assert len(rows) == 12
    assert [r["email"] for r in rows] == sorted(r["email"] for r in rows)
    assert all(set(row) == USER_FIELDS for row in rows)
    sre = next(r for r in rows if r["email"] == MEMBER)
    by_local = people(acme)
    assert sre == {
        "id": by_local["sre"].pk, "email": MEMBER, "full_name": "Mei Wang", "role": "member",
        "team": team_id(acme, "Platform"), "manager": by_local["platform.lead"].pk, "timezone": "",
        "language": "", "is_active": True, "date_joined": sre["date_joined"],
    }  # fmt: skip
    assert next(r for r in rows if r["email"] == "csm@acme.example")["is_active"] is False


def test_user_filters(acme):
    client = session_api(acme, MEMBER)
    by_local = people(acme)

    def emails(query: str) -> set[str]:
        response = client.get(f"/api/v1/users/?{query}")
        assert response.status_code == 200, response.json()
        return {r["email"].split("@")[0] for r in response.json()["results"]}

    assert emails(f"team={team_id(acme, 'Platform')}") == {"platform.lead", "sre", "backend"}
    assert emails("role=viewer") == {"board"}
    assert emails(f"manager={by_local['ceo'].pk}") == {"cto", "sales.lead", "cs.lead"}
    assert emails("q=WANG") == {"sre"}  # Mei Wang
    assert emails("q=lead@acme") == {"platform.lead", "growth.lead", "sales.lead", "cs.lead"}
    assert emails("is_active=false") == set()
    assert emails("team=999999999") == set()


@pytest.mark.parametrize(
    ("query", "field"),
    [("team=abc", "team"), ("team=1.5", "team"), ("role=boss", "role"), ("manager=-3", "manager")],
)
def test_invalid_filter_values_are_400_naming_the_filter(acme, query, field):
    response = session_api(acme, MEMBER).get(f"/api/v1/users/?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == {field}


def test_huge_ids_match_nothing_instead_of_failing(acme):
    client = session_api(acme, MEMBER)

    assert client.get(f"/api/v1/users/?team={2**63 - 1}").json()["results"] == []
    assert client.get(f"/api/v1/users/{2**63 - 1}/").status_code == 404
    assert client.get(f"/api/v1/users/{2**70}/").status_code == 404


def test_another_organisations_person_is_404(acme, globex):
    with tenant_context(globex):
        outsider = User.objects.create_user("new.hire@globex.example", full_name="Only in Globex")
    connection.set_schema_to_public()
    with tenant_context(acme):
        assert not User.objects.filter(pk=outsider.pk).exists()
    connection.set_schema_to_public()

    response = session_api(acme, ADMIN).get(f"/api/v1/users/{outsider.pk}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found", "fields": {}}
    deactivate = session_api(acme, ADMIN).post(f"/api/v1/users/{outsider.pk}/deactivate/")
    assert deactivate.status_code == 404
    with tenant_context(globex):
        assert User.objects.get(pk=outsider.pk).is_active is True


def test_anonymous_is_401(acme):
    client = api_client(acme)

    assert client.get("/api/v1/users/").status_code == 401
    assert client.get("/api/v1/teams/").status_code == 401
    assert client.get("/api/v1/me/").status_code == 401


def test_user_list_queries_do_not_grow(acme, django_assert_num_queries):
    with tenant_context(acme):
        platform = Team.objects.get(name="Platform")
        User.objects.bulk_create(
            User(email=f"p{n}@acme.example", full_name=f"Person {n}", team=platform, password="!")
            for n in range(110)
        )
    connection.set_schema_to_public()
    client = session_api(acme, MEMBER)

    with django_assert_num_queries(USERS_QUERIES):
        small = client.get("/api/v1/users/?page_size=10")
    with django_assert_num_queries(USERS_QUERIES):
        large = client.get("/api/v1/users/?page_size=100&ordering=full_name")

    assert len(small.json()["results"]) == 10
    assert len(large.json()["results"]) == 100


# --- users: writing ------------------------------------------------------------------------


def test_org_admin_invites_someone(acme, django_capture_on_commit_callbacks):
    client = session_api(acme, ADMIN)
    by_local = people(acme)
    body = {
        "email": "New.Hire@acme.example", "full_name": "New Hire", "role": "manager",
        "team": team_id(acme, "Growth"), "manager": by_local["growth.lead"].pk,
    }  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/users/", body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json() | {"id": 0, "date_joined": ""} == {
        "id": 0, "email": "new.hire@acme.example", "full_name": "New Hire", "role": "manager",
        "team": body["team"], "manager": body["manager"], "timezone": "", "language": "",
        "is_active": True, "date_joined": "",
    }  # fmt: skip
    with tenant_context(acme):
        assert User.objects.get(email="new.hire@acme.example").has_usable_password() is False
    assert [m.to for m in mail.outbox] == [["new.hire@acme.example"]]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "not-an-address"}, {"email"}),
        ({"email": MEMBER}, {"email"}),  # already someone's
        ({"email": "x@acme.example", "role": "consultant"}, {"role"}),
        ({"email": "x@acme.example", "role": "king"}, {"role"}),
        ({"email": "x@acme.example", "team": 999999}, {"team"}),
        ({"email": "x@acme.example", "is_staff": True, "password": "x"}, {"is_staff", "password"}),
        ({}, {"email"}),
    ],
)
def test_invalid_invitations_name_the_field_and_create_nobody(acme, body, fields):
    client = session_api(acme, ADMIN)
    before = stored_people(acme)

    response = client.post("/api/v1/users/", body, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == fields
    assert stored_people(acme) == before


def test_inviting_a_deactivated_manager_is_refused(acme):
    by_local = people(acme)
    with tenant_context(acme):
        User.objects.filter(pk=by_local["cto"].pk).update(is_active=False)
    connection.set_schema_to_public()

    response = session_api(acme, ADMIN).post(
        "/api/v1/users/", {"email": "x@acme.example", "manager": by_local["cto"].pk}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"manager"}


@pytest.mark.parametrize("email", [MEMBER, VIEWER, "cto@acme.example"])
def test_only_org_admins_write_people(acme, email):
    client = session_api(acme, email)
    sre = people(acme)["sre"]
    before = stored_people(acme)

    invited = client.post("/api/v1/users/", {"email": "x@acme.example"}, format="json")
    patched = client.patch(f"/api/v1/users/{sre.pk}/", {"role": "org_admin"}, format="json")
    deactivated = client.post(f"/api/v1/users/{sre.pk}/deactivate/")

    assert [invited.status_code, patched.status_code, deactivated.status_code] == [403, 403, 403]
    assert invited.json()["code"] == "permission_denied"
    assert invited.json()["detail"] == (
        "Viewers can look at everything they may see but change nothing."
        if email == VIEWER
        else "Only org admins invite people."
    )
    assert stored_people(acme) == before


def test_read_only_token_of_an_org_admin_cannot_write(acme):
    client = token_api(acme, ADMIN, scope=ApiToken.Scope.READ)
    sre = people(acme)["sre"]
    before = stored_people(acme)

    responses = [
        client.post("/api/v1/users/", {"email": "x@acme.example"}, format="json"),
        client.patch(f"/api/v1/users/{sre.pk}/", {"full_name": "X"}, format="json"),
        client.post(f"/api/v1/users/{sre.pk}/deactivate/"),
        client.post("/api/v1/teams/", {"name": "X"}, format="json"),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert "read-only" in responses[0].json()["detail"]
    assert stored_people(acme) == before
    assert client.get("/api/v1/users/").status_code == 200


def test_org_admin_edits_a_person_and_left_out_fields_keep_their_value(acme):
    by_local = people(acme)
    sre = by_local["sre"]

    response = session_api(acme, ADMIN).patch(
        f"/api/v1/users/{sre.pk}/",
        {"role": "manager", "team": team_id(acme, "Growth"), "timezone": "Asia/Tokyo"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["role"], body["team"], body["timezone"]) == (
        "manager",
        team_id(acme, "Growth"),
        "Asia/Tokyo",
    )
    assert (body["full_name"], body["manager"]) == ("Mei Wang", by_local["platform.lead"].pk)


@pytest.mark.parametrize(
    ("local", "body", "field"),
    [
        ("ceo", {"role": "member"}, "role"),  # the only org admin
        ("cto", {"manager": "sre"}, "manager"),  # sre reports to cto: a circle
        ("sre", {"manager": "sre"}, "manager"),  # their own manager
        ("sre", {"timezone": "Mars/Olympus"}, "timezone"),
        ("sre", {"email": "new@acme.example"}, "email"),  # not editable here
        ("sre", {"is_active": False}, "is_active"),
    ],
)
def test_refused_edits_name_the_field_and_change_nothing(acme, local, body, field):
    by_local = people(acme)
    body = {k: by_local[v].pk if k == "manager" else v for k, v in body.items()}
    client = session_api(acme, ADMIN)
    before = stored_people(acme)

    response = client.patch(f"/api/v1/users/{by_local[local].pk}/", body, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {field}
    assert stored_people(acme) == before


def test_deactivate_and_reactivate(acme):
    client = session_api(acme, ADMIN)
    sre = people(acme)["sre"]

    off = client.post(f"/api/v1/users/{sre.pk}/deactivate/")
    on = client.post(f"/api/v1/users/{sre.pk}/reactivate/")

    assert (off.status_code, off.json()["is_active"]) == (200, False)
    assert (on.status_code, on.json()["is_active"]) == (200, True)


def test_nobody_deactivates_themselves_and_actions_take_no_input(acme):
    client = session_api(acme, ADMIN)
    by_local = people(acme)
    before = stored_people(acme)

    itself = client.post(f"/api/v1/users/{by_local['ceo'].pk}/deactivate/")
    with_body = client.post(f"/api/v1/users/{by_local['sre'].pk}/deactivate/", {"reason": "x"}, format="json")

    assert itself.status_code == 400
    assert "yourself" in itself.json()["detail"]
    assert with_body.status_code == 400
    assert set(with_body.json()["fields"]) == {"reason"}
    assert stored_people(acme) == before


# --- teams -------------------------------------------------------------------------------


def test_teams_with_their_path_and_active_member_count(acme):
    with tenant_context(acme):
        User.objects.filter(email="backend@acme.example").update(is_active=False)
    connection.set_schema_to_public()

    rows = all_pages(session_api(acme, VIEWER), "/api/v1/teams/?ordering=id")

    platform = next(r for r in rows if r["name"] == "Platform")
    assert platform == {
        "id": team_id(acme, "Platform"), "name": "Platform", "parent": team_id(acme, "Product & Engineering"),
        "path": "Leadership / Product & Engineering / Platform", "member_count": 2,
        "created_at": platform["created_at"],
    }  # fmt: skip
    assert len(rows) == 6


def test_team_filters(acme):
    client = session_api(acme, MEMBER)

    under = client.get(f"/api/v1/teams/?parent={team_id(acme, 'Product & Engineering')}").json()["results"]
    top = client.get("/api/v1/teams/?top_level=true").json()["results"]
    bad = client.get("/api/v1/teams/?parent=x")

    assert {r["name"] for r in under} == {"Platform", "Growth"}
    assert [r["name"] for r in top] == ["Leadership"]
    assert (bad.status_code, set(bad.json()["fields"])) == (400, {"parent"})


def test_org_admin_creates_renames_and_moves_teams(acme):
    client = session_api(acme, ADMIN)

    created = client.post(
        "/api/v1/teams/", {"name": "SRE", "parent": team_id(acme, "Platform")}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["path"] == "Leadership / Product & Engineering / Platform / SRE"
    assert created.json()["member_count"] == 0

    moved = client.patch(
        f"/api/v1/teams/{created.json()['id']}/", {"name": "Reliability", "parent": None}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    assert (moved.json()["name"], moved.json()["parent"], moved.json()["path"]) == (
        "Reliability", None, "Reliability",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Platform", "parent": "Product & Engineering"}, "name"),  # a sibling has it
        ({"name": ""}, "name"),
        ({"name": "x", "parent": 999999}, "parent"),
        ({"name": "x", "members": []}, "members"),
    ],
)
def test_invalid_team_creation_names_the_field(acme, body, field):
    body = {k: team_id(acme, v) if k == "parent" and isinstance(v, str) else v for k, v in body.items()}
    before = stored_teams(acme)

    response = session_api(acme, ADMIN).post("/api/v1/teams/", body, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {field}
    assert stored_teams(acme) == before


def test_a_refused_move_also_undoes_the_rename_in_the_same_request(acme):
    before = stored_teams(acme)

    response = session_api(acme, ADMIN).patch(
        f"/api/v1/teams/{team_id(acme, 'Product & Engineering')}/",
        {"name": "Engineering", "parent": team_id(acme, "Platform")},  # under its own sub-team
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"parent"}
    assert stored_teams(acme) == before


def test_only_org_admins_write_teams(acme):
    client = session_api(acme, "cto@acme.example")
    before = stored_teams(acme)

    created = client.post("/api/v1/teams/", {"name": "X"}, format="json")
    renamed = client.patch(f"/api/v1/teams/{team_id(acme, 'Platform')}/", {"name": "X"}, format="json")

    assert (created.status_code, renamed.status_code) == (403, 403)
    assert stored_teams(acme) == before


def test_team_list_queries_do_not_grow(acme, django_assert_num_queries):
    with tenant_context(acme):
        parent = Team.objects.get(name="Platform")
        teams = Team.objects.bulk_create(Team(name=f"Squad {n}", parent=parent) for n in range(110))
        User.objects.bulk_create(
            User(email=f"s{n}@acme.example", team=team, password="!") for n, team in enumerate(teams)
        )
    connection.set_schema_to_public()
    client = session_api(acme, MEMBER)

    with django_assert_num_queries(TEAMS_QUERIES):
        small = client.get("/api/v1/teams/?page_size=10")
    with django_assert_num_queries(TEAMS_QUERIES):
        large = client.get("/api/v1/teams/?page_size=100")

    assert len(small.json()["results"]) == 10
    assert len(large.json()["results"]) == 100
    assert large.json()["results"][0]["path"].startswith(
        "Leadership / Product & Engineering / Platform / Squad"
    )
    assert large.json()["results"][0]["member_count"] == 1


# --- me ----------------------------------------------------------------------------------


def test_me_by_session(acme):
    response = session_api(acme, MEMBER).get("/api/v1/me/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == USER_FIELDS | {"effective_timezone", "effective_language", "token"}
    assert (body["email"], body["timezone"], body["effective_timezone"]) == (MEMBER, "", "Europe/Berlin")
    assert (body["language"], body["effective_language"], body["token"]) == ("", "en", None)


def test_me_by_token_shows_the_token(acme):
    client = token_api(acme, MEMBER, scope=ApiToken.Scope.READ)
    expires = timezone.now() + timedelta(days=30)
    with tenant_context(acme):
        token = ApiToken.objects.get(user__email=MEMBER)
        token.expires_at = expires
        token.save()
        User.objects.filter(email=MEMBER).update(timezone="Asia/Shanghai", language="zh-hans")
    connection.set_schema_to_public()

    body = client.get("/api/v1/me/").json()

    assert body["token"] == {
        "id": token.pk, "name": "test", "scope": "read", "prefix": token.prefix,
        "expires_at": body["token"]["expires_at"],
    }  # fmt: skip
    assert datetime.fromisoformat(body["token"]["expires_at"]) == expires
    assert (body["effective_timezone"], body["effective_language"]) == ("Asia/Shanghai", "zh-hans")
