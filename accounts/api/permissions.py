"""Request-level API permissions. Object and business rules stay in the apps' permission
functions and services; these only say who may call the API at all."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import ApiToken


class IsActiveAndTokenScopeAllows(BasePermission):
    """Signed in (session or token) and active; a read-only token cannot write."""

    message = _("This token is read-only; create a token with the read_write scope to make changes.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        token = request.auth
        if isinstance(token, ApiToken) and request.method not in SAFE_METHODS:
            return token.scope == ApiToken.Scope.READ_WRITE
        return True
