"""Person-level permission decisions that every app builds on."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.models import User


def require(allowed: bool, message: str | None = None) -> None:
    """Refuse (403) unless ``allowed``: services check their decision with it, and API
    views call it before reading the input, so a refused request is refused whatever it sent."""
    if not allowed:
        raise PermissionDenied(message or _("You are not allowed to do this."))


def can_write(user: User) -> bool:
    """Deactivated people and viewers change nothing, anywhere."""
    return user.is_active and user.role != User.Role.VIEWER


def can_manage_organization_settings(user: User) -> bool:
    """The organisation's settings pages and every change made there (OKR, notification
    and review settings, cycles): active org admins only."""
    return user.is_active and user.role == User.Role.ORG_ADMIN


def can_manage_people(user: User) -> bool:
    """Invite, edit, deactivate and reactivate people."""
    return can_manage_organization_settings(user)


def can_manage_teams(user: User) -> bool:
    """Create, rename and move teams."""
    return can_manage_organization_settings(user)


def can_create_api_token(user: User) -> bool:
    """Any active person; the token acts as them (viewers get read-only tokens)."""
    return user.is_active


def can_revoke_api_token(user: User, token) -> bool:
    """Your own tokens; org admins can revoke anyone's (e.g. when someone leaves)."""
    return user.is_active and (token.user_id == user.pk or user.role == User.Role.ORG_ADMIN)


def can_list_all_api_tokens(user: User) -> bool:
    return can_manage_organization_settings(user)


def can_manage_webhooks(user: User) -> bool:
    """Register, change, test and delete webhook endpoints, and read their deliveries."""
    return can_manage_organization_settings(user)
