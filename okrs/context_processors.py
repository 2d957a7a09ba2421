from accounts.context_processors import signed_in_on_tenant
from okrs.permissions import can_view_health_dashboard


def navigation(request):
    """Whether the navigation offers the health dashboard (the dashboard's own rule)."""
    if not signed_in_on_tenant(request):
        return {}
    return {"nav_health": can_view_health_dashboard(request.user)}
