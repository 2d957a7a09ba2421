"""Home — "My focus": what I owe now, my objectives of the current cycle."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs.models import Cycle
from okrs.selectors.cycles import default_cycle
from okrs.services.objectives import key_result_create, objective_create
from tests.web import get_counting, sign_in

pytestmark = pytest.mark.django_db
# Routing (3), session, user, cycles, objectives + KRs (2), check-ins due, six "owed" lists
# (reporting lines included), inbox badge.
FOCUS_QUERIES = 16


def add_objectives(acme, email: str, count: int) -> None:
    with tenant_context(acme):
        owner = User.objects.get(email=email)
        cycle = default_cycle(timezone.localdate())
        for number in range(count):
            objective = objective_create(
                actor=owner, owner=owner, cycle=cycle, title=f"Extra objective {number}", state="active"
            )
            for kr_number in range(2):
                key_result_create(
                    objective=objective, actor=owner, title=f"KR {kr_number} of {number}",
                    kind="increase", start=0, target=10,
                )  # fmt: skip
    connection.set_schema_to_public()


def test_owner_sees_what_they_owe_and_their_objectives(acme, acme_client):
    sign_in(acme_client, acme, "sre@acme.example")
    response, queries = get_counting(acme_client, "/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="owed"' in html
    assert html.count('data-testid="focus-objective"') >= 1
    assert 'data-testid="check-in-' in html
    assert 'data-testid="new-objective"' in html
    assert 'data-testid="org-name"' in html
    assert queries == FOCUS_QUERIES


def test_query_count_does_not_grow_with_objectives(acme, acme_client):
    sign_in(acme_client, acme, "sre@acme.example")
    add_objectives(acme, "sre@acme.example", 2)
    _, few = get_counting(acme_client, "/")
    add_objectives(acme, "sre@acme.example", 20)
    response, many = get_counting(acme_client, "/")
    assert response.content.decode().count('data-testid="focus-objective"') >= 22
    assert few == many == FOCUS_QUERIES


def test_viewer_sees_no_edit_controls(acme, acme_client):
    sign_in(acme_client, acme, "board@acme.example")
    html = acme_client.get("/").content.decode()
    assert 'data-testid="new-objective"' not in html
    assert 'data-testid="check-in-' not in html


def test_new_person_gets_a_helpful_empty_state(acme, acme_client):
    with tenant_context(acme):
        User.objects.create_user(email="new.hire@acme.example", password="x", full_name="New Hire")
    sign_in(acme_client, acme, "new.hire@acme.example")
    html = acme_client.get("/").content.decode()
    assert "You&#x27;re all caught up." in html or "You're all caught up." in html
    assert "You have no objectives in this cycle yet." in html


def test_no_cycle_yet_says_who_sets_it_up(acme, acme_client):
    with tenant_context(acme):
        Cycle.objects.update(state=Cycle.State.DRAFT)
        User.objects.create_user(email="first@acme.example", password="x")
    sign_in(acme_client, acme, "first@acme.example")
    response = acme_client.get("/")
    assert response.status_code == 200


def test_globex_home_is_in_chinese(globex, globex_client):
    sign_in(globex_client, globex, "sre@globex.example")
    response = globex_client.get("/")
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in response.content.decode()
