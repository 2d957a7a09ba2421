from django.db import connection
from django_tenants.utils import get_public_schema_name

from accounts.logos import header_state, logo_url
from accounts.permissions import can_manage_organization_settings


def signed_in_on_tenant(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and connection.schema_name != get_public_schema_name())


def request_header_state(request) -> tuple[int, str | None, str | None]:
    """``header_state`` of the signed-in person, read once per request (the page cache keys
    whole pages by it, then the navigation shows it)."""
    state = getattr(request, "_header_state", None)
    if state is None:
        state = request._header_state = header_state(request.user.pk)
    return state


def navigation(request):
    """What the navigation shows on an organisation's host: the unread inbox badge and the
    organisation's logo (one query for both) and whether the Settings link applies (the same
    rule as the pages behind it)."""
    if not signed_in_on_tenant(request):
        return {}
    user = request.user
    unread, logo_sha256, logo_content_type = request_header_state(request)
    return {
        "inbox_unread": unread,
        "nav_settings": can_manage_organization_settings(user),
        "organization_logo_url": logo_url(logo_sha256, logo_content_type),
    }
