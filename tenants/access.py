"""Entering a client's workspace from the portal (public host → client's host).

The portal issues a single-use signed token (``entry_issue``) and redirects to the
client's host, where ``entry_redeem`` checks it, claims it and signs the consultant in as
their own account in that organisation. Every entry and every refusal is a
``PlatformEvent`` the client's org admins read on their Settings → Consultants page."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.models import User
from tenants.events import event_record
from tenants.models import ConsultantAssignment, ConsultantEntry, Organization, PlatformEvent
from tenants.permissions import can_enter_client

ENTRY_SALT = "tenants.access.entry"
# Entry rows are kept a day for the record (the events stay for good), then purged.
ENTRY_RETENTION = timedelta(days=1)


def entry_max_age() -> int:
    """Seconds a token stays valid (``CONSULTANT_ENTRY_MAX_AGE``, default 60)."""
    return int(getattr(settings, "CONSULTANT_ENTRY_MAX_AGE", 60))


class EntryRefused(PermissionDenied):
    """An entry token that does not open the workspace. ``reason`` is a short code kept
    in the event's detail; ``bad_request`` marks a token that is malformed or too old
    (answered 400) rather than one that is refused for who or where it is (403)."""

    def __init__(self, reason: str, message: str, *, consultant_id: int | None = None, bad_request=False):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.consultant_id = consultant_id
        self.bad_request = bad_request


def _public_user(pk: int) -> User | None:
    """The consultant's public account, whichever schema the connection is in (a tenant
    schema has its own ``accounts_user`` table that would shadow the public one)."""
    with schema_context(get_public_schema_name()):
        return User.objects.filter(pk=pk).first()


# --- Issue (public host) -------------------------------------------------------------------


@transaction.atomic
def entry_issue(*, consultant: User, organization: Organization, ip: str | None = None) -> str:
    """A token that lets ``consultant`` enter ``organization``'s workspace once, within
    ``entry_max_age()`` seconds."""
    if not can_enter_client(consultant, organization):
        raise PermissionDenied(
            _("You cannot enter %(name)s: you are not assigned to it, its admins revoked your access, "
              "or it is not serving right now.") % {"name": organization.name}
        )  # fmt: skip
    entry = ConsultantEntry.objects.create(organization=organization, consultant=consultant)
    return signing.dumps({"j": entry.jti.hex, "o": organization.pk, "c": consultant.pk}, salt=ENTRY_SALT)


# --- Redeem (client's host) ------------------------------------------------------------------


def _expired(consultant_id: int | None) -> EntryRefused:
    return EntryRefused(
        "expired",
        _("This entry link has expired (it is valid for %(seconds)s seconds).")
        % {"seconds": entry_max_age()},
        consultant_id=consultant_id,
        bad_request=True,
    )


def _payload(token: str) -> dict:
    """The token's content, checked for signature, age and shape."""
    try:
        payload = signing.loads(token, salt=ENTRY_SALT, max_age=entry_max_age())
    except signing.SignatureExpired:
        try:
            consultant_id = signing.loads(token, salt=ENTRY_SALT).get("c")
        except (signing.BadSignature, AttributeError):
            consultant_id = None
        raise _expired(consultant_id if isinstance(consultant_id, int) else None) from None
    except (signing.BadSignature, ValueError):
        raise EntryRefused("bad_signature", _("This entry link is not valid."), bad_request=True) from None
    if not (
        isinstance(payload, dict)
        and isinstance(payload.get("j"), str)
        and isinstance(payload.get("o"), int)
        and isinstance(payload.get("c"), int)
    ):
        raise EntryRefused("bad_signature", _("This entry link is not valid."), bad_request=True)
    try:
        payload["j"] = uuid.UUID(hex=payload["j"])
    except ValueError:
        raise EntryRefused("bad_signature", _("This entry link is not valid."), bad_request=True) from None
    return payload


def _claim(payload: dict, organization: Organization, now) -> None:
    """Mark the entry used. One conditional UPDATE: of two concurrent redemptions, the
    second waits for the first's row lock and then finds ``used_at`` set."""
    claimed = ConsultantEntry.objects.filter(
        jti=payload["j"],
        organization_id=organization.pk,
        consultant_id=payload["c"],
        used_at__isnull=True,
        issued_at__gt=now - timedelta(seconds=entry_max_age()),
    ).update(used_at=now)
    if claimed:
        return
    entry = ConsultantEntry.objects.filter(jti=payload["j"]).only("used_at").first()
    if entry is None or entry.used_at is None:
        # Purged, or issued longer ago than the signature's age says (clock skew): too old.
        raise _expired(payload["c"])
    raise EntryRefused(
        "already_used",
        _("This entry link was already used. Each link opens the workspace once."),
        consultant_id=payload["c"],
    )


def _tenant_account(consultant: User) -> User:
    """The consultant's own account in the current (tenant) schema: found by their public
    id, else created; switched on, with the consultant role and their current details."""
    account = User.objects.filter(public_user_id=consultant.pk).first()
    email_taken = User.objects.filter(email__iexact=consultant.email)
    if account is not None:
        email_taken = email_taken.exclude(pk=account.pk)
    if email_taken.exists():
        raise EntryRefused(
            "email_in_use",
            _("Someone in this organisation already uses the e-mail address %(email)s, so your consultant "
              "account cannot be opened here. Ask the organisation's admin to change that person's address.")
            % {"email": consultant.email},
            consultant_id=consultant.pk,
        )  # fmt: skip
    if account is None:
        account = User(public_user_id=consultant.pk)
        account.set_unusable_password()
    account.email, account.full_name = consultant.email, consultant.full_name
    account.role, account.is_active, account.is_staff, account.is_superuser = (
        User.Role.CONSULTANT,
        True,
        False,
        False,
    )
    try:
        account.full_clean(exclude=["password"])
    except ValidationError as error:
        raise EntryRefused(
            "account_invalid",
            _("Your consultant account cannot be opened here: %(problem)s")
            % {"problem": " ".join(error.messages)},
            consultant_id=consultant.pk,
        ) from None
    account.save()
    return account


def _redeem(token: str, organization: Organization, ip: str | None) -> User:
    now = timezone.now()
    payload = _payload(token)
    consultant_id = payload["c"]
    if payload["o"] != organization.pk:
        raise EntryRefused(
            "other_organisation",
            _("This entry link was made for another organisation."),
            consultant_id=consultant_id,
        )
    if not organization.is_serving or organization.is_template:
        raise EntryRefused(
            "not_serving", _("%(name)s is not available right now.") % {"name": organization.name},
            consultant_id=consultant_id,
        )  # fmt: skip
    _claim(payload, organization, now)
    consultant = _public_user(consultant_id)
    if consultant is None or not consultant.is_active or consultant.role != User.Role.CONSULTANT:
        raise EntryRefused(
            "not_consultant", _("Your consultant account is not active."),
            consultant_id=consultant_id if consultant is not None else None,
        )  # fmt: skip
    if not ConsultantAssignment.objects.filter(
        organization_id=organization.pk, consultant_id=consultant_id, revoked_at__isnull=True
    ).exists():
        raise EntryRefused(
            "not_assigned",
            _("You no longer have access to %(name)s: you are not assigned to it, or its admins revoked "
              "your access.") % {"name": organization.name},
            consultant_id=consultant_id,
        )  # fmt: skip
    account = _tenant_account(consultant)
    event_record(
        PlatformEvent.Action.ENTERED,
        organization=organization,
        actor=consultant,
        consultant=consultant,
        ip=ip,
    )
    return account


def entry_redeem(*, token: str, organization: Organization, ip: str | None = None) -> User:
    """On the client's host (connection in its schema): check and claim the token, then
    return the consultant's account in this organisation. Refusals raise ``EntryRefused``
    (a ``PermissionDenied``) after recording an ENTRY_REFUSED event with the reason; an
    accepted entry is claimed, its account written and the ENTERED event recorded in one
    transaction."""
    try:
        with transaction.atomic():
            return _redeem(token, organization, ip)
    except EntryRefused as refusal:
        # Recorded after the rollback of the attempt, so the refusal itself is kept.
        with transaction.atomic():
            consultant = _public_user(refusal.consultant_id) if refusal.consultant_id else None
            event_record(
                PlatformEvent.Action.ENTRY_REFUSED,
                organization=organization,
                actor=consultant or "unknown",
                consultant=consultant,
                ip=ip,
                reason=refusal.reason,
            )
        raise


# --- Housekeeping ---------------------------------------------------------------------------


def entries_purge(*, now=None) -> int:
    """Delete entry rows issued more than a day ago (long unusable; the access log keeps
    the events). Returns how many were deleted."""
    cutoff = (now or timezone.now()) - ENTRY_RETENTION
    with schema_context(get_public_schema_name()):
        deleted, _rows = ConsultantEntry.objects.filter(issued_at__lt=cutoff).delete()
    return deleted
