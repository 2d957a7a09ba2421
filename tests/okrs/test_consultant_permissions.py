"""A consultant inside a client's workspace coaches drafts: they edit objectives (and their
key results) still in draft that they may see — not active, closed or archived ones, not
their state, never a check-in, never objectives for others. The web UI and the API follow
the same permission functions (okrs.permissions)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs import permissions
from okrs.models import CheckIn, Cycle, KeyResult, Objective
from okrs.services.check_ins import check_in_record
from okrs.services.objectives import key_result_create, key_result_update, objective_create, objective_update
from tests.api_helpers import session_api, tenant
from tests.factories import UserFactory
from tests.web import sign_in

pytestmark = pytest.mark.django_db

COACH = "coach@acme.example"
SRE = "sre@acme.example"
DEPLOYS = "Ship changes safely every day"  # the demo's active objective of the platform lead


@pytest.fixture
def coach(acme) -> User:
    return tenant(acme, lambda: UserFactory(email=COACH, full_name="Casey Coach", role=User.Role.CONSULTANT))


def _draft(visibility: str = Objective.Visibility.ORGANIZATION) -> Objective:
    sre = User.objects.get(email=SRE)
    objective = objective_create(
        actor=sre, cycle=Cycle.objects.get(kind=Cycle.Kind.QUARTER), title="Halve the alert noise",
        visibility=visibility, team=sre.team,
    )  # fmt: skip
    key_result_create(
        actor=sre, objective=objective, title="Alerts per week 200 → 100", kind="decrease", start=200,
        target=100,
    )  # fmt: skip
    return Objective.objects.select_related("cycle", "owner").get(pk=objective.pk)


@pytest.fixture
def draft(acme) -> Objective:
    """The SRE's draft in the demo quarter (visible to everyone), with one key result."""
    return tenant(acme, _draft)


@pytest.fixture
def active(acme) -> Objective:
    return tenant(acme, lambda: Objective.objects.select_related("cycle", "owner").get(title=DEPLOYS))


def snapshot(objective: Objective) -> tuple:
    """What an edit could change: the objective, its key results and their audit history."""
    fresh = Objective.objects.get(pk=objective.pk)
    key_results = list(
        KeyResult.objects.filter(objective=objective)
        .order_by("id")
        .values_list("title", "target", "owner_id")
    )
    return (
        fresh.title,
        fresh.description,
        fresh.state,
        key_results,
        objective.history.count(),
        KeyResult.history.filter(objective_id=objective.pk).count(),
        CheckIn.objects.filter(key_result__objective=objective).count(),
    )


# --- The decisions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "may_edit"),
    [("draft", True), ("active", False), ("closed", False), ("archived", False)],
)
def test_a_consultant_may_edit_only_drafts(acme, coach, state, may_edit):
    with tenant_context(acme):
        sre = User.objects.get(email=SRE)
        objective = Objective(owner=sre, state=state, visibility=Objective.Visibility.ORGANIZATION)

        assert permissions.can_edit_objective(coach, objective) is may_edit
        assert permissions.can_change_objective_state(coach, objective) is False
        # The objective's own side keeps every right, whatever the state.
        assert permissions.can_edit_objective(sre, objective) is True
        assert permissions.can_change_objective_state(sre, objective) is True


def test_a_private_draft_the_consultant_may_not_see_is_not_theirs_to_coach(acme, coach):
    with tenant_context(acme):
        hidden = _draft(visibility=Objective.Visibility.PRIVATE)
        before = snapshot(hidden)

        assert permissions.can_edit_objective(coach, hidden) is False
        with pytest.raises(PermissionDenied):
            objective_update(objective=hidden, actor=coach, title="Coached")

        assert snapshot(hidden) == before


def test_a_deactivated_consultant_coaches_nothing(acme, coach, draft):
    with tenant_context(acme):
        coach.is_active = False
        coach.save()

        assert permissions.can_edit_objective(coach, draft) is False


# --- Services ----------------------------------------------------------------------------------------


def test_a_consultant_coaches_a_draft_and_its_key_results(acme, coach, draft):
    with tenant_context(acme):
        objective_update(
            objective=draft, actor=coach, title="Halve the alert noise by Q1",
            description="Fewer, better alerts.",
        )  # fmt: skip
        kr = KeyResult.objects.get(objective=draft)
        key_result_update(key_result=kr, actor=coach, target=80)
        added = key_result_create(
            actor=coach, objective=draft, title="Runbooks for the top 10 alerts 0 → 10", kind="increase",
            start=0, target=10,
        )  # fmt: skip

        saved = Objective.objects.get(pk=draft.pk)
        assert (saved.title, saved.description, saved.state) == (
            "Halve the alert noise by Q1", "Fewer, better alerts.", "draft",
        )  # fmt: skip
        assert KeyResult.objects.get(pk=kr.pk).target == 80
        assert added.owner == draft.owner  # by default the objective's owner, not the coach
        assert saved.history.first().history_user == coach


def test_a_consultant_may_not_activate_or_archive_a_draft(acme, coach, draft):
    with tenant_context(acme):
        before = snapshot(draft)

        for state in ("active", "archived", "closed"):
            with pytest.raises(ValidationError) as refused:
                objective_update(objective=Objective.objects.get(pk=draft.pk), actor=coach, state=state)
            assert refused.value.message_dict == {
                "state": [
                    "Only the objective's owner, their manager or an org admin can activate, close or "
                    "archive it."
                ]
            }

        assert snapshot(draft) == before


def test_a_consultant_changes_nothing_on_an_active_objective(acme, coach, active):
    with tenant_context(acme):
        before = snapshot(active)
        kr = KeyResult.objects.filter(objective=active).order_by("id").first()

        with pytest.raises(PermissionDenied):
            objective_update(objective=active, actor=coach, title="Coached")
        with pytest.raises(PermissionDenied):
            key_result_update(key_result=kr, actor=coach, target=1)
        with pytest.raises(PermissionDenied):
            key_result_create(actor=coach, objective=active, title="More", kind="increase", start=0, target=1)

        assert snapshot(active) == before


def test_a_consultant_never_checks_in_even_when_named_owner_of_a_key_result(acme, coach, draft, active):
    with tenant_context(acme):
        kr = KeyResult.objects.get(objective=draft)
        key_result_update(key_result=kr, actor=coach, owner=coach)  # allowed while coaching the draft
        kr = KeyResult.objects.select_related("objective").get(pk=kr.pk)
        demo_kr = KeyResult.objects.select_related("objective").filter(objective=active).first()
        before = CheckIn.objects.count()

        assert permissions.can_check_in(coach, kr) is False
        assert permissions.can_check_in(coach, demo_kr) is False
        for key_result in (kr, demo_kr):
            with pytest.raises(PermissionDenied):
                check_in_record(key_result=key_result, actor=coach, value=150, confidence=5)

        assert CheckIn.objects.count() == before


def test_a_consultant_creates_objectives_only_for_themselves(acme, coach):
    with tenant_context(acme):
        sre = User.objects.get(email=SRE)
        quarter = Cycle.objects.get(kind=Cycle.Kind.QUARTER)
        before = Objective.objects.count()

        assert permissions.can_create_objective_for(coach, sre) is False
        with pytest.raises(PermissionDenied):
            objective_create(actor=coach, cycle=quarter, owner=sre, title="Your new objective")
        assert Objective.objects.count() == before

        # Their own objective is theirs: edited, activated and checked in by them.
        own = objective_create(actor=coach, cycle=quarter, title="Run three coaching sessions")
        kr = key_result_create(actor=coach, objective=own, title="Sessions 0 → 3", kind="increase", start=0,
                               target=3)  # fmt: skip
        objective_update(objective=own, actor=coach, state="active")
        check_in_record(key_result=KeyResult.objects.get(pk=kr.pk), actor=coach, value=1, confidence=7)
        assert Objective.objects.get(pk=own.pk).state == "active"
        assert CheckIn.objects.filter(key_result=kr).count() == 1


# --- Web UI --------------------------------------------------------------------------------------------


def edit_data(objective: Objective, **changes) -> dict:
    data = {
        "title": objective.title,
        "description": objective.description,
        "team": str(objective.team_id or ""),
        "level": objective.level,
        "kind": objective.kind,
        "health_dimension": objective.health_dimension,
        "visibility": objective.visibility,
        "state": objective.state,
        "closing_note": objective.closing_note,
    }
    data.update(changes)
    return data


def test_the_objective_page_offers_edit_on_drafts_and_never_a_check_in(
    acme, acme_client, coach, draft, active
):
    sign_in(acme_client, acme, COACH)

    draft_page = acme_client.get(f"/objectives/{draft.pk}/").content.decode()
    active_page = acme_client.get(f"/objectives/{active.pk}/").content.decode()

    assert 'data-testid="edit-controls"' in draft_page
    assert f'href="/objectives/{draft.pk}/edit/"' in draft_page
    assert 'data-testid="key-result-edit"' in draft_page
    assert 'data-testid="edit-controls"' not in active_page
    assert 'data-testid="key-result-edit"' not in active_page
    assert 'data-testid="check-in-' not in draft_page + active_page


def test_a_consultant_edits_a_draft_in_the_ui(acme, acme_client, coach, draft):
    sign_in(acme_client, acme, COACH)
    url = f"/objectives/{draft.pk}/edit/"
    kr = tenant(acme, lambda: KeyResult.objects.get(objective=draft))

    page = acme_client.get(url)
    response = acme_client.post(url, edit_data(draft, title="Halve the alert noise, calmly"))
    kr_page = acme_client.get(f"/key-results/{kr.pk}/edit/")
    add_page = acme_client.get(f"/objectives/{draft.pk}/key-results/new/")

    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == f"/objectives/{draft.pk}/"
    assert tenant(acme, lambda: Objective.objects.get(pk=draft.pk).title) == "Halve the alert noise, calmly"
    assert (kr_page.status_code, add_page.status_code) == (200, 200)


def test_the_ui_refuses_a_consultant_on_an_active_objective(acme, acme_client, coach, active):
    sign_in(acme_client, acme, COACH)
    before = tenant(acme, lambda: snapshot(active))
    kr = tenant(acme, lambda: KeyResult.objects.filter(objective=active).first())

    statuses = [
        acme_client.get(f"/objectives/{active.pk}/edit/").status_code,
        acme_client.post(f"/objectives/{active.pk}/edit/", edit_data(active, title="Coached")).status_code,
        acme_client.get(f"/key-results/{kr.pk}/edit/").status_code,
        acme_client.get(f"/objectives/{active.pk}/key-results/new/").status_code,
        acme_client.get(f"/key-results/{kr.pk}/check-in/").status_code,
    ]

    assert statuses == [403, 403, 403, 403, 403]
    assert tenant(acme, lambda: snapshot(active)) == before


def test_the_ui_shows_why_a_consultant_cannot_activate_a_draft(acme, acme_client, coach, draft):
    sign_in(acme_client, acme, COACH)
    before = tenant(acme, lambda: snapshot(draft))

    response = acme_client.post(f"/objectives/{draft.pk}/edit/", edit_data(draft, state="active"))

    assert response.status_code == 422
    assert (
        "Only the objective&#x27;s owner, their manager or an org admin can activate, close or archive it."
        in response.content.decode()
    )
    assert tenant(acme, lambda: snapshot(draft)) == before


# --- API ---------------------------------------------------------------------------------------------


def test_the_api_lets_a_consultant_coach_a_draft_only(acme, coach, draft, active):
    client = session_api(acme, COACH)
    before_active = tenant(acme, lambda: snapshot(active))

    edited = client.patch(f"/api/v1/objectives/{draft.pk}/", {"title": "Quieter pagers"}, format="json")
    added = client.post(
        "/api/v1/key-results/",
        {
            "objective": draft.pk,
            "title": "Pages per night 5 → 1",
            "kind": "decrease",
            "start": 5,
            "target": 1,
        },
        format="json",
    )
    refused = client.patch(f"/api/v1/objectives/{active.pk}/", {"title": "Coached"}, format="json")
    refused_kr = client.post(
        "/api/v1/key-results/",
        {"objective": active.pk, "title": "More", "kind": "increase", "start": 0, "target": 1},
        format="json",
    )

    assert edited.status_code == 200, edited.json()
    assert edited.json()["title"] == "Quieter pagers"
    assert added.status_code == 201, added.json()
    assert refused.status_code == 403
    assert (
        refused.json()["detail"] == "Only the objective's owner, their manager or an org admin can change it."
    )
    assert refused_kr.status_code == 403
    assert tenant(acme, lambda: snapshot(active)) == before_active


def test_the_api_refuses_a_consultant_activating_a_draft_or_checking_in(acme, coach, draft):
    client = session_api(acme, COACH)
    kr = tenant(acme, lambda: KeyResult.objects.get(objective=draft))
    before = tenant(acme, lambda: snapshot(draft))

    activate = client.patch(f"/api/v1/objectives/{draft.pk}/", {"state": "active"}, format="json")
    check_in = client.post(
        "/api/v1/check-ins/", {"key_result": kr.pk, "value": 150, "confidence": 6}, format="json"
    )

    assert activate.status_code == 400
    assert list(activate.json()["fields"]) == ["state"]
    assert check_in.status_code == 403
    assert tenant(acme, lambda: snapshot(draft)) == before
