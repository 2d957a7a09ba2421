"""Plumbing shared by the portal's views: who may use it at all."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from tenants.permissions import is_consultant


def consultant_required(view):
    """Signed-in consultants only: others are sent to sign in, or refused (403)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_consultant(request.user):
            raise PermissionDenied(_("The portal is for consultants."))
        return view(request, *args, **kwargs)

    return wrapper
