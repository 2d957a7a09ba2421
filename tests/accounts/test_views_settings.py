"""Settings — People, Teams and Notifications: org admins only; every change goes
through a service; bad input is a 422 with the error on its field and nothing changed."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import NotificationSettings, Team, User
from accounts.services import team_create, team_move, user_create, user_update
from okrs.models import Objective
from tests.web import get_counting, htmx, sign_in

pytestmark = pytest.mark.django_db

# Routing (3), session, user, people count, one page of people (team and manager joined),
# inbox badge.
PEOPLE_QUERIES = 8
# Routing (3), session, user, teams with member counts, inbox badge.
TEAMS_QUERIES = 7
# Routing (3), session, user, notification settings, inbox badge.
NOTIFICATIONS_QUERIES = 7

SETTINGS_PAGES = [
    "/settings/",
    "/settings/teams/",
    "/settings/cycles/",
    "/settings/okrs/",
    "/settings/notifications/",
    "/settings/reviews/",
]
NOT_ADMINS = ["cto@acme.example", "sre@acme.example", "board@acme.example"]


def in_acme(acme, fn):
    with tenant_context(acme):
        result = fn()
    connection.set_schema_to_public()
    return result


def people_snapshot(acme) -> list[tuple]:
    return in_acme(
        acme,
        lambda: list(
            User.objects.order_by("pk").values_list(
                "email", "full_name", "role", "team_id", "manager_id", "timezone", "is_active", "password"
            )
        ),
    )


def teams_snapshot(acme) -> list[tuple]:
    return in_acme(acme, lambda: list(Team.objects.order_by("pk").values_list("pk", "name", "parent_id")))


def person(acme, email: str) -> User:
    return in_acme(acme, lambda: User.objects.select_related("team", "manager").get(email=email))


def team(acme, name: str) -> Team:
    return in_acme(acme, lambda: Team.objects.get(name=name))


# --- access --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", SETTINGS_PAGES)
def test_every_settings_page_opens_for_the_org_admin_with_tabs(acme, acme_client, url):
    sign_in(acme_client, acme, "ceo@acme.example")
    response = acme_client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="settings-tabs"' in html
    assert html.count('aria-current="page"') == 2  # the main navigation's "Settings" and this tab


@pytest.mark.parametrize("email", NOT_ADMINS)
@pytest.mark.parametrize("url", SETTINGS_PAGES)
def test_managers_members_and_viewers_are_refused_every_settings_page(acme, acme_client, url, email):
    sign_in(acme_client, acme, email)
    assert acme_client.get(url).status_code == 403


@pytest.mark.parametrize("email", NOT_ADMINS)
def test_non_admins_see_no_settings_link(acme, acme_client, email):
    sign_in(acme_client, acme, email)
    assert 'href="/settings/"' not in acme_client.get("/").content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(acme_client):
    response = acme_client.get("/settings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_deactivated_org_admin_is_refused(acme, acme_client):
    def second_admin():
        admin = user_create(
            email="admin2@acme.example", role=User.Role.ORG_ADMIN, actor=None, password="x-Long-pass-42"
        )
        return admin

    admin = in_acme(acme, second_admin)
    sign_in(acme_client, acme, admin.email)
    in_acme(acme, lambda: User.objects.filter(pk=admin.pk).update(is_active=False))
    # The session no longer authenticates a deactivated person: back to sign-in.
    assert acme_client.get("/settings/").status_code == 302


# --- People: list, search, pagination --------------------------------------------------------


def test_people_list_shows_everyone_with_role_team_manager_and_status(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    response, queries = get_counting(acme_client, "/settings/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="person-row"') == 12
    assert 'data-email="sre@acme.example"' in html
    assert "Mei Wang" in html
    assert "Linus Chen" in html
    assert "Platform" in html
    assert 'data-testid="invite-person"' in html
    assert html.count('data-status="active"') == 12
    # Nobody deactivates themselves: one button fewer than people.
    assert html.count('data-testid="deactivate-person"') == 11
    assert queries == PEOPLE_QUERIES


def test_people_query_count_does_not_grow_with_more_people(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    _, few = get_counting(acme_client, "/settings/")

    def many_people():
        platform = Team.objects.get(name="Platform")
        lead = User.objects.get(email="platform.lead@acme.example")
        for number in range(60):
            user_create(
                email=f"p{number}@acme.example",
                full_name=f"Person {number}",
                team=platform,
                manager=lead,
                actor=None,
            )

    in_acme(acme, many_people)
    first, on_first = get_counting(acme_client, "/settings/")
    second, on_second = get_counting(acme_client, "/settings/?page=2")
    assert first.content.decode().count('data-testid="person-row"') == 25
    assert 'data-testid="pagination"' in first.content.decode()
    assert second.content.decode().count('data-testid="person-row"') == 25
    assert few == on_first == on_second == PEOPLE_QUERIES
    # Newly created people have no password yet: they show as invited.
    assert 'data-status="invited"' in first.content.decode()


def test_people_search_by_name_or_email_and_status(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    html = acme_client.get("/settings/", {"q": "mei"}).content.decode()
    assert html.count('data-testid="person-row"') == 1
    assert 'data-email="sre@acme.example"' in html
    html = acme_client.get("/settings/", {"q": "SALES.LEAD@"}).content.decode()
    assert html.count('data-testid="person-row"') == 1
    assert 'data-email="sales.lead@acme.example"' in html
    html = acme_client.get("/settings/", {"status": "deactivated"}).content.decode()
    assert 'data-testid="people-empty"' in html
    assert "Nobody matches." in html
    in_acme(acme, lambda: User.objects.filter(email="csm@acme.example").update(is_active=False))
    html = acme_client.get("/settings/", {"status": "deactivated"}).content.decode()
    assert html.count('data-testid="person-row"') == 1
    assert 'data-status="deactivated"' in html
    assert 'data-testid="reactivate-person"' in html


# --- People: invite ----------------------------------------------------------------------------


def test_inviting_creates_the_person_and_emails_a_set_password_link(
    acme, acme_client, django_capture_on_commit_callbacks
):
    sign_in(acme_client, acme, "ceo@acme.example")
    platform, lead = team(acme, "Platform"), person(acme, "platform.lead@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = acme_client.post(
            "/settings/people/invite/",
            {"full_name": "Ines New", "email": "Ines@Acme.Example", "role": "member", "team": platform.pk,
             "manager": lead.pk},
        )  # fmt: skip
    assert response.status_code == 302
    invited = person(acme, "ines@acme.example")
    assert (invited.full_name, invited.role, invited.team_id, invited.manager_id) == (
        "Ines New", "member", platform.pk, lead.pk
    )  # fmt: skip
    assert not invited.has_usable_password()
    assert invited.is_active
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ines@acme.example"]
    assert "Acme Corp" in message.subject
    link = next(
        word for word in message.body.split() if word.startswith("http://acme.localhost/set-password/")
    )
    # The link works on acme: it leads to the set-password form.
    follow = Client(HTTP_HOST="acme.localhost").get(link.removeprefix("http://acme.localhost"), follow=True)
    assert follow.status_code == 200
    assert b'name="new_password1"' in follow.content
    # And the person shows up, invited.
    html = acme_client.get("/settings/", {"q": "ines"}).content.decode()
    assert 'data-status="invited"' in html
    assert 'data-testid="resend-invitation"' in html


def test_inviting_an_existing_email_is_a_field_error_and_creates_nothing(
    acme, acme_client, django_capture_on_commit_callbacks
):
    sign_in(acme_client, acme, "ceo@acme.example")
    before = people_snapshot(acme)
    with django_capture_on_commit_callbacks(execute=True):
        response = acme_client.post(
            "/settings/people/invite/", {"email": "SRE@acme.example", "role": "member"}
        )
    assert response.status_code == 422
    assert "already exists" in response.context["form"].errors["email"][0]
    assert 'data-testid="field-error-email"' in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert people_snapshot(acme) == before
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-address", "role": "member"}, "email"),
        ({"email": "x@acme.example", "role": "consultant"}, "role"),
        ({"email": "x@acme.example", "role": "member", "team": "999999"}, "team"),
    ],
)
def test_invite_bad_input_is_a_422_on_the_field(acme, acme_client, data, field):
    sign_in(acme_client, acme, "ceo@acme.example")
    before = people_snapshot(acme)
    response = acme_client.post("/settings/people/invite/", data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert people_snapshot(acme) == before


def test_invite_with_htmx_is_a_dialog_and_success_redirects_the_page(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    dialog = acme_client.get("/settings/people/invite/", **htmx())
    assert dialog.status_code == 200
    assert dialog.content.decode().startswith("<dialog")
    assert 'hx-post="/settings/people/invite/"' in dialog.content.decode()
    invalid = acme_client.post("/settings/people/invite/", {"email": "", "role": "member"}, **htmx())
    assert invalid.status_code == 422
    assert invalid.content.decode().startswith("<dialog")
    saved = acme_client.post(
        "/settings/people/invite/", {"email": "dialog@acme.example", "role": "viewer"}, **htmx()
    )
    assert saved.status_code == 200
    assert saved["HX-Redirect"] == "/settings/"
    assert person(acme, "dialog@acme.example").role == "viewer"


# --- People: edit ---------------------------------------------------------------------------------


def test_editing_changes_role_team_manager_and_time_zone(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    analyst, growth_lead = person(acme, "analyst@acme.example"), person(acme, "growth.lead@acme.example")
    platform = team(acme, "Platform")
    page = acme_client.get(f"/settings/people/{analyst.pk}/")
    assert page.status_code == 200
    assert 'data-testid="person-form"' in page.content.decode()
    response = acme_client.post(
        f"/settings/people/{analyst.pk}/",
        {"full_name": "Kenji Sato", "role": "manager", "team": platform.pk, "manager": growth_lead.pk,
         "timezone": "Asia/Tokyo"},
    )  # fmt: skip
    assert response.status_code == 302
    analyst = person(acme, "analyst@acme.example")
    assert (analyst.role, analyst.team_id, analyst.manager_id, analyst.timezone) == (
        "manager", platform.pk, growth_lead.pk, "Asia/Tokyo"
    )  # fmt: skip
    follow = acme_client.get(response["Location"])
    assert "Kenji Sato&#x27;s details were saved." in follow.content.decode()


def edit_data(user: User, **changes) -> dict:
    data = {
        "full_name": user.full_name,
        "role": user.role,
        "team": user.team_id or "",
        "manager": user.manager_id or "",
        "timezone": user.timezone,
    }
    return {**data, **changes}


@pytest.mark.parametrize(
    ("email", "changes", "field", "message"),
    [
        # The CTO's manager cannot be someone who reports (indirectly) to the CTO.
        ("cto@acme.example", {"manager": "sre"}, "manager", "cannot go round in a circle"),
        ("cto@acme.example", {"manager": "cto"}, "manager", ""),  # not offered: not a valid choice
        ("cto@acme.example", {"timezone": "Mars/Olympus"}, "timezone", ""),
        # The only org admin cannot be demoted, not even by themselves.
        ("ceo@acme.example", {"role": "manager"}, "role", "only org admin"),
    ],
)
def test_edit_bad_input_is_a_422_on_the_field_and_changes_nothing(
    acme, acme_client, email, changes, field, message
):
    sign_in(acme_client, acme, "ceo@acme.example")
    subject = person(acme, email)
    if "manager" in changes:
        changes = {"manager": person(acme, f"{changes['manager']}@acme.example").pk}
    before = people_snapshot(acme)
    response = acme_client.post(f"/settings/people/{subject.pk}/", edit_data(subject, **changes))
    assert response.status_code == 422
    assert message in response.context["form"].errors[field][0]
    assert people_snapshot(acme) == before


def test_an_admin_may_hand_over_and_then_lose_access(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    cto, ceo = person(acme, "cto@acme.example"), person(acme, "ceo@acme.example")
    assert (
        acme_client.post(f"/settings/people/{cto.pk}/", edit_data(cto, role="org_admin")).status_code == 302
    )
    response = acme_client.post(f"/settings/people/{ceo.pk}/", edit_data(ceo, role="manager"))
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert person(acme, "ceo@acme.example").role == "manager"
    assert acme_client.get("/settings/").status_code == 403


def test_unknown_person_is_a_404(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    assert acme_client.get("/settings/people/999999/").status_code == 404
    assert acme_client.post("/settings/people/999999/deactivate/").status_code == 404


# --- People: deactivate / reactivate --------------------------------------------------------------


def test_deactivating_keeps_history_and_stops_sign_in(acme, acme_client, demo_password):
    sre = person(acme, "sre@acme.example")
    objectives = in_acme(acme, lambda: Objective.objects.filter(owner=sre).count())
    their_browser = Client(HTTP_HOST="acme.localhost")
    sign_in(their_browser, acme, "sre@acme.example")
    sign_in(acme_client, acme, "ceo@acme.example")

    response = acme_client.post(f"/settings/people/{sre.pk}/deactivate/", {"next": "/settings/?q=mei"})

    assert response.status_code == 302
    assert response["Location"] == "/settings/?q=mei"
    assert person(acme, "sre@acme.example").is_active is False
    assert in_acme(acme, lambda: Objective.objects.filter(owner=sre).count()) == objectives > 0
    # Their open session ends, and they cannot sign in again.
    assert their_browser.get("/").status_code == 302
    login = Client(HTTP_HOST="acme.localhost").post(
        "/login/", {"username": "sre@acme.example", "password": demo_password}
    )
    assert login.status_code == 200  # the form again, not a redirect
    assert "_auth_user_id" not in login.client.session

    assert acme_client.post(f"/settings/people/{sre.pk}/reactivate/").status_code == 302
    assert person(acme, "sre@acme.example").is_active is True


def test_an_org_admin_cannot_deactivate_themselves(acme, acme_client):
    ceo = person(acme, "ceo@acme.example")
    sign_in(acme_client, acme, "ceo@acme.example")
    before = people_snapshot(acme)
    response = acme_client.post(f"/settings/people/{ceo.pk}/deactivate/")
    assert response.status_code == 422
    assert 'data-testid="settings-error"' in response.content.decode()
    assert "You cannot deactivate yourself" in response.content.decode()
    assert people_snapshot(acme) == before


def test_resending_an_invitation(acme, acme_client, django_capture_on_commit_callbacks):
    new = in_acme(acme, lambda: user_create(email="late@acme.example", actor=None))
    sign_in(acme_client, acme, "ceo@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = acme_client.post(f"/settings/people/{new.pk}/resend-invitation/")
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["late@acme.example"]]
    # Someone who already has a password gets no invitation.
    sre = person(acme, "sre@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        refused = acme_client.post(f"/settings/people/{sre.pk}/resend-invitation/")
    assert refused.status_code == 422
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("email", NOT_ADMINS)
def test_non_admins_change_nothing_about_people(acme, acme_client, email, django_capture_on_commit_callbacks):
    sign_in(acme_client, acme, email)
    sre, csm = person(acme, "sre@acme.example"), person(acme, "csm@acme.example")
    in_acme(acme, lambda: User.objects.filter(pk=csm.pk).update(is_active=False))
    before = people_snapshot(acme)
    with django_capture_on_commit_callbacks(execute=True):
        responses = [
            acme_client.post("/settings/people/invite/", {"email": "new@acme.example", "role": "org_admin"}),
            acme_client.post(f"/settings/people/{sre.pk}/", edit_data(sre, role="org_admin")),
            acme_client.post(f"/settings/people/{sre.pk}/deactivate/"),
            acme_client.post(f"/settings/people/{csm.pk}/reactivate/"),
            acme_client.post(f"/settings/people/{sre.pk}/resend-invitation/"),
        ]
    assert [r.status_code for r in responses] == [403] * 5
    assert people_snapshot(acme) == before
    assert mail.outbox == []


# --- Teams --------------------------------------------------------------------------------------------


def test_teams_tree_is_nested_with_member_counts(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    response, queries = get_counting(acme_client, "/settings/teams/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="team-node"') == 6
    platform = team(acme, "Platform")
    node = html.split(f'data-team="{platform.pk}"', 1)[1].split("</li>", 1)[0]
    assert "3 members" in node  # Linus Chen, Mei Wang, Omar Haddad
    leadership = team(acme, "Leadership")
    top = html.split(f'data-team="{leadership.pk}"', 1)[1]
    assert "2 members" in top
    assert "12 with sub-teams" in top
    # Platform is nested inside Leadership's list (the tree, not a flat list).
    assert top.index(f'data-team="{platform.pk}"') > 0
    assert queries == TEAMS_QUERIES


def test_teams_query_count_does_not_grow_with_more_teams(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    _, few = get_counting(acme_client, "/settings/teams/")

    def more_teams():
        parent = Team.objects.get(name="Platform")
        for number in range(30):
            parent = team_create(name=f"Squad {number}", parent=parent if number % 3 else None, actor=None)

    in_acme(acme, more_teams)
    response, many = get_counting(acme_client, "/settings/teams/")
    assert response.content.decode().count('data-testid="team-node"') == 36
    assert few == many == TEAMS_QUERIES


def test_creating_a_team_under_a_parent(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    growth = team(acme, "Growth")
    response = acme_client.post("/settings/teams/", {"name": " Lifecycle ", "parent": growth.pk})
    assert response.status_code == 302
    assert in_acme(acme, lambda: Team.objects.get(name="Lifecycle").parent_id) == growth.pk
    assert "Team “Lifecycle” was created." in acme_client.get("/settings/teams/").content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "sales", "parent": "Leadership"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "X", "parent": "999999"}, "parent"),
    ],
)
def test_team_create_bad_input_is_a_422_on_the_field(acme, acme_client, data, field):
    sign_in(acme_client, acme, "ceo@acme.example")
    if data.get("parent") == "Leadership":
        data = {**data, "parent": team(acme, "Leadership").pk}
    before = teams_snapshot(acme)
    response = acme_client.post("/settings/teams/", data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert teams_snapshot(acme) == before


def test_renaming_and_moving_a_team(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    growth, sales = team(acme, "Growth"), team(acme, "Sales")
    dialog = acme_client.get(f"/settings/teams/{growth.pk}/", **htmx())
    assert dialog.status_code == 200
    assert dialog.content.decode().startswith("<dialog")
    assert (
        acme_client.post(f"/settings/teams/{growth.pk}/rename/", {"name": "Growth Marketing"}).status_code
        == 302
    )
    assert acme_client.post(f"/settings/teams/{growth.pk}/move/", {"parent": sales.pk}).status_code == 302
    moved = team(acme, "Growth Marketing")
    assert moved.parent_id == sales.pk
    assert acme_client.post(f"/settings/teams/{growth.pk}/move/", {"parent": ""}).status_code == 302
    assert team(acme, "Growth Marketing").parent_id is None


def test_a_team_cannot_move_under_its_own_descendant(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    engineering, platform = team(acme, "Product & Engineering"), team(acme, "Platform")
    page = acme_client.get(f"/settings/teams/{engineering.pk}/").content.decode()
    # Its own sub-teams are not offered...
    assert f'<option value="{platform.pk}" disabled' in page
    before = teams_snapshot(acme)
    # ...and refused when posted anyway, with a clear message on the field.
    response = acme_client.post(f"/settings/teams/{engineering.pk}/move/", {"parent": platform.pk})
    assert response.status_code == 422
    assert "cannot move under its own sub-team" in response.context["move_form"].errors["parent"][0]
    assert teams_snapshot(acme) == before


def test_renaming_to_a_siblings_name_is_refused(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    sales = team(acme, "Sales")
    before = teams_snapshot(acme)
    response = acme_client.post(f"/settings/teams/{sales.pk}/rename/", {"name": "customer success"}, **htmx())
    assert response.status_code == 422
    assert response.content.decode().startswith("<dialog")
    assert "already a team" in response.context["rename_form"].errors["name"][0]
    assert teams_snapshot(acme) == before


@pytest.mark.parametrize("email", NOT_ADMINS)
def test_non_admins_change_no_team(acme, acme_client, email):
    sign_in(acme_client, acme, email)
    growth, sales = team(acme, "Growth"), team(acme, "Sales")
    before = teams_snapshot(acme)
    responses = [
        acme_client.get(f"/settings/teams/{growth.pk}/"),
        acme_client.post("/settings/teams/", {"name": "Shadow IT"}),
        acme_client.post(f"/settings/teams/{growth.pk}/rename/", {"name": "Mine"}),
        acme_client.post(f"/settings/teams/{growth.pk}/move/", {"parent": sales.pk}),
    ]
    assert [r.status_code for r in responses] == [403] * 4
    assert teams_snapshot(acme) == before


def test_every_team_create_names_a_duplicate_on_the_name_field(acme):
    # The rule lives in team_create, so provisioning and the demo data get it too.
    def duplicate():
        with pytest.raises(ValidationError) as refused:
            team_create(name=" SALES ", parent=Team.objects.get(name="Leadership"), actor=None)
        return refused.value.message_dict

    assert in_acme(acme, duplicate) == {"name": ["There is already a team called “SALES” in Leadership."]}


def test_a_team_cannot_move_under_itself_or_any_team_below_it(acme):
    def moves():
        ceo = User.objects.get(email="ceo@acme.example")
        leadership, platform = Team.objects.get(name="Leadership"), Team.objects.get(name="Platform")
        fields = []
        for parent in (leadership, platform):  # itself; two levels below it
            with pytest.raises(ValidationError) as refused:
                team_move(actor=ceo, team=leadership, parent=parent)
            fields.append(list(refused.value.message_dict))
        return fields, Team.objects.get(pk=leadership.pk).parent_id

    assert in_acme(acme, moves) == ([["parent"], ["parent"]], None)


def test_user_create_refuses_an_unknown_time_zone(acme):
    def create():
        with pytest.raises(ValidationError) as refused:
            user_create(email="tz@acme.example", timezone="Mars/Olympus", actor=None)
        return list(refused.value.message_dict), User.objects.filter(email="tz@acme.example").exists()

    assert in_acme(acme, create) == (["timezone"], False)


def test_a_deactivated_manager_may_be_kept_but_not_newly_chosen(acme):
    def update():
        ceo = User.objects.get(email="ceo@acme.example")
        sre = User.objects.get(email="sre@acme.example")
        analyst = User.objects.get(email="analyst@acme.example")
        User.objects.filter(pk=sre.manager_id).update(is_active=False)
        kept = user_update(
            actor=ceo, user=sre, full_name=sre.full_name, role=sre.role, team=sre.team, manager=sre.manager,
            timezone="Asia/Tokyo",
        )  # fmt: skip
        with pytest.raises(ValidationError) as refused:
            user_update(
                actor=ceo, user=analyst, full_name=analyst.full_name, role=analyst.role, team=analyst.team,
                manager=sre.manager,
            )  # fmt: skip
        return kept.timezone, refused.value.message_dict

    assert in_acme(acme, update) == ("Asia/Tokyo", {"manager": ["Linus Chen is deactivated."]})


# --- Notifications -------------------------------------------------------------------------------------


def notification_values(acme):
    def read():
        settings = NotificationSettings.objects.filter(pk=1).first() or NotificationSettings()
        return (
            settings.checkin_day,
            settings.digest_day,
            settings.max_reminders_per_week,
            settings.chat_webhook_url,
        )

    return in_acme(acme, read)


def test_notification_settings_page_and_save(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    response, queries = get_counting(acme_client, "/settings/notifications/")
    assert response.status_code == 200
    assert 'data-testid="notification-settings-form"' in response.content.decode()
    assert queries == NOTIFICATIONS_QUERIES
    saved = acme_client.post(
        "/settings/notifications/",
        {"checkin_day": 2, "digest_day": 4, "max_reminders_per_week": 3,
         "chat_webhook_url": "https://hooks.example.com/T/B/x"},
    )  # fmt: skip
    assert saved.status_code == 302
    assert notification_values(acme) == (2, 4, 3, "https://hooks.example.com/T/B/x")
    assert "Notification settings saved." in acme_client.get("/settings/notifications/").content.decode()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"chat_webhook_url": "ftp://hooks.example.com/x"}, "chat_webhook_url"),
        ({"chat_webhook_url": "javascript:alert(1)"}, "chat_webhook_url"),
        ({"chat_webhook_url": "hooks.example.com/x"}, "chat_webhook_url"),
        ({"max_reminders_per_week": 99}, "max_reminders_per_week"),
        ({"max_reminders_per_week": -1}, "max_reminders_per_week"),
        ({"checkin_day": 7}, "checkin_day"),
    ],
)
def test_notification_settings_bad_input_is_a_422_on_the_field(acme, acme_client, changes, field):
    sign_in(acme_client, acme, "ceo@acme.example")
    before = notification_values(acme)
    data = {"checkin_day": 1, "digest_day": 3, "max_reminders_per_week": 4, "chat_webhook_url": "", **changes}
    response = acme_client.post("/settings/notifications/", data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert f'data-testid="field-error-{field}"' in response.content.decode()
    assert notification_values(acme) == before


@pytest.mark.parametrize("email", NOT_ADMINS)
def test_non_admins_change_no_notification_setting(acme, acme_client, email):
    sign_in(acme_client, acme, email)
    before = notification_values(acme)
    response = acme_client.post(
        "/settings/notifications/", {"checkin_day": 3, "digest_day": 3, "max_reminders_per_week": 0}
    )
    assert response.status_code == 403
    assert notification_values(acme) == before


# --- Chinese -----------------------------------------------------------------------------------------------


def test_globex_people_page_renders_in_chinese(globex, globex_client):
    sign_in(globex_client, globex, "ceo@globex.example")
    response = globex_client.get("/settings/")
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert html.count('data-testid="person-row"') == 12
    assert 'data-testid="settings-tabs"' in html
