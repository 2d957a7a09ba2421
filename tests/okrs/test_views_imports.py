"""Settings — Import OKRs (org admins) and the cycle export downloads on the explorer."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from okrs.models import Cycle, KeyResult, Objective
from tests.web import sign_in

pytestmark = pytest.mark.django_db

URL = "/settings/import/okrs/"
ADMIN = "ceo@acme.example"
GOOD = (
    b"objective,objective_owner_email,kr,kr_type,start,target\n"
    b"Faster builds,platform.lead@acme.example,Build time from 20 to 5,decrease,20,5\n"
    b"Faster builds,,Flaky tests from 30 to 3,decrease,30,3\n"
)


def tenant(acme, fn):
    with tenant_context(acme):
        result = fn()
    connection.set_schema_to_public()
    return result


def counts(acme) -> tuple:
    return tenant(acme, lambda: (Objective.objects.count(), KeyResult.objects.count()))


def quarter_of(acme) -> Cycle:
    return tenant(acme, lambda: Cycle.objects.get(kind="quarter"))


def upload(content: bytes = GOOD) -> SimpleUploadedFile:
    return SimpleUploadedFile("okrs.csv", content, "text/csv")


def test_the_page_offers_open_cycles_the_template_and_the_columns(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)
    quarter = quarter_of(acme)

    html = acme_client.get(URL).content.decode()

    assert f'<option value="{quarter.pk}">{quarter.name} (Active)</option>' in html
    assert 'href="/settings/import/okrs-template.csv"' in html
    assert 'data-column="objective_ref"' in html
    assert 'href="/settings/import/okrs/" aria-current="page"' in html


def test_check_then_confirm_creates_the_okrs(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)
    quarter = quarter_of(acme)
    before = counts(acme)

    checked = acme_client.post(URL, {"cycle": quarter.pk, "file": upload()})

    html = checked.content.decode()
    assert checked.status_code == 200
    assert 'data-testid="import-count-objectives">1<' in html
    assert 'data-testid="import-count-krs">2<' in html
    assert counts(acme) == before
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)

    done = acme_client.post(URL, {"token": token})

    assert done.status_code == 302
    assert done["Location"] == f"/okrs/?cycle={quarter.pk}"
    assert counts(acme) == (before[0] + 1, before[1] + 2)
    assert tenant(acme, lambda: Objective.objects.get(title="Faster builds").cycle_id) == quarter.pk


def test_problems_are_listed_by_row_and_nothing_is_created(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)
    before = counts(acme)
    content = b"objective,objective_owner_email,kr,kr_type\nX,board@acme.example,KR,sideways\n"

    response = acme_client.post(URL, {"cycle": quarter_of(acme).pk, "file": upload(content)})

    html = response.content.decode()
    assert response.status_code == 422
    assert re.findall(r'data-testid="import-error" data-row="(\d*)" data-column="(\w*)"', html) == [
        ("2", "kr_type"),
        ("2", "objective_owner_email"),
    ]
    assert counts(acme) == before


def test_a_closed_cycle_cannot_be_chosen(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)
    closed = tenant(
        acme,
        lambda: Cycle.objects.create(
            name="Old", kind="custom", start_date="2025-01-01", end_date="2025-02-01", state="closed"
        ),
    )
    before = counts(acme)

    response = acme_client.post(URL, {"cycle": closed.pk, "file": upload()})

    assert response.status_code == 422
    assert 'data-testid="field-error-cycle"' in response.content.decode()
    assert counts(acme) == before


@pytest.mark.parametrize("email", ["cto@acme.example", "sre@acme.example", "board@acme.example"])
def test_everyone_else_gets_403_and_nothing_changes(acme, acme_client, email):
    sign_in(acme_client, acme, email)
    before = counts(acme)

    assert acme_client.get(URL).status_code == 403
    assert acme_client.post(URL, {"cycle": quarter_of(acme).pk, "file": upload()}).status_code == 403
    assert acme_client.get("/settings/import/okrs-template.csv").status_code == 403
    assert counts(acme) == before


def test_the_template_downloads(acme, acme_client):
    sign_in(acme_client, acme, ADMIN)

    response = acme_client.get("/settings/import/okrs-template.csv")

    assert response["Content-Disposition"] == 'attachment; filename="okrs-template.csv"'
    assert response.content.decode("utf-8-sig").startswith("objective_ref,objective,description,")


# --- Export ---------------------------------------------------------------------------------------------


def test_the_explorer_offers_the_cycle_exports(acme, acme_client):
    sign_in(acme_client, acme, "board@acme.example")  # viewers read, so they may export
    quarter = quarter_of(acme)

    html = acme_client.get(f"/okrs/?cycle={quarter.pk}").content.decode()

    assert f'href="/okrs/cycles/{quarter.pk}/export/csv/"' in html
    assert f'href="/okrs/cycles/{quarter.pk}/export/xlsx/"' in html


def test_export_downloads_what_the_person_may_see(acme, acme_client):
    sign_in(acme_client, acme, "analyst@acme.example")
    quarter = quarter_of(acme)

    csv_response = acme_client.get(f"/okrs/cycles/{quarter.pk}/export/csv/")
    xlsx_response = acme_client.get(f"/okrs/cycles/{quarter.pk}/export/xlsx/")

    assert csv_response.status_code == 200
    assert csv_response["Content-Disposition"].startswith('attachment; filename="')
    rows = list(csv.DictReader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    titles = tenant(
        acme, lambda: set(Objective.objects.filter(cycle=quarter).values_list("title", flat=True))
    )
    assert {row["objective"] for row in rows} == titles  # the demo's objectives are all public
    book = load_workbook(io.BytesIO(xlsx_response.content))
    assert book["Objectives"].max_row == len(titles) + 1


def test_export_of_an_unknown_cycle_or_format_is_404(acme, acme_client):
    sign_in(acme_client, acme, "analyst@acme.example")
    quarter = quarter_of(acme)

    assert acme_client.get(f"/okrs/cycles/{quarter.pk}/export/pdf/").status_code == 404
    assert acme_client.get("/okrs/cycles/999999/export/csv/").status_code == 404


def test_export_needs_a_signed_in_person(acme, acme_client):
    response = acme_client.get(f"/okrs/cycles/{quarter_of(acme).pk}/export/csv/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
