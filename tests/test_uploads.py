"""Every CSV upload (issue 8): the people and OKR imports on their settings pages and over the
API, and the onboarding wizard's people file, refuse a binary file renamed .csv, a file over
2 MB, NUL bytes and a file not in UTF-8 with a clear message, and create nothing."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_exists, tenant_context
from PIL import Image

from accounts.models import Team, User
from accounts.uploads import csv_upload_problem
from okrs.models import Cycle, KeyResult, Objective
from tenants.models import Organization
from tests.api_helpers import session_api
from tests.web import sign_in

pytestmark = pytest.mark.django_db

ADMIN = "ceo@acme.example"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="PNG")
    return out.getvalue()


BAD_FILES = {
    "png_renamed": (png(), "This file is in PNG format, not CSV."),
    "too_big": (b"email\n" + b"x@acme.example\n" * 140_000, "The file is larger than 2 MB"),
    "nul_bytes": (b"email,name\nnina@acme.example,Ni\x00na\n", "The file contains NUL bytes"),
    "utf16": ("email,name\nnina@acme.example,Nina\n".encode("utf-16"), "The file contains NUL bytes"),
    "latin1": ("email,name\nnina@acme.example,Renée\n".encode("latin-1"), "The file is not UTF-8 text"),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "in Excel 97-2003 (.xls) format, not CSV."),
}  # fmt: skip
CASES = list(BAD_FILES)


def csv_file(case: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("data.csv", BAD_FILES[case][0], content_type="text/csv")


def snapshot(organization) -> tuple:
    with tenant_context(organization):
        state = (
            list(User.objects.order_by("pk").values_list("email", "full_name", "role", "team_id")),
            list(Team.objects.order_by("pk").values_list("pk", "name")),
            Objective.objects.count(),
            KeyResult.objects.count(),
        )
    connection.set_schema_to_public()
    return state


def quarter_of(organization) -> Cycle:
    with tenant_context(organization):
        cycle = Cycle.objects.get(kind="quarter")
    connection.set_schema_to_public()
    return cycle


def test_a_utf8_csv_with_a_byte_order_mark_is_accepted():
    assert csv_upload_problem("\ufeffemail,name\nnina@acme.example,Renée\n".encode()) == ""


@pytest.mark.parametrize("case", CASES)
def test_people_import_page_refuses_the_file_on_its_field(acme, case):
    client = Client(HTTP_HOST="acme.localhost")
    sign_in(client, acme, ADMIN)
    before = snapshot(acme)

    response = client.post("/settings/import/", {"file": csv_file(case)})

    assert response.status_code == 422
    assert 'data-testid="field-error-file"' in response.content.decode()
    assert BAD_FILES[case][1] in response.content.decode()
    assert snapshot(acme) == before


@pytest.mark.parametrize("case", CASES)
def test_okrs_import_page_refuses_the_file_on_its_field(acme, case):
    client = Client(HTTP_HOST="acme.localhost")
    sign_in(client, acme, ADMIN)
    before = snapshot(acme)

    response = client.post("/settings/import/okrs/", {"cycle": quarter_of(acme).pk, "file": csv_file(case)})

    assert response.status_code == 422
    assert 'data-testid="field-error-file"' in response.content.decode()
    assert BAD_FILES[case][1] in response.content.decode()
    assert snapshot(acme) == before


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dry_run", ["true", "false"])
def test_people_import_api_answers_400_for_the_whole_file(acme, case, dry_run):
    before = snapshot(acme)

    response = session_api(acme, ADMIN).post(
        "/api/v1/imports/people/", {"file": csv_file(case), "dry_run": dry_run}, format="multipart"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    [problem] = body["fields"]["rows"]  # a problem of the whole file: row null (the API's contract)
    assert (problem["row"], problem["column"]) == (None, "")
    assert BAD_FILES[case][1] in problem["message"]
    assert snapshot(acme) == before


@pytest.mark.parametrize("case", CASES)
def test_okrs_import_api_answers_400_for_the_whole_file(acme, case):
    before = snapshot(acme)

    response = session_api(acme, ADMIN).post(
        "/api/v1/imports/okrs/",
        {"file": csv_file(case), "cycle": quarter_of(acme).pk, "dry_run": "false"},
        format="multipart",
    )

    assert response.status_code == 400
    [problem] = response.json()["fields"]["rows"]
    assert (problem["row"], BAD_FILES[case][1] in problem["message"]) == (None, True)
    assert snapshot(acme) == before


@pytest.mark.parametrize("case", CASES)
def test_onboarding_wizard_refuses_the_people_file(db, case):
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(email="coach@platform.example"))
    data = {
        "name": "Initech", "slug": "initech", "timezone": "Europe/Berlin", "language": "en",
        "cycle_plan": "annual_and_quarter", "cycle_name": "", "cycle_start": "", "cycle_end": "",
        "cycle_kind": "custom", "admin_email": "ceo@initech.example", "admin_name": "Bill",
        "pack_version": "", "people_csv": csv_file(case),
    }  # fmt: skip

    response = client.post("/portal/onboard/", data)

    assert response.status_code == 422
    assert BAD_FILES[case][1] in response.content.decode()
    assert not Organization.objects.filter(slug="initech").exists()
    assert not schema_exists("initech")
