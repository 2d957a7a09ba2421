"""Portal URLs: portfolio (included by tenants.urls_portal)."""

urlpatterns: list = []
