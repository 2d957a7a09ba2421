"""URLs of an organisation's host, <slug>.<BASE_DOMAIN> (tenant schema)."""

from django.conf import settings
from django.urls import include, path

from accounts.views.preferences import set_language
from reviews.views.focus import home

urlpatterns = [
    path("", home, name="home"),
    # First: an API call (the most frequent request) is then matched without walking every
    # page's route (~0.3 ms a call); the API's routes all start with api/, so pages lose nothing.
    path("", include("config.urls_api")),
    path("", include("accounts.urls")),
    path("", include("accounts.urls_tenant")),
    path("", include("okrs.urls")),
    path("", include("reviews.urls")),
    # Consultants entering from the portal, and the org admins' Settings → Consultants.
    path("", include("tenants.views_access")),
    # Before Django's own: the switcher also saves the choice to the person's profile.
    path("i18n/setlang/", set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
]

if settings.BENCH_BASELINE:  # the load benchmark's own server only (config/baseline.py)
    urlpatterns.append(path("", include("config.baseline")))
