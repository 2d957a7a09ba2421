"""Cycle export: CSV (one flat file) and XLSX (three sheets), read back; the person's
visibility applies; times in the organisation's time zone; formulas neutralised; a
constant number of queries."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from okrs.exports import cycle_export
from okrs.services.alignment import alignment_propose
from okrs.services.check_ins import check_in_record
from okrs.services.objectives import key_result_create, objective_create
from tests.api_helpers import count_queries
from tests.okrs.conftest import NOW

pytestmark = pytest.mark.django_db

# Objectives, key results, check-ins, the parents the person may see (an objective here is
# aligned); a member's reporting lines are a subquery of the visibility filter.
ADMIN_QUERIES = 4
MEMBER_QUERIES = 4


@pytest.fixture
def okrs(people, quarter):
    """Three objectives: one with two KRs (one with a check-in and its correction), one
    without KRs, and a private one of the Platform team aligned under the first."""
    ship = objective_create(
        actor=people.ceo, cycle=quarter, owner=people.lead, title="=HYPERLINK(\"http://evil\",\"Ship\")",
        state="active", team=people.lead.team,
    )  # fmt: skip
    deploy = key_result_create(
        actor=people.ceo, objective=ship, title="Deploy time", kind="decrease", start=40, target=10
    )
    key_result_create(actor=people.ceo, objective=ship, title="@SUM(A1:A2)", kind="milestone")
    first = check_in_record(
        key_result=deploy, actor=people.lead, value=30, confidence=7, what_moved="+3 pipelines",
        blockers="-", recorded_at=NOW - timedelta(days=7), now=NOW,
    )  # fmt: skip
    check_in_record(
        key_result=deploy, actor=people.lead, value=28, confidence=6, what_moved="Typo fixed\tfor real",
        corrects=first, now=NOW,
    )  # fmt: skip
    objective_create(actor=people.ceo, cycle=quarter, owner=people.cto, title="Costs we can explain")
    secret = objective_create(
        actor=people.ceo, cycle=quarter, owner=people.sre, title="Secret plan", visibility="private",
        team=people.sre.team,
    )  # fmt: skip
    alignment_propose(child=secret, actor=people.ceo, parent_objective=ship)
    return ship


def read_csv(content: bytes) -> list[dict]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_csv_has_one_row_per_check_in_kr_and_lone_objective(people, quarter, okrs):
    filename, content_type, content = cycle_export(actor=people.ceo, cycle=quarter, fmt="csv")

    assert filename.startswith("q4-2026-okrs-")
    assert filename.endswith(".csv")
    assert content_type == "text/csv; charset=utf-8"
    rows = read_csv(content)
    assert [(r["objective"], r["key_result"], r["check_in_id"] != "") for r in rows] == [
        ('\'=HYPERLINK("http://evil","Ship")', "Deploy time", True),
        ('\'=HYPERLINK("http://evil","Ship")', "Deploy time", True),
        ('\'=HYPERLINK("http://evil","Ship")', "'@SUM(A1:A2)", False),
        ("Costs we can explain", "", False),
        ("Secret plan", "", False),
    ]
    first, correction = rows[0], rows[1]
    # 2026-11-08 11:00 UTC is 12:00 in Berlin (the organisation's time zone, named in the header).
    assert first["effective_at (Europe/Berlin)"] == "2026-11-08 12:00:00"
    assert correction["effective_at (Europe/Berlin)"] == "2026-11-08 12:00:00"
    assert (first["value"], first["corrected"], first["what_moved"], first["blockers"]) == (
        "30.0", "true", "'+3 pipelines", "'-",
    )  # fmt: skip
    assert (correction["value"], correction["corrects_check_in_id"], correction["corrected"]) == (
        "28.0", first["check_in_id"], "false",
    )  # fmt: skip
    assert correction["what_moved"] == "Typo fixed\tfor real"
    assert rows[0]["owner_email"] == "platform.lead@acme.example"
    assert rows[0]["kr_type"] == "decrease"
    assert rows[4]["aligned_to"] == '\'=HYPERLINK("http://evil","Ship")'
    assert rows[4]["aligned_to_objective_id"] == str(okrs.pk)


def test_xlsx_has_three_sheets_with_native_values(people, quarter, okrs):
    filename, content_type, content = cycle_export(actor=people.ceo, cycle=quarter, fmt="xlsx")

    assert filename.endswith(".xlsx")
    assert content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Objectives", "Key results", "Check-ins"]
    objectives = list(book["Objectives"].values)
    assert objectives[0][:3] == ("objective_id", "objective", "description")
    assert [row[1] for row in objectives[1:]] == [
        "'=HYPERLINK(\"http://evil\",\"Ship\")", "Costs we can explain", "Secret plan",
    ]  # fmt: skip
    # Nothing is a formula: every text cell is stored as text.
    kinds = {cell.data_type for name in book.sheetnames for row in book[name].iter_rows() for cell in row}
    assert "f" not in kinds
    key_results = list(book["Key results"].values)
    assert key_results[0][:3] == ("objective_id", "key_result_id", "key_result")
    assert [(row[0], row[2]) for row in key_results[1:]] == [
        (okrs.pk, "Deploy time"),
        (okrs.pk, "'@SUM(A1:A2)"),
    ]
    check_ins = list(book["Check-ins"].values)
    header = check_ins[0]
    assert header[:3] == ("key_result_id", "objective_id", "check_in_id")
    at = header.index("effective_at (Europe/Berlin)")
    assert [row[at].isoformat() for row in check_ins[1:]] == ["2026-11-08T12:00:00"] * 2
    assert [row[header.index("value")] for row in check_ins[1:]] == [30, 28]


def test_private_objectives_and_their_parents_follow_the_persons_visibility(people, quarter, okrs):
    # The analyst (Growth) may not see the Platform team's private objective.
    rows = read_csv(cycle_export(actor=people.analyst, cycle=quarter, fmt="csv")[2])

    assert "Secret plan" not in {row["objective"] for row in rows}
    # The SRE sees it (their own), with its parent.
    rows = read_csv(cycle_export(actor=people.sre, cycle=quarter, fmt="csv")[2])
    secret = next(row for row in rows if row["objective"] == "Secret plan")
    assert secret["aligned_to_objective_id"] == str(okrs.pk)


def test_a_parent_the_person_cannot_see_is_not_named(people, quarter):
    hidden = objective_create(
        actor=people.ceo, cycle=quarter, owner=people.sre, title="Hidden parent", visibility="private",
        team=people.sre.team,
    )  # fmt: skip
    child = objective_create(actor=people.ceo, cycle=quarter, owner=people.analyst, title="Visible child")
    alignment_propose(child=child, actor=people.ceo, parent_objective=hidden)

    rows = read_csv(cycle_export(actor=people.analyst, cycle=quarter, fmt="csv")[2])

    assert [(r["objective"], r["aligned_to_objective_id"], r["aligned_to"]) for r in rows] == [
        ("Visible child", "", "")
    ]


@pytest.mark.parametrize(
    ("who", "expected"), [("ceo", ADMIN_QUERIES), ("sre", MEMBER_QUERIES)]
)  # fmt: skip
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_query_count_does_not_grow_with_the_cycle(people, quarter, okrs, who, expected, fmt):
    actor = getattr(people, who)
    _, small = count_queries(lambda: cycle_export(actor=actor, cycle=quarter, fmt=fmt))
    for n in range(15):
        objective = objective_create(actor=people.ceo, cycle=quarter, owner=people.analyst, title=f"More {n}")
        kr = key_result_create(
            actor=people.ceo, objective=objective, title="KR", kind="increase", start=0, target=9
        )
        check_in_record(key_result=kr, actor=people.ceo, value=n % 9, confidence=5, now=NOW)

    (_, _, content), large = count_queries(lambda: cycle_export(actor=actor, cycle=quarter, fmt=fmt))

    assert small == large == expected
    if fmt == "csv":
        assert len(read_csv(content)) >= 15


def test_an_empty_cycle_exports_the_headers_only(people, quarter):
    rows = read_csv(cycle_export(actor=people.ceo, cycle=quarter, fmt="csv")[2])
    book = load_workbook(io.BytesIO(cycle_export(actor=people.ceo, cycle=quarter, fmt="xlsx")[2]))

    assert rows == []
    assert [book[name].max_row for name in book.sheetnames] == [1, 1, 1]


def test_control_characters_do_not_break_the_workbook(people, quarter):
    objective = objective_create(actor=people.ceo, cycle=quarter, owner=people.cto, title="Plain")
    kr = key_result_create(actor=people.ceo, objective=objective, title="KR", kind="milestone")
    check_in_record(
        key_result=kr, actor=people.cto, value=1, confidence=9, what_moved="\x01=1+1 bell\x07", now=NOW
    )

    content = cycle_export(actor=people.ceo, cycle=quarter, fmt="xlsx")[2]

    check_ins = list(load_workbook(io.BytesIO(content))["Check-ins"].values)
    assert check_ins[1][check_ins[0].index("what_moved")] == "'=1+1 bell"


def test_unknown_format_is_refused(people, quarter):
    with pytest.raises(ValueError, match="format"):
        cycle_export(actor=people.ceo, cycle=quarter, fmt="pdf")
