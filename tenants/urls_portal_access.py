"""Portal URLs: access (included by tenants.urls_portal)."""

from django.urls import path

from tenants import views_access

urlpatterns: list = [
    path("clients/<slug:slug>/enter/", views_access.enter, name="enter"),
]
