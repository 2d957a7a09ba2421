"""/api/v1/escalations/: visible through the key result's objective, filters, constant
queries, acknowledge / resolve through okrs.escalations. Demo data: Acme's "Change failure
rate" KR (owner: the platform lead, manager: the CTO) is escalated to level 3."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from okrs.models import Escalation, KeyResult, Objective
from tests.api_helpers import count_queries, session_api, tenant, token_api

pytestmark = pytest.mark.django_db

URL = "/api/v1/escalations/"
KR = "Change failure rate from 18% to 8%"
LEAD, CTO, SRE, ANALYST, VIEWER = (
    "platform.lead@acme.example", "cto@acme.example", "sre@acme.example", "analyst@acme.example",
    "board@acme.example",
)  # fmt: skip


def escalation(organization, level: int = 1) -> Escalation:
    return tenant(
        organization,
        lambda: Escalation.objects.select_related("key_result").get(key_result__title=KR, level=level),
    )


def states(organization) -> list[tuple]:
    return tenant(
        organization,
        lambda: list(
            Escalation.objects.order_by("id").values_list(
                "id", "state", "root_cause", "resolution", "resolution_note"
            )
        ),
    )


def test_list_and_retrieve_with_the_bi_fields(acme):
    first = escalation(acme)
    client = session_api(acme, SRE)

    rows = client.get(URL).json()["results"]
    single = client.get(f"{URL}{first.pk}/").json()

    assert {(r["level"], r["state"]) for r in rows if r["key_result"] == first.key_result_id} == {
        (1, "open"), (2, "open"), (3, "open"),
    }  # fmt: skip
    assert single == next(r for r in rows if r["id"] == first.pk)
    assert (single["objective"], single["behind_check_ins"]) == (
        first.key_result.objective_id,
        first.behind_check_ins,
    )
    assert (single["root_cause"], single["acknowledged_by"], single["resolution"]) == ("", None, "")
    assert single["root_cause_due_at"] is not None


def test_filters(acme):
    first = escalation(acme)
    closed = tenant(
        acme,
        lambda: Escalation.objects.create(
            key_result_id=first.key_result_id, level=1, state="resolved", resolution="recovered"
        ),
    )
    client = session_api(acme, SRE)

    level_two = client.get(f"{URL}?level=2&key_result={first.key_result_id}").json()["results"]
    resolved = client.get(f"{URL}?state=resolved").json()["results"]
    bad = client.get(f"{URL}?level=4&state=closed")

    assert [(r["level"], r["key_result"]) for r in level_two] == [(2, first.key_result_id)]
    expected = tenant(
        acme, lambda: list(Escalation.objects.filter(state="resolved").values_list("id", flat=True))
    )
    assert closed.pk in expected
    assert sorted(r["id"] for r in resolved) == sorted(expected)
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"level", "state"}


def test_escalations_of_invisible_objectives_are_hidden(acme):
    first = escalation(acme)
    tenant(
        acme, lambda: Objective.objects.filter(key_results=first.key_result_id).update(visibility="private")
    )

    assert session_api(acme, ANALYST).get(f"{URL}{first.pk}/").status_code == 404
    assert session_api(acme, ANALYST).get(f"{URL}?key_result={first.key_result_id}").json()["results"] == []
    assert session_api(acme, SRE).get(f"{URL}{first.pk}/").status_code == 200  # same team


def test_list_query_count_is_constant(acme):
    def make():
        kr = KeyResult.objects.get(title=KR)
        start = timezone.now() - timedelta(days=300)
        Escalation.objects.bulk_create(
            Escalation(key_result=kr, level=1, state="resolved", opened_at=start + timedelta(days=n))
            for n in range(110)
        )

    tenant(acme, make)
    client = session_api(acme, SRE)

    small, small_count = count_queries(lambda: client.get(f"{URL}?page_size=10"))
    large, large_count = count_queries(lambda: client.get(f"{URL}?page_size=100"))

    assert (len(small.json()["results"]), len(large.json()["results"])) == (10, 100)
    # host lookup (3), session, user, escalations with KR and the people (the reporting lines are a subquery)
    assert small_count == large_count == 6


def test_the_owner_acknowledges_with_a_root_cause(acme):
    first = escalation(acme)

    response = session_api(acme, LEAD).post(
        f"{URL}{first.pk}/acknowledge/",
        {"root_cause": "Flaky integration tests hide failures."},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["root_cause"], body["acknowledged_by"]["email"]) == (
        "acknowledged", "Flaky integration tests hide failures.", LEAD,
    )  # fmt: skip
    assert body["acknowledged_at"] is not None


def test_the_manager_resolves_with_a_decision(acme):
    first = escalation(acme, level=2)

    response = session_api(acme, CTO).post(
        f"{URL}{first.pk}/resolve/",
        {"resolution": "target_changed", "note": "Target moved to 10%."},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["resolution"], body["resolution_note"], body["resolved_by"]["email"]) == (
        "resolved", "target_changed", "Target moved to 10%.", CTO,
    )  # fmt: skip


def test_refusals_change_nothing(acme):
    first = escalation(acme)
    ack, resolve = f"{URL}{first.pk}/acknowledge/", f"{URL}{first.pk}/resolve/"
    before = states(acme)

    blank = session_api(acme, LEAD).post(ack, {"root_cause": "  "}, format="json")
    unknown = session_api(acme, LEAD).post(ack, {"root_cause": "x", "state": "resolved"}, format="json")
    automatic = session_api(acme, CTO).post(
        resolve, {"resolution": "auto_recovered", "note": "x"}, format="json"
    )
    no_note = session_api(acme, CTO).post(resolve, {"resolution": "recovered", "note": ""}, format="json")
    stranger = session_api(acme, ANALYST).post(ack, {"root_cause": "Not mine"}, format="json")
    member = session_api(acme, SRE).post(resolve, {"resolution": "recovered", "note": "x"}, format="json")
    viewer = session_api(acme, VIEWER).post(ack, {"root_cause": "x"}, format="json")
    read_token = token_api(acme, LEAD, scope="read").post(ack, {"root_cause": "x"}, format="json")
    missing = session_api(acme, LEAD).post(f"{URL}999999/acknowledge/", {"root_cause": "x"}, format="json")

    assert blank.status_code == 400
    assert blank.json()["fields"] == {
        "root_cause": ["Write down the root cause: what is holding this key result back?"]
    }
    assert set(unknown.json()["fields"]) == {"state"}
    assert set(automatic.json()["fields"]) == {"resolution"}
    assert no_note.json()["fields"] == {"note": ["Say what was decided, so the history explains it."]}
    assert (stranger.status_code, member.status_code, viewer.status_code, read_token.status_code) == (
        403, 403, 403, 403,
    )  # fmt: skip
    assert missing.status_code == 404
    assert states(acme) == before
