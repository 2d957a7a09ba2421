"""One function per permission decision on the public host (consultant portal) and on
consultant access, shared by the portal, the admin, the client's settings and commands."""

from __future__ import annotations

from accounts.models import User
from tenants.models import ConsultantAssignment, MethodPack, Organization


def is_consultant(user) -> bool:
    """A public-schema consultant account (only these use the portal)."""
    return bool(user and user.is_authenticated and user.is_active and user.role == User.Role.CONSULTANT)


def is_platform_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def is_assigned(user, organization: Organization) -> bool:
    """Assigned to this client, and the client has not revoked the access."""
    return (
        is_consultant(user)
        and ConsultantAssignment.objects.filter(
            organization=organization, consultant=user, revoked_at__isnull=True
        ).exists()
    )


def can_view_client(user, organization: Organization) -> bool:
    """See a client in the portfolio, its snapshots, calendar, benchmarks and coach notes."""
    return not organization.is_template and is_assigned(user, organization)


def can_enter_client(user, organization: Organization) -> bool:
    """Open the client's workspace: assigned, access not revoked, and the host serving."""
    return organization.is_serving and can_view_client(user, organization)


def can_write_coach_note(user, organization: Organization) -> bool:
    return can_view_client(user, organization)


def can_edit_coach_note(user, note) -> bool:
    """Only the author edits or deletes a note, while still assigned to the client."""
    return note.author_id == getattr(user, "pk", None) and can_view_client(user, note.organization)


def can_onboard_client(user) -> bool:
    return is_consultant(user) or is_platform_admin(user)


def can_create_method_pack(user) -> bool:
    return is_consultant(user) or is_platform_admin(user)


def can_maintain_method_pack(user, pack: MethodPack) -> bool:
    """Publish a new version: the consultant who maintains the pack, or a platform admin."""
    return is_platform_admin(user) or (is_consultant(user) and pack.owner_id == user.pk)


def can_apply_method_pack(user, organization: Organization) -> bool:
    return organization.is_serving and (is_platform_admin(user) or can_view_client(user, organization))


def can_manage_consultant_access(tenant_user) -> bool:
    """On the client's host: the client's org admins see the access log and revoke or
    restore a consultant's access."""
    return bool(tenant_user.is_authenticated and tenant_user.is_active and tenant_user.is_org_admin)


def can_manage_organization_data(user) -> bool:
    """Export, offboard and restore organisations and delete their archives (archives hold
    every row, password hashes included): a platform admin allowed to change organisations."""
    return is_platform_admin(user) and user.has_perm("tenants.change_organization")
