"""Settings — OKRs: status thresholds (shown as percentages), escalation threshold and
roll-up. Org admins only; a change recalculates the cached statuses at once."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from okrs.models import Objective
from okrs.selectors import okr_settings
from tests.web import get_counting, sign_in

pytestmark = pytest.mark.django_db

# Routing (3), session, user, OKR settings, inbox badge.
OKR_SETTINGS_QUERIES = 7
VALID = {
    "at_risk_gap": "20",
    "off_track_gap": "45",
    "escalation_threshold": "3",
    "rollup_aligned_children": "on",
}


def settings_values(acme) -> tuple:
    with tenant_context(acme):
        settings = okr_settings()
        values = (
            settings.at_risk_gap,
            settings.off_track_gap,
            settings.escalation_threshold,
            settings.rollup_aligned_children,
        )
    connection.set_schema_to_public()
    return values


def objective_statuses(acme) -> dict[int, str]:
    with tenant_context(acme):
        statuses = dict(Objective.objects.values_list("pk", "status"))
    connection.set_schema_to_public()
    return statuses


def test_page_shows_thresholds_as_percentages(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    response, queries = get_counting(acme_client, "/settings/okrs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="okr-settings-form"' in html
    assert 'name="at_risk_gap" value="15"' in html
    assert 'name="off_track_gap" value="30"' in html
    assert 'name="escalation_threshold" value="2"' in html
    assert 'data-testid="threshold-example"' in html
    assert "at risk below 35%" in html
    # Every input has its label.
    for name in ("at_risk_gap", "off_track_gap", "escalation_threshold", "rollup_aligned_children"):
        assert f'<label for="id_{name}">' in html
    assert queries == OKR_SETTINGS_QUERIES


def test_saving_stores_fractions_and_recalculates_statuses(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    before = objective_statuses(acme)
    assert {"at_risk", "off_track"} & set(before.values())

    response = acme_client.post(
        "/settings/okrs/", {"at_risk_gap": "90", "off_track_gap": "100", "escalation_threshold": "3"}
    )

    assert response.status_code == 302
    assert settings_values(acme) == (0.9, 1.0, 3, False)
    # With such lenient thresholds nothing is behind any more: the cached statuses moved at once.
    after = objective_statuses(acme)
    assert not {"at_risk", "off_track"} & set(after.values())
    assert "OKR settings saved." in acme_client.get("/settings/okrs/").content.decode()


def test_saving_the_rollup_rule(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    assert acme_client.post("/settings/okrs/", VALID).status_code == 302
    assert settings_values(acme) == (0.2, 0.45, 3, True)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"off_track_gap": "20"}, "off_track_gap"),  # not further behind than "at risk"
        ({"off_track_gap": "10"}, "off_track_gap"),
        ({"at_risk_gap": "0"}, "at_risk_gap"),
        ({"at_risk_gap": "100", "off_track_gap": "100"}, "at_risk_gap"),
        ({"off_track_gap": "150"}, "off_track_gap"),
        ({"at_risk_gap": "abc"}, "at_risk_gap"),
        ({"escalation_threshold": "0"}, "escalation_threshold"),
        ({"escalation_threshold": "11"}, "escalation_threshold"),
    ],
)
def test_bad_input_is_a_422_on_the_field_and_changes_nothing(acme, acme_client, changes, field):
    sign_in(acme_client, acme, "ceo@acme.example")
    before, statuses = settings_values(acme), objective_statuses(acme)
    response = acme_client.post("/settings/okrs/", {**VALID, **changes})
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert f'data-testid="field-error-{field}"' in response.content.decode()
    assert settings_values(acme) == before
    assert objective_statuses(acme) == statuses


@pytest.mark.parametrize("email", ["cto@acme.example", "sre@acme.example", "board@acme.example"])
def test_non_admins_are_refused_and_change_nothing(acme, acme_client, email):
    sign_in(acme_client, acme, email)
    before = settings_values(acme)
    assert acme_client.get("/settings/okrs/").status_code == 403
    assert acme_client.post("/settings/okrs/", VALID).status_code == 403
    assert settings_values(acme) == before


def test_globex_renders_in_chinese(globex, globex_client):
    sign_in(globex_client, globex, "ceo@globex.example")
    response = globex_client.get("/settings/okrs/")
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert 'data-testid="okr-settings-form"' in response.content.decode()
