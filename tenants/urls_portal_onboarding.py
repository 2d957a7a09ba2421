"""Portal URLs: onboarding (included by tenants.urls_portal)."""

urlpatterns: list = []
