"""The consultant portal on the public host, under /portal/ (namespace "portal")."""

from tenants import urls_portal_access, urls_portal_onboarding, urls_portal_packs, urls_portal_portfolio

app_name = "portal"

urlpatterns = [
    *urls_portal_portfolio.urlpatterns,
    *urls_portal_access.urlpatterns,
    *urls_portal_packs.urlpatterns,
    *urls_portal_onboarding.urlpatterns,
]
