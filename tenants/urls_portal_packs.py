"""Portal URLs: method packs (included by tenants.urls_portal)."""

from django.urls import path

from tenants import views_packs as views

urlpatterns = [
    path("packs/", views.packs_page, name="packs"),
    path("packs/new/", views.pack_create_page, name="pack_create"),
    path("packs/<slug:slug>/", views.pack_page, name="pack"),
    path("packs/<slug:slug>/publish/", views.pack_publish_page, name="pack_publish"),
    path("packs/<slug:slug>/apply/", views.pack_apply_view, name="pack_apply"),
]
