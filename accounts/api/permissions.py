"""Request-level API permissions. Object and business rules stay in the apps' permission
functions and services (which check again); these decide who may call the API at all."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import ApiToken
from accounts.permissions import can_write


class IsActiveAndTokenScopeAllows(BasePermission):
    """Signed in (session or token) and active. Writes need a read_write token (when a token
    is used) and a person who may change things: viewers change nothing, except their own
    things on views that say so (``allow_viewer_writes``: their API tokens, their inbox)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method in SAFE_METHODS:
            return True
        token = request.auth
        if isinstance(token, ApiToken) and token.scope != ApiToken.Scope.READ_WRITE:
            self.message = _(
                "This token is read-only; create a token with the read_write scope to make changes."
            )
            return False
        if not can_write(user) and not getattr(view, "allow_viewer_writes", False):
            self.message = _("Viewers can look at everything they may see but change nothing.")
            return False
        return True
