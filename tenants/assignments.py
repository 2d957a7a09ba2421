"""Which consultants serve which client (public schema), and the client's say over it:
a client's org admin revokes or restores a consultant's access on their own host; a
platform admin (or the onboarding consultant) assigns and removes. Every change is a
``PlatformEvent`` (the access log)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.models import User
from tenants.events import event_record
from tenants.models import ConsultantAssignment, Organization, PlatformEvent


def _check_consultant(consultant: User) -> None:
    if consultant.role != User.Role.CONSULTANT or not consultant.is_active:
        raise ValidationError(
            {"consultant": _("%(email)s is not an active consultant account.") % {"email": consultant.email}}
        )


def _has_schema(organization: Organization) -> bool:
    return organization.status != Organization.Status.OFFBOARDED and not organization.is_template


def tenant_account_deactivate(organization: Organization, consultant_id: int) -> int:
    """Switch off the consultant's account inside the client's schema: their sessions
    there stop working at the next request (Django refuses inactive users). Returns
    how many accounts changed (0 when they never entered)."""
    if not _has_schema(organization):
        return 0
    with schema_context(organization.schema_name):
        return User.objects.filter(public_user_id=consultant_id, is_active=True).update(is_active=False)


@transaction.atomic
def consultant_assign(*, organization: Organization, consultant: User, actor) -> ConsultantAssignment:
    """Assign (or re-assign after a removal); restoring a revoked access is the client's
    decision (``consultant_access_restore``), so a revoked assignment stays revoked."""
    _check_consultant(consultant)
    if organization.is_template or organization.schema_name == "public":
        raise ValidationError(_("Consultants are assigned to client organisations only."))
    assignment, created = ConsultantAssignment.objects.get_or_create(
        organization=organization,
        consultant=consultant,
        defaults={"assigned_by": getattr(actor, "email", "") or ""},
    )
    if created:
        event_record(
            PlatformEvent.Action.CONSULTANT_ASSIGNED,
            organization=organization,
            actor=actor,
            consultant=consultant,
        )
    return assignment


@transaction.atomic
def consultant_unassign(*, organization: Organization, consultant: User, actor) -> bool:
    """Remove the assignment (platform admin): the consultant loses the client at once."""
    deleted, _rows = ConsultantAssignment.objects.filter(
        organization=organization, consultant=consultant
    ).delete()
    if not deleted:
        return False
    tenant_account_deactivate(organization, consultant.pk)
    event_record(
        PlatformEvent.Action.CONSULTANT_UNASSIGNED,
        organization=organization,
        actor=actor,
        consultant=consultant,
    )
    return True


def _locked_assignment(organization: Organization, consultant_id: int) -> ConsultantAssignment:
    # Read in public: on the client's host (search path "<tenant>, public") the join to
    # the consultant would find the tenant's own accounts_user table first.
    with schema_context(get_public_schema_name()):
        assignment = (
            ConsultantAssignment.objects.select_for_update(of=("self",))
            .select_related("consultant")
            .filter(organization=organization, consultant_id=consultant_id)
            .first()
        )
    if assignment is None:
        raise ValidationError(_("This consultant is not assigned to your organisation."))
    return assignment


@transaction.atomic
def consultant_access_revoke(
    *, organization: Organization, consultant_id: int, actor, ip: str | None = None
) -> ConsultantAssignment:
    """The client's org admin withdraws a consultant's access: effective immediately
    (portal, entry and existing sessions in the client's workspace)."""
    assignment = _locked_assignment(organization, consultant_id)
    if assignment.revoked_at is None:
        assignment.revoked_at = timezone.now()
        assignment.revoked_by = getattr(actor, "email", "") or ""
        assignment.save(update_fields=["revoked_at", "revoked_by"])
        event_record(
            PlatformEvent.Action.ACCESS_REVOKED, organization=organization, actor=actor,
            consultant=assignment.consultant, ip=ip,
        )  # fmt: skip
    tenant_account_deactivate(organization, consultant_id)
    return assignment


@transaction.atomic
def consultant_access_restore(
    *, organization: Organization, consultant_id: int, actor, ip: str | None = None
) -> ConsultantAssignment:
    """The client's org admin gives a revoked consultant their access back. Their account
    in the workspace is switched on again the next time they enter from the portal."""
    assignment = _locked_assignment(organization, consultant_id)
    if assignment.revoked_at is not None:
        assignment.revoked_at, assignment.revoked_by = None, ""
        assignment.save(update_fields=["revoked_at", "revoked_by"])
        event_record(
            PlatformEvent.Action.ACCESS_RESTORED, organization=organization, actor=actor,
            consultant=assignment.consultant, ip=ip,
        )  # fmt: skip
    return assignment
