"""The KPI board: latest value, health, trend, linked (visible) key results, and a
reading recorded by the KPI's owner in place."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs.models import KeyResult, Kpi, KpiReading, Objective
from okrs.selectors.kpis import TREND_LENGTH
from okrs.services.kpis import kpi_create, kpi_link_key_result, kpi_reading_record
from okrs.services.objectives import key_result_create, objective_create
from tests.web import get_counting, htmx, sign_in

pytestmark = pytest.mark.django_db

# Demo data, signed in as the org admin / as a manager (the same: a manager's reporting lines
# are a subquery of the visibility filter).
QUERIES_CEO = 9
QUERIES_MANAGER = 9


def in_acme(acme, fn):
    with tenant_context(acme):
        result = fn()
    connection.set_schema_to_public()
    return result


def kpi_named(acme, name: str) -> Kpi:
    return in_acme(acme, lambda: Kpi.objects.select_related("owner").get(name=name))


def reading_count(acme, kpi: Kpi) -> int:
    return in_acme(acme, lambda: KpiReading.objects.filter(kpi=kpi).count())


def cards(html: str) -> list[str]:
    return re.findall(r'<article class="card kpi-card.*?</article>', html, flags=re.S)


def card_of(html: str, kpi: Kpi) -> str:
    (card,) = [c for c in cards(html) if f'data-kpi="{kpi.pk}"' in c]
    return card


def test_board_shows_every_kpi_with_value_health_trend_and_linked_key_results(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    response, queries = get_counting(acme_client, "/kpis/")
    assert response.status_code == 200
    assert queries == QUERIES_CEO
    html = response.content.decode()
    assert len(cards(html)) == 3
    assert 'data-testid="kpi-summary"' in html
    churn = kpi_named(acme, "Weekly churn")
    card = card_of(html, churn)

    def expected():
        latest = KpiReading.objects.filter(kpi=churn).order_by("-at", "-id").first()
        krs = list(KeyResult.objects.filter(kpis=churn).values_list("pk", "title", "objective_id"))
        return latest.value, KpiReading.objects.filter(kpi=churn).count(), krs

    latest, total, krs = in_acme(acme, expected)
    assert total == 13  # the demo keeps 13 weekly readings; the trend shows the last 12
    health = "green" if latest <= 1.5 else "red" if latest >= 3.0 else "amber"
    assert f'data-health="{health}"' in card
    assert f'<span class="kpi-value" data-testid="kpi-latest">{latest:g}%</span>' in card
    assert f'data-points="{TREND_LENGTH}"' in card
    assert f'aria-label="Trend: {TREND_LENGTH} readings from ' in card
    assert "Lower is better" in card
    assert "1.5%" in card
    assert "3%" in card
    assert "Grace Hopper" in card  # the owner
    for pk, title, objective_id in krs:
        assert f'data-key-result="{pk}"' in card
        assert title in card
        assert f'href="/objectives/{objective_id}/"' in card
    assert 'data-testid="kr-progress"' in card
    assert 'class="chip status-' in card


def test_manager_query_count_on_demo_data(acme, acme_client):
    sign_in(acme_client, acme, "cto@acme.example")
    response, queries = get_counting(acme_client, "/kpis/")
    assert response.status_code == 200
    assert queries == QUERIES_MANAGER


def test_only_the_owner_and_org_admins_see_the_reading_form(acme, acme_client):
    churn, tickets = kpi_named(acme, "Weekly churn"), kpi_named(acme, "Support tickets per 1k orders")
    sign_in(acme_client, acme, "cs.lead@acme.example")
    html = acme_client.get("/kpis/").content.decode()
    assert 'data-testid="kpi-reading-form"' in card_of(html, tickets)
    assert 'data-testid="kpi-reading-form"' not in card_of(html, churn)
    sign_in(acme_client, acme, "ceo@acme.example")
    html = acme_client.get("/kpis/").content.decode()
    assert html.count('data-testid="kpi-reading-form"') == 3


def test_a_viewer_sees_the_board_without_any_edit_control(acme, acme_client):
    sign_in(acme_client, acme, "board@acme.example")
    response = acme_client.get("/kpis/")
    html = response.content.decode()
    assert response.status_code == 200
    assert len(cards(html)) == 3
    assert "kpi-reading-form" not in html
    assert 'data-testid="check-in-' not in html


def private_kr_linked_to_churn(acme) -> KeyResult:
    """A private objective of the SRE (team Platform) with a KR linked to "Weekly churn"."""

    def make():
        sre = User.objects.get(email="sre@acme.example")
        churn = Kpi.objects.get(name="Weekly churn")
        cycle = Objective.objects.filter(owner=sre).first().cycle
        objective = objective_create(
            actor=sre, cycle=cycle, owner=sre, title="Secret reliability bet", team=sre.team,
            visibility=Objective.Visibility.PRIVATE, state=Objective.State.ACTIVE,
        )  # fmt: skip
        kr = key_result_create(
            actor=sre, objective=objective, title="Hidden churn lever", kind="decrease", start=3, target=1
        )
        kpi_link_key_result(kpi=churn, key_result=kr, actor=sre)
        return kr

    return in_acme(acme, make)


def test_key_results_of_private_objectives_do_not_leak(acme, acme_client):
    kr = private_kr_linked_to_churn(acme)
    churn = kpi_named(acme, "Weekly churn")
    for email, sees in [
        ("analyst@acme.example", False),  # another team
        ("growth.lead@acme.example", False),  # a manager, but not the SRE's
        ("board@acme.example", False),
        ("sre@acme.example", True),  # the owner
        ("backend@acme.example", True),  # same team
        ("platform.lead@acme.example", True),  # the owner's manager
        ("ceo@acme.example", True),  # org admin
    ]:
        sign_in(acme_client, acme, email)
        card = card_of(acme_client.get("/kpis/").content.decode(), churn)
        assert ("Hidden churn lever" in card) is sees, email
        assert (f'data-key-result="{kr.pk}"' in card) is sees, email


def test_owner_records_a_reading_in_place(acme, acme_client):
    tickets = kpi_named(acme, "Support tickets per 1k orders")
    before = reading_count(acme, tickets)
    sign_in(acme_client, acme, "cs.lead@acme.example")
    response = acme_client.post(f"/kpis/{tickets.pk}/readings/", {f"kpi-{tickets.pk}-value": "9.5"}, **htmx())
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith("<article")
    assert "<html" not in html
    assert f'id="kpi-{tickets.pk}"' in html
    assert '<span class="kpi-value" data-testid="kpi-latest">9.5 tickets</span>' in html
    assert 'data-health="red"' in html  # lower is better; red from 8
    assert "to 9.5 tickets" in html  # the trend ends at the new reading
    assert json.loads(response.headers["HX-Trigger"])["okr:toast"]
    assert reading_count(acme, tickets) == before + 1


def test_reading_with_a_time_in_the_past(acme, acme_client):
    tickets = kpi_named(acme, "Support tickets per 1k orders")
    sign_in(acme_client, acme, "cs.lead@acme.example")
    response = acme_client.post(
        f"/kpis/{tickets.pk}/readings/",
        {f"kpi-{tickets.pk}-value": "4.1", f"kpi-{tickets.pk}-at": "2020-01-06T09:30"},
        **htmx(),
    )
    assert response.status_code == 200
    reading = in_acme(acme, lambda: KpiReading.objects.filter(kpi=tickets).order_by("-id").first())
    assert reading.value == 4.1
    assert reading.at.year == 2020
    # An old reading does not become the latest value.
    assert 'data-testid="kpi-latest">4.1 tickets<' not in response.content.decode()


def test_plain_post_redirects_back_to_the_board(acme, acme_client):
    tickets = kpi_named(acme, "Support tickets per 1k orders")
    sign_in(acme_client, acme, "cs.lead@acme.example")
    response = acme_client.post(
        f"/kpis/{tickets.pk}/readings/", {f"kpi-{tickets.pk}-value": "5"}, follow=True
    )
    assert response.redirect_chain == [(f"/kpis/#kpi-{tickets.pk}", 302)]
    assert b"Reading saved for Support tickets per 1k orders." in response.content


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"value": ""}, "value", "This field is required."),
        ({"value": "lots"}, "value", "Enter a number."),
        ({"value": "3", "at": "yesterday"}, "at", "Enter a valid date/time."),
        ({"value": "3", "at": "2999-01-01T10:00"}, "at", "A reading cannot be in the future."),
    ],
)
def test_bad_input_is_a_422_with_the_error_on_the_field(acme, acme_client, data, field, message):
    tickets = kpi_named(acme, "Support tickets per 1k orders")
    before = reading_count(acme, tickets)
    sign_in(acme_client, acme, "cs.lead@acme.example")
    prefixed = {f"kpi-{tickets.pk}-{k}": v for k, v in data.items()}
    response = acme_client.post(f"/kpis/{tickets.pk}/readings/", prefixed, **htmx())
    assert response.status_code == 422
    html = response.content.decode()
    assert '<details class="kpi-record" open>' in html
    assert f'name="kpi-{tickets.pk}-{field}"' in html
    assert re.search(rf'name="kpi-{tickets.pk}-{field}"[^>]*aria-invalid="true"', html)
    assert f'<div class="field-error" role="alert">{message}</div>' in html
    assert reading_count(acme, tickets) == before
    # Without HTMX: the whole board again, with the error on that KPI's form.
    page = acme_client.post(f"/kpis/{tickets.pk}/readings/", prefixed)
    assert page.status_code == 422
    assert b"<html" in page.content
    assert message.encode() in page.content
    assert reading_count(acme, tickets) == before


@pytest.mark.parametrize("email", ["analyst@acme.example", "cto@acme.example", "board@acme.example"])
def test_others_cannot_record_a_reading(acme, acme_client, email):
    tickets = kpi_named(acme, "Support tickets per 1k orders")
    before = reading_count(acme, tickets)
    sign_in(acme_client, acme, email)
    response = acme_client.post(f"/kpis/{tickets.pk}/readings/", {f"kpi-{tickets.pk}-value": "1"}, **htmx())
    assert response.status_code == 403
    assert reading_count(acme, tickets) == before


def test_deactivated_owner_cannot_record(acme, acme_client):
    tickets = kpi_named(acme, "Support tickets per 1k orders")
    before = reading_count(acme, tickets)
    sign_in(acme_client, acme, "cs.lead@acme.example")
    in_acme(acme, lambda: User.objects.filter(email="cs.lead@acme.example").update(is_active=False))
    response = acme_client.post(f"/kpis/{tickets.pk}/readings/", {f"kpi-{tickets.pk}-value": "1"})
    assert response.status_code in {302, 403}  # signed out, or refused: never recorded
    assert reading_count(acme, tickets) == before


def test_unknown_kpi_is_404_and_get_is_not_allowed(acme, acme_client):
    tickets = kpi_named(acme, "Support tickets per 1k orders")
    sign_in(acme_client, acme, "ceo@acme.example")
    assert acme_client.post("/kpis/999999/readings/", {"kpi-999999-value": "1"}).status_code == 404
    assert acme_client.get(f"/kpis/{tickets.pk}/readings/").status_code == 405


def test_board_needs_sign_in(acme_client):
    response = acme_client.get("/kpis/")
    assert response.status_code == 302
    assert "/login" in response["Location"] or "login" in response["Location"]


def test_empty_state(acme, acme_client):
    in_acme(acme, lambda: Kpi.objects.all().delete())
    sign_in(acme_client, acme, "ceo@acme.example")
    response = acme_client.get("/kpis/")
    assert response.status_code == 200
    assert b'data-testid="kpi-empty"' in response.content
    assert b'data-testid="kpi-board"' not in response.content


def test_a_kpi_without_readings(acme, acme_client):
    def make():
        owner = User.objects.get(email="analyst@acme.example")
        return kpi_create(
            actor=owner, name="Fresh KPI", owner=owner, direction="higher_is_better",
            green_threshold=10, red_threshold=5,
        )  # fmt: skip

    kpi = in_acme(acme, make)
    sign_in(acme_client, acme, "analyst@acme.example")
    response = acme_client.get("/kpis/")
    assert response.status_code == 200
    card = card_of(response.content.decode(), kpi)
    assert 'data-health="unknown"' in card
    assert "No reading yet" in card
    assert '<span class="kpi-value" data-testid="kpi-latest">—</span>' in card
    assert 'aria-label="Trend: no readings yet"' in card
    assert 'data-testid="kpi-reading-form"' in card  # the analyst owns it
    assert "No key result you can see is linked to this KPI yet." in card


def add_kpis(acme, count: int, *, readings: int) -> None:
    """``count`` KPIs by different owners, each with ``readings`` readings and a linked KR."""

    def make():
        ceo = User.objects.get(email="ceo@acme.example")
        owners = list(User.objects.exclude(role=User.Role.VIEWER))
        key_results = list(KeyResult.objects.all())
        now = timezone.now()
        for n in range(count):
            owner = owners[n % len(owners)]
            kpi = kpi_create(
                actor=ceo, name=f"Load KPI {n:03}", owner=owner, direction="higher_is_better",
                green_threshold=10, red_threshold=5, unit="units",
            )  # fmt: skip
            kpi_link_key_result(kpi=kpi, key_result=key_results[n % len(key_results)], actor=ceo)
            for week in range(readings):
                kpi_reading_record(kpi=kpi, actor=ceo, value=float(n + week), at=now - timedelta(weeks=week))

    in_acme(acme, make)


def test_query_count_does_not_grow_with_the_number_of_kpis(acme, acme_client):
    add_kpis(acme, 2, readings=TREND_LENGTH + 3)  # 3 demo KPIs + 2 = 5
    for email, expected in [("ceo@acme.example", QUERIES_CEO), ("cto@acme.example", QUERIES_MANAGER)]:
        sign_in(acme_client, acme, email)
        response, few = get_counting(acme_client, "/kpis/")
        assert len(cards(response.content.decode())) == 5
        assert few == expected
    add_kpis(acme, 45, readings=TREND_LENGTH + 3)  # 50
    for email, expected in [("ceo@acme.example", QUERIES_CEO), ("cto@acme.example", QUERIES_MANAGER)]:
        sign_in(acme_client, acme, email)
        response, many = get_counting(acme_client, "/kpis/")
        html = response.content.decode()
        assert len(cards(html)) == 50
        assert many == expected
        # Each trend is bounded, however many readings a KPI has.
        assert html.count(f'data-points="{TREND_LENGTH}"') == 50


def test_globex_renders_in_chinese(globex, globex_client):
    sign_in(globex_client, globex, "ceo@globex.example")
    response = globex_client.get("/kpis/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert len(cards(html)) == 2
    assert "周流失率" in html  # user-entered content is shown as entered
    assert html.count('data-testid="sparkline"') == 2
