"""Acknowledging and resolving escalations (okrs/views/escalations.py) on the demo data:
Acme's "Change failure rate" key result (owner: the platform lead, manager: the CTO)
is behind pace and escalated to level 3."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs.models import Escalation, Objective
from okrs.services.objectives import objective_update
from tests.web import get_counting, htmx, sign_in

pytestmark = pytest.mark.django_db

KR = "Change failure rate from 18% to 8%"


def escalation(organization, level: int = 1, title: str = KR) -> Escalation:
    with tenant_context(organization):
        return Escalation.objects.select_related("key_result__objective").get(
            key_result__title=title, level=level
        )


def state_of(organization, pk: int) -> tuple:
    with tenant_context(organization):
        e = Escalation.objects.get(pk=pk)
        return e.state, e.root_cause, e.resolution, e.resolution_note


def ack_url(e: Escalation) -> str:
    return f"/escalations/{e.pk}/acknowledge/"


def resolve_url(e: Escalation) -> str:
    return f"/escalations/{e.pk}/resolve/"


# --- Acknowledge ----------------------------------------------------------------------------------------


def test_the_owner_sees_the_root_cause_page_and_dialog(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    e = escalation(acme)

    page, queries = get_counting(acme_client, ack_url(e))
    dialog, dialog_queries = get_counting(acme_client, ack_url(e), **htmx())

    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="escalation-page"' in html
    assert 'data-testid="escalation-acknowledge-form"' in html
    assert KR in html
    assert queries == 7  # host lookup (3), session, user, escalation with its KR, inbox badge
    fragment = dialog.content.decode()
    assert dialog.status_code == 200
    assert fragment.startswith("<dialog data-open")
    assert 'hx-post="/escalations/' in fragment
    assert "<html" not in fragment
    assert dialog_queries == 7


def test_acknowledging_records_the_root_cause_and_returns_to_the_objective(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    e = escalation(acme)

    response = acme_client.post(ack_url(e), {"root_cause": "Flaky integration tests hide real failures."})

    assert response.status_code == 302
    assert response["Location"] == f"/objectives/{e.key_result.objective_id}/"
    with tenant_context(acme):
        saved = Escalation.objects.get(pk=e.pk)
        assert (saved.state, saved.root_cause, saved.acknowledged_by_id) == (
            "acknowledged", "Flaky integration tests hide real failures.", lead.pk,
        )  # fmt: skip


def test_acknowledging_in_the_dialog_redirects_htmx_to_the_page_it_came_from(acme, acme_client):
    sign_in(acme_client, acme, "cto@acme.example")  # the owner's manager
    e = escalation(acme)

    response = acme_client.post(ack_url(e), {"root_cause": "Tests are flaky.", "next": "/inbox/"}, **htmx())

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/inbox/"
    assert state_of(acme, e.pk)[0] == "acknowledged"


def test_a_foreign_next_is_ignored(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    e = escalation(acme)

    response = acme_client.post(ack_url(e), {"root_cause": "Tests.", "next": "https://evil.example/"})

    assert response["Location"] == f"/objectives/{e.key_result.objective_id}/"


def test_an_empty_root_cause_is_a_422_on_the_field_and_changes_nothing(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    e = escalation(acme)

    page = acme_client.post(ack_url(e), {"root_cause": "   "})
    dialog = acme_client.post(ack_url(e), {"root_cause": ""}, **htmx())

    assert page.status_code == dialog.status_code == 422
    assert 'id="id_root_cause_error"' in page.content.decode()
    assert 'aria-invalid="true"' in page.content.decode()
    assert dialog.content.decode().startswith("<dialog data-open")
    assert state_of(acme, e.pk)[:2] == ("open", "")


def test_acknowledging_twice_is_refused_by_the_service(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    e = escalation(acme)
    acme_client.post(ack_url(e), {"root_cause": "First."})

    again = acme_client.post(ack_url(e), {"root_cause": "Second."})
    page = acme_client.get(ack_url(e))

    assert again.status_code == 422
    assert 'data-testid="escalation-errors"' in again.content.decode()
    assert state_of(acme, e.pk)[1] == "First."
    assert 'data-testid="escalation-closed"' in page.content.decode()
    assert 'data-testid="escalation-acknowledge-form"' not in page.content.decode()


@pytest.mark.parametrize("local", ["analyst", "sre", "board"])
def test_others_may_not_acknowledge(acme, acme_client, local):
    sign_in(acme_client, acme, f"{local}@acme.example")
    e = escalation(acme)

    assert acme_client.get(ack_url(e)).status_code == 403
    assert acme_client.post(ack_url(e), {"root_cause": "Not mine."}).status_code == 403
    assert acme_client.post(ack_url(e), {"root_cause": "Not mine."}, **htmx()).status_code == 403
    assert state_of(acme, e.pk)[:2] == ("open", "")


def test_escalations_of_invisible_objectives_are_not_found(acme, acme_client):
    e = escalation(acme)
    with tenant_context(acme):
        lead = User.objects.get(email="platform.lead@acme.example")
        objective_update(objective=Objective.objects.get(pk=e.key_result.objective_id), actor=lead,
                         visibility="private")  # fmt: skip
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "analyst@acme.example")  # another team

    assert acme_client.get(ack_url(e)).status_code == 404
    assert acme_client.post(resolve_url(e), {"resolution": "recovered", "note": "x"}).status_code == 404
    assert acme_client.get("/escalations/999999/acknowledge/").status_code == 404
    assert state_of(acme, e.pk)[0] == "open"


# --- Resolve ------------------------------------------------------------------------------------------


def test_resolving_with_a_decision_and_a_note(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    e = escalation(acme, level=2)

    page, queries = get_counting(acme_client, resolve_url(e))
    response = acme_client.post(
        resolve_url(e), {"resolution": "target_changed", "note": "Target moved to 10% after calibration."}
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="escalation-resolve-form"' in html
    assert html.count('name="resolution"') == 3  # recovered, target changed, dropped: never "automatic"
    assert queries == 7
    assert response.status_code == 302
    with tenant_context(acme):
        saved = Escalation.objects.get(pk=e.pk)
        assert (saved.state, saved.resolution, saved.resolved_by_id) == (
            "resolved",
            "target_changed",
            lead.pk,
        )
        assert saved.resolution_note == "Target moved to 10% after calibration."


def test_bad_resolutions_are_422_on_their_fields(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    e = escalation(acme, level=2)

    no_note = acme_client.post(resolve_url(e), {"resolution": "recovered", "note": ""})
    automatic = acme_client.post(resolve_url(e), {"resolution": "auto_recovered", "note": "Sneaky"})

    assert no_note.status_code == automatic.status_code == 422
    assert 'id="id_note_error"' in no_note.content.decode()
    assert 'id="id_resolution_error"' in automatic.content.decode()
    assert state_of(acme, e.pk)[0] == "open"


def test_a_resolved_escalation_cannot_be_resolved_again(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")  # an org admin
    e = escalation(acme, level=3)
    assert acme_client.post(resolve_url(e), {"resolution": "recovered", "note": "Fixed."}).status_code == 302

    again = acme_client.post(resolve_url(e), {"resolution": "objective_dropped", "note": "Drop it."})
    dialog = acme_client.get(resolve_url(e), **htmx())

    assert again.status_code == 422
    assert state_of(acme, e.pk)[2:] == ("recovered", "Fixed.")
    assert 'data-testid="escalation-closed"' in dialog.content.decode()


def test_resolving_from_the_dialog(acme, acme_client):
    sign_in(acme_client, acme, "cto@acme.example")
    e = escalation(acme, level=3)

    response = acme_client.post(
        resolve_url(e), {"resolution": "recovered", "note": "Back on pace."}, **htmx()
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/objectives/{e.key_result.objective_id}/"
    assert state_of(acme, e.pk)[0] == "resolved"


@pytest.mark.parametrize("local", ["analyst", "sre", "board"])
def test_others_may_not_resolve(acme, acme_client, local):
    sign_in(acme_client, acme, f"{local}@acme.example")
    e = escalation(acme, level=2)

    assert acme_client.get(resolve_url(e)).status_code == 403
    response = acme_client.post(resolve_url(e), {"resolution": "recovered", "note": "Not mine."})
    assert response.status_code == 403
    assert state_of(acme, e.pk)[0] == "open"


def test_query_count_does_not_depend_on_how_many_escalations_there_are(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    with tenant_context(acme):
        ids = list(Escalation.objects.exclude(state="resolved").values_list("pk", flat=True))
    connection.set_schema_to_public()

    counts = {get_counting(acme_client, f"/escalations/{pk}/resolve/")[1] for pk in ids}

    assert counts == {7}


# --- Chinese --------------------------------------------------------------------------------------------


def test_globex_dialog_renders_in_chinese(globex, globex_client):
    sign_in(globex_client, globex, "platform.lead@globex.example")
    e = escalation(globex, title="变更失败率从 18% 降到 8%")

    response = globex_client.get(ack_url(e), **htmx())

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="escalation-dialog"' in html
    assert "变更失败率从 18% 降到 8%" in html
