"""The objective page: header, KRs with charts and history, initiatives, alignment
decisions, escalations, audit history; roles, privacy and query counts. Also the chart
geometry (okrs.charts)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs import charts, scoring
from okrs.models import AlignmentProposal, Cycle, Initiative, KeyResult, Objective
from okrs.services.alignment import alignment_propose
from okrs.services.check_ins import check_in_record
from okrs.services.kpis import kpi_create, kpi_link_key_result
from okrs.services.objectives import initiative_create, key_result_create, objective_create, objective_update
from tests.web import get_counting, htmx, sign_in

pytestmark = pytest.mark.django_db

DEPLOYS = "Ship changes safely every day"
MEMBERS = "Become the membership programme customers renew without thinking"
CS = "Every customer succeeds in their first 30 days"

# Exact SQL queries of the page for the demo's "Ship changes safely every day" (3 KRs,
# weekly check-ins, an initiative, open escalations, a parent KR and a contributor).
QUERIES_AS_ADMIN = 20  # the comments included (one query)
QUERIES_AS_MEMBER = 21  # reporting lines read once per request


def _objective(acme, title: str) -> Objective:
    with tenant_context(acme):
        objective = Objective.objects.get(title=title)
    connection.set_schema_to_public()
    return objective


def _user(acme, local: str) -> User:
    with tenant_context(acme):
        user = User.objects.get(email=f"{local}@acme.example")
    connection.set_schema_to_public()
    return user


def _url(objective: Objective) -> str:
    return f"/objectives/{objective.pk}/"


# --- The page for each role ---------------------------------------------------------------------------------


def test_owner_side_sees_everything_with_a_chart_per_key_result(acme, acme_client):
    deploys = _objective(acme, DEPLOYS)
    sign_in(acme_client, acme, "ceo@acme.example")

    response, queries = get_counting(acme_client, _url(deploys))

    html = response.content.decode()
    assert response.status_code == 200
    assert queries == QUERIES_AS_ADMIN
    # Header
    assert 'data-testid="objective-title">Ship changes safely every day<' in html
    assert "Linus Chen" in html
    assert "Platform" in html
    assert "Q4 2026" in html
    assert 'data-testid="objective-expected"' in html
    assert 'data-testid="needs-decision"' in html  # level-2 escalation in the demo
    assert f'href="/objectives/{deploys.pk}/edit/"' in html
    assert f'href="/objectives/{deploys.pk}/key-results/new/"' in html
    assert f'href="/objectives/{deploys.pk}/align/"' in html
    # Key results: progress, facts, check-in, a chart each with pace, forecast and values
    assert html.count('data-testid="kr-card"') == 3
    assert html.count('<svg class="chart"') == 3
    assert html.count('data-testid="chart-pace"') == 2  # the band KR has bounds instead
    assert html.count('class="chart-band"') == 1
    assert html.count('data-testid="chart-forecast"') >= 2
    assert html.count('data-testid="chart-values"') == 3
    assert html.count('data-testid="chart-table"') == 3
    assert "<title id=" in html
    assert "<desc id=" in html
    assert html.count('data-testid="check-in-') >= 3
    assert 'data-testid="kr-history"' in html
    assert "Weekly numbers from the dashboard." in html
    assert 'data-testid="kr-forecast"' in html
    # The chart refreshes itself after a check-in in the dialog
    assert f'hx-get="/objectives/{deploys.pk}/live/" hx-trigger="okr:checked-in from:body"' in html
    # Initiatives, alignment, quality, escalations, history
    assert "Parallelise the integration test suite" in html
    assert html.count('data-testid="initiative-add"') == 3
    assert 'data-testid="initiative-toggle"' in html
    assert 'data-testid="alignment-parent"' in html
    assert "Make the platform a technology moat" in html
    assert 'data-testid="contributor"' in html
    assert "Nobody is woken up twice for the same incident" in html
    assert 'data-testid="finding"' in html
    assert 'data-testid="escalation-acknowledge"' in html
    assert 'data-testid="escalation-resolve"' in html
    assert "created the objective" in html
    assert html.count('data-testid="audit-entry"') >= 4
    assert "<script>" not in html.split("</head>", 1)[1]
    assert " onclick=" not in html


def test_member_sees_the_page_without_edit_controls(acme, acme_client):
    deploys = _objective(acme, DEPLOYS)
    sign_in(acme_client, acme, "analyst@acme.example")

    response, queries = get_counting(acme_client, _url(deploys))

    html = response.content.decode()
    assert response.status_code == 200
    assert queries == QUERIES_AS_MEMBER
    assert html.count('data-testid="kr-chart"') == 3
    for control in (
        'data-testid="edit-controls"', 'data-testid="check-in-', 'data-testid="initiative-add"',
        'data-testid="initiative-toggle"', 'data-testid="escalation-acknowledge"',
        'data-testid="escalation-resolve"', 'data-testid="key-result-edit"',
    ):  # fmt: skip
        assert control not in html


def test_viewer_sees_no_edit_control(acme, acme_client):
    cs = _objective(acme, CS)
    sign_in(acme_client, acme, "board@acme.example")

    html = acme_client.get(_url(cs)).content.decode()

    assert 'data-testid="kr-card"' in html
    assert 'data-testid="edit-controls"' not in html
    assert 'data-testid="check-in-' not in html
    assert 'data-testid="proposal-decision"' not in html
    assert 'data-testid="initiative-add"' not in html


def test_unknown_objective_is_a_404(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")

    assert acme_client.get("/objectives/999999/").status_code == 404


# --- Privacy ------------------------------------------------------------------------------------------------


@pytest.fixture
def private_child(acme):
    """A private objective of sre, aligned under the deploys objective."""
    with tenant_context(acme):
        sre = User.objects.get(email="sre@acme.example")
        objective = objective_create(
            actor=sre, cycle=Cycle.objects.get(kind="quarter"), owner=sre, team=sre.team,
            title="Secret pager rework", visibility="private", level="individual", state="active",
        )  # fmt: skip
        key_result_create(
            actor=sre, objective=objective, title="Pages from 40 to 5", kind="decrease", start=40, target=5
        )
        alignment_propose(child=objective, actor=sre, parent_objective=Objective.objects.get(title=DEPLOYS))
    connection.set_schema_to_public()
    return objective


def test_private_objective_is_a_404_for_people_who_may_not_see_it(acme, acme_client, private_child):
    sign_in(acme_client, acme, "analyst@acme.example")

    assert acme_client.get(_url(private_child)).status_code == 404
    assert acme_client.get(f"/objectives/{private_child.pk}/live/").status_code == 404
    deploys_html = acme_client.get(_url(_objective(acme, DEPLOYS))).content.decode()
    assert "Secret pager rework" not in deploys_html


@pytest.mark.parametrize("local", ["sre", "backend", "platform.lead", "ceo"])
def test_private_objective_is_shown_to_those_who_may_see_it(acme, acme_client, private_child, local):
    sign_in(acme_client, acme, f"{local}@acme.example")

    response = acme_client.get(_url(private_child))
    deploys_html = acme_client.get(_url(_objective(acme, DEPLOYS))).content.decode()

    assert response.status_code == 200
    assert 'data-testid="private-chip"' in response.content.decode()
    assert "Secret pager rework" in deploys_html


# --- Query count does not grow with key results and check-ins -----------------------------------------------


def _objective_with_key_results(acme, count: int) -> Objective:
    with tenant_context(acme):
        lead = User.objects.get(email="platform.lead@acme.example")
        sre = User.objects.get(email="sre@acme.example")
        quarter = Cycle.objects.get(kind="quarter")
        objective = objective_create(
            actor=lead, cycle=quarter, owner=lead, team=lead.team, title="Counted objective", state="active"
        )
        alignment_propose(child=objective, actor=lead, parent_objective=Objective.objects.get(title=DEPLOYS))
        kpi = kpi_create(
            actor=lead, name=f"KPI {count}", unit="ms", owner=lead, direction="lower_is_better",
            green_threshold=100, red_threshold=300,
        )  # fmt: skip
        _add_key_results(objective, lead, sre, kpi, 0, count)
    connection.set_schema_to_public()
    return objective


def _add_key_results(objective, lead, sre, kpi, start: int, stop: int) -> None:
    now = datetime.now(tz=UTC)
    for n in range(start, stop):
        kr = key_result_create(
            actor=lead, objective=objective, title=f"Latency {n} from 900 to 300 ms", kind="decrease",
            start=900, target=300, unit_label="ms", owner=sre if n % 2 else lead,
        )  # fmt: skip
        kpi_link_key_result(kpi=kpi, key_result=kr, actor=lead)
        initiative_create(actor=lead, key_result=kr, title=f"Cache {n}", owner=sre)
        for week in range(3, 0, -1):
            check_in_record(
                key_result=kr, actor=lead, value=900 - 50 * (4 - week) - n, confidence=6,
                what_moved="Moved", recorded_at=now - timedelta(days=7 * week), now=now,
            )  # fmt: skip


@pytest.mark.parametrize("local", ["ceo", "analyst", "sre"])
def test_query_count_does_not_grow_with_key_results(acme, acme_client, local):
    objective = _objective_with_key_results(acme, 2)
    sign_in(acme_client, acme, f"{local}@acme.example")
    small, small_queries = get_counting(acme_client, _url(objective))
    with tenant_context(acme):
        lead = User.objects.get(email="platform.lead@acme.example")
        sre = User.objects.get(email="sre@acme.example")
        from okrs.models import Kpi

        _add_key_results(objective, lead, sre, Kpi.objects.get(name="KPI 2"), 2, 8)
    connection.set_schema_to_public()

    large, large_queries = get_counting(acme_client, _url(objective))

    assert small.content.decode().count('data-testid="kr-chart"') == 2
    assert large.content.decode().count('data-testid="kr-chart"') == 8
    assert large.content.decode().count('data-testid="kr-history-row"') == 24
    assert large_queries == small_queries


# --- Charts, corrections and the live refresh after a check-in ----------------------------------------------


def test_a_correction_replaces_what_it_corrects_in_the_chart_and_is_marked(acme, acme_client):
    with tenant_context(acme):
        lead = User.objects.get(email="platform.lead@acme.example")
        objective = objective_create(
            actor=lead, cycle=Cycle.objects.get(kind="quarter"), owner=lead, title="Corrected", state="active"
        )
        kr = key_result_create(
            actor=lead, objective=objective, title="Tickets", kind="increase", start=0, target=100
        )
        first = check_in_record(key_result=kr, actor=lead, value=10, confidence=5)
        check_in_record(key_result=kr, actor=lead, value=12, confidence=5, corrects=first)
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "platform.lead@acme.example")

    html = acme_client.get(_url(objective)).content.decode()

    chart = html.split('data-testid="chart-table"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r"<td>([\d.]+)</td>", chart) == ["12"]  # only the effective value
    assert html.count('data-testid="kr-history-row"') == 2
    assert 'data-testid="corrected"' in html
    assert 'data-testid="correction"' in html
    assert html.count('<circle class="chart-point"') == 1


def test_live_fragments_follow_a_check_in_made_in_the_dialog(acme, acme_client):
    deploys = _objective(acme, DEPLOYS)
    with tenant_context(acme):
        kr = deploys.key_results.order_by("position").first()
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "platform.lead@acme.example")

    saved = acme_client.post(
        f"/key-results/{kr.pk}/check-in/",
        {"value": "11", "confidence": "8", "what_moved": "Parallel CI"},
        **htmx(),
    )
    live, live_queries = get_counting(acme_client, f"/objectives/{deploys.pk}/live/", **htmx())

    assert json.loads(saved["HX-Trigger"])["okr:checked-in"] == {"key_result": kr.pk, "objective": deploys.pk}
    html = live.content.decode()
    assert live.status_code == 200
    assert f'id="kr-{kr.pk}-live" hx-swap-oob="true"' in html
    assert html.count('hx-swap-oob="true"') == 5  # 3 KRs, the escalations, the flags
    assert "Parallel CI" in html
    assert ">11 minutes<" in html
    assert live_queries <= QUERIES_AS_ADMIN + 2


# --- Initiatives --------------------------------------------------------------------------------------------


def _first_kr(acme, title=DEPLOYS) -> KeyResult:
    with tenant_context(acme):
        kr = KeyResult.objects.filter(objective__title=title).order_by("position", "id").first()
    connection.set_schema_to_public()
    return kr


def _initiative_count(acme, kr) -> int:
    with tenant_context(acme):
        count = Initiative.objects.filter(key_result=kr).count()
    connection.set_schema_to_public()
    return count


def test_add_an_initiative_with_htmx(acme, acme_client):
    kr = _first_kr(acme)
    sign_in(acme_client, acme, "platform.lead@acme.example")

    response = acme_client.post(
        f"/key-results/{kr.pk}/initiatives/new/", {f"kr{kr.pk}-title": "Cache the build images"}, **htmx()
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith(f'<div class="kr-initiatives" id="kr-{kr.pk}-initiatives"')
    assert "Cache the build images" in html
    assert _initiative_count(acme, kr) == 2


def test_add_an_initiative_without_javascript(acme, acme_client):
    kr = _first_kr(acme)
    sign_in(acme_client, acme, "ceo@acme.example")

    response = acme_client.post(f"/key-results/{kr.pk}/initiatives/new/", {f"kr{kr.pk}-title": "Trunk-based"})

    assert response.status_code == 302
    assert response["Location"] == f"/objectives/{kr.objective_id}/#kr-{kr.pk}"
    assert _initiative_count(acme, kr) == 2


@pytest.mark.parametrize("headers", [{}, htmx()])
def test_an_initiative_without_a_title_is_refused_on_the_field(acme, acme_client, headers):
    kr = _first_kr(acme)
    sign_in(acme_client, acme, "platform.lead@acme.example")

    response = acme_client.post(
        f"/key-results/{kr.pk}/initiatives/new/", {f"kr{kr.pk}-title": "  "}, **headers
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert 'class="field-error"' in html
    assert f'id="id_kr{kr.pk}-title"' in html
    assert 'aria-invalid="true"' in html
    assert _initiative_count(acme, kr) == 1


@pytest.mark.parametrize("local", ["analyst", "board", "sre"])
def test_people_who_may_not_edit_cannot_add_initiatives(acme, acme_client, local):
    kr = _first_kr(acme)
    sign_in(acme_client, acme, f"{local}@acme.example")

    response = acme_client.post(f"/key-results/{kr.pk}/initiatives/new/", {f"kr{kr.pk}-title": "Sneaky"})

    assert response.status_code == 403
    assert _initiative_count(acme, kr) == 1


def test_initiatives_are_ticked_off_by_their_owner_only(acme, acme_client):
    kr = _first_kr(acme)
    with tenant_context(acme):
        initiative = Initiative.objects.get(key_result=kr)
    connection.set_schema_to_public()
    url = f"/initiatives/{initiative.pk}/done/"

    sign_in(acme_client, acme, "analyst@acme.example")
    refused = acme_client.post(url, {"done": "1"})
    sign_in(acme_client, acme, "board@acme.example")
    refused_viewer = acme_client.post(url, {"done": "1"})
    with tenant_context(acme):
        assert not Initiative.objects.get(pk=initiative.pk).done
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "platform.lead@acme.example")
    done = acme_client.post(url, {"done": "1"}, **htmx())

    assert (refused.status_code, refused_viewer.status_code, done.status_code) == (403, 403, 200)
    assert 'class="initiative is-done"' in done.content.decode()
    with tenant_context(acme):
        assert Initiative.objects.get(pk=initiative.pk).done


def test_initiatives_of_invisible_objectives_are_not_found(acme, acme_client, private_child):
    with tenant_context(acme):
        kr = private_child.key_results.get()
        initiative = initiative_create(
            actor=User.objects.get(email="sre@acme.example"), key_result=kr, title="X"
        )
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "analyst@acme.example")

    assert acme_client.post(f"/initiatives/{initiative.pk}/done/", {"done": "1"}).status_code == 404
    assert (
        acme_client.post(f"/key-results/{kr.pk}/initiatives/new/", {f"kr{kr.pk}-title": "Y"}).status_code
        == 404
    )


# --- Alignment decisions ------------------------------------------------------------------------------------


def _proposal(acme) -> AlignmentProposal:
    with tenant_context(acme):
        proposal = AlignmentProposal.objects.get(child__title=CS, state="proposed")
    connection.set_schema_to_public()
    return proposal


def _state(acme, proposal) -> tuple[str, int | None]:
    with tenant_context(acme):
        proposal = AlignmentProposal.objects.select_related("child").get(pk=proposal.pk)
    connection.set_schema_to_public()
    return proposal.state, proposal.child.parent_objective_id


def test_parent_owner_sees_accept_and_decline_on_both_pages(acme, acme_client):
    proposal = _proposal(acme)
    sign_in(acme_client, acme, "ceo@acme.example")

    child_page = acme_client.get(f"/objectives/{proposal.child_id}/").content.decode()
    parent_page = acme_client.get(f"/objectives/{proposal.parent_objective_id}/").content.decode()

    assert 'data-testid="outgoing-proposal"' in child_page
    assert 'data-testid="incoming-proposal"' in parent_page
    for html in (child_page, parent_page):
        assert f'action="/alignment-proposals/{proposal.pk}/accept/"' in html
        assert f'action="/alignment-proposals/{proposal.pk}/decline/"' in html


def test_the_proposer_waits_and_cannot_decide(acme, acme_client):
    proposal = _proposal(acme)
    sign_in(acme_client, acme, "cs.lead@acme.example")

    html = acme_client.get(f"/objectives/{proposal.child_id}/").content.decode()
    response = acme_client.post(f"/alignment-proposals/{proposal.pk}/accept/")

    assert 'data-testid="outgoing-proposal"' in html
    assert 'data-testid="proposal-decision"' not in html
    assert response.status_code == 403
    assert _state(acme, proposal) == ("proposed", None)


def test_accept(acme, acme_client):
    proposal = _proposal(acme)
    sign_in(acme_client, acme, "ceo@acme.example")

    response = acme_client.post(
        f"/alignment-proposals/{proposal.pk}/accept/",
        {"next": f"/objectives/{proposal.parent_objective_id}/"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/objectives/{proposal.parent_objective_id}/"
    assert _state(acme, proposal) == ("accepted", proposal.parent_objective_id)
    parent_page = acme_client.get(response["Location"]).content.decode()
    assert CS in parent_page.split('data-testid="alignment"', 1)[1]


def test_decline_needs_a_reason(acme, acme_client):
    proposal = _proposal(acme)
    sign_in(acme_client, acme, "ceo@acme.example")

    refused = acme_client.post(f"/alignment-proposals/{proposal.pk}/decline/", {"decline-response": " "})

    html = refused.content.decode()
    assert refused.status_code == 422
    assert 'data-testid="decline-error"' in html
    assert 'aria-invalid="true"' in html
    assert _state(acme, proposal) == ("proposed", None)

    declined = acme_client.post(
        f"/alignment-proposals/{proposal.pk}/decline/", {"decline-response": "Belongs under retention"}
    )

    assert declined.status_code == 302
    with tenant_context(acme):
        assert AlignmentProposal.objects.get(pk=proposal.pk).response == "Belongs under retention"
    assert _state(acme, proposal) == ("declined", None)


@pytest.mark.parametrize("local", ["analyst", "board"])
def test_others_cannot_decide(acme, acme_client, local):
    proposal = _proposal(acme)
    sign_in(acme_client, acme, f"{local}@acme.example")

    accept = acme_client.post(f"/alignment-proposals/{proposal.pk}/accept/")
    decline = acme_client.post(f"/alignment-proposals/{proposal.pk}/decline/", {"decline-response": "No"})

    assert (accept.status_code, decline.status_code) == (403, 403)
    assert _state(acme, proposal) == ("proposed", None)


def test_deciding_twice_is_a_clear_error(acme, acme_client):
    proposal = _proposal(acme)
    sign_in(acme_client, acme, "ceo@acme.example")
    acme_client.post(f"/alignment-proposals/{proposal.pk}/accept/")

    again = acme_client.post(
        f"/alignment-proposals/{proposal.pk}/decline/", {"decline-response": "Changed my mind"}
    )

    assert again.status_code == 422
    assert "already accepted" in again.content.decode()
    assert _state(acme, proposal) == ("accepted", proposal.parent_objective_id)


def test_proposals_of_invisible_objectives_are_not_found(acme, acme_client):
    with tenant_context(acme):
        sre = User.objects.get(email="sre@acme.example")
        secret = objective_create(
            actor=sre,
            cycle=Cycle.objects.get(kind="quarter"),
            owner=sre,
            title="Hidden",
            visibility="private",
        )
        proposal = alignment_propose(
            child=secret, actor=sre, parent_objective=Objective.objects.get(title=MEMBERS)
        )
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "analyst@acme.example")

    assert acme_client.post(f"/alignment-proposals/{proposal.pk}/accept/").status_code == 404
    assert acme_client.get(f"/alignment-proposals/{proposal.pk}/decline/").status_code == 404


# --- Audit history ------------------------------------------------------------------------------------------


def test_history_says_who_changed_what(acme, acme_client):
    deploys = _objective(acme, DEPLOYS)
    with tenant_context(acme):
        lead = User.objects.get(email="platform.lead@acme.example")
        objective_update(
            objective=Objective.objects.get(pk=deploys.pk),
            actor=lead,
            title="Ship safely, daily",
            kind="aspirational",
        )
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "analyst@acme.example")

    html = acme_client.get(_url(deploys)).content.decode()

    entry = html.split('data-testid="audit-entry"', 2)[1]
    assert "Linus Chen changed the objective" in entry
    assert "<del>Ship changes safely every day</del> → <ins>Ship safely, daily</ins>" in entry
    assert "<del>Committed</del> → <ins>Aspirational</ins>" in entry


# --- Chinese ------------------------------------------------------------------------------------------------


def test_globex_objective_page_in_chinese(globex, globex_client):
    with tenant_context(globex):
        objective = Objective.objects.get(title="每天安全地发布变更")
    connection.set_schema_to_public()
    sign_in(globex_client, globex, "ceo@globex.example")

    response = globex_client.get(_url(objective))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert html.count('data-testid="kr-chart"') == 3
    assert "部署时间从 40 分钟缩短到 10 分钟" in html


# --- Chart geometry (okrs.charts) ---------------------------------------------------------------------------


def test_nice_ticks():
    assert charts.nice_ticks(0, 100) == [0, 25, 50, 75, 100]
    assert charts.nice_ticks(81.5, 88.5) == [82, 84, 86, 88]
    assert charts.nice_ticks(-3, 3) == [-2, 0, 2]
    assert charts.nice_ticks(5, 5) == [5]


def test_value_range_pads_and_handles_a_single_value():
    assert charts.value_range([0, 100]) == (-8, 108)
    assert charts.value_range([5]) == (4, 6)
    assert charts.value_range([500]) == (450, 550)
    assert charts.value_range([]) == (0, 1)


def test_expected_value_is_on_the_pace_line():
    # The "Expected by now" fact: the point the chart's dashed pace line passes today.
    assert scoring.expected_value("increase", start=10, target=30, expected=0.25) == 15
    assert scoring.expected_value("decrease", start=900, target=300, expected=0.5) == 600
    assert scoring.expected_value("stay_above", start=22, target=20, expected=0.5) is None
    assert scoring.expected_value("milestone", start=0, target=1, expected=0.5) is None


def test_date_ticks():
    assert charts.date_ticks(date(2026, 10, 1), date(2026, 12, 31)) == [
        date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)
    ]  # fmt: skip
    assert charts.date_ticks(date(2026, 1, 1), date(2026, 12, 31)) == [
        date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 1)
    ]  # fmt: skip
    assert charts.date_ticks(date(2026, 3, 2), date(2026, 3, 15)) == [date(2026, 3, 2), date(2026, 3, 15)]


def test_clip_segment():
    segment = charts.Segment(0, 0, 100, 200)

    assert charts.clip_segment(segment, 0, 100) == charts.Segment(0, 0, 50, 100)
    assert charts.clip_segment(charts.Segment(0, 50, 10, 50), 0, 100) == charts.Segment(0, 50, 10, 50)
    assert charts.clip_segment(charts.Segment(0, 150, 10, 160), 0, 100) is None


def _berlin(*args) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin"))


def test_increase_chart_geometry():
    chart = charts.key_result_chart(
        kind="increase", start=0, target=100,
        points=[(_berlin(2026, 11, 16, 0, 0), 50.0), (_berlin(2026, 10, 1, 0, 0), 0.0)],
        forecast=100.0, cycle_start=date(2026, 10, 1), cycle_end=date(2026, 12, 31), tz="Europe/Berlin",
        now=_berlin(2026, 11, 16, 0, 0),
    )  # fmt: skip

    # Values 0..100 padded by 8%: 0 sits 8/116 of the plot above the bottom.
    assert (chart.y_min, chart.y_max) == (-8, 108)
    assert chart.pace == charts.Segment(
        chart.left, chart.points[0].y, chart.right, chart.y_ticks[-1].position
    )
    # Points are sorted by time; the first at the cycle's start, on the left edge.
    assert [p.value for p in chart.points] == [0.0, 50.0]
    assert chart.points[0].x == chart.left
    assert chart.points[1].x == chart.now_x
    assert chart.points[1].x == pytest.approx(chart.left + chart.plot_width * 46 / 92, abs=0.5)
    assert chart.forecast.x1 == chart.points[1].x
    assert chart.forecast.x2 == chart.right
    assert chart.forecast.y2 == chart.pace.y2  # forecast 100 = target
    assert chart.polyline.count(",") == 2
    assert [t.value for t in chart.x_ticks] == [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
    assert chart.band is None
    assert chart.thresholds == ()


def test_guard_rail_charts_show_bounds_not_pace():
    common = {
        "points": [(_berlin(2026, 10, 8, 9, 0), 50.0)], "forecast": None, "cycle_start": date(2026, 10, 1),
        "cycle_end": date(2026, 12, 31), "tz": "Europe/Berlin",
    }  # fmt: skip
    band = charts.key_result_chart(kind="stay_between", start=None, target=None, low=20, high=80, **common)
    floor = charts.key_result_chart(kind="stay_above", start=22, target=20, **common)

    assert band.pace is None
    assert floor.pace is None
    assert band.band is not None
    assert band.band.y_top < band.band.y_bottom
    assert len(band.thresholds) == 2
    assert len(floor.thresholds) == 1
    assert band.forecast is None  # a single check-in has no forecast


def test_a_wild_forecast_is_clipped_to_the_chart():
    chart = charts.key_result_chart(
        kind="increase", start=0, target=10,
        points=[(_berlin(2026, 10, 8, 9, 0), 1.0), (_berlin(2026, 10, 15, 9, 0), 9.0)],
        forecast=1_000_000.0, cycle_start=date(2026, 10, 1), cycle_end=date(2026, 12, 31), tz="Europe/Berlin",
    )  # fmt: skip

    assert chart.y_max < 20
    assert chart.forecast.y2 == chart.top
    assert chart.forecast.x2 < chart.right


def test_milestone_and_empty_charts():
    milestone = charts.key_result_chart(
        kind="milestone", start=0, target=1, points=[], forecast=None,
        cycle_start=date(2026, 10, 1), cycle_end=date(2026, 12, 31), tz="Asia/Shanghai",
    )  # fmt: skip

    assert [t.value for t in milestone.y_ticks] == [0.0, 1.0]
    assert milestone.points == ()
    assert milestone.polyline == ""
    assert milestone.forecast is None


def test_chart_times_must_be_aware():
    with pytest.raises(ValueError, match="aware"):
        charts.key_result_chart(
            kind="increase", start=0, target=1, points=[(datetime(2026, 10, 8), 1.0)],  # noqa: DTZ001
            forecast=None, cycle_start=date(2026, 10, 1), cycle_end=date(2026, 12, 31), tz="UTC",
        )  # fmt: skip
