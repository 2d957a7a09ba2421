"""okrs.quality: the SMARTER check. Pure tests on unsaved instances, one database test for the loader."""

from __future__ import annotations

from datetime import date

import pytest
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs.models import Cycle, KeyResult, Objective
from okrs.quality import Finding, is_activity_title, objective_findings, objective_quality

START, END = date(2025, 1, 1), date(2025, 3, 31)


def cycle() -> Cycle:
    return Cycle(name="Q1", start_date=START, end_date=END)


def objective(**overrides) -> Objective:
    fields = {
        "title": "Customers love onboarding",
        "owner_id": 1,
        "level": "team",
        "cycle": cycle(),
        "state": "draft",
        "parent_objective_id": 99,
    }
    fields.update(overrides)
    return Objective(**fields)


def kr(i: int = 1, **overrides) -> KeyResult:
    fields = {
        "id": i,
        "title": f"Activation rate {i}",
        "kind": "increase",
        "start": 40.0,
        "target": 60.0,
        "unit": "percent",
        "owner_id": 1,
    }
    fields.update(overrides)
    return KeyResult(**fields)


def krs(n: int) -> list[KeyResult]:
    return [kr(i) for i in range(1, n + 1)]


def check(obj=None, key_results=None, owner_objectives_in_cycle: int = 1) -> list[Finding]:
    return objective_findings(
        obj if obj is not None else objective(),
        key_results if key_results is not None else krs(2),
        owner_objectives_in_cycle=owner_objectives_in_cycle,
    )


def codes(findings: list[Finding]) -> list[tuple[str, str, int | None]]:
    return [(f.code, f.severity, f.key_result_id) for f in findings]


# --- A clean objective ------------------------------------------------------------------------------------


def test_well_formed_objective_has_no_findings():
    key_results = [
        kr(1, title="Activation rate", start=40, target=60, unit="percent", due_date=END, confidence=7),
        kr(2, title="Support tickets per week", kind="decrease", start=120, target=60, unit_label="tickets"),
        kr(3, title="Gross margin", kind="stay_above", start=None, target=20, unit="percent"),
        kr(4, title="Monthly revenue", start=10_000, target=15_000, unit="currency", currency_code="EUR"),
        kr(5, title="Onboarding guide published", kind="milestone", start=None, target=None, unit="number"),
    ]
    assert check(objective(), key_results, owner_objectives_in_cycle=5) == []


def test_finding_is_frozen():
    finding = Finding("no_owner", "error", "x")
    assert finding.key_result_id is None
    with pytest.raises(AttributeError):
        finding.code = "other"  # type: ignore[misc]


# --- Number of key results ----------------------------------------------------------------------------------


def test_no_key_results_is_an_error():
    findings = check(key_results=[])
    assert codes(findings) == [("no_key_results", "error", None)]
    assert "2–3 key results" in findings[0].message


def test_one_key_result_is_too_few():
    findings = check(key_results=krs(1))
    assert codes(findings) == [("too_few_key_results", "warning", None)]
    assert "2–3 key results" in findings[0].message


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_two_to_five_key_results_are_fine(n):
    assert check(key_results=krs(n)) == []


def test_six_key_results_are_too_many():
    findings = check(key_results=krs(6))
    assert codes(findings) == [("too_many_key_results", "warning", None)]
    assert findings[0].message.startswith("6 key results are too many")
    assert "at most 5" in findings[0].message


# --- Activities -------------------------------------------------------------------------------------------


def test_activity_key_result_names_the_key_result():
    findings = check(key_results=[kr(1), kr(7, title="  Launch the new app ")])
    assert codes(findings) == [("activity_key_result", "warning", 7)]
    assert findings[0].message == (
        "“Launch the new app” reads like an activity. Make it an initiative and measure the outcome "
        "it should change, from X to Y."
    )


@pytest.mark.parametrize(
    "title",
    [
        "Launch the app",
        "launch the app",
        "IMPLEMENT SSO",
        "Build a dashboard",
        "Hire 3 engineers",
        "Create a handbook",
        "Release v2",
        "Ship dark mode",
        "Deploy to EU",
        "Run a workshop",
        "Hold a retro",
        "Organise a meetup",
        "Organize a meetup",
        "Write the docs",
        "Complete the audit",
        "Finish the migration",
        "Start a podcast",
        "Introduce pair programming",
        "Migrate to Postgres",
        "Set up monitoring",
        "set  up monitoring",
        "Roll out SSO",
        "Roll-out SSO",
        "Develop the API",
        "Design the pricing page",
        "Publish the report",
        "Host a conference",
        "Launch",
        "Launch: new app",
        "上线新版本",
        "发布 App 2.0",
        "完成迁移",
        "推出会员计划",
        "招聘三名工程师",
        "实施单点登录",
        "开发新接口",
        "建立客服中心",
    ],
)
def test_activity_titles(title):
    assert is_activity_title(title)


@pytest.mark.parametrize(
    "title",
    [
        "Activation rate from 40% to 60%",
        "Runway in months",
        "Holdings value",
        "Startup time from 5 min to 1 min",
        "Shipping cost per order",
        "Designers retained",
        "Hosting cost",
        "Settlement time",
        "Number of launches per quarter",
        "新用户留存率从 40% 提升到 60%",
        "",
    ],
)
def test_outcome_titles_are_not_activities(title):
    assert not is_activity_title(title)


def test_milestone_with_activity_title_is_still_flagged():
    findings = check(key_results=[kr(1), kr(2, kind="milestone", title="Ship v2", start=None, target=None)])
    assert codes(findings) == [("activity_key_result", "warning", 2)]


# --- Measurable -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["increase", "decrease"])
def test_start_equals_target(kind):
    findings = check(key_results=[kr(1), kr(2, title="NPS", kind=kind, start=30, target=30)])
    assert codes(findings) == [("start_equals_target", "error", 2)]
    assert findings[0].message.startswith("“NPS” starts where it should end (30)")


@pytest.mark.parametrize("kind", ["stay_above", "stay_below"])
def test_guard_rail_with_equal_start_and_target_is_fine(kind):
    assert check(key_results=[kr(1), kr(2, kind=kind, start=20, target=20)]) == []


def test_missing_start_is_not_reported_as_equal():
    # Missing values are a definition error (scoring.key_result_errors), not a quality finding.
    assert check(key_results=[kr(1), kr(2, start=None, target=None)]) == []


def test_number_without_unit_label():
    findings = check(key_results=[kr(1), kr(2, title="Active teams", unit="number", unit_label="  ")])
    assert codes(findings) == [("no_unit", "warning", 2)]
    assert findings[0].message.startswith("“Active teams” has no unit.")


def test_currency_without_currency_code():
    findings = check(key_results=[kr(1), kr(2, title="Revenue", unit="currency", currency_code="")])
    assert codes(findings) == [("no_unit", "warning", 2)]
    assert "“Revenue”" in findings[0].message
    assert "currency" in findings[0].message


def test_currency_with_code_and_number_with_label_are_fine():
    key_results = [kr(1, unit="currency", currency_code="USD"), kr(2, unit="number", unit_label="teams")]
    assert check(key_results=key_results) == []


@pytest.mark.parametrize("kind", ["stay_between", "stay_above"])
def test_guard_rails_need_a_unit_too(kind):
    findings = check(key_results=[kr(1), kr(2, kind=kind, low=1, high=2, unit="number")])
    assert codes(findings) == [("no_unit", "warning", 2)]


def test_milestone_needs_no_unit():
    milestone = kr(2, kind="milestone", title="SOC 2 report signed", unit="number", currency_code="")
    assert check(key_results=[kr(1), milestone]) == []


# --- Time-bound -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("due", [START, END, date(2025, 2, 14)])
def test_due_date_inside_cycle_is_fine(due):
    assert check(key_results=[kr(1, due_date=due), kr(2)]) == []


@pytest.mark.parametrize("due", [date(2024, 12, 31), date(2025, 4, 1)])
def test_due_date_outside_cycle(due):
    findings = check(key_results=[kr(1), kr(2, title="Churn", due_date=due)])
    assert codes(findings) == [("due_outside_cycle", "error", 2)]
    assert findings[0].message.startswith(f"“Churn” is due on {due.isoformat()}, outside the cycle")
    assert "2025-01-01 – 2025-03-31" in findings[0].message


def test_due_date_without_a_cycle_is_not_checked():
    assert check(objective(cycle=None), [kr(1, due_date=date(2030, 1, 1)), kr(2)]) == []


# --- Owners -----------------------------------------------------------------------------------------------


def test_objective_without_owner():
    findings = check(objective(owner_id=None))
    assert codes(findings) == [("no_owner", "error", None)]
    assert "exactly one owner" in findings[0].message


def test_key_result_without_owner():
    findings = check(key_results=[kr(1), kr(2, title="Churn", owner_id=None)])
    assert codes(findings) == [("no_owner", "error", 2)]
    assert findings[0].message.startswith("“Churn” has no owner.")


def test_owner_with_five_objectives_is_fine():
    assert check(owner_objectives_in_cycle=5) == []


def test_owner_with_six_objectives_is_overloaded():
    findings = check(owner_objectives_in_cycle=6)
    assert codes(findings) == [("owner_overloaded", "warning", None)]
    assert "6 objectives in this cycle, more than 5: focus" in findings[0].message


# --- Relevant (aligned) -----------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["team", "individual"])
def test_unaligned_objective(level):
    findings = check(objective(level=level, parent_objective_id=None))
    assert codes(findings) == [("not_aligned", "warning", None)]
    assert "not aligned" in findings[0].message


def test_aligned_to_a_key_result_is_fine():
    assert check(objective(parent_objective_id=None, parent_key_result_id=5)) == []


def test_company_objective_needs_no_parent():
    assert check(objective(level="company", parent_objective_id=None)) == []


# --- Sandbagging ------------------------------------------------------------------------------------------


def test_draft_with_very_high_confidence_is_sandbagging():
    findings = check(key_results=[kr(1, confidence=10), kr(2, confidence=9), kr(3, confidence=None)])
    assert codes(findings) == [("sandbagging", "warning", None)]
    assert "9.5 out of 10" in findings[0].message
    assert "Stretch" in findings[0].message


def test_average_confidence_of_exactly_nine_is_fine():
    assert check(key_results=[kr(1, confidence=10), kr(2, confidence=8), kr(3, confidence=None)]) == []


def test_high_confidence_outside_draft_is_fine():
    assert check(objective(state="active"), [kr(1, confidence=10), kr(2, confidence=10)]) == []


def test_no_confidence_at_all_is_fine():
    assert check(key_results=[kr(1, confidence=None), kr(2, confidence=None)]) == []


# --- Title ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("title", ["", "   "])
def test_empty_title(title):
    findings = check(objective(title=title))
    assert codes(findings) == [("unfocused_title", "info", None)]
    assert "no title" in findings[0].message


def test_title_of_120_characters_is_fine():
    assert check(objective(title="x" * 120)) == []


def test_title_over_120_characters():
    findings = check(objective(title="x" * 121))
    assert codes(findings) == [("unfocused_title", "info", None)]
    assert "121 characters, more than 120" in findings[0].message


# --- Order ------------------------------------------------------------------------------------------------


def test_order_objective_level_first_then_per_key_result():
    obj = objective(title=" ", owner_id=None, parent_objective_id=None)
    key_results = [kr(i, confidence=10) for i in range(1, 6)]
    key_results.append(
        kr(
            6,
            title="Launch the app",
            start=5,
            target=5,
            unit="number",
            due_date=date(2025, 5, 1),
            owner_id=None,
        )
    )
    key_results.append(kr(7, title="Hire a designer", unit="currency", owner_id=None))
    findings = check(obj, key_results, owner_objectives_in_cycle=7)
    assert codes(findings) == [
        ("too_many_key_results", "warning", None),
        ("no_owner", "error", None),
        ("owner_overloaded", "warning", None),
        ("not_aligned", "warning", None),
        ("sandbagging", "warning", None),
        ("unfocused_title", "info", None),
        ("activity_key_result", "warning", 6),
        ("start_equals_target", "error", 6),
        ("no_unit", "warning", 6),
        ("due_outside_cycle", "error", 6),
        ("no_owner", "error", 6),
        ("activity_key_result", "warning", 7),
        ("no_unit", "warning", 7),
        ("no_owner", "error", 7),
    ]


def test_pure_check_never_touches_the_database():
    # Without the db fixture pytest-django blocks any query: this would raise if one were made.
    findings = check(objective(), [kr(1, due_date=START), kr(2, due_date=END)])
    assert findings == []


# --- Loader -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("cycle_loaded", [True, False])
def test_objective_quality_loads_in_two_queries(acme, django_assert_num_queries, cycle_loaded):
    with tenant_context(acme):
        owner = User.objects.get(email="analyst@acme.example")
        q1 = Cycle.objects.create(name="Q1 quality", start_date=START, end_date=END)
        obj = Objective.objects.create(title="Customers love onboarding", cycle=q1, owner=owner, level="team")
        for _ in range(5):
            Objective.objects.create(title="Other", cycle=q1, owner=owner, level="company")
        Objective.objects.create(title="Archived", cycle=q1, owner=owner, level="company", state="archived")
        second = KeyResult.objects.create(
            objective=obj, title="Launch the app", owner=owner, start=0, target=1, position=2,
            unit="percent", due_date=date(2025, 4, 1),
        )  # fmt: skip
        first = KeyResult.objects.create(
            objective=obj, title="Active teams", owner=owner, start=40, target=60, position=1, unit="number",
        )  # fmt: skip
        if not cycle_loaded:
            obj = Objective.objects.get(pk=obj.pk)

        with django_assert_num_queries(2):
            findings = objective_quality(obj)

    # Six non-archived objectives (the archived one is not counted); key results by position, not id.
    assert codes(findings) == [
        ("owner_overloaded", "warning", None),
        ("not_aligned", "warning", None),
        ("no_unit", "warning", first.id),
        ("activity_key_result", "warning", second.id),
        ("due_outside_cycle", "error", second.id),
    ]
    assert "6 objectives in this cycle" in findings[0].message
