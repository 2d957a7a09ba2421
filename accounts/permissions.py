"""Person-level permission decisions that every app builds on."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from accounts.models import User


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


def require_permission(decision: Callable[[User], bool]):
    """View decorator for pages only some people may use (the settings pages): signed-out
    visitors go to sign-in, and anyone ``decision`` refuses gets the friendly 403. The
    services called behind the page check the same decision again."""

    def decorator(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if not decision(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(checked)

    return decorator
