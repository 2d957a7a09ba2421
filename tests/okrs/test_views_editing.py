"""Creating and editing objectives and key results, the live quality check and the
alignment picker (okrs/views/editing.py)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs.models import AlignmentProposal, Cycle, KeyResult, Objective
from okrs.services.cycles import cycle_close, cycle_create
from okrs.services.objectives import key_result_create, objective_create
from tests.web import get_counting, htmx, sign_in

pytestmark = pytest.mark.django_db

CREATE = "/objectives/new/"


# --- Helpers --------------------------------------------------------------------------------------------


def person(organization, local: str) -> User:
    with tenant_context(organization):
        return User.objects.get(email=f"{local}@{organization.slug}.example")


def demo(organization, title: str) -> Objective:
    with tenant_context(organization):
        return Objective.objects.select_related("cycle", "owner").get(title=title)


def quarter(organization) -> Cycle:
    with tenant_context(organization):
        return Cycle.objects.get(kind="quarter")


def counts(organization) -> tuple[int, int, int]:
    with tenant_context(organization):
        return Objective.objects.count(), KeyResult.objects.count(), AlignmentProposal.objects.count()


KR_BLANK = {
    "title": "", "kind": "increase", "unit": "number", "currency_code": "", "unit_label": "", "start": "",
    "target": "", "low": "", "high": "", "weight": "1.0", "owner": "", "due_date": "",
}  # fmt: skip


def kr_row(index: int, **values) -> dict:
    return {f"kr-{index}-{name}": value for name, value in {**KR_BLANK, **values}.items()}


def kr_data(**values) -> dict:
    """A single key result form (prefix "kr")."""
    return {f"kr-{name}": value for name, value in {**KR_BLANK, **values}.items()}


def create_data(cycle: Cycle, owner: User, *rows: dict, **objective) -> dict:
    data = {
        "title": "Customers get answers in minutes",
        "description": "",
        "cycle": str(cycle.pk),
        "owner": str(owner.pk),
        "team": str(owner.team_id or ""),
        "level": "team",
        "kind": "committed",
        "health_dimension": "customer_value",
        "visibility": "organization",
        "state": "draft",
        "kr-TOTAL_FORMS": str(len(rows)),
        "kr-INITIAL_FORMS": "0",
        "kr-MIN_NUM_FORMS": "0",
        "kr-MAX_NUM_FORMS": "10",
        "align-q": "",
        "align-parent": "",
        "align-message": "",
    }
    for index, row in enumerate(rows):
        data.update(kr_row(index, **row))
    data.update(objective)
    return data


GOOD_ROWS = (
    {"title": "First reply time from 4 h to 15 min", "kind": "decrease", "start": "240", "target": "15",
     "unit_label": "minutes"},
    {"title": "Self-service answers from 20% to 45%", "kind": "increase", "start": "20", "target": "45",
     "unit": "percent"},
)  # fmt: skip


def post_counting(client, url, data, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, data, **extra)
    return response, len(queries.captured_queries)


def bulk_objectives(organization, owner_local: str, count: int, *, cycle: Cycle | None = None) -> None:
    """``count`` more objectives (each with a key result) through the services."""
    with tenant_context(organization):
        admin = User.objects.get(email=f"ceo@{organization.slug}.example")
        owner = User.objects.get(email=f"{owner_local}@{organization.slug}.example")
        cycle = cycle or Cycle.objects.get(kind="quarter")
        for n in range(count):
            objective = objective_create(actor=admin, cycle=cycle, owner=owner, title=f"Bulk objective {n}")
            key_result_create(
                actor=admin, objective=objective, title=f"Bulk metric {n} from 0 to 10", kind="increase",
                start=0, target=10,
            )  # fmt: skip
    connection.set_schema_to_public()


def private_objective(organization, owner_local: str, title: str = "Secret pricing move") -> Objective:
    with tenant_context(organization):
        owner = User.objects.get(email=f"{owner_local}@{organization.slug}.example")
        objective = objective_create(
            actor=owner, cycle=Cycle.objects.get(kind="quarter"), owner=owner, title=title,
            visibility="private", team=owner.team, state="active",
        )  # fmt: skip
        key_result_create(
            actor=owner, objective=objective, title="Secret margin from 10 to 15", kind="increase",
            start=10, target=15,
        )  # fmt: skip
    connection.set_schema_to_public()
    return objective


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'id="{re.escape(field_id)}_error"[^>]*>(.*?)</div>', html, re.S)
    return match.group(1).strip() if match else ""


# --- Create: who may, and what the page offers -----------------------------------------------------------


def test_the_create_page_renders_for_a_member_with_two_key_result_rows(acme, acme_client):
    sign_in(acme_client, acme, "analyst@acme.example")

    response = acme_client.get(CREATE)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="objective-create-form"' in html
    assert html.count('data-testid="kr-row"') == 2
    assert 'data-testid="add-kr"' in html
    assert 'data-testid="quality-panel"' in html
    assert 'data-testid="alignment-picker"' in html
    # Every type is explained in plain words with an example.
    assert "weekly active users from 1,200 to 2,000" in html
    assert html.count('data-testid="kind-guide"') == 1


def test_viewers_cannot_create_and_anonymous_people_sign_in_first(acme, acme_client):
    assert acme_client.get(CREATE).status_code == 302

    sign_in(acme_client, acme, "board@acme.example")
    before = counts(acme)
    data = create_data(quarter(acme), person(acme, "board"), *GOOD_ROWS)

    assert acme_client.get(CREATE).status_code == 403
    assert acme_client.post(CREATE, data).status_code == 403
    assert counts(acme) == before


def test_owner_choices_follow_who_one_may_create_for(acme, acme_client):
    def owner_options(local):
        sign_in(acme_client, acme, f"{local}@acme.example")
        html = acme_client.get(CREATE).content.decode()
        select = re.search(r'<select name="owner".*?</select>', html, re.S).group(0)
        return set(re.findall(r'<option value="(\d+)"', select))

    def ids(*locals_):
        return {str(person(acme, local).pk) for local in locals_}

    assert owner_options("analyst") == ids("analyst")
    assert owner_options("platform.lead") == ids("platform.lead", "sre", "backend")
    assert len(owner_options("ceo")) == 11  # everyone active except the viewer


def test_only_open_cycles_are_offered_and_the_cycle_parameter_preselects(acme, acme_client):
    with tenant_context(acme):
        admin = User.objects.get(email="ceo@acme.example")
        from datetime import date

        old = cycle_create(actor=admin, name="Q1 2025", kind="quarter", start_date=date(2025, 1, 1),
                           end_date=date(2025, 3, 31))  # fmt: skip
        cycle_close(cycle=old, actor=admin)
        year = Cycle.objects.get(kind="annual")
    sign_in(acme_client, acme, "platform.lead@acme.example")

    html = acme_client.get(f"{CREATE}?cycle={year.pk}").content.decode()

    select = re.search(r'<select name="cycle".*?</select>', html, re.S).group(0)
    assert "Q1 2025" not in select
    assert f'<option value="{year.pk}" selected>' in select


def test_with_no_open_cycle_the_page_says_what_to_do(acme, acme_client):
    with tenant_context(acme):
        Cycle.objects.update(state=Cycle.State.CLOSED)
    sign_in(acme_client, acme, "analyst@acme.example")

    response = acme_client.get(CREATE)

    assert response.status_code == 200
    assert 'data-testid="no-open-cycle"' in response.content.decode()


# --- Create: writes ------------------------------------------------------------------------------------


def test_creating_an_objective_with_its_key_results(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    sre = person(acme, "sre")
    rows = (GOOD_ROWS[0], {**GOOD_ROWS[1], "owner": str(sre.pk)}, {})  # the third row is left empty
    data = create_data(quarter(acme), lead, *rows)

    response = acme_client.post(CREATE, data)

    with tenant_context(acme):
        objective = Objective.objects.get(title="Customers get answers in minutes")
        key_results = list(objective.key_results.order_by("position"))
        assert response.status_code == 302
        assert response["Location"] == f"/objectives/{objective.pk}/"
        assert (objective.owner_id, objective.cycle.kind, objective.state) == (lead.pk, "quarter", "draft")
        assert [(k.title, k.kind, k.start, k.target, k.owner_id) for k in key_results] == [
            ("First reply time from 4 h to 15 min", "decrease", 240.0, 15.0, lead.pk),
            ("Self-service answers from 20% to 45%", "increase", 20.0, 45.0, sre.pk),
        ]
        assert key_results[1].unit == "percent"
    followed = acme_client.get(response["Location"])
    assert followed.status_code == 200


def test_a_manager_creates_for_a_report(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    sre = person(acme, "sre")

    response = acme_client.post(CREATE, create_data(quarter(acme), sre, *GOOD_ROWS, level="individual"))

    assert response.status_code == 302
    with tenant_context(acme):
        assert Objective.objects.get(title="Customers get answers in minutes").owner_id == sre.pk


def test_a_bad_key_result_saves_nothing_and_shows_the_error_on_its_row(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    before = counts(acme)
    bad = {"title": "Deploys from 10 to 20 minutes", "kind": "decrease", "start": "10", "target": "20"}
    data = create_data(quarter(acme), lead, GOOD_ROWS[0], bad)

    response = acme_client.post(CREATE, data)

    html = response.content.decode()
    assert response.status_code == 422
    assert counts(acme) == before
    assert "less than start" in field_error(html, "id_kr-1-target")
    assert field_error(html, "id_kr-0-target") == ""
    assert 'aria-invalid="true"' in html
    # What was typed comes back.
    assert 'value="Deploys from 10 to 20 minutes"' in html


def test_errors_in_several_rows_all_show_and_nothing_is_saved(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    before = counts(acme)
    rows = (
        {"title": "Band without bounds", "kind": "stay_between"},
        {
            "title": "Money without currency",
            "kind": "increase",
            "start": "1",
            "target": "2",
            "unit": "currency",
        },
        {"title": "Half typed", "kind": "increase", "start": "12abc", "target": "20"},
    )

    response = acme_client.post(CREATE, create_data(quarter(acme), lead, *rows))

    html = response.content.decode()
    assert response.status_code == 422
    assert counts(acme) == before
    assert field_error(html, "id_kr-0-low")
    assert field_error(html, "id_kr-0-high")
    assert "three-letter currency code" in field_error(html, "id_kr-1-currency_code")
    assert field_error(html, "id_kr-2-start")


def test_an_objective_without_key_results_is_refused(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    before = counts(acme)

    response = acme_client.post(CREATE, create_data(quarter(acme), lead, {}, {}))

    assert response.status_code == 422
    assert 'data-testid="kr-rows-error"' in response.content.decode()
    assert counts(acme) == before


def test_an_owner_one_may_not_create_for_is_refused(acme, acme_client):
    sign_in(acme_client, acme, "analyst@acme.example")
    before = counts(acme)

    response = acme_client.post(CREATE, create_data(quarter(acme), person(acme, "ceo"), *GOOD_ROWS))

    assert response.status_code == 422
    assert field_error(response.content.decode(), "id_owner")
    assert counts(acme) == before


def test_a_blank_title_is_an_error_on_the_title(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    before = counts(acme)

    response = acme_client.post(CREATE, create_data(quarter(acme), lead, *GOOD_ROWS, title="  "))

    assert response.status_code == 422
    assert field_error(response.content.decode(), "id_title")
    assert counts(acme) == before


def test_the_chosen_parent_is_proposed_in_the_same_transaction(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    parent = demo(acme, "Make the platform a technology moat")  # owned by the CTO
    data = create_data(
        quarter(acme),
        lead,
        *GOOD_ROWS,
        **{"align-parent": f"objective:{parent.pk}", "align-message": "Speed"},
    )

    response = acme_client.post(CREATE, data)

    assert response.status_code == 302
    with tenant_context(acme):
        child = Objective.objects.get(title="Customers get answers in minutes")
        proposal = AlignmentProposal.objects.get(child=child)
        assert (proposal.parent_objective_id, proposal.state, proposal.message) == (
            parent.pk,
            "proposed",
            "Speed",
        )
    page = acme_client.get(response["Location"])
    assert page.status_code == 200


def test_a_parent_owned_by_the_creator_is_accepted_at_once(acme, acme_client):
    admin = sign_in(acme_client, acme, "ceo@acme.example")
    with tenant_context(acme):
        parent_kr = KeyResult.objects.get(title="Paying members from 1.2M to 1.5M")
    data = create_data(quarter(acme), admin, *GOOD_ROWS, **{"align-parent": f"key_result:{parent_kr.pk}"})

    response = acme_client.post(CREATE, data)

    assert response.status_code == 302
    with tenant_context(acme):
        child = Objective.objects.get(title="Customers get answers in minutes")
        assert child.parent_key_result_id == parent_kr.pk


def test_an_unusable_parent_saves_nothing(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    hidden = private_objective(acme, "cs.lead")
    before = counts(acme)
    for token in ("objective:999999", f"objective:{hidden.pk}", "nonsense"):
        data = create_data(quarter(acme), lead, *GOOD_ROWS, **{"align-parent": token})

        response = acme_client.post(CREATE, data)

        assert response.status_code == 422, token
        assert counts(acme) == before
        assert "Secret pricing move" not in response.content.decode()


def test_a_parent_in_another_year_is_refused_by_the_service_and_nothing_is_saved(acme, acme_client):
    from datetime import date

    with tenant_context(acme):
        admin = User.objects.get(email="ceo@acme.example")
        other_year = cycle_create(actor=admin, name="FY2027", kind="annual", start_date=date(2027, 1, 1),
                                  end_date=date(2027, 12, 31))  # fmt: skip
        far = objective_create(actor=admin, cycle=other_year, owner=admin, title="Next year's ambition")
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    before = counts(acme)

    data = create_data(quarter(acme), lead, *GOOD_ROWS, **{"align-parent": f"objective:{far.pk}"})
    response = acme_client.post(CREATE, data)

    assert response.status_code == 422
    assert 'data-testid="alignment-error"' in response.content.decode()
    assert counts(acme) == before


# --- Create: more rows, another type, refresh (no JavaScript and HTMX) ------------------------------------


def test_add_another_key_result_without_javascript_keeps_the_input_and_saves_nothing(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    before = counts(acme)
    data = create_data(quarter(acme), lead, GOOD_ROWS[0], {"title": "Half done", "start": "oops"}, add_kr="1")

    response = acme_client.post(CREATE, data)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="kr-row"') == 3
    assert 'name="kr-TOTAL_FORMS" value="3"' in html
    assert 'value="First reply time from 4 h to 15 min"' in html
    assert 'value="Customers get answers in minutes"' in html
    assert 'role="alert"' not in html  # nothing is validated yet
    assert counts(acme) == before


def test_add_another_key_result_with_htmx_returns_the_rows_only(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    data = create_data(quarter(acme), lead, GOOD_ROWS[0], {}, add_kr="1")

    response = acme_client.post(CREATE, data, **htmx())

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<div id="kr-rows"')
    assert html.count('data-testid="kr-row"') == 3
    assert "<html" not in html
    assert "okr:form-changed" in response["HX-Trigger"]


def test_at_most_ten_rows(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    data = create_data(quarter(acme), lead, *([{}] * 10), add_kr="1")

    html = acme_client.post(CREATE, data).content.decode()

    assert html.count('data-testid="kr-row"') == 10
    assert 'data-testid="add-kr"' not in html


def test_changing_the_type_swaps_the_rows_fields(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    data = create_data(quarter(acme), lead, GOOD_ROWS[0], {"title": "Error budget", "kind": "stay_between"})

    response = acme_client.post(f"{CREATE}?kr_row=kr-1", data, **htmx())

    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith('<fieldset class="kr-row kind-stay_between" id="kr-1-row"')
    assert 'name="kr-1-low"' in html
    assert 'name="kr-1-high"' in html
    assert 'name="kr-1-start"' not in html
    assert 'name="kr-1-target"' not in html
    assert "keep a number inside a band" in html
    assert 'value="Error budget"' in html

    data["kr-1-kind"] = "milestone"
    html = acme_client.post(f"{CREATE}?kr_row=kr-1", data, **htmx()).content.decode()
    assert 'name="kr-1-unit"' not in html
    assert 'name="kr-1-low"' not in html

    data["kr-1-kind"], data["kr-1-unit"] = "stay_above", "currency"
    html = acme_client.post(f"{CREATE}?kr_row=kr-1", data, **htmx()).content.decode()
    assert "Floor (stay at or above)" in html
    assert 'name="kr-1-currency_code"' in html


def test_a_bad_row_name_is_not_found(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")

    response = acme_client.post(f"{CREATE}?kr_row=title", {}, **htmx())

    assert response.status_code == 404


def test_fields_a_type_does_not_use_are_not_saved(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    rows = (
        {"title": "Runbooks published", "kind": "milestone", "start": "5", "target": "9", "low": "1",
         "unit": "currency", "currency_code": "EUR"},
        {"title": "Error budget burn stays between 20% and 80%", "kind": "stay_between", "low": "20",
         "high": "80", "start": "3", "unit": "percent", "currency_code": "EUR"},
    )  # fmt: skip

    response = acme_client.post(CREATE, create_data(quarter(acme), lead, *rows))

    assert response.status_code == 302
    with tenant_context(acme):
        milestone, band = KeyResult.objects.filter(
            objective__title="Customers get answers in minutes"
        ).order_by("position")
        m = milestone
        assert (m.start, m.target, m.low, m.unit, m.currency_code) == (0.0, 1.0, None, "number", "")
        assert (band.start, band.low, band.high, band.currency_code) == (None, 20.0, 80.0, "")


def test_refresh_without_javascript_shows_the_quality_check_and_search_results(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    data = create_data(
        quarter(acme), lead, {"title": "Launch the new status page"}, refresh="1", **{"align-q": "platform"}
    )

    response = acme_client.post(CREATE, data)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-code="activity_key_result"' in html
    assert "Make the platform a technology moat" in html
    assert counts(acme)[0] == 7


# --- The live quality check ------------------------------------------------------------------------------


def test_quality_preview_lists_findings_in_plain_words_and_saves_nothing(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    before = counts(acme)
    rows = (
        {"title": "Launch the new status page", "start": "12abc", "target": "1e999"},
        {
            "title": "Tickets from 40 to 40",
            "kind": "decrease",
            "start": "40",
            "target": "40",
            "due_date": "2031-0",
        },
    )
    data = create_data(quarter(acme), lead, *rows)

    response, queries = post_counting(acme_client, "/okrs/quality-preview/", data, **htmx())

    html = response.content.decode()
    assert response.status_code == 200
    codes = re.findall(r'data-code="(\w+)"', html)
    assert codes == ["not_aligned", "activity_key_result", "no_unit", "start_equals_target", "no_unit"]
    assert "reads like an activity" in html
    assert counts(acme) == before
    # host lookup (3), session, user, cycle, owner's objective count, inbox badge (the reporting
    # lines are a subquery)
    assert queries == 8


def test_quality_preview_never_fails_on_half_typed_or_hostile_input(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    for data in (
        {},
        {"cycle": "x", "owner": "-1", "kr-TOTAL_FORMS": "99999999999999999999", "kr-0-weight": "nan"},
        {"cycle": "99999999", "owner": "99999999", "kr-TOTAL_FORMS": "2", "kr-0-kind": "bogus",
         "kr-0-due_date": "31/31/31", "kr-1-start": "1,2,3", "align-parent": "objective:abc"},
        {"objective": "99999999"},
    ):  # fmt: skip
        response = acme_client.post("/okrs/quality-preview/", data, **htmx())
        assert response.status_code in {200, 404}, data


def test_choosing_a_parent_clears_the_alignment_finding(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")
    parent = demo(acme, "Make the platform a technology moat")
    data = create_data(quarter(acme), lead, *GOOD_ROWS, **{"align-parent": f"objective:{parent.pk}"})

    html = acme_client.post("/okrs/quality-preview/", data, **htmx()).content.decode()

    assert 'data-code="not_aligned"' not in html
    assert 'data-testid="quality-ok"' in html


def test_quality_preview_counts_only_objectives_the_person_can_see(acme, acme_client):
    private_objective(acme, "cs.lead", "Hidden one")
    for n in range(5):
        private_objective(acme, "cs.lead", f"Hidden {n}")
    sign_in(acme_client, acme, "analyst@acme.example")
    cs_lead = person(acme, "cs.lead")
    data = create_data(quarter(acme), cs_lead, *GOOD_ROWS)

    html = acme_client.post("/okrs/quality-preview/", data, **htmx()).content.decode()

    assert 'data-code="owner_overloaded"' not in html  # 7 in the quarter, but 6 of them are private


def test_quality_preview_for_an_existing_objective(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    objective = demo(acme, "Ship changes safely every day")

    html = acme_client.post(
        "/okrs/quality-preview/", {"objective": objective.pk, "title": "Deploy", "level": "team"}, **htmx()
    ).content.decode()

    assert 'data-code="not_aligned"' not in html  # aligned to the CTO's key result


# --- Alignment search ------------------------------------------------------------------------------------


def search(client, **params):
    return get_counting(client, "/okrs/alignment-search/", data=params, **htmx())


def test_alignment_search_finds_objectives_and_key_results_of_the_cycle_and_its_year(acme, acme_client):
    sign_in(acme_client, acme, "analyst@acme.example")

    response, _ = search(acme_client, cycle=quarter(acme).pk, **{"align-q": "platform"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Make the platform a technology moat" in html  # the year's objective
    assert "p95 checkout latency" in html  # a key result of it (its objective matches)
    assert 'name="align-parent"' in html


def test_alignment_search_hides_private_objectives_from_those_who_may_not_see_them(acme, acme_client):
    private_objective(acme, "cs.lead")
    sign_in(acme_client, acme, "analyst@acme.example")

    response, _ = search(acme_client, cycle=quarter(acme).pk, **{"align-q": "secret"})

    html = response.content.decode()
    assert "Secret pricing move" not in html
    assert "Secret margin" not in html
    assert 'data-testid="alignment-empty"' in html

    sign_in(acme_client, acme, "ceo@acme.example")
    html = search(acme_client, cycle=quarter(acme).pk, **{"align-q": "secret"})[0].content.decode()
    assert "Secret pricing move" in html
    assert "Secret margin" in html


def test_alignment_search_excludes_the_objective_itself_and_everything_below_it(acme, acme_client):
    sign_in(acme_client, acme, "cto@acme.example")
    platform = demo(acme, "Make the platform a technology moat")

    html = search(acme_client, objective=platform.pk)[0].content.decode()

    assert "Make the platform a technology moat" not in html
    assert "Ship changes safely every day" not in html  # aligned to one of its key results
    assert "Nobody is woken up twice" not in html  # aligned below that
    assert "Become the membership programme" in html


def test_alignment_search_of_an_invisible_objective_is_not_found(acme, acme_client):
    hidden = private_objective(acme, "cs.lead")
    sign_in(acme_client, acme, "analyst@acme.example")

    response, _ = search(acme_client, objective=hidden.pk)

    assert response.status_code == 404


def test_alignment_search_queries_do_not_grow_with_candidates(acme, acme_client):
    sign_in(acme_client, acme, "analyst@acme.example")
    bulk_objectives(acme, "growth.lead", 13)  # 20 objectives in the quarter and its year
    twenty = search(acme_client, cycle=quarter(acme).pk, **{"align-q": "o"})
    bulk_objectives(acme, "growth.lead", 80)  # 100
    hundred = search(acme_client, cycle=quarter(acme).pk, **{"align-q": "o"})

    assert twenty[0].status_code == hundred[0].status_code == 200
    assert twenty[1] == hundred[1] == 9
    assert hundred[0].content.decode().count('data-testid="align-option"') == 20  # 10 objectives, 10 KRs


# --- Create page: query counts ---------------------------------------------------------------------------


def test_create_page_query_count_on_demo_data_and_with_many_more_objectives(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")

    response, queries = get_counting(acme_client, CREATE)
    bulk_objectives(acme, "sre", 40)
    _, more = get_counting(acme_client, CREATE)

    assert response.status_code == 200
    assert queries == more == 13  # reporting lines read once per request; templates once


def test_more_key_result_rows_take_no_more_queries(acme, acme_client):
    lead = sign_in(acme_client, acme, "platform.lead@acme.example")

    _, two = post_counting(acme_client, CREATE, create_data(quarter(acme), lead, {}, {}, refresh="1"))
    _, ten = post_counting(acme_client, CREATE, create_data(quarter(acme), lead, *([{}] * 10), refresh="1"))

    assert two == ten


# --- Edit an objective -----------------------------------------------------------------------------------


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


def test_the_owner_edits_an_objective(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    objective = demo(acme, "Ship changes safely every day")
    url = f"/objectives/{objective.pk}/edit/"

    page, queries = get_counting(acme_client, url)
    response = acme_client.post(
        url, edit_data(objective, title="Ship safely, every day", kind="aspirational")
    )

    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="objective-edit-form"' in html
    assert html.count('data-testid="edit-kr"') == 3
    assert queries == 10
    assert response.status_code == 302
    assert response["Location"] == f"/objectives/{objective.pk}/"
    with tenant_context(acme):
        objective.refresh_from_db()
        assert (objective.title, objective.kind) == ("Ship safely, every day", "aspirational")
        assert objective.history.first().history_user.email == "platform.lead@acme.example"


def test_edit_page_queries_do_not_grow_with_key_results(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    objective = demo(acme, "Ship changes safely every day")
    url = f"/objectives/{objective.pk}/edit/"
    _, before = get_counting(acme_client, url)
    with tenant_context(acme):
        for n in range(8):
            key_result_create(actor=objective.owner, objective=objective, title=f"Metric {n} from 0 to 5",
                              kind="increase", start=0, target=5)  # fmt: skip
    _, after = get_counting(acme_client, url)

    assert before == after


def test_the_manager_and_an_org_admin_may_edit_others_may_not(acme, acme_client):
    objective = demo(acme, "Ship changes safely every day")
    url = f"/objectives/{objective.pk}/edit/"
    for local, status in (("cto", 200), ("ceo", 200), ("sre", 403), ("analyst", 403), ("board", 403)):
        sign_in(acme_client, acme, f"{local}@acme.example")
        assert acme_client.get(url).status_code == status, local

    response = acme_client.post(url, edit_data(objective, title="Hijacked"))  # the viewer

    assert response.status_code == 403
    with tenant_context(acme):
        assert Objective.objects.get(pk=objective.pk).title == "Ship changes safely every day"


def test_a_private_objective_is_not_found_by_those_who_may_not_see_it(acme, acme_client):
    hidden = private_objective(acme, "cs.lead")
    sign_in(acme_client, acme, "analyst@acme.example")

    for url in (f"/objectives/{hidden.pk}/edit/", f"/objectives/{hidden.pk}/align/",
                f"/objectives/{hidden.pk}/key-results/new/", "/objectives/999999/edit/"):  # fmt: skip
        assert acme_client.get(url).status_code == 404, url
    assert acme_client.post(f"/objectives/{hidden.pk}/edit/", {"title": "x"}).status_code == 404


def test_bad_edit_input_is_a_422_with_the_error_on_the_field(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    objective = demo(acme, "Ship changes safely every day")

    response = acme_client.post(
        f"/objectives/{objective.pk}/edit/", edit_data(objective, title="", level="x")
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert field_error(html, "id_title")
    assert field_error(html, "id_level")
    with tenant_context(acme):
        assert Objective.objects.get(pk=objective.pk).title == "Ship changes safely every day"


def test_editing_in_a_closed_cycle_is_refused_by_the_service(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    objective = demo(acme, "Ship changes safely every day")
    with tenant_context(acme):
        Cycle.objects.filter(pk=objective.cycle_id).update(state=Cycle.State.CLOSED)

    response = acme_client.post(f"/objectives/{objective.pk}/edit/", edit_data(objective, title="Later"))

    assert response.status_code == 422
    assert "is closed" in response.content.decode()
    with tenant_context(acme):
        assert Objective.objects.get(pk=objective.pk).title == "Ship changes safely every day"


def test_saving_without_changes_changes_nothing(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    objective = demo(acme, "Ship changes safely every day")
    with tenant_context(acme):
        versions = objective.history.count()

    response = acme_client.post(f"/objectives/{objective.pk}/edit/", edit_data(objective))

    assert response.status_code == 302
    with tenant_context(acme):
        assert objective.history.count() == versions


# --- Key results of an existing objective ----------------------------------------------------------------


def test_adding_a_key_result_to_an_existing_objective(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    objective = demo(acme, "Ship changes safely every day")
    url = f"/objectives/{objective.pk}/key-results/new/"
    sre = person(acme, "sre")

    page, queries = get_counting(acme_client, url)
    response = acme_client.post(
        url, kr_data(title="Rollbacks from 6 to 1 a month", kind="decrease", start="6", target="1",
                     owner=str(sre.pk), due_date="2026-12-15")
    )  # fmt: skip

    assert page.status_code == 200
    assert 'data-testid="key-result-form"' in page.content.decode()
    assert queries == 8
    assert response.status_code == 302
    with tenant_context(acme):
        kr = KeyResult.objects.get(title="Rollbacks from 6 to 1 a month")
        assert (kr.objective_id, kr.owner_id, kr.start, kr.target, str(kr.due_date)) == (
            objective.pk, sre.pk, 6.0, 1.0, "2026-12-15",
        )  # fmt: skip


def test_adding_a_key_result_with_bad_input_saves_nothing(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    objective = demo(acme, "Ship changes safely every day")
    before = counts(acme)

    response = acme_client.post(
        f"/objectives/{objective.pk}/key-results/new/",
        kr_data(title="Rollbacks", kind="increase", start="6", target="1"),
    )

    assert response.status_code == 422
    assert "greater than start" in field_error(response.content.decode(), "id_kr-target")
    assert counts(acme) == before


def test_only_editors_add_key_results(acme, acme_client):
    objective = demo(acme, "Ship changes safely every day")
    before = counts(acme)
    for local in ("sre", "board"):
        sign_in(acme_client, acme, f"{local}@acme.example")
        response = acme_client.post(
            f"/objectives/{objective.pk}/key-results/new/",
            kr_data(title="Sneaky from 1 to 2", start="1", target="2"),
        )
        assert response.status_code == 403
    assert counts(acme) == before


def test_editing_a_key_result(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    with tenant_context(acme):
        kr = KeyResult.objects.select_related("objective").get(title="Deploy time from 40 to 10 minutes")
    url = f"/key-results/{kr.pk}/edit/"

    page, queries = get_counting(acme_client, url)
    html = page.content.decode()
    response = acme_client.post(
        url, kr_data(title="Deploy time from 40 to 5 minutes", kind="decrease", start="40", target="5",
                     unit_label="minutes")
    )  # fmt: skip

    assert page.status_code == 200
    assert 'value="Deploy time from 40 to 10 minutes"' in html
    assert queries == 8
    assert response.status_code == 302
    with tenant_context(acme):
        kr.refresh_from_db()
        assert (kr.title, kr.target, kr.owner_id) == (
            "Deploy time from 40 to 5 minutes",
            5.0,
            kr.objective.owner_id,
        )


def test_bad_key_result_edits_are_422_and_change_nothing(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    with tenant_context(acme):
        kr = KeyResult.objects.get(title="Deploy time from 40 to 10 minutes")

    response = acme_client.post(
        f"/key-results/{kr.pk}/edit/", kr_data(title="Deploy time", kind="decrease", start="40", target="50")
    )

    assert response.status_code == 422
    assert "less than start" in field_error(response.content.decode(), "id_kr-target")
    with tenant_context(acme):
        assert KeyResult.objects.get(pk=kr.pk).target == 10.0


def test_key_result_edit_permissions(acme, acme_client):
    with tenant_context(acme):
        kr = KeyResult.objects.get(title="Deploy time from 40 to 10 minutes")
    hidden = private_objective(acme, "cs.lead")
    with tenant_context(acme):
        hidden_kr = hidden.key_results.get()
    for local, status in (("sre", 403), ("board", 403), ("cto", 200)):
        sign_in(acme_client, acme, f"{local}@acme.example")
        assert acme_client.get(f"/key-results/{kr.pk}/edit/").status_code == status, local
    sign_in(acme_client, acme, "analyst@acme.example")
    assert acme_client.get(f"/key-results/{hidden_kr.pk}/edit/").status_code == 404
    response = acme_client.post(f"/key-results/{kr.pk}/edit/", kr_data(title="x", start="1", target="2"))
    assert response.status_code == 403
    with tenant_context(acme):
        assert KeyResult.objects.get(pk=kr.pk).title == "Deploy time from 40 to 10 minutes"


def test_the_type_swap_works_on_the_single_key_result_pages(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    objective = demo(acme, "Ship changes safely every day")

    response = acme_client.post(
        f"/objectives/{objective.pk}/key-results/new/?kr_row=kr", kr_data(kind="stay_below"), **htmx()
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Ceiling (stay at or below)" in html
    assert 'name="kr-low"' not in html


# --- Alignment of an existing objective -------------------------------------------------------------------


def test_the_alignment_page_proposes_a_parent(acme, acme_client):
    sign_in(acme_client, acme, "sales.lead@acme.example")
    objective = demo(acme, "Land the enterprise segment")
    parent = demo(acme, "Become the membership programme customers renew without thinking")
    url = f"/objectives/{objective.pk}/align/"

    page, queries = get_counting(acme_client, url)
    response = acme_client.post(
        url, {"align-q": "", "align-parent": f"objective:{parent.pk}", "align-message": "Enterprise renewals"}
    )

    assert page.status_code == 200
    assert 'data-testid="alignment-form"' in page.content.decode()
    assert "Become the membership programme" in page.content.decode()
    assert queries == 11
    assert response.status_code == 302
    with tenant_context(acme):
        proposal = AlignmentProposal.objects.get(child=objective)
        assert (proposal.parent_objective_id, proposal.state) == (parent.pk, "proposed")


def test_the_alignment_page_refuses_loops_and_missing_choices(acme, acme_client):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    deploys = demo(acme, "Ship changes safely every day")
    below = demo(acme, "Nobody is woken up twice for the same incident")  # aligned to it
    before = counts(acme)
    url = f"/objectives/{deploys.pk}/align/"

    loop = acme_client.post(url, {"align-parent": f"objective:{below.pk}"})
    empty = acme_client.post(url, {"align-parent": ""})

    assert loop.status_code == 422
    assert "loop" in loop.content.decode()
    assert empty.status_code == 422
    assert counts(acme) == before


def test_only_editors_propose_alignment(acme, acme_client):
    objective = demo(acme, "Land the enterprise segment")
    parent = demo(acme, "Become the membership programme customers renew without thinking")
    before = counts(acme)
    for local in ("analyst", "board"):
        sign_in(acme_client, acme, f"{local}@acme.example")
        assert acme_client.get(f"/objectives/{objective.pk}/align/").status_code == 403
        response = acme_client.post(
            f"/objectives/{objective.pk}/align/", {"align-parent": f"objective:{parent.pk}"}
        )
        assert response.status_code == 403
    assert counts(acme) == before


def test_alignment_page_search_without_javascript(acme, acme_client):
    sign_in(acme_client, acme, "sales.lead@acme.example")
    objective = demo(acme, "Land the enterprise segment")

    response = acme_client.post(f"/objectives/{objective.pk}/align/", {"align-q": "renewal", "refresh": "1"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Renewal rate from 82% to 88%" in html
    assert "Make the platform a technology moat" not in html


# --- Chinese -------------------------------------------------------------------------------------------


def test_globex_create_page_in_chinese(globex, globex_client):
    sign_in(globex_client, globex, "cs.lead@globex.example")

    response = globex_client.get(CREATE)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert html.count('data-testid="kr-row"') == 2
    assert "成为客户无需犹豫就会续费的会员计划" in html  # the year's objectives are offered as parents


def test_tenants_do_not_see_each_others_objectives(acme, globex, acme_client):
    foreign = demo(globex, "每天安全地发布变更")
    sign_in(acme_client, acme, "ceo@acme.example")

    assert acme_client.get(f"/objectives/{foreign.pk + 1000}/edit/").status_code == 404
    html = search(acme_client, cycle=quarter(acme).pk, **{"align-q": "每天"})[0].content.decode()
    assert "每天安全地发布变更" not in html
