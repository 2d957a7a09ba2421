"""Entering a client's workspace (tenants.access): single-use signed tokens valid 60 s,
replay and cross-organisation use refused, revoked or removed access refused, the tenant
account created or reactivated, every entry and refusal in the access log."""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from accounts.models import User
from tenants.access import ENTRY_SALT, EntryRefused, entries_purge, entry_issue, entry_redeem
from tenants.assignments import (
    consultant_access_restore,
    consultant_access_revoke,
    consultant_assign,
    consultant_unassign,
)
from tenants.models import ConsultantEntry, Organization, PlatformEvent
from tenants.services import organization_set_status

pytestmark = pytest.mark.django_db

IP = "203.0.113.9"


def public_consultant(email: str = "h1.coach@platform.example", name: str = "Hana Coach") -> User:
    with schema_context("public"):
        user = User(email=email, full_name=name, role=User.Role.CONSULTANT)
        user.set_unusable_password()
        user.save()
        return user


@pytest.fixture
def consultant(db) -> User:
    return public_consultant()


@pytest.fixture
def assigned(acme, consultant) -> User:
    """The consultant serves acme (and not globex)."""
    consultant_assign(organization=acme, consultant=consultant, actor=None)
    return consultant


def redeem(token: str, organization: Organization, ip: str | None = IP) -> User:
    with tenant_context(organization):
        return entry_redeem(token=token, organization=organization, ip=ip)


def refused(token: str, organization: Organization) -> EntryRefused:
    with pytest.raises(EntryRefused) as caught:
        redeem(token, organization)
    connection.set_schema_to_public()
    return caught.value


def tenant_accounts(organization: Organization, public_id: int) -> list[tuple]:
    with tenant_context(organization):
        rows = list(
            User.objects.filter(public_user_id=public_id).values_list(
                "email", "role", "is_active", "full_name"
            )
        )
    connection.set_schema_to_public()
    return rows


def events(organization: Organization, action: str) -> list[PlatformEvent]:
    return list(PlatformEvent.objects.filter(organization=organization, action=action).order_by("id"))


# --- issue ------------------------------------------------------------------------------------------


def test_issue_creates_an_entry_and_signs_its_id_the_organisation_and_the_consultant(acme, assigned):
    token = entry_issue(consultant=assigned, organization=acme, ip=IP)

    entry = ConsultantEntry.objects.get()
    assert signing.loads(token, salt=ENTRY_SALT) == {"j": entry.jti.hex, "o": acme.pk, "c": assigned.pk}
    assert (entry.organization_id, entry.consultant_id, entry.used_at) == (acme.pk, assigned.pk, None)


def test_issue_is_refused_for_an_unassigned_client_and_creates_nothing(globex, assigned):
    with pytest.raises(PermissionDenied, match="You cannot enter Globex"):
        entry_issue(consultant=assigned, organization=globex)

    assert not ConsultantEntry.objects.exists()


def test_issue_is_refused_after_revocation_and_for_a_suspended_client(acme, assigned):
    organization_set_status(organization=acme, status=Organization.Status.SUSPENDED, actor=None)
    with pytest.raises(PermissionDenied):
        entry_issue(consultant=assigned, organization=acme)
    organization_set_status(organization=acme, status=Organization.Status.ACTIVE, actor=None)
    consultant_access_revoke(organization=acme, consultant_id=assigned.pk, actor="ceo@acme.example")
    with pytest.raises(PermissionDenied):
        entry_issue(consultant=assigned, organization=acme)

    assert not ConsultantEntry.objects.exists()


# --- redeem -----------------------------------------------------------------------------------------


def test_redeem_creates_the_consultants_tenant_account_and_logs_the_entry(acme, assigned):
    token = entry_issue(consultant=assigned, organization=acme)

    account = redeem(token, acme)

    connection.set_schema_to_public()
    assert account.public_user_id == assigned.pk
    assert tenant_accounts(acme, assigned.pk) == [
        ("h1.coach@platform.example", "consultant", True, "Hana Coach")
    ]
    with tenant_context(acme):
        assert not User.objects.get(public_user_id=assigned.pk).has_usable_password()
    assert ConsultantEntry.objects.get().used_at is not None
    [entered] = events(acme, PlatformEvent.Action.ENTERED)
    assert (entered.consultant_id, entered.actor_email, entered.ip, entered.organization_slug) == (
        assigned.pk,
        "h1.coach@platform.example",
        IP,
        "acme",
    )


def test_a_token_works_once(acme, assigned):
    token = entry_issue(consultant=assigned, organization=acme)
    first = redeem(token, acme)

    refusal = refused(token, acme)

    assert refusal.reason == "already_used"
    assert str(refusal) == "This entry link was already used. Each link opens the workspace once."
    assert tenant_accounts(acme, assigned.pk) == [
        ("h1.coach@platform.example", "consultant", True, "Hana Coach")
    ]
    assert len(events(acme, PlatformEvent.Action.ENTERED)) == 1
    [refusal_event] = events(acme, PlatformEvent.Action.ENTRY_REFUSED)
    assert (refusal_event.detail, refusal_event.consultant_id, refusal_event.ip) == (
        {"reason": "already_used"},
        assigned.pk,
        IP,
    )
    assert first.public_user_id == assigned.pk


def test_a_token_is_valid_for_60_seconds(acme, assigned, settings):
    assert settings.CONSULTANT_ENTRY_MAX_AGE == 60
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 61):
        old = entry_issue(consultant=assigned, organization=acme)
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 55):
        recent = entry_issue(consultant=assigned, organization=acme)

    refusal = refused(old, acme)
    account = redeem(recent, acme)

    assert (refusal.reason, refusal.bad_request) == ("expired", True)
    assert str(refusal) == "This entry link has expired (it is valid for 60 seconds)."
    assert account.public_user_id == assigned.pk
    [refusal_event] = events(acme, PlatformEvent.Action.ENTRY_REFUSED)
    assert (refusal_event.detail, refusal_event.consultant_id) == ({"reason": "expired"}, assigned.pk)


def test_an_entry_issued_over_a_minute_ago_is_refused_even_with_a_fresh_signature(acme, assigned):
    token = entry_issue(consultant=assigned, organization=acme)
    ConsultantEntry.objects.update(issued_at=timezone.now() - timedelta(seconds=61))

    refusal = refused(token, acme)

    assert refusal.reason == "expired"
    assert ConsultantEntry.objects.get().used_at is None
    assert tenant_accounts(acme, assigned.pk) == []


@pytest.mark.parametrize(
    "make_token",
    [
        lambda: "nonsense",
        lambda: "",
        lambda: signing.dumps({"j": "0" * 32, "o": 1, "c": 1}, salt="another.salt"),
        lambda: signing.dumps(["a", "list"], salt=ENTRY_SALT),
        lambda: signing.dumps({"j": "not-a-uuid", "o": 1, "c": 1}, salt=ENTRY_SALT),
    ],
    ids=["nonsense", "empty", "other-salt", "a-list", "not-a-uuid"],
)
def test_a_bad_token_is_refused_and_logged(acme, make_token):
    # Signed when the test runs, not when it is collected: a minute later it would be expired.
    refusal = refused(make_token(), acme)

    assert (refusal.reason, refusal.bad_request) == ("bad_signature", True)
    assert str(refusal) == "This entry link is not valid."
    [event] = events(acme, PlatformEvent.Action.ENTRY_REFUSED)
    assert (event.detail, event.consultant_id, event.actor_email) == (
        {"reason": "bad_signature"},
        None,
        "unknown",
    )
    assert not PlatformEvent.objects.filter(action=PlatformEvent.Action.ENTERED).exists()


def test_a_token_for_acme_is_refused_on_globex(acme, globex, assigned):
    consultant_assign(organization=globex, consultant=assigned, actor=None)  # even when assigned there too
    token = entry_issue(consultant=assigned, organization=acme)

    refusal = refused(token, globex)

    assert (refusal.reason, refusal.bad_request) == ("other_organisation", False)
    assert str(refusal) == "This entry link was made for another organisation."
    assert tenant_accounts(globex, assigned.pk) == []
    assert ConsultantEntry.objects.get().used_at is None
    [event] = events(globex, PlatformEvent.Action.ENTRY_REFUSED)
    assert event.detail == {"reason": "other_organisation"}
    assert events(acme, PlatformEvent.Action.ENTRY_REFUSED) == []


def test_revoked_access_is_refused_and_a_restored_one_enters_again(acme, assigned):
    token = entry_issue(consultant=assigned, organization=acme)
    consultant_access_revoke(organization=acme, consultant_id=assigned.pk, actor="ceo@acme.example")

    refusal = refused(token, acme)

    assert refusal.reason == "not_assigned"
    assert str(refusal) == (
        "You no longer have access to Acme Corp: you are not assigned to it, "
        "or its admins revoked your access."
    )
    assert ConsultantEntry.objects.get().used_at is None
    assert tenant_accounts(acme, assigned.pk) == []

    consultant_access_restore(organization=acme, consultant_id=assigned.pk, actor="ceo@acme.example")
    account = redeem(entry_issue(consultant=assigned, organization=acme), acme)
    assert account.is_active


def test_a_removed_assignment_is_refused(acme, assigned):
    token = entry_issue(consultant=assigned, organization=acme)
    consultant_unassign(organization=acme, consultant=assigned, actor=None)

    assert refused(token, acme).reason == "not_assigned"


def test_an_inactive_public_consultant_is_refused(acme, assigned):
    token = entry_issue(consultant=assigned, organization=acme)
    User.objects.filter(pk=assigned.pk).update(is_active=False)

    assert refused(token, acme).reason == "not_consultant"
    assert tenant_accounts(acme, assigned.pk) == []


def test_a_suspended_organisation_is_refused(acme, assigned):
    token = entry_issue(consultant=assigned, organization=acme)
    organization_set_status(organization=acme, status=Organization.Status.SUSPENDED, actor=None)
    acme.refresh_from_db()

    refusal = refused(token, acme)

    assert refusal.reason == "not_serving"
    assert str(refusal) == "Acme Corp is not available right now."


def test_entering_reactivates_a_switched_off_account_and_refreshes_its_details(acme, assigned):
    redeem(entry_issue(consultant=assigned, organization=acme), acme)
    consultant_access_revoke(organization=acme, consultant_id=assigned.pk, actor="ceo@acme.example")
    assert tenant_accounts(acme, assigned.pk) == [
        ("h1.coach@platform.example", "consultant", False, "Hana Coach")
    ]
    consultant_access_restore(organization=acme, consultant_id=assigned.pk, actor="ceo@acme.example")
    User.objects.filter(pk=assigned.pk).update(full_name="Hana Coach-Ito")

    redeem(entry_issue(consultant=assigned, organization=acme), acme)

    assert tenant_accounts(acme, assigned.pk) == [
        ("h1.coach@platform.example", "consultant", True, "Hana Coach-Ito")
    ]


def test_an_employee_already_using_the_email_blocks_the_entry(acme):
    consultant = public_consultant(email="analyst@acme.example", name="Not Kenji")
    consultant_assign(organization=acme, consultant=consultant, actor=None)
    token = entry_issue(consultant=consultant, organization=acme)

    refusal = refused(token, acme)

    assert refusal.reason == "email_in_use"
    assert "already uses the e-mail address analyst@acme.example" in str(refusal)
    with tenant_context(acme):
        kenji = User.objects.get(email="analyst@acme.example")
        assert (kenji.public_user_id, kenji.role, kenji.full_name) == (None, "member", "Kenji Sato")
    connection.set_schema_to_public()
    assert ConsultantEntry.objects.get().used_at is None


def test_the_claim_is_a_conditional_update(acme, assigned):
    """Of two redemptions racing, the loser's UPDATE ... WHERE used_at IS NULL touches no
    row (PostgreSQL re-checks the condition after the winner commits)."""
    token = entry_issue(consultant=assigned, organization=acme)
    # The winner claimed between the loser's signature check and its UPDATE.
    ConsultantEntry.objects.update(used_at=timezone.now())

    assert refused(token, acme).reason == "already_used"
    assert tenant_accounts(acme, assigned.pk) == []


# --- housekeeping -------------------------------------------------------------------------------------


def test_purge_deletes_entries_older_than_a_day(acme, assigned):
    entry_issue(consultant=assigned, organization=acme)
    entry_issue(consultant=assigned, organization=acme)
    old, recent = ConsultantEntry.objects.order_by("id")
    ConsultantEntry.objects.filter(pk=old.pk).update(issued_at=timezone.now() - timedelta(days=1, seconds=1))

    assert entries_purge() == 1
    assert list(ConsultantEntry.objects.values_list("pk", flat=True)) == [recent.pk]


def test_purge_task_runs_daily_in_public(acme, assigned):
    from config.celery import app as celery_app
    from tenants.tasks import purge_consultant_entries

    entry_issue(consultant=assigned, organization=acme)
    ConsultantEntry.objects.update(issued_at=timezone.now() - timedelta(days=2))

    assert purge_consultant_entries.apply().get() == 1
    assert not ConsultantEntry.objects.exists()
    entry = celery_app.conf.beat_schedule["purge-consultant-entries"]
    assert entry["task"] == "tenants.tasks.purge_consultant_entries"
