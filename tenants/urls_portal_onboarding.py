"""Portal URLs: onboarding (included by tenants.urls_portal)."""

from django.urls import path

from tenants import views_onboarding

urlpatterns: list = [
    path("onboard/", views_onboarding.onboard, name="onboard"),
    path("onboard/subdomain/", views_onboarding.slug_preview, name="onboard_slug"),
    path("onboard/done/<slug:slug>/", views_onboarding.onboarded, name="onboarded"),
]
