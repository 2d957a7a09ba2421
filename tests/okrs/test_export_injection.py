"""CSV formula injection (issue 8): text that a spreadsheet would run as a formula comes out of
every export format with a leading apostrophe — in an objective's title and description, a
key result's title, a check-in's note and a person's name."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from accounts.models import User
from okrs.exports import FORMATS, cycle_export
from okrs.models import KeyResult, Objective
from okrs.services.check_ins import check_in_record
from okrs.services.objectives import key_result_create, objective_create
from tests.okrs.conftest import NOW

pytestmark = pytest.mark.django_db

PAYLOADS = ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.fixture
def exported(people, quarter):
    """An objective, key result, check-in and owner whose texts are all the payload (set
    directly: the export must be safe whatever the data holds)."""

    def make(payload: str) -> dict[str, dict[str, object]]:
        objective = objective_create(actor=people.ceo, cycle=quarter, owner=people.lead, title="Plain")
        kr = key_result_create(
            actor=people.ceo, objective=objective, title="Plain", kind="increase", start=0, target=10
        )
        check_in_record(
            key_result=kr,
            actor=people.lead,
            value=3,
            confidence=7,
            what_moved=payload,
            blockers=payload,
            now=NOW,
        )  # check-ins are append-only: written with the payload
        Objective.objects.filter(pk=objective.pk).update(title=payload, description=payload)
        KeyResult.objects.filter(pk=kr.pk).update(title=payload)
        User.objects.filter(pk=people.lead.pk).update(full_name=payload)
        return {fmt: cycle_export(actor=people.ceo, cycle=quarter, fmt=fmt)[2] for fmt in FORMATS}

    return make


def csv_cells(content: bytes) -> dict[str, str]:
    [row] = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    return row


def xlsx_cells(content: bytes) -> dict[str, object]:
    book = load_workbook(io.BytesIO(content))
    cells = {}
    for sheet in book.worksheets:
        header, *rows = list(sheet.values)
        [row] = rows
        cells.update({f"{sheet.title}:{name}": value for name, value in zip(header, row, strict=True)})
    kinds = {cell.data_type for sheet in book.worksheets for row in sheet.iter_rows() for cell in row}
    assert "f" not in kinds  # no cell is stored as a formula
    return cells


@pytest.mark.parametrize("payload", PAYLOADS, ids=repr)
def test_formula_like_text_is_neutralised_in_csv_and_xlsx(exported, payload):
    files = exported(payload)
    # The check-in service strips its notes ("\t=1" is stored as "=1"): still a formula.
    stored = {"what_moved": payload.strip(), "blockers": payload.strip()}

    row = csv_cells(files["csv"])
    for column in ("objective", "description", "owner", "key_result", "author", "what_moved", "blockers"):
        assert row[column] == "'" + stored.get(column, payload), column
    cells = xlsx_cells(files["xlsx"])
    for column in (
        "Objectives:objective", "Objectives:description", "Objectives:owner", "Key results:key_result",
        "Check-ins:author", "Check-ins:what_moved", "Check-ins:blockers",
    ):  # fmt: skip
        # XML reads a stored "\r" back as "\n" (line-end normalisation); the apostrophe leads either way.
        expected = "'" + stored.get(column.split(":")[1], payload)
        assert cells[column] == expected.replace("\r", "\n"), column
