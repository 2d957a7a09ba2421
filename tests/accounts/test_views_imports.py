"""Settings — Import people: upload → dry run report (errors with row numbers, or what would
happen) → confirm → imported, all or nothing. Org admins only."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from tests.web import sign_in

pytestmark = pytest.mark.django_db

URL = "/settings/import/"
ADMIN = "ceo@acme.example"
GOOD = (
    b"name,email,team,role\n"
    b"Nina Berg,nina@acme.example,Platform / SRE,member\n"
    b"Kenji Sato,analyst@acme.example,,viewer\n"
)


def snapshot(acme) -> tuple:
    with tenant_context(acme):
        result = (
            list(
                User.objects.order_by("pk").values_list("email", "full_name", "role", "team_id", "manager_id")
            ),
            list(Team.objects.order_by("pk").values_list("pk", "name", "parent_id")),
        )
    connection.set_schema_to_public()
    return result


def upload(content: bytes = GOOD) -> SimpleUploadedFile:
    return SimpleUploadedFile("people.csv", content, "text/csv")


def token_in(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def test_the_page_offers_the_upload_the_template_and_the_columns(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)

    response = acme_client.get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in html
    assert 'href="/settings/import/people-template.csv"' in html
    assert re.findall(r'data-testid="import-column" data-column="(\w+)"', html) == [
        "name", "email", "team", "manager_email", "role",
    ]  # fmt: skip
    assert 'href="/settings/import/" aria-current="page">Import</a>' in html
    assert 'href="/settings/import/okrs/"' in html


def test_check_then_confirm_imports_the_checked_file(acme, acme_client, django_capture_on_commit_callbacks):
    sign_in(acme_client, acme, ADMIN)
    before = snapshot(acme)

    checked = acme_client.post(URL, {"file": upload()})

    html = checked.content.decode()
    assert checked.status_code == 200
    assert 'data-testid="import-summary"' in html
    assert 'data-testid="import-count-create">1<' in html
    assert 'data-testid="import-count-update">1<' in html
    assert "Leadership / Product &amp; Engineering / Platform / SRE" in html
    assert snapshot(acme) == before
    with django_capture_on_commit_callbacks(execute=True):
        done = acme_client.post(URL, {"token": token_in(html)})

    assert done.status_code == 302
    assert done["Location"] == "/settings/"
    page = acme_client.get("/settings/").content.decode()
    assert "Import done. Invited: 1. Updated: 1. Unchanged: 0." in page
    with tenant_context(acme):
        assert User.objects.get(email="nina@acme.example").team.name == "SRE"
        assert User.objects.get(email="analyst@acme.example").role == "viewer"
    assert [message.to for message in mail.outbox] == [["nina@acme.example"]]


def test_a_file_with_problems_lists_them_by_row_and_offers_no_confirmation(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)
    before = snapshot(acme)

    response = acme_client.post(URL, {"file": upload(b"email,role\nfine@acme.example,member\nbad,boss\n")})

    html = response.content.decode()
    assert response.status_code == 422
    assert "2 problems: nothing was imported" in html
    assert re.findall(r'data-testid="import-error" data-row="(\d*)" data-column="(\w*)"', html) == [
        ("3", "email"),
        ("3", "role"),
    ]
    assert "“bad” is not a valid e-mail address." in html
    assert 'data-testid="import-confirm"' not in html
    assert snapshot(acme) == before


def test_a_confirmation_works_once(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)
    token = token_in(acme_client.post(URL, {"file": upload()}).content.decode())
    acme_client.post(URL, {"token": token})
    after_first = snapshot(acme)

    again = acme_client.post(URL, {"token": token})

    assert again.status_code == 422
    assert "The checked file is no longer available" in again.content.decode()
    assert snapshot(acme) == after_first


def test_a_made_up_token_changes_nothing(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)
    acme_client.post(URL, {"file": upload()})
    before = snapshot(acme)

    response = acme_client.post(URL, {"token": "forged"})

    assert response.status_code == 422
    assert snapshot(acme) == before


def test_the_confirmation_checks_again_and_refuses_what_changed_in_between(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)
    token = token_in(
        acme_client.post(
            URL, {"file": upload(b"email,manager_email\nx@acme.example,cs.lead@acme.example\n")}
        ).content.decode()
    )
    with tenant_context(acme):
        User.objects.filter(email="cs.lead@acme.example").update(is_active=False)
    connection.set_schema_to_public()
    before = snapshot(acme)

    response = acme_client.post(URL, {"token": token})

    assert response.status_code == 422
    assert "Zhang Wei is deactivated and cannot be a manager." in response.content.decode()
    assert snapshot(acme) == before


def test_no_file_is_a_field_error(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)

    response = acme_client.post(URL, {})

    assert response.status_code == 422
    assert 'data-testid="field-error-file"' in response.content.decode()


def test_the_template_downloads_as_csv(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)

    response = acme_client.get("/settings/import/people-template.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="people-template.csv"'
    assert response.content.decode("utf-8-sig").splitlines()[0] == "name,email,team,manager_email,role"


@pytest.mark.parametrize("email", ["cto@acme.example", "sre@acme.example", "board@acme.example"])
def test_everyone_else_gets_403_and_nothing_changes(acme, acme_client, email):
    sign_in(acme_client, acme, email)
    before = snapshot(acme)

    assert acme_client.get(URL).status_code == 403
    assert acme_client.post(URL, {"file": upload()}).status_code == 403
    assert acme_client.get("/settings/import/people-template.csv").status_code == 403
    assert snapshot(acme) == before


def test_signed_out_visitors_go_to_sign_in(acme_client):
    response = acme_client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
