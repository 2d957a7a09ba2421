from accounts.context_processors import signed_in_on_tenant
from okrs.permissions import can_manage_cycles, can_view_health_dashboard


def navigation(request):
    """Whether the navigation offers the health dashboard and the Cycles page (each page's
    own rule: consultants manage cycles without the rest of the Settings)."""
    if not signed_in_on_tenant(request):
        return {}
    user = request.user
    return {"nav_health": can_view_health_dashboard(user), "nav_cycles": can_manage_cycles(user)}
