"""POST /api/v1/imports/people/: multipart upload, 200 dry run / 201 imported / 400 with
the rows' errors in the envelope; org admins only; nothing changes unless 201."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import ApiToken, Team, User
from tests.api_helpers import api_client, make_token, session_api, token_api

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports/people/"
ADMIN = "ceo@acme.example"
GOOD = (
    b"name,email,team,manager_email,role\n"
    b"Nina Berg,nina@acme.example,Platform / SRE,sre@acme.example,member\n"
)


def upload(content: bytes = GOOD) -> SimpleUploadedFile:
    return SimpleUploadedFile("people.csv", content, "text/csv")


def snapshot(organization) -> tuple:
    with tenant_context(organization):
        people = list(
            User.objects.order_by("pk").values_list("email", "full_name", "role", "team_id", "manager_id")
        )
        teams = list(Team.objects.order_by("pk").values_list("pk", "name", "parent_id"))
    connection.set_schema_to_public()
    return people, teams


def test_dry_run_answers_200_with_the_report_and_changes_nothing(acme):
    before = snapshot(acme)

    response = session_api(acme, ADMIN).post(URL, {"file": upload(), "dry_run": "true"}, format="multipart")

    assert response.status_code == 200
    assert response.json() == {
        "dry_run": True,
        "applied": False,
        "rows_read": 1,
        "to_create": ["nina@acme.example"],
        "to_update": [],
        "unchanged": [],
        "teams_to_create": ["Leadership / Product & Engineering / Platform / SRE"],
        "errors": [],
    }
    assert snapshot(acme) == before
    assert mail.outbox == []


def test_import_answers_201_and_invites_after_commit(acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = token_api(acme, ADMIN).post(URL, {"file": upload()}, format="multipart")

    assert response.status_code == 201
    assert response.json()["applied"] is True
    with tenant_context(acme):
        nina = User.objects.select_related("team", "manager").get(email="nina@acme.example")
        assert (nina.team.name, nina.manager.email) == ("SRE", "sre@acme.example")
    assert [message.to for message in mail.outbox] == [["nina@acme.example"]]


def test_rows_with_problems_answer_400_with_every_error_and_change_nothing(acme):
    before = snapshot(acme)
    content = b"email,role\nok@acme.example,member\nbob@,member\nx@acme.example,boss\n"

    response = session_api(acme, ADMIN).post(URL, {"file": upload(content)}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The file has 2 problems; nothing was imported.",
        "code": "invalid",
        "fields": {
            "rows": [
                {"row": 3, "column": "email", "message": "“bob@” is not a valid e-mail address."},
                {
                    "row": 4,
                    "column": "role",
                    "message": "Unknown role “boss”: use org_admin, manager, member or viewer.",
                },
            ]
        },
    }
    assert snapshot(acme) == before


def test_a_file_that_is_not_utf8_is_a_400_for_the_whole_file(acme):
    response = session_api(acme, ADMIN).post(
        URL, {"file": upload("email\nzoë@acme.example\n".encode("latin-1"))}, format="multipart"
    )

    assert response.status_code == 400
    [error] = response.json()["fields"]["rows"]
    assert (error["row"], error["column"]) == (None, "")
    assert error["message"].startswith("The file is not UTF-8 text")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "file", "No file was submitted."),
        (
            {"file": "email\nx@acme.example"},
            "file",
            "The submitted data was not a file. Check the encoding type on the form.",
        ),
        ({"file": None, "dry_run": "maybe"}, "dry_run", "Must be a valid boolean."),
        ({"file": None, "owner": "1"}, "owner", "Unknown or read-only field; it cannot be set."),
    ],
)
def test_bad_input_names_the_field(acme, data, field, message):
    data = {key: upload() if key == "file" and value is None else value for key, value in data.items()}
    before = snapshot(acme)

    response = session_api(acme, ADMIN).post(URL, data, format="multipart")

    assert response.status_code == 400
    assert response.json()["fields"][field] == [message]
    assert snapshot(acme) == before


def test_a_json_body_is_refused_as_unsupported(acme):
    response = session_api(acme, ADMIN).post(URL, {"file": "x"}, format="json")

    assert response.status_code == 415
    assert set(response.json()) == {"detail", "code", "fields"}


@pytest.mark.parametrize("email", ["cto@acme.example", "sre@acme.example", "board@acme.example"])
def test_only_org_admins_import_people(acme, email):
    before = snapshot(acme)

    response = session_api(acme, email).post(URL, {"file": upload()}, format="multipart")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert snapshot(acme) == before


def test_a_read_token_cannot_import(acme):
    before = snapshot(acme)

    response = token_api(acme, ADMIN, scope=ApiToken.Scope.READ).post(
        URL, {"file": upload()}, format="multipart"
    )

    assert response.status_code == 403
    assert snapshot(acme) == before


def test_anonymous_and_another_organisations_token_are_401(acme, globex):
    client = api_client(acme)
    assert client.post(URL, {"file": upload()}, format="multipart").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(globex, 'ceo@globex.example')}")
    assert client.post(URL, {"file": upload()}, format="multipart").status_code == 401
