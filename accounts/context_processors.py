from django.db import connection
from django_tenants.utils import get_public_schema_name

from accounts.logos import header_state, logo_url
from accounts.permissions import can_manage_organization_settings


def signed_in_on_tenant(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and connection.schema_name != get_public_schema_name())


def navigation(request):
    """What the navigation shows on an organisation's host: the unread inbox badge and the
    organisation's logo (one query for both) and whether the Settings link applies (the same
    rule as the pages behind it)."""
    if not signed_in_on_tenant(request):
        return {}
    user = request.user
    unread, logo_sha256, logo_content_type = header_state(user.pk)
    return {
        "inbox_unread": unread,
        "nav_settings": can_manage_organization_settings(user),
        "organization_logo_url": logo_url(logo_sha256, logo_content_type),
    }
