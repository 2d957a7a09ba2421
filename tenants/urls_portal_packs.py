"""Portal URLs: packs (included by tenants.urls_portal)."""

urlpatterns: list = []
