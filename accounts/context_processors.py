from django.db import connection
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django_tenants.utils import get_public_schema_name

from accounts.logos import logo_annotations, logo_url
from accounts.models import InboxItem, User
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
    unread = InboxItem.objects.filter(user=OuterRef("pk"), read_at__isnull=True).order_by()
    unread = unread.values("user").annotate(n=Count("pk")).values("n")
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(unread=Coalesce(Subquery(unread), 0), **logo_annotations())
        .values("unread", "logo_sha256", "logo_content_type")
        .first()
    ) or {"unread": 0, "logo_sha256": None, "logo_content_type": None}
    return {
        "inbox_unread": row["unread"],
        "nav_settings": can_manage_organization_settings(user),
        "organization_logo_url": logo_url(row["logo_sha256"], row["logo_content_type"]),
    }
