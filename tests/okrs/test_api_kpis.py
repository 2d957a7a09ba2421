"""/api/v1/kpis/ and /api/v1/kpis/{id}/readings/: the KPI board's data (health, latest
reading, visible linked key results), KPI creation and readings through the KPI services,
idempotent reading records."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from okrs.models import KeyResult, Kpi, KpiReading, Objective
from tests.api_helpers import count_queries, session_api, tenant, token_api

pytestmark = pytest.mark.django_db

URL = "/api/v1/kpis/"
CTO, SRE, CEO, VIEWER = "cto@acme.example", "sre@acme.example", "ceo@acme.example", "board@acme.example"


def kpi_named(organization, name: str) -> Kpi:
    return tenant(organization, lambda: Kpi.objects.select_related("owner").get(name=name))


def readings(organization, kpi: Kpi) -> int:
    return tenant(organization, lambda: KpiReading.objects.filter(kpi=kpi).count())


def kpi_rows(organization) -> list[tuple]:
    return tenant(
        organization, lambda: list(Kpi.objects.order_by("id").values_list("id", "name", "owner_id"))
    )


# --- KPIs -----------------------------------------------------------------------------------------------


def test_list_shows_every_kpi_with_latest_reading_health_and_visible_key_results(acme):
    churn = kpi_named(acme, "Weekly churn")
    latest = tenant(acme, lambda: KpiReading.objects.filter(kpi=churn).order_by("-at", "-id").first())
    linked = tenant(acme, lambda: list(churn.key_results.values_list("id", flat=True)))

    response = session_api(acme, SRE).get(URL)

    assert response.status_code == 200
    rows = {r["name"]: r for r in response.json()["results"]}
    assert set(rows) == {"Weekly churn", "Support tickets per 1k orders", "Net revenue retention"}
    row = rows["Weekly churn"]
    assert (row["id"], row["unit"], row["direction"], row["green_threshold"], row["red_threshold"]) == (
        churn.pk, "%", "lower_is_better", 1.5, 3.0,
    )  # fmt: skip
    assert row["owner"] == {"id": churn.owner_id, "full_name": "Grace Hopper", "email": CTO}
    assert row["latest_reading"]["value"] == latest.value
    assert datetime.fromisoformat(row["latest_reading"]["at"]) == latest.at
    expected_health = "green" if latest.value <= 1.5 else "red" if latest.value >= 3.0 else "amber"
    assert row["health"] == expected_health
    assert row["key_results"] == linked != []
    assert session_api(acme, SRE).get(f"{URL}{churn.pk}/").json() == row


def test_linked_key_results_of_invisible_objectives_are_left_out(acme):
    churn = kpi_named(acme, "Weekly churn")
    tenant(acme, lambda: Objective.objects.filter(key_results__kpis=churn).update(visibility="private"))

    row = session_api(acme, SRE).get(f"{URL}{churn.pk}/").json()

    assert row["key_results"] == []
    assert session_api(acme, CEO).get(f"{URL}{churn.pk}/").json()["key_results"] != []


def test_kpi_list_query_count_is_constant(acme):
    def make():
        owner = User.objects.get(email=CTO)
        kpis = Kpi.objects.bulk_create(
            Kpi(name=f"KPI {n:03}", owner=owner, green_threshold=10, red_threshold=5) for n in range(105)
        )
        KpiReading.objects.bulk_create(
            KpiReading(kpi=k, value=n, at=timezone.now() - timedelta(days=n)) for k in kpis for n in range(3)
        )
        kr = KeyResult.objects.first()
        for kpi in kpis:
            kpi.key_results.add(kr)

    tenant(acme, make)
    client = session_api(acme, SRE)

    small, small_count = count_queries(lambda: client.get(f"{URL}?page_size=10"))
    large, large_count = count_queries(lambda: client.get(f"{URL}?page_size=100"))

    assert (len(small.json()["results"]), len(large.json()["results"])) == (10, 100)
    # host lookup (3), session, user, KPIs with owners, recent readings, reporting lines, key results
    # (the reporting lines of one of the two visibility filters are a subquery)
    assert small_count == large_count == 8


def test_create_a_kpi(acme):
    response = session_api(acme, SRE).post(
        URL,
        {
            "name": "Pages per week",
            "direction": "lower_is_better",
            "green_threshold": 2,
            "red_threshold": 6,
            "unit": "pages",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["owner"]["email"], body["unit"]) == ("Pages per week", SRE, "pages")
    assert (body["health"], body["latest_reading"], body["key_results"]) == ("unknown", None, [])


def test_kpi_create_refusals_change_nothing(acme):
    cto = tenant(acme, lambda: User.objects.get(email=CTO))
    body = {"name": "X", "direction": "higher_is_better", "green_threshold": 10, "red_threshold": 5}
    before = kpi_rows(acme)

    for_someone_else = session_api(acme, SRE).post(URL, {**body, "owner": cto.pk}, format="json")
    thresholds = session_api(acme, SRE).post(URL, {**body, "green_threshold": 1}, format="json")
    unknown = session_api(acme, SRE).post(URL, {**body, "health": "green"}, format="json")
    viewer = session_api(acme, VIEWER).post(URL, body, format="json")
    read_token = token_api(acme, SRE, scope="read").post(URL, body, format="json")

    assert for_someone_else.status_code == 403
    assert thresholds.status_code == 400
    assert thresholds.json()["fields"] == {
        "green_threshold": ["When higher is better, green must start above red."]
    }
    assert set(unknown.json()["fields"]) == {"health"}
    assert (viewer.status_code, read_token.status_code) == (403, 403)
    assert kpi_rows(acme) == before


# --- Readings -------------------------------------------------------------------------------------------


def test_readings_are_listed_newest_first_and_filtered(acme):
    churn = kpi_named(acme, "Weekly churn")
    client = session_api(acme, SRE)

    response = client.get(f"{URL}{churn.pk}/readings/?page_size=100")
    since = (timezone.now() - timedelta(weeks=2, hours=1)).isoformat().replace("+00:00", "Z")
    recent = client.get(f"{URL}{churn.pk}/readings/", {"since": since})

    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == readings(acme, churn) == 13
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    assert set(rows[0]) == {"id", "kpi", "value", "at", "created_at"}
    assert {r["kpi"] for r in rows} == {churn.pk}
    assert len(recent.json()["results"]) == 3
    assert client.get(f"{URL}999999/readings/").status_code == 404
    assert client.get(f"{URL}{churn.pk}/readings/?since=soon").status_code == 400


def test_readings_list_query_count_is_constant(acme):
    churn = kpi_named(acme, "Weekly churn")
    tenant(
        acme,
        lambda: KpiReading.objects.bulk_create(
            KpiReading(kpi=churn, value=2, at=timezone.now() - timedelta(hours=n)) for n in range(110)
        ),
    )
    client = session_api(acme, SRE)

    small, small_count = count_queries(lambda: client.get(f"{URL}{churn.pk}/readings/?page_size=10"))
    large, large_count = count_queries(lambda: client.get(f"{URL}{churn.pk}/readings/?page_size=100"))

    assert (len(small.json()["results"]), len(large.json()["results"])) == (10, 100)
    # host lookup (3), session, user, the KPI, readings
    assert small_count == large_count == 7


def test_the_owner_records_a_reading(acme):
    churn = kpi_named(acme, "Weekly churn")
    at = timezone.now() - timedelta(seconds=5)  # after the demo readings

    response = session_api(acme, CTO).post(
        f"{URL}{churn.pk}/readings/", {"value": 1.2, "at": at.isoformat()}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["kpi"], response.json()["value"]) == (churn.pk, 1.2)
    assert datetime.fromisoformat(response.json()["at"]) == at
    assert session_api(acme, SRE).get(f"{URL}{churn.pk}/").json()["health"] == "green"


def test_reading_refusals_record_nothing(acme):
    churn = kpi_named(acme, "Weekly churn")
    url = f"{URL}{churn.pk}/readings/"
    before = readings(acme, churn)

    not_owner = session_api(acme, SRE).post(url, {"value": 1}, format="json")
    future = session_api(acme, CTO).post(url, {"value": 1, "at": "2999-01-01T00:00:00Z"}, format="json")
    not_a_number = session_api(acme, CTO).post(url, {"value": "high"}, format="json")
    unknown = session_api(acme, CTO).post(url, {"value": 1, "kpi": 2}, format="json")
    viewer = session_api(acme, VIEWER).post(url, {"value": 1}, format="json")
    read_token = token_api(acme, CTO, scope="read").post(url, {"value": 1}, format="json")
    missing_kpi = session_api(acme, CTO).post(f"{URL}999999/readings/", {"value": 1}, format="json")

    assert not_owner.status_code == 403
    assert future.status_code == 400
    assert future.json()["fields"] == {"at": ["A reading cannot be in the future."]}
    assert set(not_a_number.json()["fields"]) == {"value"}
    assert set(unknown.json()["fields"]) == {"kpi"}
    assert (viewer.status_code, read_token.status_code, missing_kpi.status_code) == (403, 403, 404)
    assert readings(acme, churn) == before


def test_a_repeated_idempotency_key_returns_the_first_reading(acme):
    churn = kpi_named(acme, "Weekly churn")
    url = f"{URL}{churn.pk}/readings/"
    client = token_api(acme, CTO)
    before = readings(acme, churn)

    first = client.post(url, {"value": 2.2}, format="json", HTTP_IDEMPOTENCY_KEY="reading-2026-11-22")
    repeat = client.post(url, {"value": 2.2}, format="json", HTTP_IDEMPOTENCY_KEY="reading-2026-11-22")
    changed = client.post(url, {"value": 2.3}, format="json", HTTP_IDEMPOTENCY_KEY="reading-2026-11-22")

    assert first.status_code == repeat.status_code == 201
    assert repeat.json() == first.json()
    assert repeat["Idempotent-Replayed"] == "true"
    assert changed.status_code == 422
    assert readings(acme, churn) == before + 1


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+23:59", "10000-01-01T00:00:00Z", "yesterday"])
def test_reading_times_out_of_range_are_a_400(acme, at):
    churn = kpi_named(acme, "Weekly churn")
    before = readings(acme, churn)

    response = session_api(acme, CTO).post(
        f"{URL}{churn.pk}/readings/", {"value": 1, "at": at}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"at"}
    assert readings(acme, churn) == before
