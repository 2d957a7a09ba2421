"""Portal URLs: access (included by tenants.urls_portal)."""

urlpatterns: list = []
