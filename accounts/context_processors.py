from django.db import connection
from django_tenants.utils import get_public_schema_name


def inbox(request):
    """Unread inbox items for the navigation badge: one query, tenant hosts only."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or connection.schema_name == get_public_schema_name():
        return {}
    return {"inbox_unread": user.inbox.filter(read_at__isnull=True).count()}
