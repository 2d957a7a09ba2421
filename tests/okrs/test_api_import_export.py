"""POST /api/v1/imports/okrs/ and GET /api/v1/cycles/{id}/export/?file_format=csv|xlsx."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from accounts.models import ApiToken, User
from okrs.models import AlignmentProposal, Cycle, KeyResult, Objective
from okrs.services.objectives import key_result_create, objective_create
from tests.api_helpers import api_client, count_queries, make_token, session_api, tenant, token_api

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/imports/okrs/"
CEO, SRE, ANALYST, VIEWER = (
    "ceo@acme.example",
    "sre@acme.example",
    "analyst@acme.example",
    "board@acme.example",
)
HEADER = "objective_ref,objective,objective_owner_email,parent,kr,kr_type,start,target\n"
GOOD = HEADER + (
    "O1,Faster builds,platform.lead@acme.example,Ship changes safely every day,Build time from 20 to 5,"
    "decrease,20,5\n"
    "O1,,,,Flaky tests from 30 to 3,decrease,30,3\n"
    "O2,Fewer pages,sre@acme.example,O1,,,,\n"
)


def quarter_of(organization) -> Cycle:
    return tenant(organization, lambda: Cycle.objects.get(kind="quarter"))


def counts(organization) -> tuple:
    return tenant(
        organization,
        lambda: (Objective.objects.count(), KeyResult.objects.count(), AlignmentProposal.objects.count()),
    )


def upload(text: str = GOOD) -> SimpleUploadedFile:
    return SimpleUploadedFile("okrs.csv", text.encode(), "text/csv")


# --- Import ---------------------------------------------------------------------------------------------


def test_dry_run_answers_200_with_the_plan_and_writes_nothing(acme):
    quarter = quarter_of(acme)
    before = counts(acme)

    response = session_api(acme, CEO).post(
        IMPORT, {"cycle": quarter.pk, "file": upload(), "dry_run": "true"}, format="multipart"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["dry_run"], body["applied"], body["cycle"], body["rows_read"]) == (
        True,
        False,
        quarter.name,
        3,
    )
    assert body["objectives_to_create"] == [
        {"row": 2, "title": "Faster builds", "owner_email": "platform.lead@acme.example", "key_results": 2,
         "parent": "Ship changes safely every day"},
        {"row": 4, "title": "Fewer pages", "owner_email": "sre@acme.example", "key_results": 0,
         "parent": "Faster builds"},
    ]  # fmt: skip
    assert (body["key_results_to_create"], body["alignments_to_create"], body["errors"]) == (2, 2, [])
    assert counts(acme) == before


def test_import_answers_201_and_creates_everything(acme):
    quarter = quarter_of(acme)
    before = counts(acme)

    response = token_api(acme, CEO).post(IMPORT, {"cycle": quarter.pk, "file": upload()}, format="multipart")

    assert response.status_code == 201
    assert response.json()["applied"] is True
    assert counts(acme) == (before[0] + 2, before[1] + 2, before[2] + 2)
    parent = tenant(acme, lambda: Objective.objects.get(title="Fewer pages").parent_objective.title)
    assert parent == "Faster builds"


def test_rows_with_problems_answer_400_and_nothing_is_written(acme):
    quarter = quarter_of(acme)
    before = counts(acme)
    text = HEADER + "O1,Faster builds,nobody@acme.example,,Build time,decrease,5,20\n"

    response = session_api(acme, CEO).post(
        IMPORT, {"cycle": quarter.pk, "file": upload(text)}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The file has 2 problems; nothing was imported.",
        "code": "invalid",
        "fields": {
            "rows": [
                {"row": 2, "column": "objective_owner_email",
                 "message": "Nobody with the e-mail address nobody@acme.example is in the organisation."},
                {"row": 2, "column": "target",
                 "message": "Target must be less than start for a decreasing key result."},
            ]
        },
    }  # fmt: skip
    assert counts(acme) == before


def test_a_cycle_of_another_organisation_is_not_found(acme, globex):
    extra = tenant(
        globex,
        lambda: Cycle.objects.create(
            name="Globex only", kind="custom", start_date=date(2026, 1, 1), end_date=date(2026, 2, 1)
        ),
    )
    assert not tenant(acme, lambda: Cycle.objects.filter(pk=extra.pk).exists())
    before = counts(acme)

    response = session_api(acme, CEO).post(IMPORT, {"cycle": extra.pk, "file": upload()}, format="multipart")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["cycle"]
    assert counts(acme) == before


@pytest.mark.parametrize(
    ("data", "field"),
    [({"file": None}, "cycle"), ({"cycle": "x", "file": None}, "cycle"), ({"cycle": 1}, "file")],
)
def test_bad_input_names_the_field(acme, data, field):
    data = {key: upload() if key == "file" else value for key, value in data.items()}

    response = session_api(acme, CEO).post(IMPORT, data, format="multipart")

    assert response.status_code == 400
    assert field in response.json()["fields"]


@pytest.mark.parametrize("email", ["cto@acme.example", SRE, VIEWER])
def test_only_org_admins_import_okrs(acme, email):
    quarter = quarter_of(acme)
    before = counts(acme)

    response = session_api(acme, email).post(
        IMPORT, {"cycle": quarter.pk, "file": upload()}, format="multipart"
    )

    assert response.status_code == 403
    assert counts(acme) == before


def test_a_read_token_cannot_import(acme):
    quarter = quarter_of(acme)
    before = counts(acme)

    response = token_api(acme, CEO, scope=ApiToken.Scope.READ).post(
        IMPORT, {"cycle": quarter.pk, "file": upload()}, format="multipart"
    )

    assert response.status_code == 403
    assert counts(acme) == before


# --- Export ---------------------------------------------------------------------------------------------


def export_url(cycle_id: int, query: str = "") -> str:
    return f"/api/v1/cycles/{cycle_id}/export/{query}"


def test_csv_export_is_an_attachment_with_the_visible_okrs(acme):
    quarter = quarter_of(acme)

    response = token_api(acme, ANALYST, scope=ApiToken.Scope.READ).get(export_url(quarter.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="q')
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    visible = tenant(
        acme,
        lambda: {
            o.title
            for o in Objective.objects.filter(cycle=quarter)
            if o.visibility == "organization" or o.team_id == User.objects.get(email=ANALYST).team_id
        },
    )
    assert {row["objective"] for row in rows} == visible
    assert "effective_at (Europe/Berlin)" in rows[0]


def test_xlsx_export_and_accept_or_format_parameters_do_not_get_in_the_way(acme):
    quarter = quarter_of(acme)
    client = session_api(acme, SRE)

    response = client.get(export_url(quarter.pk, "?file_format=xlsx&format=json"), HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].endswith('.xlsx"')
    assert load_workbook(io.BytesIO(response.content)).sheetnames == [
        "Objectives",
        "Key results",
        "Check-ins",
    ]


def test_a_private_objective_is_exported_only_to_those_who_may_see_it(acme):
    quarter = quarter_of(acme)

    def make_private():
        ceo, sre = User.objects.get(email=CEO), User.objects.get(email=SRE)
        objective_create(
            actor=ceo, cycle=quarter, owner=sre, title="Secret plan", visibility="private", team=sre.team
        )

    tenant(acme, make_private)

    def titles(email):
        content = session_api(acme, email).get(export_url(quarter.pk)).content.decode("utf-8-sig")
        return {row["objective"] for row in csv.DictReader(io.StringIO(content))}

    assert "Secret plan" in titles(SRE)
    assert "Secret plan" in titles(CEO)
    assert "Secret plan" not in titles(ANALYST)


def test_an_unknown_file_format_is_a_400_naming_the_parameter(acme):
    response = session_api(acme, SRE).get(export_url(quarter_of(acme).pk, "?file_format=pdf"))

    assert response.status_code == 400
    assert response.json()["fields"] == {"file_format": ['"pdf" is not a valid choice.']}


def test_unknown_and_other_organisations_cycles_are_404(acme, globex):
    extra = tenant(
        globex,
        lambda: Cycle.objects.create(
            name="Globex only", kind="custom", start_date=date(2026, 1, 1), end_date=date(2026, 2, 1)
        ),
    )
    client = session_api(acme, SRE)

    assert client.get(export_url(extra.pk)).status_code == 404
    assert client.get(export_url(999999)).json() == {
        "detail": "Not found.",
        "code": "not_found",
        "fields": {},
    }


def test_anonymous_and_another_organisations_token_are_401(acme, globex):
    client = api_client(acme)
    url = export_url(quarter_of(acme).pk)
    assert client.get(url).status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(globex, 'ceo@globex.example')}")
    assert client.get(url).status_code == 401


def test_export_query_count_does_not_grow_with_the_cycle(acme):
    quarter = quarter_of(acme)
    client = session_api(acme, SRE)
    _, small = count_queries(lambda: client.get(export_url(quarter.pk)))

    def more():
        ceo = User.objects.get(email=CEO)
        for n in range(12):
            objective = objective_create(actor=ceo, cycle=quarter, owner=ceo, title=f"More {n}")
            key_result_create(actor=ceo, objective=objective, title="KR", kind="milestone")

    tenant(acme, more)
    response, large = count_queries(lambda: client.get(export_url(quarter.pk)))

    assert response.status_code == 200
    # Routing (3), session, user, the cycle, objectives (the reporting lines are a subquery),
    # key results, check-ins, the parents the person may see.
    assert small == large == 10
