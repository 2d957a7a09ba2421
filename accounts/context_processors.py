from django.db import connection
from django_tenants.utils import get_public_schema_name

from accounts.permissions import can_manage_organization_settings


def signed_in_on_tenant(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and connection.schema_name != get_public_schema_name())


def navigation(request):
    """What the navigation shows on an organisation's host: the unread inbox badge (one
    query) and whether the Settings link applies (the same rule as the pages behind it)."""
    if not signed_in_on_tenant(request):
        return {}
    user = request.user
    return {
        "inbox_unread": user.inbox.filter(read_at__isnull=True).count(),
        "nav_settings": can_manage_organization_settings(user),
    }
