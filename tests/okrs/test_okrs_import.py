"""OKR import: one row per key result, grouped into objectives by objective_ref or title;
every row checked first with row numbers; dry run writes nothing; a real run goes through
the same services as the UI and is all or nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from okrs.imports import COLUMNS, okrs_import, okrs_template_csv
from okrs.models import AlignmentProposal, Cycle, KeyResult, Objective
from okrs.services.objectives import objective_create

pytestmark = pytest.mark.django_db

HEADER = ",".join(column.name for column in COLUMNS) + "\n"


def csv_file(*rows: dict) -> SimpleUploadedFile:
    lines = [HEADER]
    for row in rows:
        lines.append(",".join(_quote(row.get(column.name, "")) for column in COLUMNS) + "\n")
    return SimpleUploadedFile("okrs.csv", "".join(lines).encode(), "text/csv")


def _quote(value: str) -> str:
    return f'"{value}"' if "," in value else value


def counts() -> tuple[int, ...]:
    return (
        Objective.objects.count(),
        KeyResult.objects.count(),
        AlignmentProposal.objects.count(),
        Objective.history.count(),
        KeyResult.history.count(),
    )


def errors_of(report) -> list[tuple]:
    return [(e.row, e.column, e.message) for e in report.errors]


@pytest.fixture
def annual_goal(people, year):
    return objective_create(
        actor=people.ceo,
        cycle=year,
        owner=people.ceo,
        title="Become the platform customers renew",
        state="active",
    )


@pytest.fixture
def good_file(annual_goal):
    lead, sre = "platform.lead@acme.example", "sre@acme.example"
    return csv_file(
        # Row 2-3: one objective (ref O1) with two key results, aligned by id to the year's objective.
        {"objective_ref": "O1", "objective": "Ship changes safely every day", "objective_owner_email": lead,
         "team": "Product & Engineering / Platform", "level": "team", "kind": "Committed",
         "visibility": "private",
         "parent": str(annual_goal.pk), "kr": "Deploy time from 40 to 10 minutes", "kr_type": "decrease",
         "unit_label": "minutes", "start": "40", "target": "10", "due_date": "2026-12-15"},
        {"objective_ref": "O1", "kr": "Error budget burn stays in its band", "kr_type": "Stay within a band",
         "unit": "Percent", "low": "20", "high": "80", "weight": "2", "kr_owner_email": sre},
        # Row 4: an individual objective aligned to O1 by its ref, one milestone KR.
        {"objective_ref": "O2", "objective": "Nobody is woken up twice", "objective_owner_email": sre,
         "level": "individual", "health_dimension": "operational_excellence", "parent": "O1",
         "kr": "Runbooks for the top 20 alerts published", "kr_type": "milestone"},
        # Row 5: an objective without key results, aligned to the year's objective by title.
        {"objective": "Costs we can explain", "objective_owner_email": "cto@acme.example",
         "kind": "aspirational", "parent": "become the platform customers renew", "state": "active"},
    )  # fmt: skip


def test_dry_run_reports_the_plan_and_writes_nothing(
    people, quarter, good_file, django_capture_on_commit_callbacks
):
    before = counts()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = okrs_import(actor=people.ceo, cycle=quarter, file=good_file, dry_run=True)

    assert errors_of(report) == []
    assert report.rows_read == 4
    goal = "Become the platform customers renew"
    planned = [(p.row, p.title, p.owner_email, p.key_results, p.parent) for p in report.objectives_to_create]
    assert planned == [
        (2, "Ship changes safely every day", "platform.lead@acme.example", 2, goal),
        (4, "Nobody is woken up twice", "sre@acme.example", 1, "Ship changes safely every day"),
        (5, "Costs we can explain", "cto@acme.example", 0, goal),
    ]
    assert (report.key_results_to_create, report.alignments_to_create) == (3, 3)
    assert report.applied is False
    assert counts() == before
    assert callbacks == []


def test_real_run_creates_objectives_krs_and_alignments(people, quarter, annual_goal, good_file):
    report = okrs_import(actor=people.ceo, cycle=quarter, file=good_file, dry_run=False)

    assert errors_of(report) == []
    assert report.applied is True
    ship = Objective.objects.select_related("team", "owner").get(
        cycle=quarter, title="Ship changes safely every day"
    )
    assert (ship.owner, ship.team.name, ship.level, ship.kind, ship.visibility, ship.state) == (
        people.lead, "Platform", "team", "committed", "private", "draft",
    )  # fmt: skip
    assert ship.parent_objective == annual_goal
    krs = list(ship.key_results.order_by("position"))
    assert [(k.kind, k.owner, k.start, k.target, k.low, k.high, k.unit, k.weight) for k in krs] == [
        ("decrease", people.lead, 40, 10, None, None, "number", 1.0),
        ("stay_between", people.sre, None, None, 20, 80, "percent", 2.0),
    ]
    assert krs[0].due_date == date(2026, 12, 15)
    sre = Objective.objects.get(cycle=quarter, title="Nobody is woken up twice")
    assert (sre.parent_objective, sre.level, sre.health_dimension) == (
        ship,
        "individual",
        "operational_excellence",
    )
    assert sre.key_results.get().kind == "milestone"
    costs = Objective.objects.get(cycle=quarter, title="Costs we can explain")
    assert (costs.parent_objective, costs.kind, costs.state, costs.key_results.count()) == (
        annual_goal, "aspirational", "active", 0,
    )  # fmt: skip
    # Alignments are accepted at once: the importer is an org admin.
    assert set(AlignmentProposal.objects.filter(child__cycle=quarter).values_list("state", flat=True)) == {
        "accepted"
    }
    # The audit history names the importer.
    assert {entry.history_user for entry in ship.history.all()} == {people.ceo}


def test_every_problem_is_reported_with_its_row_and_nothing_is_written(people, quarter, annual_goal):
    before = counts()
    lead = "platform.lead@acme.example"
    file = csv_file(
        {"objective": "Good objective", "objective_owner_email": lead, "kr": "Fine", "kr_type": "increase",
         "start": "1", "target": "2"},  # row 2: fine on its own
        {"objective": "Bad owner", "objective_owner_email": "nobody@acme.example"},  # 3
        {"objective": "Viewer owns", "objective_owner_email": "board@acme.example"},  # 4
        {"objective": "Good objective", "level": "division", "kr": "Grow", "kr_type": "grow"},  # 5
        {"objective": "Good objective", "kr": "Comma", "kr_type": "increase", "start": "1,5",
         "target": "3"},  # 6
        {"objective": "Good objective", "kr": "Band", "kr_type": "stay_between", "start": "1", "low": "5",
         "high": "4"},  # 7
        {"objective": "Good objective", "kr": "Down", "kr_type": "decrease", "start": "1", "target": "5",
         "due_date": "15/12/2026"},  # 8
        {"objective": "No KR", "objective_owner_email": lead, "kr_type": "increase", "target": "3"},  # 9
        {"objective": "Lost", "objective_owner_email": lead, "team": "Nowhere",
         "parent": "Unknown parent"},  # 10
        {"objective": "Good objective", "objective_owner_email": "cto@acme.example"},  # 11
        {"objective_ref": "R1"},  # 12
        {"objective": "Money", "objective_owner_email": lead, "kr": "Revenue", "kr_type": "increase",
         "start": "1", "target": "2", "unit": "currency"},  # 13
    )  # fmt: skip

    report = okrs_import(actor=people.ceo, cycle=quarter, file=file, dry_run=False)

    assert errors_of(report) == [
        (3, "objective_owner_email", "Nobody with the e-mail address nobody@acme.example is in the "
                                     "organisation."),
        (4, "objective_owner_email", "Henrik Olsen is a viewer; viewers cannot own OKRs."),
        (5, "kr_type", "Unknown kr_type “grow”: use decrease, increase, milestone, stay_above, stay_below, "
                       "stay_between."),
        (5, "level", "Unknown level “division”: use company, individual, team."),
        (6, "start", "“1,5” is not a number: use a dot for decimals and no thousands separators, "
                     "e.g. 1234.5."),
        (7, "high", "The upper bound must be greater than the lower bound."),
        (7, "start", "A stay_between key result does not use start; leave it empty."),
        (8, "due_date", "Write the date as YYYY-MM-DD, e.g. 2026-12-31."),
        (8, "target", "Target must be less than start for a decreasing key result."),
        (9, "kr_type", "This row has no key result (its kr cell is empty); leave this empty too."),
        (9, "target", "This row has no key result (its kr cell is empty); leave this empty too."),
        (10, "parent", "No objective “Unknown parent” in this file or in Q4 2026 or FY2026; give an "
                       "objective_ref of this file, or the id or exact title of an existing objective."),
        (10, "team", "There is no team “Nowhere”; create it on the Teams page (or import people into it) "
                     "first."),
        (11, "objective_owner_email", "“cto@acme.example” differs from “platform.lead@acme.example” on row 2 "
                                      "for the same objective; leave it empty or repeat the same value."),
        (12, "objective", "The objective's title is missing."),
        (12, "objective_owner_email", "The objective's owner is missing: give objective_owner_email on one "
                                      "of its rows."),
        (13, "currency", "Give the three-letter currency code, for example EUR or CNY."),
    ]  # fmt: skip
    assert report.applied is False
    assert counts() == before


def test_a_refusal_by_a_service_rolls_back_the_rows_already_created(people, quarter, monkeypatch):
    from okrs import imports

    real = imports.key_result_create

    def refuse_second(**kwargs):
        if kwargs["title"] == "Second":
            raise ValidationError({"target": ["Refused by the service."]})
        return real(**kwargs)

    monkeypatch.setattr(imports, "key_result_create", refuse_second)
    before = counts()
    lead = "platform.lead@acme.example"
    file = csv_file(
        {"objective": "A", "objective_owner_email": lead, "kr": "First", "kr_type": "milestone"},
        {"objective": "A", "kr": "Second", "kr_type": "milestone"},
        {"objective": "B", "objective_owner_email": lead, "kr": "Third", "kr_type": "milestone"},
    )

    report = okrs_import(actor=people.ceo, cycle=quarter, file=file, dry_run=False)

    assert errors_of(report) == [(3, "target", "Refused by the service.")]
    assert report.applied is False
    assert counts() == before


def test_alignment_loops_and_self_alignment_are_refused(people, quarter):
    lead = "platform.lead@acme.example"
    file = csv_file(
        {"objective_ref": "A", "objective": "Alpha", "objective_owner_email": lead, "parent": "B"},
        {"objective_ref": "B", "objective": "Beta", "objective_owner_email": lead, "parent": "A"},
        {"objective_ref": "C", "objective": "Gamma", "objective_owner_email": lead, "parent": "c"},
    )

    report = okrs_import(actor=people.ceo, cycle=quarter, file=file, dry_run=True)

    assert errors_of(report) == [
        (2, "parent", "Alignments would go round in a circle: “Alpha” → “Beta” → “Alpha”."),
        (3, "parent", "Alignments would go round in a circle: “Beta” → “Alpha” → “Beta”."),
        (4, "parent", "An objective cannot align to itself."),
    ]


def test_same_titles_need_refs_and_an_ambiguous_parent_is_refused(people, quarter):
    lead = "platform.lead@acme.example"
    file = csv_file(
        {"objective_ref": "X1", "objective": "Twin", "objective_owner_email": lead},
        {"objective_ref": "X2", "objective": "Twin", "objective_owner_email": "sre@acme.example"},
        {"objective": "Child", "objective_owner_email": lead, "parent": "twin"},
        {"objective": "Other child", "objective_owner_email": lead, "parent": "X2"},
    )

    report = okrs_import(actor=people.ceo, cycle=quarter, file=file, dry_run=True)

    assert errors_of(report) == [
        (4, "parent", "Several objectives are called “twin”; give the parent's objective_ref, or the id of "
                      "an existing objective."),
    ]  # fmt: skip
    assert [p.title for p in report.objectives_to_create] == ["Twin", "Twin", "Child", "Other child"]


def test_objectives_of_other_cycles_than_the_year_cannot_be_parents(people, quarter):
    other_year = Cycle.objects.create(
        name="FY2025", kind="annual", start_date=date(2025, 1, 1), end_date=date(2025, 12, 31), state="active"
    )
    old = objective_create(actor=people.ceo, cycle=other_year, owner=people.ceo, title="Old goal")
    file = csv_file({"objective": "New", "objective_owner_email": "cto@acme.example", "parent": str(old.pk)})

    report = okrs_import(actor=people.ceo, cycle=quarter, file=file, dry_run=True)

    assert [(e.row, e.column) for e in report.errors] == [(2, "parent")]


def test_a_closed_cycle_takes_no_import(people, quarter, good_file):
    Cycle.objects.filter(pk=quarter.pk).update(state="closed")
    quarter.refresh_from_db()
    before = counts()

    report = okrs_import(actor=people.ceo, cycle=quarter, file=good_file, dry_run=False)

    assert errors_of(report) == [(None, "", "The cycle “Q4 2026” is closed; its OKRs can no longer change.")]
    assert counts() == before


@pytest.mark.parametrize("who", ["cto", "sre", "viewer"])
def test_only_org_admins_import_okrs(people, quarter, good_file, who):
    before = counts()

    with pytest.raises(PermissionDenied):
        okrs_import(actor=getattr(people, who), cycle=quarter, file=good_file, dry_run=False)

    assert counts() == before


def test_unreadable_files_are_refused_whole(people, quarter):
    report = okrs_import(
        actor=people.ceo,
        cycle=quarter,
        file=SimpleUploadedFile("x.csv", b"objective\n\xff\xfe"),
        dry_run=True,
    )

    assert [(e.row, e.message[:26]) for e in report.errors] == [(None, "The file is not UTF-8 text")]


def test_template_has_every_column_and_an_example(people, quarter):
    content = okrs_template_csv().decode("utf-8-sig")

    header, example = content.splitlines()[:2]
    assert header.split(",") == [column.name for column in COLUMNS]
    assert example.startswith("O1,Ship changes safely every day,")


def test_more_than_1000_rows_are_refused_whole(people, quarter):
    rows = "".join(f"O{n},platform.lead@acme.example\n" for n in range(1001))
    file = SimpleUploadedFile("okrs.csv", f"objective,objective_owner_email\n{rows}".encode())

    report = okrs_import(actor=people.ceo, cycle=quarter, file=file, dry_run=True)

    assert errors_of(report) == [
        (None, "", "The file has more than 1,000 rows below the header; split it into several files.")
    ]
