"""The platform admin's lifecycle actions (export, offboard with typed confirmation, restore,
delete an archive file), consultant assignments, the event log and who may use them.

A throwaway organisation is provisioned inside each test's transaction (acme and globex are
left alone where an action would drop a schema); the module fixture checks nothing was committed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_exists, tenant_context

from accounts.models import User
from tenants.models import (
    ConsultantAssignment,
    HealthSnapshot,
    Organization,
    OrganizationArchive,
    PlatformEvent,
)
from tenants.offboarding import organization_offboard
from tenants.services import organization_provision
from tests.tenants.test_admin import change_form_data
from tests.tenants.throwaway import drop_leftovers

pytestmark = pytest.mark.django_db

SLUG = "h5-admin"
SCHEMA = "h5_admin"
ORGS = "/admin/tenants/organization/"
ARCHIVES = "/admin/tenants/organizationarchive/"
EVENTS = "/admin/tenants/platformevent/"
CONSULTANTS = "/admin/tenants/organization/consultants/"


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
def staff_client(public_client, demo_password):
    assert public_client.login(username="admin@platform.example", password=demo_password)
    return public_client


@pytest.fixture
def admin_user(db) -> User:
    return User.objects.get(email="admin@platform.example")


@pytest.fixture
def coach(db) -> User:
    return User.objects.get(email="coach@platform.example")


@pytest.fixture
def org(db) -> Organization:
    return organization_provision(
        name="H5 Admin GmbH", slug=SLUG, admin_email=f"boss@{SLUG}.example", timezone="UTC", language="en",
        actor=None, send_invitation=False,
    ).organization  # fmt: skip


def action(client, url, name, ids, follow=False, **extra):
    return client.post(
        url, {"action": name, "_selected_action": [str(i) for i in ids], **extra}, follow=follow
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def state(organization) -> tuple:
    organization.refresh_from_db()
    return (
        organization.status,
        schema_exists(organization.schema_name),
        OrganizationArchive.objects.filter(organization=organization).count(),
        PlatformEvent.objects.filter(organization=organization).count(),
    )


# --- export ----------------------------------------------------------------------------------------


def test_export_action_writes_an_archive_and_says_where(staff_client, org, archive_dir):
    response = action(staff_client, ORGS, "export_archive", [org.pk])

    archive = OrganizationArchive.objects.get(organization=org)
    path = Path(archive.path)
    assert response.status_code == 302
    assert path.parent == archive_dir
    assert hashlib.sha256(path.read_bytes()).hexdigest() == archive.sha256
    assert messages_of(response) == [f"H5 Admin GmbH: archive written to {path} ({_size(archive.size)})."]
    assert PlatformEvent.objects.filter(
        organization=org, action="exported", actor_email="admin@platform.example"
    )


def _size(size: int) -> str:
    from django.template.defaultfilters import filesizeformat

    return filesizeformat(size)


# --- offboard --------------------------------------------------------------------------------------


def test_offboard_action_asks_for_the_subdomain_first(staff_client, org):
    before = state(org)

    response = action(staff_client, ORGS, "offboard", [org.pk])

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="offboard-confirmation"' in body
    assert f'<label class="required" for="confirm-{org.pk}">H5 Admin GmbH: type h5-admin</label>' in body
    assert f'name="confirm-{org.pk}"' in body
    assert "until the archive file is deleted" in body
    assert state(org) == before


@pytest.mark.parametrize("typed", ["", "h5", "acme", "H5-ADMIN"])
def test_offboard_with_the_wrong_subdomain_changes_nothing(staff_client, org, archive_dir, typed):
    before = state(org)

    response = action(staff_client, ORGS, "offboard", [org.pk], post="yes", **{f"confirm-{org.pk}": typed})

    assert response.status_code == 200
    body = response.content.decode()
    assert "Nothing was offboarded: a subdomain was not typed exactly." in body
    assert "Type “h5-admin” exactly to offboard H5 Admin GmbH." in body
    assert 'aria-invalid="true"' in body
    assert state(org) == before
    assert before[:2] == ("active", True)
    assert not archive_dir.exists() or not list(archive_dir.iterdir())


def test_one_wrong_subdomain_offboards_none_of_the_selection(staff_client, org, globex):
    before = (state(org), state(globex))

    response = action(
        staff_client, ORGS, "offboard", [org.pk, globex.pk], post="yes",
        **{f"confirm-{org.pk}": SLUG, f"confirm-{globex.pk}": "globe"},
    )  # fmt: skip

    assert response.status_code == 200
    assert (state(org), state(globex)) == before


def test_offboard_with_the_subdomain_drops_the_schema_and_keeps_the_archive(staff_client, org):
    response = action(staff_client, ORGS, "offboard", [org.pk], post="yes", **{f"confirm-{org.pk}": SLUG})

    assert response.status_code == 302
    archive = OrganizationArchive.objects.get(organization=org)
    assert (archive.reason, Path(archive.path).is_file()) == ("offboard", True)
    assert state(org)[:2] == ("offboarded", False)
    assert messages_of(response) == [
        f"H5 Admin GmbH is offboarded: its schema is dropped and its archive is kept at {archive.path} "
        "(restore it from Organisation archives)."
    ]
    blocked = Client(HTTP_HOST=f"{SLUG}.localhost").get("/")
    assert blocked.status_code == 403
    assert 'data-testid="org-unavailable"' in blocked.content.decode()
    # The list still shows it; its status is no longer editable in the form.
    form = staff_client.get(f"{ORGS}{org.pk}/change/").context["adminform"].form
    assert "status" not in form.fields


def test_suspend_of_an_offboarded_organisation_is_refused(staff_client, org, admin_user):
    organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)
    before = state(org)

    response = action(staff_client, ORGS, "suspend", [org.pk])

    assert state(org) == before
    assert "cannot be moved to or from “offboarded”" in messages_of(response)[0]


# --- archives: restore, delete the file ------------------------------------------------------------


def test_restore_action_brings_the_organisation_back(staff_client, org, admin_user):
    archive = organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)

    response = action(staff_client, ARCHIVES, "restore", [archive.pk])

    assert state(org)[:2] == ("active", True)
    assert messages_of(response) == [f"H5 Admin GmbH is restored from {archive.path} and is active again."]
    with tenant_context(org):
        assert User.objects.filter(email=f"boss@{SLUG}.example").exists()
    connection.set_schema_to_public()
    assert Client(HTTP_HOST=f"{SLUG}.localhost").get("/login/").status_code == 200


def test_deleting_the_file_asks_first_then_restore_is_refused(staff_client, org, admin_user):
    archive = organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)

    confirm = action(staff_client, ARCHIVES, "delete_file", [archive.pk])
    assert confirm.status_code == 200
    assert 'data-testid="last-archive"' in confirm.content.decode()
    assert Path(archive.path).is_file()

    deleted = action(staff_client, ARCHIVES, "delete_file", [archive.pk], post="yes")
    archive.refresh_from_db()
    assert messages_of(deleted) == ["1 archive file deleted."]
    assert archive.deleted_at is not None
    assert not Path(archive.path).exists()

    refused = action(staff_client, ARCHIVES, "restore", [archive.pk])
    assert state(org)[:2] == ("offboarded", False)
    day = archive.deleted_at.date().isoformat()
    assert messages_of(refused)[-1:] == [
        f"{SLUG}: The archive file was deleted on {day}: {SLUG} can no longer be restored from it. "
        "Nothing was restored."
    ]


def test_archive_list_is_read_only(staff_client, org, admin_user):
    archive = organization_offboard(organization=org, confirmation=SLUG, actor=admin_user)

    listing = staff_client.get(ARCHIVES)
    detail = staff_client.get(f"{ARCHIVES}{archive.pk}/change/")

    assert listing.status_code == 200
    assert SLUG in listing.content.decode()
    assert "delete_selected" not in listing.content.decode()
    assert staff_client.get(f"{ARCHIVES}add/").status_code == 403
    assert staff_client.get(f"{ARCHIVES}{archive.pk}/delete/").status_code == 403
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()


# --- suspend / reactivate, consultants ---------------------------------------------------------------


def test_suspend_and_reactivate_record_events(staff_client, org):
    action(staff_client, ORGS, "suspend", [org.pk])
    action(staff_client, ORGS, "reactivate", [org.pk])

    changes = PlatformEvent.objects.filter(organization=org, action="status_changed").order_by("id")
    assert [(e.actor_email, e.detail) for e in changes] == [
        ("admin@platform.example", {"previous": "active", "status": "suspended"}),
        ("admin@platform.example", {"previous": "suspended", "status": "active"}),
    ]
    assert state(org)[0] == "active"


def test_consultants_are_assigned_and_removed_through_the_service(staff_client, org, coach):
    url = f"{ORGS}{org.pk}/change/"
    data = change_form_data(staff_client.get(url))
    data.update(
        {"consultant_assignments-TOTAL_FORMS": "1", "consultant_assignments-0-consultant": str(coach.pk)}
    )

    added = staff_client.post(url, data)

    assert added.status_code == 302
    assignment = ConsultantAssignment.objects.get(organization=org)
    assert (assignment.consultant, assignment.assigned_by) == (coach, "admin@platform.example")
    data = change_form_data(staff_client.get(url))
    assert data["consultant_assignments-0-id"] == str(assignment.pk)
    data["consultant_assignments-0-DELETE"] = "on"

    removed = staff_client.post(url, data)

    assert removed.status_code == 302
    assert not ConsultantAssignment.objects.filter(organization=org).exists()
    log = PlatformEvent.objects.filter(organization=org, action__in=PlatformEvent.ACCESS_ACTIONS).order_by(
        "id"
    )
    assert [(e.action, e.consultant, e.actor_email) for e in log] == [
        ("consultant_assigned", coach, "admin@platform.example"),
        ("consultant_unassigned", coach, "admin@platform.example"),
    ]


def test_only_active_consultants_can_be_assigned(staff_client, org, coach):
    member = User.objects.create_user("someone@platform.example", "x-Long-passphrase-1", role="member")
    url = f"{ORGS}{org.pk}/change/"
    data = change_form_data(staff_client.get(url))
    data.update(
        {"consultant_assignments-TOTAL_FORMS": "1", "consultant_assignments-0-consultant": str(member.pk)}
    )

    response = staff_client.post(url, data)

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ConsultantAssignment.objects.filter(organization=org).exists()


# --- event log, consultant accounts, the home page -----------------------------------------------------


def test_access_log_preset_shows_only_access_events(staff_client, org, coach, admin_user):
    ConsultantAssignment.objects.create(organization=org, consultant=coach)  # no event: made by hand
    PlatformEvent.objects.create(action="entered", organization=org, organization_slug=SLUG, consultant=coach)

    everything = staff_client.get(EVENTS, {"organization__id__exact": org.pk})
    access = staff_client.get(EVENTS, {"organization__id__exact": org.pk, "log": "access"})

    assert [e.action for e in everything.context["cl"].result_list] == ["entered", "provisioned"]
    assert [e.action for e in access.context["cl"].result_list] == ["entered"]
    assert staff_client.get(f"{EVENTS}add/").status_code == 403


def test_consultant_accounts_page_lists_consultants_and_their_clients(staff_client, org, coach):
    ConsultantAssignment.objects.create(organization=org, consultant=coach)

    response = staff_client.get(CONSULTANTS)

    assert response.status_code == 200
    rows = {row["user"].email: row for row in response.context["rows"]}
    assert "admin@platform.example" not in rows
    assert org in rows["coach@platform.example"]["active_clients"]
    assert "H5 Admin GmbH" in response.content.decode()


def test_admin_home_links_the_platform_pages(staff_client):
    body = staff_client.get("/admin/").content.decode()

    assert f'href="{CONSULTANTS}"' in body
    assert f'href="{EVENTS}?log=access"' in body
    assert "/admin/tenants/organizationarchive/" in body


# --- who may -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/", ORGS, ARCHIVES, EVENTS, CONSULTANTS])
@pytest.mark.parametrize("who", [None, "coach@platform.example", "member@platform.example"])
def test_non_staff_cannot_reach_the_admin(public_client, demo_password, path, who):
    if who == "member@platform.example":
        User.objects.create_user(who, demo_password, role="member")
    if who:
        assert public_client.login(username=who, password=demo_password)

    response = public_client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_the_change_permission_cannot_offboard(public_client, org):
    viewer = User.objects.create_user("viewer@platform.example", "x-Long-passphrase-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_organization"))
    public_client.force_login(viewer)
    before = state(org)

    listing = public_client.get(ORGS)
    refused = action(public_client, ORGS, "offboard", [org.pk], post="yes", **{f"confirm-{org.pk}": SLUG})

    assert listing.status_code == 200
    assert 'value="offboard"' not in listing.content.decode()
    assert 'value="export_archive"' not in listing.content.decode()
    assert state(org) == before
    assert refused.status_code == 200  # no action is offered to this user at all
    assert 'name="action"' not in refused.content.decode()


def test_consultant_accounts_page_queries_do_not_grow_with_consultants(staff_client, acme, globex):
    def add_consultants(start, count):
        for n in range(start, start + count):
            consultant = User.objects.create_user(
                f"c{n}@platform.example", "x-Long-passphrase-1", role="consultant"
            )
            ConsultantAssignment.objects.create(organization=acme, consultant=consultant)
            ConsultantAssignment.objects.create(
                organization=globex, consultant=consultant, revoked_at=timezone.now()
            )

    staff_client.get(CONSULTANTS)
    add_consultants(0, 1)
    with CaptureQueriesContext(connection) as few:
        staff_client.get(CONSULTANTS)
    add_consultants(1, 10)

    with CaptureQueriesContext(connection) as many:
        response = staff_client.get(CONSULTANTS)

    assert len(many.captured_queries) == len(few.captured_queries)
    row = next(r for r in response.context["rows"] if r["user"].email == "c5@platform.example")
    assert (row["active_clients"], row["revoked_clients"]) == ([acme], [globex])


def test_snapshot_and_event_pages_are_read_only(staff_client, acme):
    snapshot = HealthSnapshot.objects.filter(organization=acme).first()
    event = PlatformEvent.objects.create(
        action="exported", organization=acme, organization_slug="acme", detail={"a": 1}
    )

    snapshots = staff_client.get("/admin/tenants/healthsnapshot/")
    snapshot_page = staff_client.get(f"/admin/tenants/healthsnapshot/{snapshot.pk}/change/")
    event_page = staff_client.get(f"{EVENTS}{event.pk}/change/")

    assert (snapshots.status_code, snapshot_page.status_code, event_page.status_code) == (200, 200, 200)
    assert 'name="_save"' not in snapshot_page.content.decode() + event_page.content.decode()
    assert staff_client.post(f"{EVENTS}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PlatformEvent.objects.filter(pk=event.pk).exists()
