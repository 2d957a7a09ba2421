"""The onboarding wizard on the portal: who may use it, the result page, errors inline
(fields, the people file's rows, the failed step) with nothing created."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import schema_exists, tenant_context

from accounts.models import User
from okrs.models import Cycle
from tenants.models import ConsultantAssignment, MethodPack, MethodPackVersion, Organization, PlatformEvent
from tests.web import get_counting, htmx

pytestmark = pytest.mark.django_db

URL = "/portal/onboard/"
PEOPLE_CSV = (
    b"email,name,manager_email\n"
    b"lead@initech.example,Lena Lead,\n"
    b"dev@initech.example,Dan,lead@initech.example\n"
)


@pytest.fixture
def coach(db) -> User:
    return User.objects.get(email="coach@platform.example")


@pytest.fixture
def coach_client(coach) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(coach)
    return client


def form_data(**overrides) -> dict:
    data = {
        "name": "Initech", "slug": "initech", "timezone": "Europe/Berlin", "language": "en",
        "cycle_plan": "annual_and_quarter", "cycle_name": "", "cycle_start": "", "cycle_end": "",
        "cycle_kind": "custom", "admin_email": "ceo@initech.example", "admin_name": "Bill",
        "pack_version": "",
    }  # fmt: skip
    data.update(overrides)
    return data


def nothing_created() -> bool:
    return not Organization.objects.filter(slug="initech").exists() and not schema_exists("initech")


def test_anonymous_visitors_are_sent_to_sign_in(public_client):
    response = public_client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/portal/onboard/"


def test_people_who_are_not_consultants_are_refused(public_client):
    member = User.objects.create_user("someone@platform.example", role=User.Role.MEMBER)
    public_client.force_login(member)
    events = PlatformEvent.objects.count()

    assert public_client.get(URL).status_code == 403
    assert public_client.post(URL, form_data()).status_code == 403
    assert public_client.get("/portal/onboard/subdomain/?slug=initech").status_code == 403
    assert nothing_created()
    assert PlatformEvent.objects.count() == events


def test_a_consultant_sees_the_four_sections_and_the_packs(coach, coach_client):
    pack = MethodPack.objects.create(slug="growth", name="Growth pack", owner=coach)
    MethodPackVersion.objects.create(pack=pack, number=1, content={"cadence": "weekly"})
    latest = MethodPackVersion.objects.create(pack=pack, number=2, content={"cadence": "monthly"})

    response = coach_client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r'<h2 id="onboard-[a-z]+">([^<]+)</h2>', html) == [
        "1. Organisation", "2. First cycle", "3. People", "4. Method",
    ]  # fmt: skip
    assert f'<option value="{latest.pk}">Growth pack — v2 (latest)</option>' in html
    assert 'hx-get="/portal/onboard/subdomain/"' in html
    assert 'name="people_csv"' in html
    assert 'accept=".csv,text/csv"' in html


def test_the_page_takes_the_same_queries_with_more_packs(coach, coach_client):
    pack = MethodPack.objects.create(slug="growth", name="Growth pack", owner=coach)
    MethodPackVersion.objects.create(pack=pack, number=1, content={"cadence": "weekly"})
    _response, few = get_counting(coach_client, URL)
    for n in range(2, 7):
        other = MethodPack.objects.create(slug=f"pack-{n}", name=f"Pack {n}", owner=coach)
        MethodPackVersion.objects.create(pack=other, number=1, content={"cadence": "weekly"})
        MethodPackVersion.objects.create(pack=pack, number=n, content={"cadence": "weekly"})
        User.objects.create_user(f"coach{n}@platform.example", role=User.Role.CONSULTANT)

    _response, many = get_counting(coach_client, URL)

    assert many == few


def test_onboarding_through_the_wizard_shows_the_steps_and_the_invitation(
    coach, coach_client, django_capture_on_commit_callbacks
):
    second = User.objects.create_user("second@platform.example", role=User.Role.CONSULTANT, full_name="Sam")
    upload = SimpleUploadedFile("people.csv", PEOPLE_CSV, content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(URL, {**form_data(consultants=[second.pk]), "people_csv": upload})

    assert response.status_code == 302
    assert response["Location"] == "/portal/onboard/done/initech/"
    organization = Organization.objects.get(slug="initech")
    assert schema_exists("initech")
    with tenant_context(organization):
        assert sorted(User.objects.values_list("email", flat=True)) == [
            "ceo@initech.example", "dev@initech.example", "lead@initech.example",
        ]  # fmt: skip
        assert Cycle.objects.count() == 2
    assert sorted(
        ConsultantAssignment.objects.filter(organization=organization).values_list(
            "consultant__email", flat=True
        )
    ) == ["coach@platform.example", "second@platform.example"]
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ceo@initech.example", "dev@initech.example", "lead@initech.example",
    ]  # fmt: skip
    event = PlatformEvent.objects.get(organization=organization, action="onboarded")
    assert event.ip == "127.0.0.1"

    page = coach_client.get(response["Location"])

    assert page.status_code == 200
    html = page.content.decode()
    assert re.findall(r'data-testid="onboarded-step" data-step="([a-z]+)"', html) == [
        "validate", "provision", "cycles", "people", "consultants", "record",
    ]  # fmt: skip
    assert "Invitation sent to ceo@initech.example." in html
    assert "2 more people were invited from the people file." in html
    assert 'href="http://initech.localhost/"' in html
    assert "initech.localhost (clone)" in html or "initech.localhost (pool)" in html


def test_the_result_page_is_only_for_the_browser_that_onboarded(coach_client, public_client):
    public_client.force_login(User.objects.create_user("other@platform.example", role=User.Role.CONSULTANT))
    assert coach_client.post(URL, form_data()).status_code == 302

    assert public_client.get("/portal/onboard/done/initech/").status_code == 404
    assert coach_client.get("/portal/onboard/done/acme/").status_code == 404


def test_a_taken_subdomain_comes_back_on_its_field_and_nothing_is_created(coach_client):
    organizations, events = Organization.objects.count(), PlatformEvent.objects.count()

    response = coach_client.post(URL, form_data(slug="acme", name="Acme again"))

    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="onboard-failed" data-step="validate"' in html
    assert "Nothing was created." in html
    assert re.search(r'data-testid="field-error-slug">The subdomain “acme” is already taken.</div>', html)
    assert 'aria-invalid="true"' in html
    assert (Organization.objects.count(), PlatformEvent.objects.count()) == (organizations, events)


def test_bad_people_rows_come_back_as_a_table_and_nothing_is_created(
    coach_client, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile(
        "people.csv",
        b"email,manager_email\na@initech.example,nobody@initech.example\n",
        content_type="text/csv",
    )
    events = PlatformEvent.objects.count()

    with django_capture_on_commit_callbacks() as callbacks:
        response = coach_client.post(URL, {**form_data(), "people_csv": upload})

    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="onboard-failed" data-step="people"' in html
    assert "The onboarding stopped at this step: Import the people." in html
    assert "Choose the people file again" in html
    assert re.findall(r'data-testid="onboard-row-error" data-row="(\d+)" data-column="([a-z_]+)"', html) == [
        ("2", "manager_email")
    ]
    assert (
        "Nobody with the e-mail address nobody@initech.example is in the organisation or in this file."
        in html
    )
    assert nothing_created()
    assert PlatformEvent.objects.count() == events
    assert callbacks == []
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("people.xlsx", b"PK\x03\x04...", content_type="application/zip"),
            "Upload a CSV file",
        ),
        (
            SimpleUploadedFile("people.csv", b"email\n" + b"x" * (2 * 1024 * 1024), content_type="text/csv"),
            "The file is larger than 2 MB.",
        ),
        (
            SimpleUploadedFile(
                "people.csv", "email\nmé@x.example\n".encode("latin-1"), content_type="text/csv"
            ),
            "The file is not UTF-8 text",
        ),
    ],
)
def test_the_people_file_must_be_a_small_text_csv(coach_client, upload, message):
    response = coach_client.post(URL, {**form_data(), "people_csv": upload})

    assert response.status_code == 422
    assert message in response.content.decode()
    assert nothing_created()


def test_a_custom_range_with_its_dates_wrong_shows_on_the_fields(coach_client):
    response = coach_client.post(
        URL, form_data(cycle_plan="custom", cycle_name="", cycle_start="2026-05-01", cycle_end="2026-04-01")
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="field-error-cycle_name">Give the cycle a name' in html
    assert 'data-testid="field-error-cycle_end">The cycle must end on or after its start date.' in html
    assert nothing_created()


def test_the_subdomain_preview_shows_the_address_and_whether_it_is_free(coach_client):
    free = coach_client.get("/portal/onboard/subdomain/?slug=Initech", **htmx())
    taken = coach_client.get("/portal/onboard/subdomain/?slug=acme", **htmx())
    bad = coach_client.get("/portal/onboard/subdomain/?slug=a_b", **htmx())

    assert free.status_code == taken.status_code == bad.status_code == 200
    assert re.sub(r"\s+", " ", free.content.decode()).strip() == (
        '<p class="helptext" data-testid="slug-preview">The client\'s address: '
        '<strong data-testid="slug-preview-host">initech.localhost</strong> — available</p>'
    )
    assert "The subdomain “acme” is already taken." in taken.content.decode()
    assert "Use lowercase letters a–z" in bad.content.decode()
