"""The check-in dialog: HTMX dialog or plain page, progress updated in place."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from okrs.models import CheckIn, KeyResult, Objective
from okrs.services.objectives import objective_update
from tests.web import htmx, sign_in

pytestmark = pytest.mark.django_db


def sre_key_result(acme) -> KeyResult:
    with tenant_context(acme):
        kr = (
            KeyResult.objects.filter(owner__email="sre@acme.example", kind=KeyResult.Kind.DECREASE)
            .select_related("objective")
            .first()
        )
    connection.set_schema_to_public()
    return kr


def check_in_count(acme, kr) -> int:
    with tenant_context(acme):
        count = CheckIn.objects.filter(key_result=kr).count()
    connection.set_schema_to_public()
    return count


def test_dialog_and_page_render_for_the_owner(acme, acme_client):
    kr = sre_key_result(acme)
    sign_in(acme_client, acme, "sre@acme.example")
    dialog = acme_client.get(f"/key-results/{kr.pk}/check-in/", **htmx())
    page = acme_client.get(f"/key-results/{kr.pk}/check-in/")
    assert dialog.status_code == 200
    assert b"<dialog data-open" in dialog.content
    assert b"<html" not in dialog.content
    assert page.status_code == 200
    assert b"<html" in page.content
    assert b'data-testid="check-in-form"' in page.content
    assert b'type="range"' in page.content


def test_htmx_check_in_updates_progress_in_place(acme, acme_client):
    kr = sre_key_result(acme)
    before = check_in_count(acme, kr)
    sign_in(acme_client, acme, "sre@acme.example")
    response = acme_client.post(
        f"/key-results/{kr.pk}/check-in/",
        {"value": "3", "confidence": "8", "what_moved": "Dedup rules shipped"},
        **htmx(),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="kr-{kr.pk}-progress" hx-swap-oob="true"' in html
    assert f'id="objective-{kr.objective_id}-progress" hx-swap-oob="true"' in html
    events = json.loads(response.headers["HX-Trigger"])
    assert events["okr:checked-in"] == {"key_result": kr.pk, "objective": kr.objective_id}
    assert events["okr:toast"]
    assert check_in_count(acme, kr) == before + 1
    with tenant_context(acme):
        kr.refresh_from_db()
        assert (kr.current, kr.confidence) == (3.0, 8)
        assert CheckIn.objects.filter(key_result=kr).latest("id").what_moved == "Dedup rules shipped"


def test_plain_post_redirects_to_next_with_a_message(acme, acme_client):
    kr = sre_key_result(acme)
    sign_in(acme_client, acme, "sre@acme.example")
    response = acme_client.post(
        f"/key-results/{kr.pk}/check-in/", {"value": "4", "confidence": "6", "next": "/"}, follow=True
    )
    assert response.redirect_chain == [("/", 302)]
    assert b"Check-in saved." in response.content


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"value": "", "confidence": "5"}, "value"),
        ({"value": "abc", "confidence": "5"}, "value"),
        ({"value": "1e400", "confidence": "5"}, "value"),
        ({"value": "3", "confidence": "11"}, "confidence"),
        ({"value": "3", "confidence": "-1"}, "confidence"),
    ],
)
def test_bad_input_is_a_422_on_the_field_and_saves_nothing(acme, acme_client, data, field):
    kr = sre_key_result(acme)
    before = check_in_count(acme, kr)
    sign_in(acme_client, acme, "sre@acme.example")
    response = acme_client.post(f"/key-results/{kr.pk}/check-in/", data, **htmx())
    assert response.status_code == 422
    form = response.context["form"]
    assert field in form.errors
    assert b'aria-invalid="true"' in response.content
    assert check_in_count(acme, kr) == before


def test_a_closed_objective_refuses_check_ins_with_a_message(acme, acme_client):
    kr = sre_key_result(acme)
    with tenant_context(acme):
        objective = Objective.objects.get(pk=kr.objective_id)
        objective_update(objective=objective, actor=objective.owner, state=Objective.State.CLOSED)
    before = check_in_count(acme, kr)
    sign_in(acme_client, acme, "sre@acme.example")
    response = acme_client.post(
        f"/key-results/{kr.pk}/check-in/", {"value": "3", "confidence": "5"}, **htmx()
    )
    assert response.status_code == 422
    assert "closed" in " ".join(response.context["form"].non_field_errors())
    assert check_in_count(acme, kr) == before


@pytest.mark.parametrize("email", ["board@acme.example", "analyst@acme.example"])
def test_viewers_and_non_owners_are_refused_and_nothing_changes(acme, acme_client, email):
    kr = sre_key_result(acme)
    before = check_in_count(acme, kr)
    sign_in(acme_client, acme, email)
    assert acme_client.get(f"/key-results/{kr.pk}/check-in/").status_code == 403
    response = acme_client.post(f"/key-results/{kr.pk}/check-in/", {"value": "3", "confidence": "5"})
    assert response.status_code == 403
    assert check_in_count(acme, kr) == before


def test_private_or_unknown_key_results_are_404(acme, acme_client):
    kr = sre_key_result(acme)
    with tenant_context(acme):
        Objective.objects.filter(pk=kr.objective_id).update(visibility=Objective.Visibility.PRIVATE)
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "ae@acme.example")  # sales: not the owner's team or manager chain
    assert acme_client.get(f"/key-results/{kr.pk}/check-in/").status_code == 404
    assert acme_client.get("/key-results/999999/check-in/").status_code == 404


def test_anonymous_people_are_sent_to_sign_in(acme, acme_client):
    kr = sre_key_result(acme)
    response = acme_client.get(f"/key-results/{kr.pk}/check-in/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
