"""Exports kept by the platform, offboarding and restoring (tenants.offboarding), and the
events the organisation services record.

Every test provisions its own throwaway organisation inside its transaction (never acme or
globex, which other tests use), so the rollback removes its row, domain and schema, and
archives go to the test's tmp_path. The module fixture checks that nothing was committed."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_exists, tenant_context

from accounts.models import User
from okrs import demo as okr_demo
from tenants.demo import DEMO_PASSWORD, seed_organization
from tenants.models import (
    ConsultantAssignment,
    ConsultantEntry,
    Domain,
    Organization,
    OrganizationArchive,
    PlatformEvent,
)
from tenants.offboarding import (
    archive_delete,
    organization_export_archive,
    organization_offboard,
    organization_restore,
)
from tenants.services import organization_provision, organization_set_status
from tests.tenants.throwaway import drop_leftovers

pytestmark = pytest.mark.django_db

SLUG = "h5-offboard"
SCHEMA = "h5_offboard"
HOST = f"{SLUG}.localhost"


@pytest.fixture(autouse=True, scope="module")
def _nothing_committed(django_db_blocker):
    """After the module's tests (and their rollbacks), no schema or organisation may remain."""
    yield
    assert drop_leftovers(django_db_blocker, slug=SLUG, schema=SCHEMA) == ([], [])


@pytest.fixture(autouse=True)
def archive_dir(settings, tmp_path) -> Path:
    settings.ARCHIVE_DIR = tmp_path / "archives"
    return settings.ARCHIVE_DIR


@pytest.fixture
def admin_user(db) -> User:
    return User.objects.get(email="admin@platform.example")


@pytest.fixture
def org(db) -> Organization:
    return organization_provision(
        name="H5 Offboard Ltd", slug=SLUG, admin_email=f"boss@{SLUG}.example", timezone="Europe/Paris",
        language="en", actor=None, status=Organization.Status.PILOT, send_invitation=False,
    ).organization  # fmt: skip


@pytest.fixture
def seeded_org(org) -> Organization:
    """The throwaway organisation with the demo's people, OKRs and reviews."""
    seed_organization(org, objectives=okr_demo.ACME)
    connection.set_schema_to_public()
    return org


def table_counts(schema: str) -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY 1",
            [schema],
        )
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


def sha256_of(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def events(organization, action) -> list[PlatformEvent]:
    return list(PlatformEvent.objects.filter(organization=organization, action=action).order_by("id"))


def public_state(organization) -> tuple:
    organization.refresh_from_db()
    return (
        organization.status,
        schema_exists(organization.schema_name),
        OrganizationArchive.objects.filter(organization=organization).count(),
        PlatformEvent.objects.filter(organization=organization).count(),
        Domain.objects.filter(tenant=organization).count(),
    )


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def sign_in(client: Client, email: str, password: str):
    return client.post("/login/", {"username": email, "password": password})


# --- the services record their events ------------------------------------------------------------


def test_provisioning_records_an_event(org):
    (event,) = events(org, PlatformEvent.Action.PROVISIONED)

    assert (event.organization_slug, event.actor_email) == (SLUG, "system")
    assert event.detail == {"method": "clone", "status": "pilot"}


def test_status_change_records_an_event_with_the_actor(org, admin_user):
    organization_set_status(organization=org, status="suspended", actor=admin_user)
    organization_set_status(organization=org, status="suspended", actor=admin_user)  # no change: no event

    (event,) = events(org, PlatformEvent.Action.STATUS_CHANGED)
    assert (event.actor_email, event.detail) == (
        "admin@platform.example",
        {"previous": "pilot", "status": "suspended"},
    )
    org.refresh_from_db()
    assert org.status == "suspended"


@pytest.mark.parametrize("status", ["offboarded"])
def test_status_service_refuses_offboarding_and_changes_nothing(org, admin_user, status):
    before = public_state(org)

    with pytest.raises(ValidationError, match="use the offboard action"):
        organization_set_status(organization=org, status=status, actor=admin_user)

    assert public_state(org) == before


# --- export ----------------------------------------------------------------------------------------


def test_export_writes_a_private_file_whose_checksum_matches_the_row(org, admin_user, archive_dir):
    archive = organization_export_archive(organization=org, actor=admin_user)

    path = Path(archive.path)
    assert path.parent == archive_dir
    assert re.fullmatch(rf"{SLUG}-\d{{8}}T\d{{6}}Z\.zip", path.name)
    assert (archive.sha256, archive.size) == (sha256_of(path), path.stat().st_size)
    assert path.stat().st_mode & 0o777 == 0o600
    assert (archive.reason, archive.created_by, archive.organization_slug) == (
        "export", "admin@platform.example", SLUG
    )  # fmt: skip
    (event,) = events(org, PlatformEvent.Action.EXPORTED)
    assert event.detail == {
        "archive_id": archive.pk, "reason": "export", "file": path.name, "size": archive.size,
        "sha256": archive.sha256,
    }  # fmt: skip
    assert schema_exists(SCHEMA)


def test_two_exports_in_the_same_second_get_two_files(org, admin_user, archive_dir):
    first = organization_export_archive(organization=org, actor=admin_user)
    second = organization_export_archive(organization=org, actor=admin_user)

    assert first.path != second.path
    assert len(files_in(archive_dir)) == 2


def test_export_of_the_template_is_refused(admin_user, archive_dir):
    template = Organization.objects.get(is_template=True)

    with pytest.raises(ValidationError, match="Only client organisations"):
        organization_export_archive(organization=template, actor=admin_user)

    assert files_in(archive_dir) == []
    assert not OrganizationArchive.objects.exists()


# --- offboarding -----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["", "h5", "H5-OFFBOARD", f" {SLUG}", f"{SLUG} ", "acme"])
def test_offboarding_with_a_wrong_confirmation_changes_nothing(org, admin_user, archive_dir, typed):
    before = public_state(org)

    with pytest.raises(ValidationError) as error:
        organization_offboard(organization=org, confirmation=typed, actor=admin_user)

    assert error.value.message_dict == {
        "confirmation": [
            f"To offboard H5 Offboard Ltd, type its subdomain “{SLUG}” exactly. Nothing was changed."
        ]
    }
    assert public_state(org) == before
    assert before[:2] == ("pilot", True)
    assert files_in(archive_dir) == []


def test_offboarding_archives_then_drops_the_schema_and_keeps_the_row(org, admin_user, archive_dir):
    consultant = User.objects.get(email="coach@platform.example")
    ConsultantAssignment.objects.create(organization=org, consultant=consultant)
    ConsultantEntry.objects.create(organization=org, consultant=consultant)
    with tenant_context(org):
        people = User.objects.count()
    connection.set_schema_to_public()

    archive = organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)

    assert not schema_exists(SCHEMA)
    org.refresh_from_db()
    assert org.status == "offboarded"
    assert list(Domain.objects.filter(tenant=org).values_list("domain", flat=True)) == [HOST]
    assert (archive.reason, archive.organization_id, archive.deleted_at) == ("offboard", org.pk, None)
    assert Path(archive.path).is_file()
    assert sha256_of(archive.path) == archive.sha256
    assert files_in(archive_dir) == [Path(archive.path).name]
    assert not ConsultantEntry.objects.filter(organization=org).exists()
    assert ConsultantAssignment.objects.filter(organization=org).count() == 1
    (exported,) = events(org, PlatformEvent.Action.EXPORTED)
    (offboarded,) = events(org, PlatformEvent.Action.OFFBOARDED)
    assert exported.detail["reason"] == "offboard"
    assert offboarded.actor_email == "admin@platform.example"
    assert offboarded.detail == {
        "archive_id": archive.pk, "previous_status": "pilot", "file": Path(archive.path).name
    }  # fmt: skip
    assert people == 1


def test_offboarded_host_answers_with_the_unavailable_page_without_touching_the_schema(org, admin_user):
    organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)

    for path in ["/", "/login/", "/api/v1/me/"]:
        with CaptureQueriesContext(connection) as queries:
            response = Client(HTTP_HOST=HOST).get(path)
        assert response.status_code == 403
        assert all(SCHEMA not in query["sql"] for query in queries.captured_queries)
    page = Client(HTTP_HOST=HOST).get("/login/").content.decode()
    assert 'data-testid="org-unavailable"' in page
    assert "H5 Offboard Ltd is no longer on the platform" in page
    assert sign_in(Client(HTTP_HOST=HOST), f"boss@{SLUG}.example", "x").status_code == 403


def test_offboarding_twice_is_refused(org, admin_user, archive_dir):
    organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)
    before = public_state(org)

    with pytest.raises(ValidationError, match="is offboarded"):
        organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)

    assert public_state(org) == before
    assert len(files_in(archive_dir)) == 1


def test_a_failed_export_drops_nothing(org, admin_user, archive_dir, monkeypatch):
    def broken_export(*, schema, out, progress=None):
        Path(out).write_bytes(b"half an archive")
        raise ValidationError({"out": ["Disk full"]})

    monkeypatch.setattr("tenants.offboarding.organization_export", broken_export)
    before = public_state(org)

    with pytest.raises(ValidationError, match="Disk full"):
        organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)

    assert public_state(org) == before
    assert schema_exists(SCHEMA)
    assert files_in(archive_dir) == []


def test_a_failure_after_the_export_drops_nothing_and_leaves_no_file(
    org, admin_user, archive_dir, monkeypatch
):
    def broken_delete(self):
        raise RuntimeError("connection lost")

    monkeypatch.setattr("django.db.models.QuerySet.delete", broken_delete)
    before = public_state(org)

    with pytest.raises(RuntimeError):
        organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)

    assert public_state(org) == before
    assert files_in(archive_dir) == []


def test_export_of_an_offboarded_organisation_is_refused(org, admin_user, archive_dir):
    organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)

    with pytest.raises(ValidationError, match="Restore it from an archive first"):
        organization_export_archive(organization=org, actor=admin_user)

    assert OrganizationArchive.objects.filter(organization=org).count() == 1


# --- restore ---------------------------------------------------------------------------------------


def test_restore_brings_back_every_row_the_status_and_sign_in(seeded_org, admin_user):
    org = seeded_org
    stale = Client(HTTP_HOST=HOST)
    assert sign_in(stale, f"analyst@{SLUG}.example", DEMO_PASSWORD).status_code == 302
    counts = table_counts(SCHEMA)
    assert counts["django_session"] == 1
    archive = organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)
    assert not schema_exists(SCHEMA)

    restored = organization_restore(archive=archive, actor=admin_user)

    assert restored.pk == org.pk
    assert restored.status == "pilot"
    assert table_counts(SCHEMA) == {**counts, "django_session": 0}  # everyone signs in again
    assert stale.get("/")["Location"].startswith("/login/")
    assert counts["accounts_user"] > 10
    assert counts["okrs_objective"] > 5
    assert counts["okrs_checkin"] > 5
    client = Client(HTTP_HOST=HOST)
    assert sign_in(client, f"analyst@{SLUG}.example", DEMO_PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    (event,) = events(org, PlatformEvent.Action.RESTORED)
    assert event.actor_email == "admin@platform.example"
    assert event.detail == {"archive_id": archive.pk, "status": "pilot", "file": Path(archive.path).name}
    assert Path(archive.path).is_file()  # kept: it is still a backup


def test_restore_of_a_suspended_organisation_comes_back_suspended(org, admin_user):
    organization_set_status(organization=org, status="suspended", actor=admin_user)
    archive = organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)

    assert organization_restore(archive=archive, actor=admin_user).status == "suspended"


def test_restore_is_refused_after_the_archive_file_is_deleted(org, admin_user):
    archive = organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)

    archive_delete(archive=archive, actor=admin_user)

    assert not Path(archive.path).exists()
    archive.refresh_from_db()
    assert archive.deleted_at is not None
    (event,) = events(org, PlatformEvent.Action.ARCHIVE_DELETED)
    assert event.detail == {"archive_id": archive.pk, "slug": SLUG, "file": Path(archive.path).name}
    before = public_state(org)
    with pytest.raises(ValidationError) as error:
        organization_restore(archive=archive, actor=admin_user)
    assert error.value.messages == [
        f"The archive file was deleted on {archive.deleted_at.date().isoformat()}: {SLUG} can no longer be "
        "restored from it.",
        "Nothing was restored.",
    ]
    assert public_state(org) == before
    assert before[:2] == ("offboarded", False)


def test_deleting_an_archive_twice_is_refused(org, admin_user):
    archive = organization_export_archive(organization=org, actor=admin_user)
    archive_delete(archive=archive, actor=admin_user)

    with pytest.raises(ValidationError, match="already deleted"):
        archive_delete(archive=archive, actor=admin_user)

    assert len(events(org, PlatformEvent.Action.ARCHIVE_DELETED)) == 1


def test_restore_refuses_a_changed_or_missing_file(org, admin_user):
    archive = organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)
    path = Path(archive.path)
    path.write_bytes(path.read_bytes() + b"tampered")

    with pytest.raises(ValidationError, match="does not match the checksum"):
        organization_restore(archive=archive, actor=admin_user)
    path.unlink()
    with pytest.raises(ValidationError, match="is missing"):
        organization_restore(archive=archive, actor=admin_user)

    assert public_state(org)[:2] == ("offboarded", False)
    assert not events(org, PlatformEvent.Action.RESTORED)


def test_restore_of_an_organisation_that_is_not_offboarded_is_refused(org, admin_user):
    archive = organization_export_archive(organization=org, actor=admin_user)
    before = public_state(org)

    with pytest.raises(ValidationError, match="is pilot, not offboarded"):
        organization_restore(archive=archive, actor=admin_user)

    assert public_state(org) == before


def test_a_failed_restore_leaves_the_organisation_offboarded_without_a_schema(org, admin_user, monkeypatch):
    archive = organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)

    def broken_load(*args, **kwargs):
        raise ValidationError({"archive": ["The rows of okrs_objective cannot be loaded"]})

    monkeypatch.setattr("tenants.archive_import._load", broken_load)
    before = public_state(org)

    with pytest.raises(ValidationError, match="cannot be loaded"):
        organization_restore(archive=archive, actor=admin_user)

    assert public_state(org) == before
    assert before[:2] == ("offboarded", False)


def test_restored_organisation_can_be_offboarded_and_restored_again(org, admin_user):
    first = organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)
    organization_restore(archive=first, actor=admin_user)

    second = organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)
    restored = organization_restore(archive=second, actor=admin_user)

    assert restored.status == "pilot"
    assert schema_exists(SCHEMA)
    with tenant_context(restored):
        assert list(User.objects.values_list("email", flat=True)) == [f"boss@{SLUG}.example"]
